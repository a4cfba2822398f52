"""Undo points of `alltalk-launch fix` with real pip and real PyPI packages: the hard links that
save the old files survive pip (it never writes through an installed file), `fix --undo` gives
back every file after pip or the launcher was SIGKILLed at any point, offline, and bad input is a
clear one-paragraph error that changes nothing.

tests/tools/fix_driver stands in for fix's planning side: it calls apply_fix with a given
replaced set and pip command. Test envs are built with uv (UV_LINK_MODE=copy: never linked to
uv's cache), then changed by pip itself."""

import hashlib
import http.server
import json
import os
import resource
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import BASE_PYTHON, LAUNCHER, clean_env, make_root, run_launcher

BUILD_DIR = Path(os.environ.get("ALLTALK_BUILD_DIR", "build")).resolve()
DRIVER = BUILD_DIR / "tests" / "fix_driver"
UV = Path(os.environ.get("ALLTALK_TEST_PYTHON", "python3")).parent / "uv"
SP = Path("lib") / "python3.11" / "site-packages"


def uv_env(path: Path, *requirements: str) -> Path:
    env = clean_env(UV_LINK_MODE="copy")
    subprocess.run(
        [str(UV), "venv", "-q", "--seed", "--python", str(BASE_PYTHON), str(path)],
        check=True,
        env=env,
    )
    if requirements:
        subprocess.run(
            [
                str(UV),
                "pip",
                "install",
                "-q",
                "--python",
                str(path / "bin" / "python"),
                *requirements,
            ],
            check=True,
            env=env,
        )
    return path


def snapshot(env: Path) -> dict:
    """Every file and folder of site-packages and bin/ outside __pycache__: path -> sha256 (or
    "dir")."""
    out = {}
    for base in (env / SP, env / "bin"):
        for p in sorted(base.rglob("*")):
            if "__pycache__" in p.parts:
                continue
            rel = str(p.relative_to(env))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def record_hash(p: Path) -> str:
    import base64

    digest = hashlib.sha256(p.read_bytes()).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def pip(env: Path, *args: str) -> list:
    return [str(env / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", *args]


def driver(*args, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(DRIVER), *map(str, args)],
        capture_output=True,
        text=True,
        env=env or clean_env(),
        timeout=600,
        **kw,
    )


def points(env: Path) -> list:
    root = env / ".alltalk-launch" / "undo"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def manifest(env: Path, point: str) -> dict:
    return json.loads((env / ".alltalk-launch" / "undo" / point / "manifest.json").read_text())


def launcher(root: Path, venv: Path, *args, **kw):
    return run_launcher("--root", root, "--env", venv, *args, **kw)


def one_paragraph_error(r) -> str:
    assert r.returncode != 0, r.stdout + r.stderr
    err = r.stderr.strip()
    assert err.startswith("alltalk-launch: error: "), err
    assert "\n" not in err and "Traceback" not in err and "terminate" not in err, err
    return err


def children(pid: int) -> list:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def kill_tree(pid: int):
    for c in children(pid):
        kill_tree(c)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def root(tmp_path) -> Path:
    return make_root(tmp_path / "alltalk_tts")


@pytest.fixture
def six_env(tmp_path) -> Path:
    return uv_env(tmp_path / "env", "six==1.16.0")


def test_hard_links_survive_real_pip_and_undo_gives_back_every_hash(six_env, root):
    before = snapshot(six_env)
    r = driver(
        "apply",
        six_env,
        "--replace",
        "six",
        "--install",
        "six==1.17.0",
        "--summary",
        "six 1.16.0 -> 1.17.0",
        "--",
        *pip(six_env, "install", "-q", "six==1.17.0"),
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] and out["recorded"]["linked"] == out["recorded"]["files"] > 0
    assert (six_env / SP / "six-1.17.0.dist-info").is_dir()
    m = manifest(six_env, out["undo_id"])
    assert m["state"] == "applied"
    assert m["changes"] == [{"name": "six", "before": "1.16.0", "after": "1.17.0"}]
    # pip unlinked or renamed every old file: each saved link is now the only name of its inode,
    # with the content it had before pip ran. Had pip written through an installed file, the
    # saved link would show the new content.
    point = six_env / ".alltalk-launch" / "undo" / out["undo_id"]
    for f in m["dists"][0]["files"]:
        saved = point / f["saved"]
        assert record_hash(saved) == f["hash"], f["path"]
        assert saved.stat().st_nlink == 1, f["path"]
    # Undo offline: no index, no cache, no pip.
    offline = clean_env(PIP_INDEX_URL="http://127.0.0.1:9/", PIP_NO_CACHE_DIR="1")
    r = launcher(root, six_env, "fix", "--undo", env=offline)
    assert r.returncode == 0, r.stderr
    assert "six 1.17.0 -> 1.16.0" in r.stdout
    assert snapshot(six_env) == before  # every hash back, and nothing new left
    assert manifest(six_env, out["undo_id"])["state"] == "restored"
    h = json.loads(launcher(root, six_env, "fix", "--history", "--json").stdout)
    assert [(p["id"], p["state"]) for p in h] == [(out["undo_id"], "restored")]
    r = launcher(root, six_env, "fix", "--history")
    assert "restored" in r.stdout and "six 1.16.0 -> 1.17.0" in r.stdout
    r = launcher(root, six_env, "fix", "--forget", out["undo_id"])
    assert r.returncode == 0 and points(six_env) == []


class StallingIndex(http.server.ThreadingHTTPServer):
    """A PEP 503 index with one wheel whose download stalls after its first bytes."""

    def __init__(self):
        self.requested = threading.Event()
        self.release = threading.Event()
        super().__init__(("127.0.0.1", 0), StallingHandler)


class StallingHandler(http.server.BaseHTTPRequestHandler):
    WHEEL = "six-1.17.0-py2.py3-none-any.whl"

    def do_GET(self):
        if self.path.rstrip("/") == "/simple/six":
            body = f'<html><body><a href="/files/{self.WHEEL}">{self.WHEEL}</a></body></html>'
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())
        elif self.path == f"/files/{self.WHEEL}":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", "200000")
            self.end_headers()
            self.wfile.write(b"PK" + b"\0" * 1000)
            self.wfile.flush()
            self.server.requested.set()
            self.server.release.wait(120)
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


def test_pip_killed_during_download_changes_nothing_and_undo_says_so(six_env, root):
    before = snapshot(six_env)
    server = StallingIndex()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        index = f"http://127.0.0.1:{server.server_address[1]}/simple"
        proc = subprocess.Popen(
            [
                str(DRIVER),
                "apply",
                str(six_env),
                "--replace",
                "six",
                "--install",
                "six==1.17.0",
                "--",
                *pip(six_env, "install", "--no-cache-dir", "--index-url", index, "six==1.17.0"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        assert server.requested.wait(120), "pip never started the download"
        for pid in children(proc.pid):
            kill_tree(pid)  # pip, mid-download
        out, err = proc.communicate(timeout=60)
    finally:
        server.release.set()
        server.shutdown()
    assert proc.returncode == 1, err
    result = json.loads(out.splitlines()[-1])  # after pip's own "Looking in indexes"
    assert not result["ok"] and result["status"] == -9
    assert manifest(six_env, result["undo_id"])["state"] == "failed"
    assert snapshot(six_env) == before
    r = launcher(root, six_env, "fix", "--undo")
    assert r.returncode == 0, r.stderr
    assert snapshot(six_env) == before


SIX_METADATA = b"Metadata-Version: 2.1\nName: six\nVersion: 1.17.0\nRequires-Python: >=2.7\n"


class MetadataFirstHandler(StallingHandler):
    """The stalling index, with the wheel's metadata on its own (PEP 658): pip plans from it at
    once, and only the install's download stalls."""

    def do_GET(self):
        digest = hashlib.sha256(SIX_METADATA).hexdigest()
        if self.path.rstrip("/") == "/simple/six":
            body = (f'<html><body><a href="/files/{self.WHEEL}" '
                    f'data-dist-info-metadata="sha256={digest}" '
                    f'data-core-metadata="sha256={digest}">{self.WHEEL}</a></body></html>')
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())
        elif self.path == f"/files/{self.WHEEL}.metadata":
            self.send_response(200)
            self.send_header("Content-Length", str(len(SIX_METADATA)))
            self.end_headers()
            self.wfile.write(SIX_METADATA)
        else:
            super().do_GET()


def test_ctrl_c_during_pip_stops_pip_not_the_fix_and_undo_restores(six_env, root):
    # Ctrl+C in the terminal reaches the whole foreground process group: pip stops, and the
    # launcher, which ignores it while pip runs, marks the undo point failed and says how back.
    before = snapshot(six_env)
    server = StallingIndex()
    server.RequestHandlerClass = MetadataFirstHandler
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        index = f"http://127.0.0.1:{server.server_address[1]}/simple"
        proc = subprocess.Popen(
            [str(LAUNCHER), "--root", str(root), "--env",
             str(six_env), "fix", "--install", "six==1.17.0", "--yes"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
            env=clean_env(PIP_INDEX_URL=index, PIP_NO_CACHE_DIR="1"))
        assert server.requested.wait(300), "pip never started the download"
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        server.release.set()
        server.shutdown()
    assert proc.returncode == 1, out + err
    assert "The fix failed at: pip install six==1.17.0" in out, out + err
    assert "alltalk-launch fix --undo" in out
    [point] = points(six_env)
    assert manifest(six_env, point)["state"] == "failed"
    assert snapshot(six_env) == before  # stopped before it changed anything
    r = launcher(root, six_env, "fix", "--undo")
    assert r.returncode == 0, r.stderr
    assert snapshot(six_env) == before and manifest(six_env, point)["state"] == "restored"


@pytest.fixture
def numpy_env(tmp_path) -> Path:
    return uv_env(tmp_path / "env", "numpy==1.26.3")


def test_pip_and_launcher_killed_during_install_then_undo(numpy_env, root):
    """Killed once the new files appear (pip's stash folder ~umpy and a new numpy/ side by
    side): the env is half-changed, the next fix refuses, `fix --undo` gives everything back."""
    sp = numpy_env / SP
    before = snapshot(numpy_env)
    proc = subprocess.Popen(
        [
            str(DRIVER),
            "apply",
            str(numpy_env),
            "--replace",
            "numpy",
            "--install",
            "numpy==1.26.4",
            "--",
            *pip(numpy_env, "install", "-q", "numpy==1.26.4"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    deadline = time.monotonic() + 300
    seen = False
    while time.monotonic() < deadline and proc.poll() is None:
        if (sp / "~umpy").is_dir() and (sp / "numpy").is_dir() and any((sp / "numpy").iterdir()):
            seen = True
            break
        time.sleep(0.002)
    kill_tree(proc.pid)  # the launcher and pip together, as a power loss would
    proc.communicate(timeout=60)
    assert seen, "pip's install was not caught in the act"
    assert snapshot(numpy_env) != before  # half-changed
    [point] = points(numpy_env)
    assert manifest(numpy_env, point)["state"] == "applying"
    # The next fix refuses and says what to do.
    r = driver("apply", numpy_env, "--replace", "numpy", "--", "/bin/true")
    assert r.returncode == 2 and "fix --undo" in r.stderr, r.stderr
    r = launcher(root, numpy_env, "fix", "--undo")
    assert r.returncode == 0, r.stderr
    assert snapshot(numpy_env) == before
    assert not (sp / "~umpy").exists()
    # And the env works again.
    r = subprocess.run(
        [str(numpy_env / "bin" / "python"), "-c", "import numpy; print(numpy.__version__)"],
        capture_output=True,
        text=True,
    )
    assert r.stdout.strip() == "1.26.3", r.stderr


def test_launcher_killed_while_writing_the_undo_point(six_env, root):
    before = snapshot(six_env)
    proc = subprocess.Popen(
        [
            str(DRIVER),
            "apply",
            str(six_env),
            "--replace",
            "six",
            "--pause-at",
            "3",
            "--",
            *pip(six_env, "install", "-q", "six==1.17.0"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    assert proc.stdout.readline().strip() == "saving 3"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    [point] = points(six_env)
    assert manifest(six_env, point)["state"] == "recording"
    assert snapshot(six_env) == before  # pip never ran
    r = launcher(root, six_env, "fix", "--undo")
    assert r.returncode == 0, r.stderr
    assert "never completed" in r.stdout and "nothing in the env had changed" in r.stdout
    assert points(six_env) == [] and snapshot(six_env) == before
    # Killed again; this time the next fix clears the incomplete point and goes ahead.
    proc = subprocess.Popen(
        [
            str(DRIVER),
            "apply",
            str(six_env),
            "--replace",
            "six",
            "--pause-at",
            "2",
            "--",
            "/bin/true",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    assert proc.stdout.readline().strip() == "saving 2"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    r = driver("apply", six_env, "--replace", "six", "--", "/bin/true")
    assert r.returncode == 0, r.stderr
    assert points(six_env) == [json.loads(r.stdout)["undo_id"]]


def test_undo_without_any_point_or_with_an_unknown_id(six_env, root):
    err = one_paragraph_error(launcher(root, six_env, "fix", "--undo"))
    assert "nothing to undo" in err
    err = one_paragraph_error(launcher(root, six_env, "fix", "--forget", "x"))
    assert "There is no undo point x" in err
    assert not (six_env / ".alltalk-launch").exists()  # asking created nothing
    driver("apply", six_env, "--replace", "six", "--", "/bin/true")
    err = one_paragraph_error(launcher(root, six_env, "fix", "--undo", "20200101-000000-1"))
    assert "There is no undo point 20200101-000000-1" in err and "fix --history" in err
    err = one_paragraph_error(launcher(root, six_env, "fix", "--forget", "../../etc"))
    assert "There is no undo point" in err


def test_a_damaged_undo_point_changes_nothing(six_env, root):
    r = driver(
        "apply",
        six_env,
        "--replace",
        "six",
        "--copy",
        "--",
        *pip(six_env, "install", "-q", "six==1.17.0"),
    )
    assert r.returncode == 0, r.stderr
    point = json.loads(r.stdout)["undo_id"]
    pdir = six_env / ".alltalk-launch" / "undo" / point
    after_fix = snapshot(six_env)
    # A saved file whose content changed.
    m = manifest(six_env, point)
    saved = pdir / m["dists"][0]["files"][0]["saved"]
    saved.write_bytes(saved.read_bytes() + b"# changed\n")
    err = one_paragraph_error(launcher(root, six_env, "fix", "--undo"))
    assert "is damaged" in err and "does not have the hash" in err
    assert snapshot(six_env) == after_fix
    # A manifest that is not JSON, and one without a key.
    (pdir / "manifest.json").write_text("{ not json")
    err = one_paragraph_error(launcher(root, six_env, "fix", "--undo"))
    assert "not valid JSON" in err and "fix --forget" in err
    del m["dists"]
    (pdir / "manifest.json").write_text(json.dumps(m))
    err = one_paragraph_error(launcher(root, six_env, "fix", "--undo", point))
    assert 'has no "dists"' in err
    assert snapshot(six_env) == after_fix
    r = launcher(root, six_env, "fix", "--history")
    assert r.returncode == 0 and "damaged" in r.stdout
    assert launcher(root, six_env, "fix", "--forget", point).returncode == 0


def read_only(env: Path, cmd: list) -> list:
    """`cmd` with `env` read-only: a read-only bind mount in a mount namespace of its own when
    root (permissions do not stop root), else the env's write bits removed."""
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, str(env), *map(str, cmd)]


@pytest.mark.skipif(os.geteuid() != 0, reason="a read-only bind mount needs root")
def test_a_read_only_env_is_a_clear_error(six_env, root):
    before = snapshot(six_env)
    r = subprocess.run(
        read_only(
            six_env,
            [
                DRIVER,
                "apply",
                six_env,
                "--replace",
                "six",
                "--",
                *pip(six_env, "install", "six==1.17.0"),
            ],
        ),
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert r.returncode == 2 and "not writable" in r.stderr, r.stderr
    assert snapshot(six_env) == before and points(six_env) == []
    # An undo point made while writable, undone while read-only: refused before any change.
    r = driver(
        "apply", six_env, "--replace", "six", "--", *pip(six_env, "install", "-q", "six==1.17.0")
    )
    assert r.returncode == 0, r.stderr
    after_fix = snapshot(six_env)
    r = subprocess.run(
        read_only(six_env, [LAUNCHER_BIN(), "--root", root, "--env", six_env, "fix", "--undo"]),
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    err = one_paragraph_error(r)
    assert "not writable" in err
    assert snapshot(six_env) == after_fix


def LAUNCHER_BIN() -> Path:
    from conftest import LAUNCHER

    return LAUNCHER


def file_size_limit(limit: int):
    def preexec():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


@pytest.mark.parametrize("mode,limit", [("--copy", 4096), ("--links", 1500)])
def test_no_room_for_the_undo_point_removes_it_and_changes_nothing(six_env, mode, limit):
    """A file-size limit stands in for a full disk: copies fail on six.py (34 kB); with links
    only the manifest is written, and its final form is larger than the limit."""
    before = snapshot(six_env)
    args = ["apply", six_env, "--replace", "six", "--install", "six==1.17.0"]
    if mode == "--copy":
        args.append("--copy")
    r = subprocess.run(
        [str(DRIVER), *map(str, args), "--", *pip(six_env, "install", "six==1.17.0")],
        capture_output=True,
        text=True,
        env=clean_env(),
        preexec_fn=file_size_limit(limit),
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert "no room for the undo point" in r.stderr and "nothing was changed" in r.stderr
    assert points(six_env) == []
    assert snapshot(six_env) == before  # pip never ran


def test_one_fix_at_a_time_and_no_server_during_a_fix(six_env, root):
    first = json.loads(driver("apply", six_env, "--replace", "six", "--", "/bin/true").stdout)
    holder = subprocess.Popen(
        [str(DRIVER), "hold-lock", str(six_env)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        line = holder.stdout.readline().split()
        assert line[0] == "locked"
        pid = line[1]
        r = driver("apply", six_env, "--replace", "six", "--", "/bin/true")
        assert r.returncode == 2 and "Another fix is running" in r.stderr and pid in r.stderr
        assert points(six_env) == [first["undo_id"]]
        err = one_paragraph_error(launcher(root, six_env, "fix", "--undo"))
        assert "Another fix is running" in err and pid in err
        err = one_paragraph_error(launcher(root, six_env, "server"))
        assert "Not starting server" in err and f"process {pid}" in err
        err = one_paragraph_error(launcher(root, six_env, "finetune"))
        assert "Not starting finetune" in err
    finally:
        holder.kill()
        holder.wait()
    # The lock died with its holder: nothing stale is left to refuse.
    r = launcher(root, six_env, "server")
    assert r.returncode == 0, r.stderr
    r = driver("apply", six_env, "--replace", "six", "--", "/bin/true")
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_full_disk_removes_the_partial_point(tmp_path):
    """A real ENOSPC: the env on a 4 MiB tmpfs filled up to a few kB, the undo point copied."""
    mnt = tmp_path / "small disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], check=True)
    try:
        env = mnt / "env"
        subprocess.run(
            [str(UV), "venv", "-q", "--python", str(BASE_PYTHON), str(env)],
            check=True,
            env=clean_env(),
        )
        subprocess.run(
            [
                str(UV),
                "pip",
                "install",
                "-q",
                "--python",
                str(env / "bin" / "python"),
                "six==1.16.0",
            ],
            check=True,
            env=clean_env(UV_LINK_MODE="copy"),
        )
        before = snapshot(env)
        free = shutil.disk_usage(mnt).free
        with open(mnt / "filler", "wb") as f:
            f.write(b"\0" * (free - 16 * 1024))
        r = driver("apply", env, "--replace", "six", "--copy", "--", "/bin/true")
        assert r.returncode == 2, r.stdout + r.stderr
        assert "no room for the undo point" in r.stderr, r.stderr
        # Said before the first copy, from the space the copies need (before: at the copy that
        # failed, with ENOSPC's own words).
        assert "kB are free" in r.stderr and "it copies the files" in r.stderr
        assert points(env) == [] and snapshot(env) == before
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
