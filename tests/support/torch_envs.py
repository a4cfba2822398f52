"""Real torch + coqui-tts test environments and an XTTS-shaped fine-tuning checkpoint, shared by
tests/integration/test_torch_allowlist.py and bench/allowlist.py.

The envs are cached venvs (cached_venv.py) built from tests/requirements/torch-oldest.txt and
torch-newest.txt with --no-deps: torch with its CUDA wheels, coqui-tts and only what
`import TTS` and the XTTS config classes need."""
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cached_venv  # noqa: E402

REQUIREMENTS = HERE.parent / "requirements"

# Which torch versions the allow-list is tested on: the oldest with add_safe_globals that installs
# for Python 3.11 here, and the newest that coqui-tts can import (torchaudio ends at 2.11).
TORCH_ENVS = ("oldest", "newest")


def torch_env(which: str, python: str) -> Path:
    return cached_venv.ensure(f"torch-{which}", REQUIREMENTS / f"torch-{which}.txt", python,
                              no_deps=True)


def env_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def overlay_env(base: Path, dest: Path, python: str, sitecustomize: str | None = None) -> Path:
    """A cheap venv that sees `base`'s packages through a .pth file (the shared cached venv is never
    changed), optionally with a sitecustomize.py of its own."""
    if not (dest / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", "--without-pip", str(dest)], check=True)
    site = next((dest / "lib").glob("python3.*/site-packages"))
    base_site = next((base / "lib").glob("python3.*/site-packages"))
    (site / "alltalk_test_base.pth").write_text(str(base_site) + "\n")
    custom = site / "sitecustomize.py"
    if sitecustomize is None:
        custom.unlink(missing_ok=True)
    else:
        custom.write_text(sitecustomize)
    return dest


# The sitecustomize.py of the user guide (its Windows DLL part left out): what users do today.
GUIDE_SITECUSTOMIZE = """\
import torch
from torch.serialization import add_safe_globals
from TTS.tts.configs.xtts_config import XttsConfig
from TTS.tts.models.xtts import XttsAudioConfig, XttsArgs
from TTS.config.shared_configs import BaseDatasetConfig

add_safe_globals([XttsConfig, XttsAudioConfig, BaseDatasetConfig, XttsArgs])
"""

# What users end up with after the guide's list meets a training checkpoint: the numpy scalar and
# dtype globals that the trainer's state holds, added to the same file.
GUIDE_SITECUSTOMIZE_WITH_NUMPY = GUIDE_SITECUSTOMIZE + """\
import _codecs
import numpy as np
_multiarray = (np.core if np.__version__.startswith("1.") else np._core).multiarray
add_safe_globals([_multiarray.scalar, np.dtype, type(np.dtype("float64")),
                  type(np.dtype("float32")), type(np.dtype("int64")), _codecs.encode])
"""

# Writes a checkpoint shaped like an XTTS fine-tuning checkpoint with real classes and real
# torch.save: the config (XttsConfig with XttsArgs, XttsAudioConfig and BaseDatasetConfig), a model
# state dict, AdamW optimizer state, and numpy scalars as the trainer stores them.
MAKE_CHECKPOINT = """\
import sys
import numpy as np
import torch
from TTS.config.shared_configs import BaseDatasetConfig
from TTS.tts.configs.xtts_config import XttsConfig
from TTS.tts.models.xtts import XttsArgs, XttsAudioConfig

config = XttsConfig(model_args=XttsArgs(gpt_layers=2), audio=XttsAudioConfig(),
                    datasets=[BaseDatasetConfig(formatter="coqui", path="/data/voice",
                                                meta_file_train="metadata_train.csv")])
model = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
optimizer = torch.optim.AdamW(model.parameters(), lr=5e-6)
model(torch.randn(3, 8)).sum().backward()
optimizer.step()
state = optimizer.state_dict()
state["param_groups"][0]["initial_lr"] = np.float64(5e-6)
torch.save({"config": config, "model": model.state_dict(), "optimizer": state,
            "scaler": None, "step": np.int64(1000), "epoch": 3,
            "model_loss": {"avg_loss": np.float32(0.25)}}, sys.argv[1])
"""

# A checkpoint that also holds a class that is on no list.
MAKE_USER_CHECKPOINT = """\
import sys
import torch
import usermod
torch.save({"weights": torch.ones(2), "meta": usermod.UserMeta("voice")}, sys.argv[1])
"""

USERMOD = """\
class UserMeta:
    def __init__(self, name):
        self.name = name
"""


def write_checkpoint(venv: Path, path: Path) -> Path:
    subprocess.run([str(env_python(venv)), "-c", MAKE_CHECKPOINT, str(path)], check=True,
                   env={k: v for k, v in os.environ.items() if not k.startswith("ALLTALK_LAUNCH")})
    return path


def torch_version(venv: Path) -> str:
    code = "import importlib.metadata as m; print(m.version('torch'))"
    return subprocess.run([str(env_python(venv)), "-c", code], check=True, capture_output=True,
                          text=True).stdout.strip()


def load_kwargs(version: str) -> str:
    """torch < 2.6 loads full pickles by default; ask for weights_only there (what the allow-list
    is for); from 2.6 the default load is the weights_only load."""
    major, minor = (int(x) for x in version.split("+")[0].split(".")[:2])
    return "" if (major, minor) >= (2, 6) else ", weights_only=True"
