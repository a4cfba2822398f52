"""Failures the app logs and survives (uvicorn, logging, threads, asyncio) are explained after
the app's own output, once; the app's output is byte for byte what plain python prints; failed
imports that no rule knows get the generic explanation, after a traceback and when logged. Real
uvicorn/starlette/fastapi (tests/requirements/explain-uvicorn.txt, no pyyaml there)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BASE_PYTHON, clean_env, make_root, run_launcher, write_script

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "support"))
import cached_venv  # noqa: E402

REQ = HERE.parent / "requirements"
NOTE = "alltalk-launch: what happened"
POINTER = "alltalk-launch doctor --report"


@pytest.fixture(scope="module")
def web_env():
    return cached_venv.ensure("explain-uvicorn", REQ / "explain-uvicorn.txt", str(BASE_PYTHON),
                              no_deps=True)



def pids(text: str) -> str:
    return re.sub(r"process \[\d+\]", "process [PID]", text)


def run_both(venv: Path, script: Path, cwd: Path):
    plain = subprocess.run([str(venv / "bin" / "python"), str(script)], capture_output=True,
                           text=True, env=clean_env(), timeout=120, cwd=cwd)
    mine = run_launcher("--env", venv, "run", script, cwd=cwd)
    return plain, mine


# One note as the launcher writes it: a blank line, then what happened, the versions, the fix.
NOTE_RE = re.compile(r"\nalltalk-launch: what happened \[[^\]]+\]: [^\n]*\n"
                     r"(?:alltalk-launch: in this environment: [^\n]*\n)?"
                     r"(?:alltalk-launch: fix:\n    [^\n]*\n)?")


def split_notes(stderr: str):
    """The app's own stderr and the launcher's notes."""
    return NOTE_RE.sub("", stderr), NOTE_RE.findall(stderr)


# A lifespan that fails as ctranslate2 < 4.5 does without cuDNN 8 (rule cudnn8-missing):
# starlette hands uvicorn the traceback as text, uvicorn logs it and exits with status 3.
LIFESPAN_APP = """\
import contextlib, ctypes
from fastapi import FastAPI
import uvicorn

@contextlib.asynccontextmanager
async def lifespan(app):
    ctypes.CDLL("libcudnn_ops_infer.so.8")
    yield

uvicorn.run(FastAPI(lifespan=lifespan), host="127.0.0.1", port=0)
"""


def test_uvicorn_lifespan_failure_is_explained_once_after_its_logged_traceback(tmp_path, web_env):
    script = write_script(tmp_path, "app.py", LIFESPAN_APP)
    plain, mine = run_both(web_env, script, tmp_path)
    assert plain.returncode == mine.returncode == 3
    assert "libcudnn_ops_infer.so.8" in plain.stderr and "alltalk-launch:" not in plain.stderr
    app, notes = split_notes(mine.stderr)
    assert len(notes) == 1 and "[cudnn8-missing]" in notes[0], mine.stderr
    assert pids(app) == pids(plain.stderr)  # the app's own log, byte for byte
    assert mine.stdout == plain.stdout
    # After the logged traceback, before uvicorn's "Application startup failed".
    assert mine.stderr.index("libcudnn_ops_infer.so.8: cannot open") < mine.stderr.index(NOTE)
    assert mine.stderr.index(NOTE) < mine.stderr.index("Application startup failed")
    assert POINTER not in mine.stderr


# A request handler that fails: uvicorn logs "Exception in ASGI application" with exc_info.
REQUEST_APP = """\
import threading, time, urllib.request
from fastapi import FastAPI
import uvicorn

app = FastAPI()

@app.get("/")
def index():
    import yaml  # pyyaml is not installed
    return {}

server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="info"))
t = threading.Thread(target=server.run)
t.start()
while not server.started:
    time.sleep(0.05)
port = server.servers[0].sockets[0].getsockname()[1]
for _ in range(2):  # the same failure twice: explained once
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/")
    except Exception as e:
        print("status", getattr(e, "code", e), flush=True)
server.should_exit = True
t.join()
"""


def test_request_failure_logged_by_uvicorn_names_the_missing_module(tmp_path, web_env):
    script = write_script(tmp_path, "app.py", REQUEST_APP)
    plain, mine = run_both(web_env, script, tmp_path)
    assert plain.returncode == mine.returncode == 0
    assert plain.stdout.count("status 500\n") == mine.stdout.count("status 500\n") == 2
    assert plain.stderr.count("Exception in ASGI application") == 2
    app, notes = split_notes(mine.stderr)
    assert len(notes) == 1, mine.stderr
    assert "[import-missing]" in notes[0] and "PyPI package pyyaml" in notes[0]
    assert f"imported by {script} line 9" in notes[0]
    assert "-m pip install pyyaml" in notes[0]
    # The access log's ports and the pids differ between runs; the rest is the same.
    norm = lambda s: re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", pids(s))  # noqa: E731
    assert norm(app) == norm(plain.stderr)
    assert norm(mine.stdout) == norm(plain.stdout)


def test_the_same_exception_logged_twice_and_raised_is_explained_once(tmp_path, web_env):
    script = write_script(tmp_path, "twice.py", """\
import ctypes, logging
logging.basicConfig()
log = logging.getLogger("app")
try:
    ctypes.CDLL("libcudnn_cnn_infer.so.8")
except OSError as e:
    err = e
log.error("first", exc_info=err)
log.error("again", exc_info=err)
log.warning("not an error", exc_info=err)
raise err
""")
    plain, mine = run_both(web_env, script, tmp_path)
    assert plain.returncode == mine.returncode == 1
    app, notes = split_notes(mine.stderr)
    assert len(notes) == 1 and "[cudnn8-missing]" in notes[0], mine.stderr
    assert app == plain.stderr
    assert POINTER not in mine.stderr  # the uncaught exception was the one explained already


def test_a_thread_that_dies_of_a_known_failure(tmp_path, web_env):
    script = write_script(tmp_path, "thread.py", """\
import ctypes, threading
def work():
    ctypes.CDLL("libcudnn_cnn_infer.so.8")
for _ in range(2):
    t = threading.Thread(target=work)
    t.start()
    t.join()
print("main goes on")
""")
    plain, mine = run_both(web_env, script, tmp_path)
    assert plain.returncode == mine.returncode == 0
    assert plain.stderr.count("Exception in thread") == 2
    app, notes = split_notes(mine.stderr)
    assert len(notes) == 1 and "[cudnn8-missing]" in notes[0], mine.stderr
    assert pids(app) == pids(plain.stderr)
    assert mine.stdout == "main goes on\n"


def test_asyncio_default_handler_reports_a_callback_failure(tmp_path, web_env):
    script = write_script(tmp_path, "loop.py", """\
import asyncio, ctypes
async def main():
    asyncio.get_running_loop().call_soon(ctypes.CDLL, "libcudnn_ops_infer.so.8")
    await asyncio.sleep(0.05)
    print("loop goes on")
asyncio.run(main())
""")
    plain, mine = run_both(web_env, script, tmp_path)
    assert plain.returncode == mine.returncode == 0
    assert "Exception in callback" in plain.stderr
    app, notes = split_notes(mine.stderr)
    assert len(notes) == 1 and "[cudnn8-missing]" in notes[0], mine.stderr
    assert app == plain.stderr and mine.stdout == "loop goes on\n"


def test_a_traceback_printed_with_print_exc_as_gradio_does(tmp_path, web_env):
    script = write_script(tmp_path, "printed.py", """\
import ctypes, io, traceback
try:
    ctypes.CDLL("libcudnn_ops_infer.so.8")
except OSError as e:
    traceback.print_exc(file=io.StringIO())  # not shown: not a failure the user sees
    print("into a string only")
    traceback.print_exc()  # gradio's event handlers
    traceback.print_exception(e)  # the same exception again
print("app goes on")
""")
    plain, mine = run_both(web_env, script, tmp_path)
    assert plain.returncode == mine.returncode == 0
    app, notes = split_notes(mine.stderr)
    assert len(notes) == 1 and "[cudnn8-missing]" in notes[0], mine.stderr
    assert app == plain.stderr and mine.stdout == plain.stdout
    assert mine.stderr.index(NOTE) > mine.stderr.index("cannot open shared object file")


def test_unknown_logged_failures_and_python_command_say_nothing(tmp_path, web_env):
    script = write_script(tmp_path, "quiet.py", """\
import logging, threading
logging.basicConfig()
try:
    raise ValueError("nobody knows this")
except ValueError:
    logging.exception("handled")
t = threading.Thread(target=lambda: 1 / 0)
t.start(); t.join()
""")
    plain, mine = run_both(web_env, script, tmp_path)
    assert mine.stderr == plain.stderr  # no pointer for what the app survives
    known = write_script(tmp_path, "known.py", "import logging, ctypes\nlogging.basicConfig()\n"
                  "try:\n    ctypes.CDLL('libcudnn_cnn_infer.so.8')\nexcept OSError:\n"
                  "    logging.exception('x')\n")
    py = run_launcher("--env", web_env, "python", known)
    assert "libcudnn_cnn_infer.so.8" in py.stderr and "alltalk-launch:" not in py.stderr


def test_a_child_started_through_sys_executable_explains_its_logged_failure(tmp_path, web_env):
    child = write_script(tmp_path, "child.py", "import logging, ctypes\nlogging.basicConfig()\n"
                  "try:\n    ctypes.CDLL('libcudnn_cnn_infer.so.8')\nexcept OSError:\n"
                  "    logging.exception('model load failed')\n")
    parent = write_script(tmp_path, "parent.py", "import subprocess, sys\n"
                   f"subprocess.run([sys.executable, {str(child)!r}], check=True)\n")
    mine = run_launcher("--env", web_env, "run", parent)
    assert mine.returncode == 0
    assert mine.stderr.count("[cudnn8-missing]") == 1


# ---- failed imports after a traceback -----------------------------------------------------------

def test_finetune_importing_a_module_nothing_provides(tmp_path, web_env):
    root = make_root(tmp_path / "alltalk_tts", finetune="import os\nimport trainer_helpers_x\n")
    mine = run_launcher("--root", root, "--env", web_env, "finetune")
    assert mine.returncode == 1
    assert "ModuleNotFoundError: No module named 'trainer_helpers_x'" in mine.stderr
    extra = mine.stderr[mine.stderr.index(NOTE):]
    assert "[import-missing]" in extra and "no module 'trainer_helpers_x'" in extra
    assert f"imported by {root / 'finetune.py'} line 2" in extra
    assert "-m pip install trainer_helpers_x" in extra
    assert POINTER not in extra


def test_yaml_without_pyyaml_names_pyyaml(tmp_path, web_env):
    root = make_root(tmp_path / "alltalk_tts", finetune="import yaml\n")
    mine = run_launcher("--root", root, "--env", web_env, "finetune")
    assert mine.returncode == 1
    py = str(web_env / "bin" / "python")
    assert "It comes from the PyPI package pyyaml" in mine.stderr
    assert f"{py} -m pip install pyyaml" in mine.stderr


def test_an_import_in_an_installed_distributions_file_names_that_distribution(tmp_path, web_env):
    script = write_script(tmp_path, "workers.py", "import uvicorn.workers\n")
    mine = run_launcher("--env", web_env, "run", script)
    assert mine.returncode == 1
    extra = mine.stderr[mine.stderr.index(NOTE):]
    assert "no module 'gunicorn'" in extra
    assert "uvicorn/workers.py" in extra and "part of uvicorn 0.34.0" in extra
    assert "-m pip install gunicorn" in extra
