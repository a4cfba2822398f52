#!/usr/bin/env python3
"""Start-up overhead of the launcher: `alltalk-launch run hello.py` against `<env>/bin/python
hello.py`, alternating, in the same run; prints the medians and their ratio (goal: <= 1.15).

usage: bench/startup.py [--launcher build/alltalk-launch] [--env ENV] [--runs 200]
Without --env a fresh venv of this machine's Python 3.11 is made in a temp folder.
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


def timed(cmd, env, cwd):
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", default=str(Path(__file__).resolve().parents[1] / "build" /
                                              "alltalk-launch"))
    ap.add_argument("--env")
    ap.add_argument("--python", default=shutil.which("python3.11") or "/usr/bin/python3.11")
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="alltalk-bench-"))
    try:
        env_dir = Path(args.env) if args.env else tmp / "env"
        if not args.env:
            subprocess.run([args.python, "-m", "venv", "--without-pip", str(env_dir)], check=True)
        hello = tmp / "hello.py"
        hello.write_text("print('hello')\n")
        environ = {k: v for k, v in os.environ.items() if not k.startswith("ALLTALK_")}
        python = [str(env_dir / "bin" / "python"), str(hello)]
        launcher = [args.launcher, "--env", str(env_dir), "run", str(hello)]
        for cmd in (python, launcher):  # warm the page cache
            for _ in range(5):
                timed(cmd, environ, tmp)
        base, mine = [], []
        for _ in range(args.runs):
            base.append(timed(python, environ, tmp))
            mine.append(timed(launcher, environ, tmp))
        mb, mm = statistics.median(base), statistics.median(mine)
        print(f"python hello.py:                {mb * 1000:7.2f} ms (median of {args.runs})")
        print(f"alltalk-launch run hello.py:    {mm * 1000:7.2f} ms (median of {args.runs})")
        print(f"ratio launcher/python:          {mm / mb:7.3f}  (goal <= 1.15)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
