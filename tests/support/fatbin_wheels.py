"""Real CUDA binaries for the fat binary readers' tests, and NVIDIA's cuobjdump as their oracle.

The wheels of tests/requirements/fatbin-wheels.txt are downloaded once for win_amd64 and for
manylinux x86_64 (`pip download --only-binary=:all: --no-deps --platform ...`); only the libraries
that carry a CUDA fat binary section, and cuobjdump, are kept, in
$ALLTALK_TEST_CACHE/fatbin-wheels/<hash of the requirements>/ (rebuilt when missing).
"""
import fcntl
import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import cached_venv

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements" / "fatbin-wheels.txt"
PLATFORMS = {
    "win": ["win_amd64"],
    "linux": ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
              "manylinux2014_x86_64"],
}
# The libraries with fat binaries, by the end of their path in the wheels.
KEEP = ("ctranslate2.dll", "nvjpeg64_12.dll", "nvjpeg2k_0.dll", "libnvjpeg.so.12",
        "libnvjpeg2k.so.0", "bin/cuobjdump")


def _is_kept(name: str) -> bool:
    return name.endswith(KEEP) or ("/libctranslate2-" in name and ".so." in name)


def ensure() -> Path:
    """The folder holding win/ and linux/ (the libraries) and cuobjdump."""
    text = REQUIREMENTS.read_text()
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    root = cached_venv.cache_root() / "fatbin-wheels" / key
    done = root / ".complete"
    if done.exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return root
        if root.exists():
            shutil.rmtree(root)
        reqs = [line.split("#")[0].strip() for line in text.splitlines()]
        reqs = [r for r in reqs if r]
        for plat, tags in PLATFORMS.items():
            wanted = [r for r in reqs if plat == "linux" or "cuobjdump" not in r]
            download = root / "download" / plat
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                            "--only-binary=:all:", "--python-version", "3.11",
                            *(a for t in tags for a in ("--platform", t)), "-d", str(download),
                            "--cache-dir", str(cached_venv.cache_root() / "pip"), *wanted],
                           check=True, stdout=sys.stderr)
            for wheel in sorted(download.glob("*.whl")):
                with zipfile.ZipFile(wheel) as z:
                    for name in z.namelist():
                        if _is_kept(name):
                            dest = root / ("cuobjdump" if name.endswith("cuobjdump") else
                                           Path(plat) / Path(name).name)
                            dest.parent.mkdir(parents=True, exist_ok=True)
                            dest.write_bytes(z.read(name))
        (root / "cuobjdump").chmod(0o755)
        shutil.rmtree(root / "download")
        done.write_text(text)
    return root


def libraries(root: Path, plat: str) -> list:
    return sorted((root / plat).iterdir())
