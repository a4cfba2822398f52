"""Failure explanations after the app's traceback: real failures where this machine can
produce them (torch's weights-only UnpicklingError, a cuDNN 8 load failure beside a real
ctranslate2 4.4, a pydantic ValidationError with real gradio 3.50.2 + pydantic 2), recorded
tracebacks otherwise; healthy runs print nothing extra, unknown failures only the pointer, exit
statuses stay the script's, native aborts are named with their signal."""
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BASE_PYTHON, clean_env, make_venv, run_launcher, write_script

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "support"))
import cached_venv  # noqa: E402
import torch_envs  # noqa: E402
from generated_env import write_dist  # noqa: E402

REQ = HERE.parent / "requirements"
POINTER = "alltalk-launch doctor --report"


def run_both(venv: Path, script: Path, *args):
    """The script under plain python and through the launcher."""
    plain = subprocess.run([str(venv / "bin" / "python"), str(script), *args], capture_output=True,
                           text=True, env=clean_env(), timeout=300)
    mine = run_launcher("--env", venv, "run", script, *args, timeout=300)
    return plain, mine



@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory):
    return make_venv(tmp_path_factory.mktemp("explain") / "plain env", with_pip=False)


def site(venv: Path) -> Path:
    return next((venv / "lib").glob("python3.*/site-packages"))


# ---- nothing extra when nothing fails; statuses unchanged ------------------------------------

def test_healthy_run_prints_nothing_extra(tmp_path, plain_venv):
    script = write_script(tmp_path, "ok.py", "import sys\nprint('fine')\nprint('err', file=sys.stderr)\n")
    plain, mine = run_both(plain_venv, script)
    assert (mine.returncode, mine.stdout, mine.stderr) == (0, plain.stdout, plain.stderr)


def test_sys_exit_is_not_a_failure(tmp_path, plain_venv):
    script = write_script(tmp_path, "exit3.py", "import sys\nsys.exit(3)\n")
    plain, mine = run_both(plain_venv, script)
    assert plain.returncode == mine.returncode == 3
    assert mine.stderr == ""


def test_unknown_failure_gets_only_the_pointer(tmp_path, plain_venv):
    script = write_script(tmp_path, "boom.py", "raise ValueError('something nobody knows')\n")
    plain, mine = run_both(plain_venv, script)
    assert plain.returncode == mine.returncode == 1
    assert mine.stderr.startswith(plain.stderr)  # the traceback, unchanged
    extra = mine.stderr[len(plain.stderr):]
    assert POINTER in extra and "what happened" not in extra and "fix:" not in extra


def test_child_started_through_sys_executable_is_explained(tmp_path, plain_venv):
    child = write_script(tmp_path, "child.py", "raise RuntimeError('CUDA error: no kernel image is "
                  "available for execution on the device')\n")
    parent = write_script(tmp_path, "parent.py", "import subprocess, sys\n"
                   f"r = subprocess.run([sys.executable, {str(child)!r}])\nsys.exit(r.returncode)\n")
    write_dist(site(plain_venv), "torch", "2.2.1", [])
    try:
        mine = run_launcher("--env", plain_venv, "run", parent)
    finally:
        for d in site(plain_venv).glob("torch-*.dist-info"):
            subprocess.run(["rm", "-rf", str(d)])
    assert mine.returncode == 1
    assert "[torch-no-kernel-image]" in mine.stderr and "torch 2.2.1" in mine.stderr
    assert "whl/cu128" in mine.stderr


def test_keyboard_interrupt_is_not_explained(tmp_path, plain_venv):
    script = write_script(tmp_path, "kbd.py", "raise KeyboardInterrupt\n")
    plain, mine = run_both(plain_venv, script)
    assert mine.returncode == plain.returncode
    assert POINTER not in mine.stderr


# ---- native crashes --------------------------------------------------------------------------

def test_native_abort_is_named_with_its_signal(tmp_path, plain_venv):
    script = write_script(tmp_path, "abort.py", "import os\nprint('before', flush=True)\nos.abort()\n")
    plain, mine = run_both(plain_venv, script)
    assert plain.returncode == mine.returncode == -6  # died by SIGABRT, as python does
    assert "Fatal Python error: Aborted" in mine.stderr  # faulthandler's stack first
    assert "stopped by SIGABRT" in mine.stderr and POINTER in mine.stderr
    assert mine.stdout == "before\n"


def test_native_segfault_is_named(tmp_path, plain_venv):
    script = write_script(tmp_path, "segv.py", "import ctypes\nctypes.string_at(0)\n")
    plain, mine = run_both(plain_venv, script)
    assert plain.returncode == mine.returncode == -11
    assert "stopped by SIGSEGV" in mine.stderr


# ---- real failures -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ct2_env(tmp_path_factory):
    # The same cached venv as test_native.py (one download, one install).
    base = cached_venv.ensure("ctranslate2-cudnn8", REQ / "ctranslate2-cudnn8.txt", str(BASE_PYTHON),
                              no_deps=True)
    return base


def test_cudnn8_load_failure_beside_real_ctranslate2(tmp_path, ct2_env):
    # What ctranslate2 < 4.5 does on a GPU: load cuDNN 8 by its plain name.
    script = write_script(tmp_path, "load8.py", "import ctypes\nctypes.CDLL('libcudnn_ops_infer.so.8')\n")
    plain, mine = run_both(ct2_env, script)
    assert plain.returncode == mine.returncode == 1
    assert "libcudnn_ops_infer.so.8" in plain.stderr and "alltalk-launch:" not in plain.stderr
    extra = mine.stderr[len(plain.stderr):]
    assert "[cudnn8-missing-ctranslate2]" in extra
    assert "in this environment: ctranslate2 4.4.0" in extra
    py = shlex.quote(str(ct2_env / "bin" / "python"))
    assert f"{py} -m pip install nvidia-cudnn-cu12==8.9.7.29" in extra


def test_abort_beside_ctranslate2_without_cudnn8(tmp_path, ct2_env):
    script = write_script(tmp_path, "abort.py", "import os\nos.abort()\n")
    mine = run_launcher("--env", ct2_env, "run", script)
    assert mine.returncode == -6
    assert "[abort-ctranslate2-cudnn8]" in mine.stderr and "ctranslate2 4.4.0" in mine.stderr


@pytest.fixture(scope="module")
def gradio3_env():
    return cached_venv.ensure("explain-gradio3", REQ / "explain-gradio3.txt", str(BASE_PYTHON),
                              no_deps=True)


def test_pydantic2_validation_error_beside_gradio3(tmp_path, gradio3_env):
    script = write_script(tmp_path, "validate.py", "from pydantic import BaseModel\n"
                   "class Port(BaseModel):\n    port: int\nPort(port='seven')\n")
    plain, mine = run_both(gradio3_env, script)
    assert plain.returncode == mine.returncode == 1
    assert "Input should be a valid integer" in plain.stderr
    extra = mine.stderr[len(plain.stderr):]
    assert "[gradio3-pydantic2]" in extra
    assert "gradio 3.50.2, pydantic 2.6.4" in extra and "'pydantic<2'" in extra  # quoted as shlex.quote does
    # One rule set: the doctor reports the same rule for this env.
    doc = run_launcher("--env", gradio3_env, "doctor", "--json")
    assert '"gradio3-pydantic2"' in doc.stdout


def test_real_weights_only_unpickling_error(tmp_path):
    venv = torch_envs.torch_env("newest", str(BASE_PYTHON))
    (tmp_path / "mymod.py").write_text("class Custom:\n    def __init__(self):\n        self.x = 1\n")
    save = write_script(tmp_path, "save.py", "import sys, torch\nsys.path.insert(0, %r)\nimport mymod\n"
                 "torch.save({'c': mymod.Custom()}, %r)\n" % (str(tmp_path), str(tmp_path / "ck.pth")))
    subprocess.run([str(venv / "bin" / "python"), str(save)], check=True, env=clean_env())
    load = write_script(tmp_path, "load.py", "import sys, torch\nsys.path.insert(0, %r)\n"
                 "torch.load(%r)\n" % (str(tmp_path), str(tmp_path / "ck.pth")))
    plain, mine = run_both(venv, load)
    assert plain.returncode == mine.returncode == 1
    assert "Weights only load failed" in plain.stderr and "alltalk-launch:" not in plain.stderr
    assert "[torch-weights-only]" in mine.stderr and "torch 2.11.0" in mine.stderr
    assert 'safe_globals = ["mymod.Custom"]' in mine.stderr


# ---- recorded tracebacks (failures this machine cannot produce) -------------------------------

RECORDED = [
    # TTS 0.22's XTTS streaming with transformers >= 4.41 (idiap/coqui-ai-TTS#31)
    ("tts022-transformers-streaming", ["TTS==0.22.0", "transformers==4.46.3"], "TypeError",
     "isin() received an invalid combination of arguments - got (test_elements=int, "
     "elements=Tensor, ), but expected one of: ...", ""),
    # gradio 3/4 UI code on gradio 5
    ("gradio5-every", ["gradio==5.35.0"], "TypeError",
     "event_trigger() got an unexpected keyword argument 'every'", ""),
    # gradio 4.44.1's client with pydantic 2.11 (AllTalk v2 users, 2025)
    ("gradio4-pydantic211", ["gradio==4.44.1", "pydantic==2.11.3"],
     "TypeError", "argument of type 'bool' is not iterable",
     '  File ".../gradio_client/utils.py", line 863, in get_type\n    if "const" in schema:\n'),
    # a GPU without kernels in this torch build (RTX 5080 with torch 2.2.1+cu121)
    ("torch-no-kernel-image", ["torch==2.2.1"], "RuntimeError",
     "CUDA error: no kernel image is available for execution on the device", ""),
    # faster-whisper >= 1.1 (ctranslate2 >= 4.5) without cuDNN 9
    ("cudnn9-missing-ctranslate2", ["ctranslate2==4.5.0"], "RuntimeError",
     "Unable to load any of {libcudnn_ops.so.9.1.0, libcudnn_ops.so.9.1, libcudnn_ops.so.9, "
     "libcudnn_ops.so}", ""),
    # coqui-tts >= 0.27.4 installed without its torch extra (coqui-tts TTS/__init__.py)
    ("coqui-tts-no-torch", ["coqui-tts==0.27.4"], "ImportError",
     "\nCoqui TTS requires the PyTorch and Torchaudio libraries but they were not found in your\n"
     "environment.", ""),
    # the original coqpit beside the fork (idiap/coqui-ai-TTS#294)
    ("coqpit-original-beside-fork", ["coqpit==0.0.17", "coqpit-config==0.2.1"], "ImportError",
     "coqui-tts switched to a forked version of Coqpit, but you still have the original package "
     "installed.", ""),
    # transformers >= 4.50 with coqui-tts 0.24.3 (AllTalk v2's pin; idiap/coqui-ai-TTS#523)
    ("coqui-tts-transformers450", ["coqui-tts==0.24.3", "transformers==4.51.3"], "AttributeError",
     "'GPT2InferenceModel' object has no attribute 'generate'", ""),
    # torchvision of another release (erew123/alltalk_tts#520)
    ("torch-release-mismatch", ["torch==2.5.1", "torchvision==0.19.1"], "RuntimeError",
     "operator torchvision::nms does not exist", ""),
    # gradio 4 with pydantic 2.11 at launch() (erew123/alltalk_tts#579)
    ("gradio4-pydantic211-share", ["gradio==4.44.1", "pydantic==2.11.3"], "ValueError",
     "When localhost is not accessible, a shareable link must be created. Please set share=True "
     "or check your proxy settings to allow access to localhost.", ""),
    # DeepSpeed built for another torch (erew123/alltalk_tts#111)
    ("deepspeed-build-mismatch", ["deepspeed==0.11.2", "torch==2.2.1"], "RuntimeError",
     "PyTorch version mismatch! DeepSpeed ops were compiled and installed with a different "
     "version than what is being used at runtime.", ""),
    # torch < 2.4 under code that needs add_safe_globals (erew123/alltalk_tts#524)
    ("torch-no-add-safe-globals", ["torch==2.2.1"], "AttributeError",
     "module 'torch.serialization' has no attribute 'add_safe_globals'", ""),
    # an interrupted model download (AllTalk v1 README)
    ("torch-truncated-checkpoint", ["torch==2.1.0"], "RuntimeError",
     "PytorchStreamReader failed reading zip archive: failed finding central directory", ""),
]


@pytest.mark.parametrize("rule,dists,exc,message,frame", RECORDED, ids=[r[0] for r in RECORDED])
def test_recorded_failures(tmp_path, rule, dists, exc, message, frame):
    venv = make_venv(tmp_path / "env", with_pip=False)
    for d in dists:
        name, version = d.split("==")
        write_dist(site(venv), name, version, [])
    script = write_script(tmp_path, "replay.py", f"raise {exc}({message!r})\n")
    mine = run_launcher("--env", venv, "run", script)
    assert mine.returncode == 1
    assert f"[{rule}]" in mine.stderr, mine.stderr
    for d in dists:
        assert d.replace("==", " ") in mine.stderr  # the installed versions involved
    # Without the installed versions the rule requires, it does not guess.
    for d in site(venv).glob("*.dist-info"):
        subprocess.run(["rm", "-rf", str(d)])
    again = run_launcher("--env", venv, "run", script)
    assert f"[{rule}]" not in again.stderr


def test_gradio_localhost_error_with_a_proxy_set(tmp_path):
    """gradio's "localhost is not accessible" under HTTPS_PROXY without NO_PROXY
    (erew123/alltalk_tts#580): the proxy rule fires only when the app's environment has a proxy
    and no exemption."""
    venv = make_venv(tmp_path / "env", with_pip=False)
    write_dist(site(venv), "gradio", "4.44.1", [])
    write_dist(site(venv), "pydantic", "2.10.6", [])
    script = write_script(tmp_path, "share.py", "raise ValueError('When localhost is not accessible, a "
                   "shareable link must be created. Please set share=True or check your proxy "
                   "settings to allow access to localhost.')\n")
    base = {k: v for k, v in clean_env().items() if k.lower() not in ("no_proxy", "http_proxy",
                                                                        "https_proxy", "all_proxy")}
    proxied = run_launcher("--env", venv, "run", script,
                           env={**base, "HTTPS_PROXY": "http://proxy.invalid:3128"})
    assert proxied.returncode == 1
    assert "[gradio-localhost-proxy]" in proxied.stderr and "NO_PROXY=localhost" in proxied.stderr
    exempt = run_launcher("--env", venv, "run", script,
                          env={**base, "HTTPS_PROXY": "http://proxy.invalid:3128",
                               "NO_PROXY": "localhost,127.0.0.1"})
    assert "[gradio-localhost-proxy]" not in exempt.stderr
    plain = run_launcher("--env", venv, "run", script, env=base)
    assert "[gradio-localhost-proxy]" not in plain.stderr


@pytest.fixture(scope="module")
def mismatch_env(tmp_path_factory):
    """torch 2.4.1 (the torch-oldest env) seen together with real torchvision 0.21.0 and the
    original coqpit beside coqpit-config: a venv of symbolic links to both (nothing copied)."""
    torch_venv = torch_envs.torch_env("oldest", str(BASE_PYTHON))
    extra = cached_venv.ensure("release-mismatch", REQ / "release-mismatch.txt", str(BASE_PYTHON),
                               no_deps=True)
    env = make_venv(tmp_path_factory.mktemp("mismatch") / "env", BASE_PYTHON, with_pip=False)
    dest = site(env)
    taken = set()
    for base, skip in ((extra, ("pip", "setuptools", "_distutils", "distutils-precedence")),
                       (torch_venv, ("torchvision", "coqpit", "_distutils", "distutils-precedence"))):
        for entry in site(base).iterdir():
            if entry.name.startswith(skip) or entry.name == "__pycache__":
                continue
            if entry.name not in taken and not (dest / entry.name).exists():
                (dest / entry.name).symlink_to(entry)
                taken.add(entry.name)
    return env


def test_real_torchvision_of_another_release_and_coqpit_beside_its_fork(tmp_path, mismatch_env):
    # The doctor sees both from the installed metadata, before anything runs.
    r = run_launcher("--env", mismatch_env, "doctor", "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    ids = {f["id"] for f in json.loads(r.stdout)["findings"]}
    assert {"torch-release-mismatch", "coqpit-original-beside-fork"} <= ids, ids
    # The real failure: importing torchvision 0.21 beside torch 2.4.1.
    script = write_script(tmp_path, "vision.py", "import torchvision\n")
    plain, mine = run_both(mismatch_env, script)
    assert "operator torchvision::nms does not exist" in plain.stderr, plain.stderr[-2000:]
    assert mine.returncode == plain.returncode != 0
    after = mine.stderr.split("operator torchvision::nms does not exist")[-1]
    assert "was built for another torch release than the installed torch 2.4.1" in after, after
