"""Benchmark: the cost of cuDNN selection, the torch architecture read and the GPU probe, as a
share of the launcher's start-up, on a real env with torch 2.4.1 (cuDNN 9 wheel) and ctranslate2
4.4.0 (cuDNN 8, served from a CUDA_PATH folder holding the real nvidia-cudnn-cu12 8.9 libraries).

usage: python3.11 bench/native.py [--launcher build/alltalk-launch] [-n 9]

In one run:
  1. start-up: `alltalk-launch python -c pass` in that env (it selects, re-executes once with
     LD_LIBRARY_PATH, reads torch's architectures and probes the GPU), median of n;
  2. the same with --cpu and LD_LIBRARY_PATH already set as the launcher wants it (no re-exec,
     no probe): the baseline, to show what the re-exec and the probe cost together;
  3. the launcher's own timings from -v: selection (made once, before the re-exec, and handed
     to the re-executed launcher), the
     architecture read and the probe, as a share of the start-up measured in 1.
Goal: selection under 10 ms.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

import cached_venv  # noqa: E402
import torch_envs  # noqa: E402

REQ = ROOT / "tests" / "requirements"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("ALLTALK_LAUNCH_CHILD", "ALLTALK_ROOT", "CONDA_PREFIX", "VIRTUAL_ENV",
                        "PYTHONHOME", "PYTHONPATH", "LD_LIBRARY_PATH")}
    env.update(extra)
    return env


def site_of(venv):
    return next((Path(venv) / "lib").glob("python3.*/site-packages"))


def build_env(tmp, python):
    torch_venv = torch_envs.torch_env("oldest", python)
    ct2 = cached_venv.ensure("ctranslate2-cudnn8", REQ / "ctranslate2-cudnn8.txt", python,
                             no_deps=True)
    cudnn8 = cached_venv.ensure("torch-pre-allowlist", REQ / "torch-pre-allowlist.txt", python,
                                no_deps=True)
    env = tmp / "env"
    subprocess.run([python, "-m", "venv", "--without-pip", str(env)], check=True)
    site = site_of(env)
    for base in (torch_venv, ct2):
        for entry in site_of(base).iterdir():
            if not (site / entry.name).exists() and entry.name != "__pycache__":
                os.symlink(entry, site / entry.name)
    cuda = tmp / "cuda8"
    cuda.mkdir()
    os.symlink(site_of(cudnn8) / "nvidia" / "cudnn" / "lib", cuda / "lib64")
    return env, cuda


def timed(cmd, env):
    start = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"benchmark command failed: {cmd}\n{r.stderr[-2000:]}")
    return elapsed, r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", default=str(ROOT / "build" / "alltalk-launch"))
    ap.add_argument("--python", default=str(Path.home() / ".pyenv/versions/3.11.7/bin/python3.11"))
    ap.add_argument("-n", type=int, default=9)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        env_dir, cuda = build_env(Path(d), args.python)
        env = clean_env(CUDA_PATH=str(cuda))
        full = [args.launcher, "--env", str(env_dir), "python", "-c", "pass"]
        # The LD_LIBRARY_PATH the launcher sets, taken from its dry run.
        dry = subprocess.run([args.launcher, "--env", str(env_dir), "--dry-run", "python"],
                             env=env, capture_output=True, text=True, check=True).stdout
        ld = re.search(r"^    LD_LIBRARY_PATH=(.*)$", dry, re.M).group(1)
        base_env = dict(env, LD_LIBRARY_PATH=ld)
        base = [args.launcher, "--cpu", "--env", str(env_dir), "python", "-c", "pass"]
        timed(full, env), timed(base, base_env)  # warm the page cache
        t_full, t_base, sel, arch, probe = [], [], [], [], []
        for _ in range(args.n):
            t_full.append(timed(full, env)[0])
            t_base.append(timed(base, base_env)[0])
            _, err = timed(full[:1] + ["-v"] + full[1:], env)
            sel.append(float(re.search(r"timing: cuDNN selection ([\d.]+) ms", err).group(1)))
            m = re.search(r"torch architectures ([\d.]+) ms, GPU probe ([\d.]+) ms", err)
            arch.append(float(m.group(1)))
            probe.append(float(m.group(2)))
        f, b = statistics.median(t_full) * 1000, statistics.median(t_base) * 1000
        s, a, p = statistics.median(sel), statistics.median(arch), statistics.median(probe)
        print(f"env: torch 2.4.1 + ctranslate2 4.4.0 (needs cuDNN 9 and 8), n={args.n}, medians")
        print(f"  start-up, full (select, re-exec, arch read, probe): {f:8.1f} ms")
        print(f"  start-up, baseline (LD_LIBRARY_PATH preset, --cpu):  {b:8.1f} ms")
        print(f"  re-exec + arch read + probe (full - baseline): {f - b:6.1f} ms"
              f"  ({(f - b) / f:5.1%} of start-up)")
        print(f"  cuDNN selection:                  {s:6.2f} ms  ({s / f:5.1%} of start-up; "
              f"goal < 10 ms: {'met' if s < 10 else 'NOT met'})")
        print(f"  torch architecture read:          {a:6.2f} ms  ({a / f:5.1%})")
        print(f"  GPU probe (no driver here):       {p:6.2f} ms  ({p / f:5.1%})")


if __name__ == "__main__":
    main()
