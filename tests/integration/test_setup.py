"""`alltalk-launch setup`: an AllTalk-shaped v2 checkout made into a working env from a lock, with
this machine's real CPython 3.11, the real pip and real packages from PyPI (a small lock of real
wheels and one pure-Python sdist: tests/data/setup/). The shipped AllTalk locks are tested for
their form in the unit tests; installing one (gigabytes of torch) is test_setup_alltalk.py's."""
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import BASE_PYTHON, clean_env, run_launcher

DATA = Path(__file__).resolve().parents[1] / "data" / "setup"
STANDIN = Path(__file__).resolve().parents[1] / "tools" / "cudart_standin.c"
REQS = (DATA / "requirements_standalone.txt").read_text()

SCRIPT = '''import http.server, os, sys
import docopt, idna, six

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"Ready" if self.path == "/api/ready" else b"?"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass

if __name__ == "__main__":
    port = int(os.environ.get("TEST_PORT", "7851"))
    print("serving on", port, flush=True)
    http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
'''


def header(**over):
    h = {
        "alltalk": "v2",
        "alltalk-commit": "0000000000000000000000000000000000000000 2025-02-27 alltalkbeta",
        "platform": "linux_x86_64",
        "python": "3.11",
        "variant": "cu130",
        "cuda": "13.0",
        "torch": "2.15.0",
        "torch-archs": "sm_75 sm_80 sm_86 sm_90 sm_100 sm_120",
        "index": "https://pypi.org/simple",
        "requirements": "system/requirements/requirements_standalone.txt sha256="
                        + hashlib.sha256(REQS.encode()).hexdigest(),
        "pin": "idna>=3  a pin of the test lock",
        "sdist-only": "docopt",
        "download-bytes": "400000",
        "installed-bytes": "1000000",
        "made": "tests/integration/test_setup.py",
        "proven": "the test suite",
    }
    h.update(over)
    lines = ["# alltalk-launch lock"]
    lines += [f"# {k}: {v}" for k, v in h.items() if v is not None]
    return "\n".join(lines) + "\n"


def write_lock(path: Path, **over) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header(**over) + (DATA / "lock-body.txt").read_text())
    return path


@pytest.fixture
def base() -> Path:
    """A folder whose path has no '-' (pytest's have one, and setup refuses such a name)."""
    d = Path(tempfile.mkdtemp(prefix="alltalk_setup_"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def make_checkout(root: Path, version: str = "v2", requirements: str = REQS) -> Path:
    (root / "system" / "requirements").mkdir(parents=True)
    (root / "script.py").write_text(SCRIPT)
    (root / "finetune.py").write_text("import idna, six\nprint('finetune', idna.__name__)\n")
    if version == "v2":
        (root / "system" / "tts_engines").mkdir()
    elif version == "v1":
        (root / "modeldownload.py").write_text("")
    (root / "system" / "requirements" / "requirements_standalone.txt").write_text(requirements)
    return root


def setup(root, *args, env=None, timeout=600, extra_env=None):
    e = env if env is not None else clean_env(ALLTALK_PYTHON_SEARCH=str(BASE_PYTHON))
    if extra_env:
        e.update(extra_env)
    return run_launcher("--root", root, "setup", *args, env=e, timeout=timeout, input="")


def installed(env: Path) -> dict:
    out = subprocess.run([str(env / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    return {d["name"].lower(): d["version"] for d in json.loads(out)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, proc, seconds=60) -> str:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            return ""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ready", timeout=2) as r:
                return r.read().decode()
        except OSError:
            time.sleep(0.2)
    return ""


def start_server(root: Path, env=None):
    from conftest import LAUNCHER
    port = free_port()
    e = clean_env(TEST_PORT=str(port))
    if env:
        e.update(env)
    proc = subprocess.Popen([str(LAUNCHER), "--root", str(root), "server"], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, port


def stop(proc):
    proc.terminate()
    try:
        return proc.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[0]


def test_setup_makes_a_ready_env_and_the_server_answers(base):
    root = make_checkout(base / "alltalk_tts")
    lock = write_lock(base / "locks" / "alltalk-v2-test-cu130.txt")
    env = root / "alltalk_environment" / "env"

    dry = setup(root, "--lock", lock, "--dry-run", "--gpu", "cpu")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "alltalk-v2-test-cu130" in dry.stdout and "v2" in dry.stdout
    assert "--require-hashes" in dry.stdout and "--no-binary docopt" in dry.stdout
    assert "nothing was made" in dry.stdout
    assert not env.exists()

    done = setup(root, "--lock", lock, "--yes", "--gpu", "cpu")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "is ready" in out and "alltalk-launch" in out
    assert "[2/3] Install the lock alltalk-v2-test-cu130 (3 packages, hashes checked)" in out
    assert "Successfully installed" in out  # pip's own output, live
    # One check for both commands (one child imports what both import); its report is shown,
    # and kept beside the lock copy with its JSON.
    assert "[3/3] Prove the env: what server and finetune import at start" in out
    setup_dir = env / ".alltalk-launch" / "setup"
    report = (setup_dir / "check.log").read_text()
    assert report.strip() and report.strip() in out, report
    assert "(with finetune's imports)" in report
    assert "finetune idna" not in out  # finetune.py's imports ran, not its body
    checked = json.loads((setup_dir / "check.json").read_text())
    assert {Path(s["file"]).name for s in checked["deep"]["imports"] if s["file"]} == {
        "script.py", "finetune.py"}
    have = installed(env)
    assert have["six"] == "1.17.0" and have["idna"] == "3.21" and have["docopt"] == "0.6.2"
    assert not (env / ".alltalk-launch" / "setup-unfinished").exists()
    assert (env / ".alltalk-launch" / "setup" / "lock.txt").read_text() == lock.read_text()

    # The real server of the checkout, through the launcher, from the env setup made.
    proc, port = start_server(root)
    try:
        assert wait_ready(port, proc) == "Ready", stop(proc)
    finally:
        stop(proc)

    # An env is there now: setup refuses, naming doctor and fix; --force moves it aside.
    again = setup(root, "--lock", lock, "--yes", "--gpu", "cpu")
    assert again.returncode == 2
    assert "already holds an environment" in again.stderr and "alltalk-launch fix" in again.stderr
    assert "Traceback" not in again.stderr and "terminate" not in again.stderr


def test_force_moves_the_existing_env_aside(base):
    root = make_checkout(base / "alltalk_tts")
    lock = write_lock(base / "alltalk-v2-test-cu130.txt")
    env = root / "alltalk_environment" / "env"
    env.mkdir(parents=True)
    (env / "mine.txt").write_text("the user's")
    done = setup(root, "--lock", lock, "--yes", "--gpu", "cpu", "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    aside = [p for p in env.parent.iterdir() if p.name.startswith("env.before-setup-")]
    assert len(aside) == 1 and (aside[0] / "mine.txt").read_text() == "the user's"
    assert installed(env)["six"] == "1.17.0"


def test_json_gives_the_plan_and_the_outcome_as_one_object(base):
    root = make_checkout(base / "alltalk_tts")
    lock = write_lock(base / "alltalk-v2-test-cu130.txt")
    done = setup(root, "--lock", lock, "--yes", "--gpu", "cpu", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    j = json.loads(done.stdout)  # stdout is the object alone; pip's output went to stderr
    assert j["plan"]["lock"]["id"] == "alltalk-v2-test-cu130"
    assert j["plan"]["lock"]["matches_checkout"] is True
    assert [s["id"] for s in j["plan"]["steps"]] == [
        "venv", "install", "check"]
    assert j["outcome"]["status"] == "ready" and j["outcome"]["installed"] is True
    assert "Successfully installed" in done.stderr


def test_a_failed_check_names_the_command_it_stops(base):
    """finetune.py imports what the lock lacks: the env is installed but not ready for finetune;
    server's imports, run in the same child, pass, and server is not named."""
    root = make_checkout(base / "alltalk_tts")
    (root / "finetune.py").write_text("import idna, six\nimport not_in_the_lock_at_all\n")
    lock = write_lock(base / "alltalk-v2-test-cu130.txt")
    done = setup(root, "--lock", lock, "--yes", "--gpu", "cpu", "--json")
    j = json.loads(done.stdout)
    assert done.returncode != 0, done.stderr
    assert j["outcome"]["installed"] is True and j["outcome"]["status"] != "ready", j["outcome"]
    assert j["outcome"]["failed_checks"] == ["finetune"], j["outcome"]
    assert set(j["outcome"]["step_seconds"]) == {"venv", "install", "check"}
    assert "[deep-import] [finetune] `import not_in_the_lock_at_all`" in done.stderr  # its report
    env = root / "alltalk_environment" / "env"
    assert not (env / ".alltalk-launch" / "setup-unfinished").exists()


def test_requirements_that_differ_from_the_lock_are_resolved_by_pip_and_checked(base):
    root = make_checkout(base / "alltalk_tts", requirements=REQS + "packaging>=24\n")
    lock = write_lock(base / "alltalk-v2-test-cu130.txt")
    env = root / "alltalk_environment" / "env"
    done = setup(root, "--lock", lock, "--yes", "--gpu", "cpu", "--installer", "pip")
    out = done.stdout + done.stderr
    # torch==2.15.0 is in the constraints, and no requirement names torch: pip ignores it.
    assert done.returncode == 0, out
    assert "differs from the one the lock alltalk-v2-test-cu130 was made from" in out
    assert "Resolve and install the checkout's requirements" in out
    setup_dir = env / ".alltalk-launch" / "setup"
    assert (setup_dir / "constraints.txt").read_text() == "torch==2.15.0\n"
    assert (setup_dir / "requirements.txt").read_text() == REQS + "packaging>=24\nidna>=3\n"
    assert "packaging" in installed(env)


def test_no_network_leaves_an_unfinished_env_that_server_refuses_and_setup_remakes(base):
    root = make_checkout(base / "alltalk_tts")
    lock = write_lock(base / "alltalk-v2-test-cu130.txt")
    env = root / "alltalk_environment" / "env"
    offline = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_NO_CACHE_DIR": "1",
               "PIP_RETRIES": "0", "PIP_TIMEOUT": "2"}
    bad = setup(root, "--lock", lock, "--yes", "--gpu", "cpu", extra_env=offline)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "failed" in bad.stderr and "stays marked unfinished" in bad.stderr
    assert (env / ".alltalk-launch" / "setup-unfinished").exists()
    served = run_launcher("--root", root, "server")
    assert served.returncode == 2
    assert "left unfinished" in served.stderr and "alltalk-launch setup" in served.stderr

    good = setup(root, "--lock", lock, "--yes", "--gpu", "cpu")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "did not finish: it is removed and made again" in good.stdout
    assert not (env / ".alltalk-launch" / "setup-unfinished").exists()


def pip_of(env: Path):
    """The pid of a pip process installing into `env`, or None."""
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"pip" in cmd and any(str(env).encode() in c for c in cmd):
            return int(d.name)
    return None


def test_sigkill_during_pip_never_leaves_an_env_that_looks_complete(base):
    root = make_checkout(base / "alltalk_tts")
    lock = write_lock(base / "alltalk-v2-test-cu130.txt")
    env = root / "alltalk_environment" / "env"
    from conftest import LAUNCHER
    proc = subprocess.Popen([str(LAUNCHER), "--root", str(root), "setup", "--lock", str(lock),
                             "--yes", "--gpu", "cpu"],
                            env=clean_env(ALLTALK_PYTHON_SEARCH=str(BASE_PYTHON),
                                          PIP_NO_CACHE_DIR="1"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    pip = None
    while time.time() < deadline and not pip and proc.poll() is None:
        pip = pip_of(env / "bin" / "python")
        time.sleep(0.02)
    assert pip, "pip never ran"
    os.kill(proc.pid, signal.SIGKILL)
    os.kill(pip, signal.SIGKILL)
    proc.wait()
    assert (env / ".alltalk-launch" / "setup-unfinished").exists()
    served = run_launcher("--root", root, "finetune")
    assert served.returncode == 2 and "left unfinished" in served.stderr
    good = setup(root, "--lock", lock, "--yes", "--gpu", "cpu")
    assert good.returncode == 0, good.stdout + good.stderr
    assert installed(env)["docopt"] == "0.6.2"


@pytest.mark.parametrize("case", ["not-alltalk", "unknown-version", "dash", "no-requirements"])
def test_checkouts_that_setup_refuses(base, case):
    name = "alltalk_tts-main" if case == "dash" else "alltalk_tts"
    root = base / name
    if case == "not-alltalk":
        root.mkdir()
    else:
        make_checkout(root, version="v2" if case != "unknown-version" else "none")
    if case == "no-requirements":
        (root / "system" / "requirements" / "requirements_standalone.txt").unlink()
    r = setup(root, "--gpu", "cpu", "--yes")
    assert r.returncode == 2, r.stdout + r.stderr
    want = {"not-alltalk": "is not an AllTalk checkout", "unknown-version": "is unknown",
            "dash": "contains a '-'", "no-requirements": "requirements_standalone.txt"}[case]
    assert want in r.stderr
    assert r.stderr.startswith("alltalk-launch: error: Not setting up")
    assert not (root / "alltalk_environment").exists()


def test_no_python_311(base):
    root = make_checkout(base / "alltalk_tts")
    r = setup(root, "--gpu", "cpu", "--yes",
              env=clean_env(ALLTALK_PYTHON_SEARCH=str(base / "nowhere" / "python3.11")))
    assert r.returncode == 2
    assert "no Python 3.11 was found" in r.stderr and "apt install python3.11" in r.stderr
    other = next(iter(sorted(Path.home().glob(".pyenv/versions/3.12.*/bin/python3.12"))), None)
    if other:
        r = setup(root, "--gpu", "cpu", "--yes", "--python", other)
        assert r.returncode == 2
        assert "is Python 3.12" in r.stderr and "--python given is not a usable" in r.stderr
    assert not (root / "alltalk_environment").exists()


def test_bad_options_and_locks(base):
    root = make_checkout(base / "alltalk_tts")
    lock = write_lock(base / "alltalk-v2-test-cu130.txt")
    r = setup(root, "--lock", lock, "--profile", "alltalk-v9-nothing", "--yes")
    assert r.returncode == 2 and "names no lock" in r.stderr and "alltalk-v2-test-cu130" in r.stderr
    r = setup(root, "--gpu", "tpu")
    assert r.returncode == 2 and "auto, cuda or cpu" in r.stderr
    broken = base / "broken.txt"
    broken.write_text("# alltalk-launch lock\n# alltalk: v2\nsix>=1\n")
    r = setup(root, "--lock", broken, "--yes")
    assert r.returncode == 2 and "is not a lock that setup can install from" in r.stderr
    huge = write_lock(base / "huge" / "alltalk-v2-huge.txt", **{"installed-bytes": str(2**60)})
    r = setup(root, "--lock", huge, "--yes", "--gpu", "cpu")
    assert r.returncode == 2 and "of disk" in r.stderr and "free" in r.stderr
    v1 = write_lock(base / "v1" / "alltalk-v1-test.txt", alltalk="v1")
    r = setup(root, "--lock", v1, "--yes", "--gpu", "cpu")
    assert r.returncode == 2 and "no proven lock ships for AllTalk v2" in r.stderr
    r = setup(root, "--lock", lock, "--gpu", "cpu")  # no terminal, no --yes
    assert r.returncode == 3 and "--yes" in r.stdout
    assert not (root / "alltalk_environment").exists()


def build_standin(out_dir: Path, major: int, minor: int, driver: int) -> Path:
    out_dir.mkdir(parents=True)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(out_dir / "libcudart.so.13"),
                    f"-DSTANDIN_MAJOR={major}", f"-DSTANDIN_MINOR={minor}",
                    f"-DSTANDIN_DRIVER={driver}", str(STANDIN)], check=True)
    return out_dir


@pytest.mark.parametrize("gpu,driver,want", [
    ((12, 0), 13000, "cu130"),   # an RTX 50xx behind a CUDA 13 driver: the newest build
    ((12, 0), 12080, "cu128"),   # the same GPU behind a 570 driver: CUDA 12.8 (sm_120 too)
    ((6, 1), 13000, "cu126"),    # a GTX 10xx: CUDA 13 and 12.8 builds have no sm_61
    ((12, 0), 12040, None),      # a driver too old for every build with sm_120 kernels
])
def test_the_gpu_decides_the_variant(base, gpu, driver, want):
    root = make_checkout(base / "alltalk_tts")
    locks = base / "locks"
    write_lock(locks / "alltalk-v2-test-cu130.txt")
    write_lock(locks / "alltalk-v2-test-cu128.txt", variant="cu128", cuda="12.8",
               **{"torch-archs": "sm_75 sm_80 sm_86 sm_90 sm_100 sm_120"})
    write_lock(locks / "alltalk-v2-test-cu126.txt", variant="cu126", cuda="12.6",
               **{"torch-archs": "sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90"})
    write_lock(locks / "alltalk-v2-test-cpu.txt", variant="cpu", cuda="none",
               **{"torch-archs": ""})
    lib = build_standin(base / "cudart", gpu[0], gpu[1], driver)
    env = clean_env(ALLTALK_PYTHON_SEARCH=str(BASE_PYTHON), LD_LIBRARY_PATH=str(lib))
    r = setup(root, "--lock", locks, "--dry-run", "--json", env=env)
    if want is None:
        assert r.returncode == 2, r.stdout
        assert "No shipped torch build runs on this machine's GPUs" in r.stderr
        assert "needs a newer driver" in r.stderr and "--gpu cpu" in r.stderr
        return
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)["plan"]
    assert plan["variant"]["id"] == want, plan["variant"]
    assert f"sm_{gpu[0]}{gpu[1]}" in plan["gpu"]
    # --gpu overrides the probe.
    r = setup(root, "--lock", locks, "--dry-run", "--json", "--gpu", "cpu", env=env)
    assert json.loads(r.stdout)["plan"]["variant"]["id"] == "cpu"


def test_no_gpu_gets_the_cpu_build_or_the_cuda_build_with_a_note(base):
    root = make_checkout(base / "alltalk_tts")
    locks = base / "locks"
    write_lock(locks / "alltalk-v2-test-cu130.txt")
    env = clean_env(ALLTALK_PYTHON_SEARCH=str(BASE_PYTHON))
    r = setup(root, "--lock", locks, "--dry-run", env=env)  # this machine has no NVIDIA GPU
    assert r.returncode == 0, r.stderr
    assert "no NVIDIA GPU was found" in r.stdout and "runs on the CPU as well" in r.stdout
    write_lock(locks / "alltalk-v2-test-cpu.txt", variant="cpu", cuda="none",
               **{"torch-archs": ""})
    r = setup(root, "--lock", locks, "--dry-run", "--json", env=env)
    assert json.loads(r.stdout)["plan"]["variant"]["id"] == "cpu"
