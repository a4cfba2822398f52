"""The live paths read failures as `explain` reads pasted text: a chained exception is explained
by its cause (AllTalk v1's script.py: No module named 'TTS', then a NameError in its handler); a
failure the app only logs as a line is matched by the rules' patterns (RVC's "Error loading
embedding model: ..." with real torch 2.3.1, which has no add_safe_globals); after a native crash
what the app printed to stderr decides, where stderr is a file the launcher can read back."""
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BASE_PYTHON, clean_env, make_venv, run_launcher, write_script

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "support"))
import cached_venv  # noqa: E402
import torch_envs  # noqa: E402

NOTE = "alltalk-launch: what happened"



@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory):
    return make_venv(tmp_path_factory.mktemp("live") / "env", with_pip=False)


@pytest.fixture(scope="module")
def torch23_env():
    return cached_venv.ensure("torch-pre-allowlist",
                              torch_envs.REQUIREMENTS / "torch-pre-allowlist.txt",
                              str(BASE_PYTHON), no_deps=True)


# AllTalk v1's script.py as users hit it (erew123/alltalk_tts#89): the handler of the failed
# import uses a logger that is not defined yet.
V1_SCRIPT = """\
try:
    from TTS.api import TTS
except ModuleNotFoundError:
    logger.error("[AllTalk Startup] Could not find the TTS module.")
"""


def test_a_chained_exception_is_explained_by_its_cause(tmp_path, plain_venv):
    script = write_script(tmp_path, "script.py", V1_SCRIPT)
    plain = subprocess.run([str(plain_venv / "bin" / "python"), str(script)],
                           capture_output=True, text=True, env=clean_env(), timeout=60)
    mine = run_launcher("--env", plain_venv, "run", script, cwd=tmp_path)
    assert plain.returncode == mine.returncode == 1
    assert mine.stderr.startswith(plain.stderr)  # the app's traceback first, as python prints it
    note = mine.stderr[len(plain.stderr):]
    assert ("alltalk-launch: The cause was the earlier ModuleNotFoundError: No module named "
            "'TTS' (line 1); the NameError after it was raised while handling it.") in note
    assert f"{NOTE} [import-missing]: Python found no module 'TTS'" in note
    assert "doctor --report" not in note


def test_a_chain_whose_last_exception_a_rule_knows_keeps_that_explanation(tmp_path, torch23_env):
    # RVC's loader (system/tts_engines/rvc/lib/utils.py): logs the failure, then raises from it.
    script = write_script(tmp_path, "rvc.py", """\
import logging
import torch
logging.basicConfig(format="%(levelname)s | %(name)s | %(message)s")
try:
    torch.serialization.add_safe_globals([dict])
except AttributeError as e:
    logging.error(f"Error loading embedding model: {e}")
    raise RuntimeError(f"Error loading embedding model: {e}") from e
""")
    mine = run_launcher("--env", torch23_env, "run", script, cwd=tmp_path, timeout=300)
    assert mine.returncode == 1
    assert ("ERROR | root | Error loading embedding model: module 'torch.serialization' has no "
            "attribute 'add_safe_globals'") in mine.stderr
    # Said once: after the logged line, and not again for the exception raised from it.
    assert mine.stderr.count(f"{NOTE} [torch-no-add-safe-globals]") == 1, mine.stderr
    assert "torch 2.3.1" in mine.stderr and "update AllTalk" in mine.stderr
    logged_at = mine.stderr.index("ERROR | root |")
    assert mine.stderr.index(NOTE) > logged_at
    assert mine.stderr.index(NOTE) < mine.stderr.index("Traceback (most recent call last)")


def test_a_logged_line_the_app_survives_is_explained_and_nothing_else_changes(tmp_path,
                                                                             torch23_env):
    script = write_script(tmp_path, "survive.py", """\
import logging
import torch
try:
    torch.serialization.add_safe_globals([dict])
except AttributeError as e:
    logging.error(f"Error loading embedding model: {e}")
logging.error("an error nothing knows")
print("carried on")
""")
    plain = subprocess.run([str(torch23_env / "bin" / "python"), str(script)],
                           capture_output=True, text=True, env=clean_env(), timeout=300)
    mine = run_launcher("--env", torch23_env, "run", script, cwd=tmp_path, timeout=300)
    assert plain.returncode == mine.returncode == 0
    assert mine.stdout == plain.stdout == "carried on\n"
    for line in plain.stderr.splitlines(keepends=True):  # the app's own lines, in order
        assert line in mine.stderr
    assert mine.stderr.index(NOTE) < mine.stderr.index("ERROR:root:an error nothing knows")
    assert mine.stderr.count(NOTE) == 1 and "[torch-no-add-safe-globals]" in mine.stderr
    assert "an error nothing knows" in mine.stderr
    assert "doctor --report" not in mine.stderr  # a survived failure gets no pointer


CUDNN8_ABORT = """\
import os
print("loading faster-whisper", flush=True)
os.write(2, b"Could not load library libcudnn_ops_infer.so.8. Error: libcudnn_ops_infer.so.8: "
            b"cannot open shared object file: No such file or directory\\n")
os.abort()
"""


def test_after_a_native_crash_the_lines_printed_before_it_decide(tmp_path, plain_venv):
    script = write_script(tmp_path, "whisper.py", CUDNN8_ABORT)
    err = tmp_path / "stderr.log"
    with open(err, "w") as f:
        r = subprocess.run([str(Path(__import__("os").environ["ALLTALK_LAUNCH_BIN"])), "--env",
                            str(plain_venv), "run", str(script)], stdout=subprocess.PIPE,
                           stderr=f, text=True, env=clean_env(), timeout=120, cwd=tmp_path)
    text = err.read_text()
    assert r.returncode == -6  # still dies by SIGABRT, as python does
    assert "stopped by SIGABRT" in text
    assert f"{NOTE} [cudnn8-missing]" in text, text
    # The same crash with stderr a pipe: the launcher cannot read it back, and says only what
    # the signal tells.
    piped = run_launcher("--env", plain_venv, "run", script, cwd=tmp_path)
    assert piped.returncode == -6
    assert "stopped by SIGABRT" in piped.stderr and "[cudnn8-missing]" not in piped.stderr
