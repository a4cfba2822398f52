"""The README's main job: the example root's server starts through the launcher and answers
/api/ready on localhost, and stops on Ctrl+C."""
import shutil
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

from conftest import LAUNCHER, clean_env

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "alltalk-root"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_example(tmp_path):
    # run a copy: the launcher writes logs/ into the root
    return shutil.copytree(EXAMPLE, tmp_path / "alltalk root", ignore=shutil.ignore_patterns(
        ".venv", "logs"))


def test_example_server_answers_ready(venv_env, tmp_path):
    port = free_port()
    p = subprocess.Popen([str(LAUNCHER), "--root", str(copy_example(tmp_path)), "--env", str(venv_env), "server",
                          "--", "--port", str(port)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=clean_env())
    try:
        lines = [p.stdout.readline() for _ in range(3)]
        assert "ready: http://127.0.0.1:" in lines[2], lines
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ready", timeout=10) as resp:
            assert resp.read() == b"Ready"
    finally:
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert "stopped" in out


def test_example_finetune(venv_env, tmp_path):
    r = subprocess.run([str(LAUNCHER), "--root", str(copy_example(tmp_path)), "--env", str(venv_env), "finetune"],
                       capture_output=True, text=True, env=clean_env())
    assert r.returncode == 0, r.stderr
    assert "TRAINER_TELEMETRY=0" in r.stdout
