"""The real AllTalk v2: `alltalk-launch setup` on a checkout with the shipped lock (gigabytes of
torch and CUDA wheels from PyPI), then the real server answering /api/ready and the real finetune
UI, both through the launcher, with no hand pins; and `fix` on the env that AllTalk's own
requirements give today, undone exactly.

The checkout is not fetched here (the tests reach PyPI only, and AllTalk's code is not this
project's to commit): it is $ALLTALK_V2_CHECKOUT, else ../shared/alltalk/alltalkbeta beside the
checkout of this project; without one the test is skipped and says so. It is copied to a folder
whose name has no '-' (setup refuses those, as AllTalk does). The finetune UI needs a base model
folder with its six files; empty ones pass finetune.py's check (downloading the real model needs
the Hugging Face hub, out of reach here).
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import BASE_PYTHON, LAUNCHER, clean_env
from fix_envs import site_hashes, uv

HERE = Path(__file__).resolve().parent
CANDIDATES = [os.environ.get("ALLTALK_V2_CHECKOUT", ""),
              str(HERE.parents[2] / "shared" / "alltalk" / "alltalkbeta")]
CHECKOUT = next((Path(c) for c in CANDIDATES if c and (Path(c) / "script.py").is_file()), None)

pytestmark = pytest.mark.skipif(
    CHECKOUT is None,
    reason="no AllTalk v2 checkout: set ALLTALK_V2_CHECKOUT (or put one at "
           "../shared/alltalk/alltalkbeta) to run setup on the real AllTalk")


def wait_http(url, proc, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status, r.read().decode(errors="replace")
        except OSError:
            time.sleep(0.5)
    return None, ""


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def run_app(root, command, url, seconds=240, args=()):
    """Starts `command` through the launcher, waits for `url`, stops it: (status, body), and the
    app's output (in a file, so that a full pipe never stalls the app)."""
    log = root.parent / f"{command}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(LAUNCHER), "--root", str(root), command, *args],
                                env=clean_env(), stdout=out, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        try:
            answer = wait_http(url, proc, seconds)
        finally:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
    return answer, log.read_text()[-4000:]


def assert_server_and_finetune_start(root):
    """The real server answers /api/ready, and the real finetune UI comes up (with a base model
    folder of empty files, which finetune.py's check accepts)."""
    (status, body), output = run_app(root, "server", "http://127.0.0.1:7851/api/ready",
                                     args=("--", "--tts_model", "none"))
    assert (status, body) == (200, "Ready"), output
    model = root / "models" / "xtts" / "xttsv2_2.0.3"
    model.mkdir(parents=True)
    for f in ("config.json", "model.pth", "mel_stats.pth", "speakers_xtts.pth", "vocab.json",
              "dvae.pth"):
        (model / f).write_text("")
    (status, _), output = run_app(root, "finetune", "http://127.0.0.1:7052/")
    assert status == 200, output


LOCKS = sorted(p.stem for p in (HERE.parents[1] / "packaging" / "locks").glob(
    "alltalk-v2-linux_x86_64-*.txt"))


@pytest.mark.parametrize("lock", LOCKS)
def test_setup_makes_the_real_alltalk_v2_start(lock):
    """Each shipped v2 lock: the one setup chooses here by itself (no GPU: the newest CUDA build),
    the others named with --profile (as a user whose GPU or driver they are for would get them)."""
    assert port_free(7851) and port_free(7052), "AllTalk's ports are taken"
    base = Path(tempfile.mkdtemp(prefix="alltalk_real_"))
    try:
        root = base / "alltalk_tts"
        shutil.copytree(CHECKOUT, root, ignore=shutil.ignore_patterns(".git", "alltalk_environment"))
        env = clean_env(ALLTALK_PYTHON_SEARCH=str(BASE_PYTHON),
                        PATH=str(Path(uv()).parent) + os.pathsep + os.environ["PATH"])
        chosen = lock == LOCKS[-1]  # cu130 sorts last: the newest CUDA
        profile = [] if chosen else ["--profile", lock]
        r = subprocess.run([str(LAUNCHER), "--root", str(root), "setup", "--yes",
                            "--installer", "uv", *profile], env=env, capture_output=True,
                           text=True, timeout=1800)
        out = r.stdout + r.stderr
        assert r.returncode == 0, out[-6000:]
        assert "is ready" in out and f"Install the lock {lock} " in out

        assert_server_and_finetune_start(root)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_fix_mends_the_env_that_alltalk_v2_requirements_give_today():
    """The env a user gets from AllTalk v2's own requirements file today (uv resolves it as pip
    would, without pip's backtracking): torch 2.15, torchaudio 2.11.1, transformers 5.x,
    huggingface_hub 2.x, pydantic 2.14, no pynvml. `fix --yes` then `fix --command finetune
    --yes` make both start; two `fix --undo` give every file of the drifted env back."""
    assert port_free(7851) and port_free(7052), "AllTalk's ports are taken"
    base = Path(tempfile.mkdtemp(prefix="alltalk_drift_"))
    try:
        root = base / "alltalk_tts"
        shutil.copytree(CHECKOUT, root, ignore=shutil.ignore_patterns(".git", "alltalk_environment"))
        env_dir = root / "alltalk_environment" / "env"
        subprocess.run([str(BASE_PYTHON), "-m", "venv", str(env_dir)], check=True)
        reqs = base / "requirements.txt"
        reqs.write_text("".join(
            line + "\n" for line in
            (root / "system/requirements/requirements_standalone.txt").read_text().splitlines()
            if line.strip() and not line.startswith((".", "#"))))
        subprocess.run([uv(), "pip", "install", "-q", "--python", str(env_dir / "bin" / "python"),
                        "-r", str(reqs)], check=True, timeout=1800)
        before = site_hashes(env_dir)

        def fix(*args):
            r = subprocess.run([str(LAUNCHER), "--root", str(root), "fix", *args], env=clean_env(),
                               capture_output=True, text=True, timeout=1200)
            assert r.returncode == 0, (r.stdout + r.stderr)[-6000:]
            return r.stdout

        out = fix("--yes")
        for rule in ("gradio4-pydantic211", "coqui-tts-logitswarper", "gradio-hfhub1-hffolder"):
            assert rule in out
        assert "torchaudio==2.15" not in out
        assert "finetune-pynvml-missing" in fix("--command", "finetune", "--yes")

        assert_server_and_finetune_start(root)

        fix("--undo")
        fix("--undo")
        after = site_hashes(env_dir)
        assert [p for p in before if before[p] != after.get(p)] == []
        # What running AllTalk wrote meanwhile (bytecode and numba caches, gradio's launch
        # counter) is the app's, not the fix's: nothing else is new.
        new = [p for p in after if p not in before]
        assert [p for p in new if "__pycache__" not in p and not p.endswith("launches.json")] == []
    finally:
        shutil.rmtree(base, ignore_errors=True)
