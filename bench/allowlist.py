"""Benchmark: the torch allow-list through alltalk-launch against the user guide's sitecustomize.py.

usage: python3.11 bench/allowlist.py [--launcher build/alltalk-launch] [--env oldest|newest] [-n 7]

In one run, in the same real env (the cached torch + coqui-tts test venv, seen through two overlay
venvs so the cached venv itself is never changed):
  1. start-up: `python -c pass` in the env WITH the guide's sitecustomize.py (imports torch and TTS
     on every start; with the numpy scalar/dtype entries a training checkpoint also needs) against `alltalk-launch python -c pass` in the env WITHOUT it;
  2. time to the first successful load of an XTTS-shaped fine-tuning checkpoint, both ways.
Runs alternate between the two ways; medians are printed with the ratio (sitecustomize / launcher).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

import torch_envs  # noqa: E402


def clean_env():
    return {k: v for k, v in os.environ.items()
            if k not in ("ALLTALK_LAUNCH_CHILD", "ALLTALK_ROOT", "CONDA_PREFIX", "VIRTUAL_ENV",
                         "PYTHONHOME", "PYTHONPATH")}


def timed(cmd, cwd):
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=clean_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"benchmark command failed: {cmd}\n{r.stderr[-2000:]}")
    return elapsed


def compare(title, guide_cmd, launcher_cmd, n, cwd):
    timed(guide_cmd, cwd), timed(launcher_cmd, cwd)  # warm the page cache for both
    guide, launcher = [], []
    for _ in range(n):
        guide.append(timed(guide_cmd, cwd))
        launcher.append(timed(launcher_cmd, cwd))
    g, l = statistics.median(guide), statistics.median(launcher)
    print(f"{title}\n  guide sitecustomize.py: {g * 1000:8.1f} ms (median of {n})\n"
          f"  alltalk-launch:         {l * 1000:8.1f} ms (median of {n})\n"
          f"  ratio (sitecustomize / launcher): {g / l:.2f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", type=Path, default=ROOT / "build" / "alltalk-launch")
    ap.add_argument("--env", choices=torch_envs.TORCH_ENVS, default="newest")
    ap.add_argument("--python", default=sys.executable,
                    help="the CPython 3.11 the cached test venvs are built with")
    ap.add_argument("-n", type=int, default=7)
    args = ap.parse_args()

    base = torch_envs.torch_env(args.env, args.python)
    version = torch_envs.torch_version(base)
    with tempfile.TemporaryDirectory(prefix="alltalk-bench-") as tmp:
        tmp = Path(tmp)
        guided = torch_envs.overlay_env(base, tmp / "guide", args.python,
                                        torch_envs.GUIDE_SITECUSTOMIZE_WITH_NUMPY)
        plain = torch_envs.overlay_env(base, tmp / "plain", args.python, None)
        ckpt = torch_envs.write_checkpoint(base, tmp / "finetune.pth")
        kw = torch_envs.load_kwargs(version)
        print(f"torch {version}, {args.launcher}, env {base}")
        py = str(torch_envs.env_python(guided))
        launch = [str(args.launcher), "--env", str(plain), "python"]
        compare("start-up: python -c pass", [py, "-c", "pass"], launch + ["-c", "pass"], args.n,
                tmp)
        load = f"import torch; torch.load({str(ckpt)!r}{kw})"
        compare("first successful load of an XTTS fine-tuning checkpoint (process start included)",
                [py, "-c", load], launch + ["-c", load], args.n, tmp)


if __name__ == "__main__":
    main()
