"""The lock both ways: while `server` runs from an env, `fix`, `overlay sync` and `setup --force`
refuse to change it and name the server's pid; once it has ended, the same fix goes through.
(The other way, server refusing while a fix runs, is in test_fix.py.) A real server process
through the launcher, the real pip."""
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import BASE_PYTHON, LAUNCHER, clean_env, make_venv, run_launcher

SERVER = """\
import sys, time
print("server up", flush=True)
time.sleep(600)
"""


@pytest.fixture
def root():
#No '-' in the path : setup refuses such a folder before it gets to the lock.
    d = Path(tempfile.mkdtemp(prefix="alltalk_runlock_"))
    (d / "script.py").write_text(SERVER)
    (d / "finetune.py").write_text("print('finetune')\n")
    (d / "system" / "requirements").mkdir(parents=True)
    (d / "system" / "tts_engines").mkdir()
    (d / "system" / "requirements" / "requirements_standalone.txt").write_text("six\n")
    make_venv(d / "alltalk_environment" / "env")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def start_server(root: Path, runtime: Path):
    proc = subprocess.Popen([str(LAUNCHER), "--root", str(root), "server"],
                            env=clean_env(XDG_RUNTIME_DIR=str(runtime)), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    while line and "server up" not in line:
        line = proc.stdout.readline()
    assert "server up" in line, "the server did not start"
    return proc


def site(root: Path) -> Path:
    return next((root / "alltalk_environment" / "env" / "lib").glob("python3.*/site-packages"))


def test_fix_overlay_and_setup_refuse_while_the_server_runs_then_fix_goes_through(root, tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = clean_env(XDG_RUNTIME_DIR=str(runtime), ALLTALK_PYTHON_SEARCH=str(BASE_PYTHON))
    before = sorted(p.name for p in site(root).iterdir())
    server = start_server(root, runtime)
    try:
        fix = run_launcher("--root", root, "fix", "--yes", "--install", "six==1.16.0", env=env,
                           timeout=300)
        assert fix.returncode == 2, fix.stdout + fix.stderr
        assert f"process {server.pid} (server, since " in fix.stderr, fix.stderr
        assert "Not running fix" in fix.stderr and "AllTalk runs from" in fix.stderr
        assert "Nothing was changed" in fix.stderr and f"end process {server.pid}" in fix.stderr
        assert sorted(p.name for p in site(root).iterdir()) == before

        (root / "alltalk-launch.toml").write_text('[finetune]\noverlay = ["six==1.16.0"]\n')
        overlay = run_launcher("--root", root, "overlay", "sync", "finetune", env=env,
                               timeout=300)
        assert overlay.returncode != 0, overlay.stdout + overlay.stderr
        assert f"process {server.pid} (server" in overlay.stderr, overlay.stderr
        assert not (root / "alltalk_environment" / "env" / ".alltalk-launch" / "overlays" /
                    "finetune").exists()
        (root / "alltalk-launch.toml").unlink()

        setup = run_launcher("--root", root, "setup", "--force", "--yes", env=env, timeout=300)
        assert setup.returncode == 2, setup.stdout + setup.stderr
        assert f"process {server.pid} (server" in setup.stderr, setup.stderr
        assert (root / "alltalk_environment" / "env").is_dir()
        assert not list((root / "alltalk_environment").glob("env.before-setup-*"))
    finally:
        server.terminate()
        server.wait(timeout=60)

#The server has ended : its lock went with it, and the same fix goes through.
    fix = run_launcher("--root", root, "fix", "--yes", "--install", "six==1.16.0", env=env,
                       timeout=600)
    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert (site(root) / "six-1.16.0.dist-info").is_dir()


def test_a_killed_server_leaves_no_lock_behind(root, tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    server = start_server(root, runtime)
    locks = list((runtime / "alltalk-launch" / "running").glob("*/*.lock"))
    assert [p.name for p in locks] == [f"{server.pid}.lock"]
    assert "what=server" in locks[0].read_text()
    server.kill()
    server.wait(timeout=60)
    env = clean_env(XDG_RUNTIME_DIR=str(runtime))
    r = run_launcher("--root", root, "fix", "--yes", "--install", "six==1.16.0", env=env,
                     timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not locks[0].exists()  # the dead process's file was cleared on the way
