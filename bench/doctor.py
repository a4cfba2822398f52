#!/usr/bin/env python3
"""`alltalk-launch doctor --json` against `pip check` (pip 26.3) and `uv pip check` (uv 0.13.9), on
a generated env of 500 distributions and on the real torch + coqui-tts test venv, alternating in
the same run; prints the medians and the ratios (goals: >= 10x faster than pip check, not slower
than uv pip check).

usage: bench/doctor.py [--launcher build/alltalk-launch] [--runs 30] [--real ENV]
The tools (pip 26.3, uv) come from the cached test-tools venv (tests/requirements/tools.txt).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))
import cached_venv  # noqa: E402
from generated_env import generate_env  # noqa: E402


def timed(cmd, env):
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def generated(tmp: Path, tools: Path, python: str) -> Path:
    venv = tmp / "gen500"
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3.*/site-packages"))
    wheels = tmp / "wheels"
    subprocess.run([str(tools / "bin" / "python"), "-m", "pip", "download", "-q", "--no-deps",
                    "-d", str(wheels), "--cache-dir", str(cached_venv.cache_root() / "pip"),
                    "pip==26.3"], check=True)
    with zipfile.ZipFile(next(wheels.glob("pip-*.whl"))) as z:
        z.extractall(site)
    generate_env(site, seed=500, count=625)  # ~80% installed: about 500 distributions
    return venv


def bench(name, venv, launcher, uv, runs, environ):
    py = str(venv / "bin" / "python")
    cmds = {
        "doctor": [launcher, "--env", str(venv), "--root", str(venv), "doctor", "--json"],
        "pip check": [py, "-m", "pip", "check"],
        "uv pip check": [uv, "pip", "check", "--python", py],
    }
    for cmd in cmds.values():  # warm caches
        for _ in range(3):
            timed(cmd, environ)
    times = {k: [] for k in cmds}
    for _ in range(runs):
        for k, cmd in cmds.items():
            times[k].append(timed(cmd, environ))
    med = {k: statistics.median(v) for k, v in times.items()}
    dists = len(list(next((venv / "lib").glob("python3.*/site-packages")).glob("*.*-info")))
    print(f"{name} ({dists} distributions, median of {runs}):")
    for k, v in med.items():
        print(f"  {k:14s} {v * 1000:8.2f} ms")
    print(f"  pip check / doctor:     {med['pip check'] / med['doctor']:7.1f}x  (goal >= 10)")
    print(f"  uv pip check / doctor:  {med['uv pip check'] / med['doctor']:7.2f}x  (goal >= 1)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", default=str(ROOT / "build" / "alltalk-launch"))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--real", help="a real env (default: the cached torch-newest test venv)")
    args = ap.parse_args()
    base = "/usr/bin/python3.11"
    tools = cached_venv.ensure("tools", ROOT / "tests" / "requirements" / "tools.txt", base)
    uv = str(tools / "bin" / "uv")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ALLTALK_")}
    environ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    tmp = Path(tempfile.mkdtemp(prefix="alltalk_bench_"))
    try:
        bench("generated env", generated(tmp, tools, base), args.launcher, uv, args.runs, environ)
        if args.real:
            real = Path(args.real)
        else:
            sys.path.insert(0, str(ROOT / "tests" / "support"))
            import torch_envs
            real = torch_envs.torch_env("newest", str(Path.home() / ".pyenv/versions/3.11.7/bin/python3.11")
                                        if (Path.home() / ".pyenv/versions/3.11.7").exists() else base)
        bench(f"real venv {real.name}", real, args.launcher, uv, args.runs, environ)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
