#!/usr/bin/env python3
"""`alltalk-launch fix`'s plan step against pip's own `--dry-run` alone, on the same env,
alternating in the same run; prints the medians and their ratio (goal: the prediction and the
checks add under 10 %, ratio < 1.10).

The env is the fix tests' gradio 3.50.2 + pydantic 2.10.6 set (tests/requirements/fix-gradio3.txt,
installed by uv from its cache): `fix --dry-run` finds gradio3-pydantic2, asks pip for
`pydantic<2` (pip install --dry-run --report), predicts the env after it and runs the doctor's
checks on the prediction. The baseline is the same pip command, run directly by the env's python.

Second, the undo point of a plan that replaces torch (goal: under 2 s and under 50 MB): a
hard-linked copy (cp -al, same file system) of the test suite's cached torch-newest venv, and
`tests/fix_driver record ENV --replace torch --replace torchaudio`, which records exactly the
undo point that `fix` records before pip starts. Extra disk is what the undo folder holds that
is not a hard link to the env's own files (its manifest, and any copies).

usage: bench/fix.py [--launcher build/alltalk-launch] [--driver build/tests/fix_driver]
                    [--torch-env ENV] [--runs 7]
Needs the test tools venv (scripts/test.sh makes it) for uv: ALLTALK_TEST_PYTHON, or it is found
in the test cache.
"""
import argparse
import json
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

import fix_envs  # noqa: E402


def timed(cmd, cwd, env):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        sys.exit(f"bench/fix.py: {cmd[0]} failed ({r.returncode}): {r.stderr[-2000:]}")
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", default=str(ROOT / "build" / "alltalk-launch"))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--driver", default=str(ROOT / "build" / "tests" / "fix_driver"))
    ap.add_argument("--torch-env", default=None)
    args = ap.parse_args()
    os.environ["ALLTALK_TEST_PYTHON"] = fix_envs.tools_python("bench/fix.py")
    env_vars = {k: v for k, v in os.environ.items()
                if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHOME")}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = tmp / "alltalk_tts"
        root.mkdir()
        (root / "script.py").write_text("print('server')\n")
        (root / "finetune.py").write_text("print('finetune')\n")
        env = fix_envs.fresh_env(tmp / "env", Path("/usr/bin/python3.11"), ["fix-gradio3.txt"])
        python = str(env / "bin" / "python")
        ours = [args.launcher, "--root", str(root), "--env", str(env), "fix", "--dry-run"]
        # The same pip runs that fix makes: the rule's requirement, then (fix keeps the env's other
        # distributions working) the request with the dependents it would break, by name.
        out = subprocess.run(ours + ["--json"], env=env_vars, capture_output=True, text=True)
        final = json.loads(out.stdout)["request"]["install"]
        requests = [["pydantic<2"]] + ([final] if final != ["pydantic<2"] else [])
        pips = [[python, "-m", "pip", "install", "--dry-run", "--report", str(tmp / "r.json"),
                 "--quiet", "--no-input", "--disable-pip-version-check", *r] for r in requests]
        print(f"pip runs per plan: {len(pips)} ({'; '.join(' '.join(r) for r in requests)})")

        def pip_alone():
            return sum(timed(p, tmp, env_vars) for p in pips)

        # Warm pip's HTTP cache and the page cache for both.
        timed(ours, tmp, env_vars)
        pip_alone()
        a, b = [], []
        for _ in range(args.runs):
            a.append(timed(ours, tmp, env_vars))
            b.append(pip_alone())
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"fix --dry-run (plan, prediction, checks): median {ma * 1000:.0f} ms")
        print(f"the same pip --dry-run --report alone:   median {mb * 1000:.0f} ms")
        print(f"ratio {ma / mb:.3f} (goal < 1.10)")
        undo_point(args, tmp, env_vars)


def undo_point(args, tmp, env_vars):
    torch_env = args.torch_env
    if not torch_env:
        found = sorted((fix_envs.cache_root() / "venvs").glob("torch-newest-*/.complete"))
        torch_env = str(found[-1].parent) if found else None
    if not torch_env or not Path(args.driver).exists():
        print("undo point: skipped (no torch venv, or no fix_driver: build with the tests)")
        return
    # Beside the cached venv, so that cp -al can link (one file system).
    holder = tempfile.TemporaryDirectory(dir=Path(torch_env).parent)
    copy = Path(holder.name) / "torch env"
    subprocess.run(["cp", "-al", torch_env, str(copy)], check=True)
    t0 = time.perf_counter()
    out = subprocess.run([args.driver, "record", str(copy), "--replace", "torch", "--replace",
                          "torchaudio"], env=env_vars, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        print(f"undo point: fix_driver failed: {out.stderr.strip()}")
        return
    stats = json.loads(out.stdout)["stats"]
    extra = 0
    for p in (copy / ".alltalk-launch").rglob("*"):
        st = p.lstat()
        if p.is_file() and st.st_nlink == 1:
            extra += st.st_size
    print(f"undo point replacing torch + torchaudio: {seconds:.2f} s (goal < 2 s), "
          f"{extra / 1e6:.1f} MB extra disk (goal < 50 MB); {stats['files']} files, "
          f"{stats['linked']} linked, {stats['copied']} copied, {stats['bytes'] / 1e9:.2f} GB saved")
    # The copy fallback (a drive without hard links: FAT32/exFAT, another volume), on the same
    # files: what the same point costs when every file is copied.
    shutil.rmtree(copy / ".alltalk-launch", ignore_errors=True)
    t0 = time.perf_counter()
    out = subprocess.run([args.driver, "record", str(copy), "--replace", "torch", "--replace",
                          "torchaudio", "--copy"], env=env_vars, capture_output=True, text=True)
    copy_seconds = time.perf_counter() - t0
    if out.returncode != 0:
        print(f"undo point (copies): fix_driver failed: {out.stderr.strip()}")
        return
    cstats = json.loads(out.stdout)["stats"]
    print(f"undo point replacing torch + torchaudio, copy fallback: {copy_seconds:.2f} s, "
          f"{cstats['copied_bytes'] / 1e9:.2f} GB extra disk; {cstats['copied']} files copied "
          f"({copy_seconds / seconds:.0f}x the hard links' time)")


if __name__ == "__main__":
    main()
