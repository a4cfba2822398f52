"""Creates (once) a venv with a requirements file installed, cached outside the checkout.

usage: python3.11 cached_venv.py NAME REQUIREMENTS [--python PY] [--no-deps]

The venv lives in $ALLTALK_TEST_CACHE/venvs/NAME-<hash of the requirements, the Python and the
options> and is rebuilt when missing or incomplete; pip's download cache lives beside it. Prints
the venv's path. Heavy test envs (torch, coqui-tts, cuDNN wheels) reuse it between CI runs.
"""
import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("ALLTALK_TEST_CACHE", Path.home() / ".cache" / "alltalk-launch-tests"))


def ensure(name: str, requirements: Path, python: str, no_deps: bool = False) -> Path:
    text = requirements.read_text()
    key = hashlib.sha256(f"{text}\n{python}\n{no_deps}".encode()).hexdigest()[:16]
    venv = cache_root() / "venvs" / f"{name}-{key}"
    done = venv / ".complete"
    if done.exists():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    # Several test processes may ask for the same venv at once: one builds it, the others wait.
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return venv
        return _build(venv, done, text, requirements, python, no_deps)


def _build(venv: Path, done: Path, text: str, requirements: Path, python: str,
           no_deps: bool) -> Path:
    if venv.exists():
        shutil.rmtree(venv)
    # Built in place under its final name (venvs are not relocatable), marked complete at the end.
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--cache-dir",
           str(cache_root() / "pip")]
    if no_deps:
        pip.append("--no-deps")
    print(f"cached_venv: installing {requirements} into {venv}", file=sys.stderr)
    subprocess.run(pip + ["-r", str(requirements)], check=True, stdout=sys.stderr)
    done.write_text(text)
    return venv


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("requirements", type=Path)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--no-deps", action="store_true")
    args = ap.parse_args()
    print(ensure(args.name, args.requirements, args.python, args.no_deps))


if __name__ == "__main__":
    main()
