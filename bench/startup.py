#!/usr/bin/env python3
"""Start-up overhead of the launcher against the env's own python, alternating, in the same run;
prints the medians and their ratio for two envs:

  bare venv:  `alltalk-launch --env ENV run hello.py` vs `ENV/bin/python hello.py` (goal <= 1.10)
  torch env:  `alltalk-launch --env ENV python -c pass` vs `ENV/bin/python -c pass` (goal <= 1.25)
              (torch with its CUDA wheels and coqui-tts: the launcher selects cuDNN, re-executes
              itself once with LD_LIBRARY_PATH, reads torch's architectures and probes the GPU)

usage: bench/startup.py [--launcher build/alltalk-launch] [--env ENV] [--runs 200]
                        [--torch-env ENV | --no-torch-env] [--torch-runs 100]
Without --env a fresh venv of this machine's Python 3.11 is made in a temp folder. Without
--torch-env the test suite's cached torch-newest venv is used when it is there (it is never
built here: run the integration tests once, or pass --torch-env).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

import cached_venv  # noqa: E402


def timed(cmd, env, cwd):
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def cached_torch_env():
    """The newest cached torch-newest-* venv of the test suite, if one was built."""
    venvs = cached_venv.cache_root() / "venvs"
    found = sorted((p for p in venvs.glob("torch-newest-*") if (p / ".complete").exists()),
                   key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def compare(label, python_cmd, launcher_cmd, runs, environ, cwd, goal):
    for cmd in (python_cmd, launcher_cmd):  # warm the page cache (and the launcher's own caches)
        for _ in range(5):
            timed(cmd, environ, cwd)
    base, mine = [], []
    for _ in range(runs):
        base.append(timed(python_cmd, environ, cwd))
        mine.append(timed(launcher_cmd, environ, cwd))
    mb, mm = statistics.median(base), statistics.median(mine)
    print(f"{label}:")
    print(f"  python:            {mb * 1000:7.2f} ms (median of {runs})")
    print(f"  alltalk-launch:    {mm * 1000:7.2f} ms (median of {runs})")
    print(f"  ratio:             {mm / mb:7.3f}  (goal <= {goal:.2f}: "
          f"{'met' if mm / mb <= goal else 'missed'})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", default=str(ROOT / "build" / "alltalk-launch"))
    ap.add_argument("--env")
    ap.add_argument("--python", default=shutil.which("python3.11") or "/usr/bin/python3.11")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--torch-env", help="an env with torch and coqui-tts (default: the cached "
                                        "torch-newest test venv)")
    ap.add_argument("--no-torch-env", action="store_true", help="measure the bare venv only")
    ap.add_argument("--torch-runs", type=int, default=100)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="alltalk-bench-"))
    try:
        env_dir = Path(args.env) if args.env else tmp / "env"
        if not args.env:
            subprocess.run([args.python, "-m", "venv", "--without-pip", str(env_dir)], check=True)
        hello = tmp / "hello.py"
        hello.write_text("print('hello')\n")
        environ = {k: v for k, v in os.environ.items()
                   if not k.startswith("ALLTALK_") and k not in (
                       "PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX",
                       "LD_LIBRARY_PATH")}
        compare("bare venv: run hello.py",
                        [str(env_dir / "bin" / "python"), str(hello)],
                        [args.launcher, "--env", str(env_dir), "run", str(hello)],
                        args.runs, environ, tmp, 1.10)
        torch_env = None if args.no_torch_env else (
            Path(args.torch_env) if args.torch_env else cached_torch_env())
        if torch_env is None:
            if not args.no_torch_env:
                print("torch env: skipped (no cached torch-newest venv; pass --torch-env ENV)")
        else:
            print(f"torch env: {torch_env}")
            compare("torch env: python -c pass",
                            [str(torch_env / "bin" / "python"), "-c", "pass"],
                            [args.launcher, "--env", str(torch_env), "python", "-c", "pass"],
                            args.torch_runs, environ, tmp, 1.25)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
