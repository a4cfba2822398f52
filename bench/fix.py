#!/usr/bin/env python3
"""`alltalk-launch fix`'s plan step against pip's own `--dry-run` alone, on the same env,
alternating in the same run; prints the medians and their ratio (goal: the prediction and the
checks add under 10 %, ratio < 1.10).

The env is the fix tests' gradio 3.50.2 + pydantic 2.10.6 set (tests/requirements/fix-gradio3.txt,
installed by uv from its cache): `fix --dry-run` finds gradio3-pydantic2, asks pip for
`pydantic<2` (pip install --dry-run --report), predicts the env after it and runs the doctor's
checks on the prediction. The baseline is the same pip command, run directly by the env's python.

usage: bench/fix.py [--launcher build/alltalk-launch] [--runs 7]
Needs the test tools venv (scripts/test.sh makes it) for uv: ALLTALK_TEST_PYTHON, or it is found
in the test cache.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

import fix_envs  # noqa: E402


def tools_python():
    if os.environ.get("ALLTALK_TEST_PYTHON"):
        return os.environ["ALLTALK_TEST_PYTHON"]
    found = sorted((fix_envs.cache_root() / "venvs").glob("tools-*/bin/python"))
    if not found:
        sys.exit("bench/fix.py: no test tools venv: run scripts/test.sh once, or set "
                 "ALLTALK_TEST_PYTHON")
    return str(found[-1])


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
    args = ap.parse_args()
    os.environ["ALLTALK_TEST_PYTHON"] = tools_python()
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
        pip = [python, "-m", "pip", "install", "--dry-run", "--report", str(tmp / "r.json"),
               "--quiet", "--no-input", "--disable-pip-version-check", "pydantic<2"]
        # Warm pip's HTTP cache and the page cache for both.
        timed(ours, tmp, env_vars)
        timed(pip, tmp, env_vars)
        a, b = [], []
        for _ in range(args.runs):
            a.append(timed(ours, tmp, env_vars))
            b.append(timed(pip, tmp, env_vars))
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"fix --dry-run (plan, prediction, checks): median {ma * 1000:.0f} ms")
        print(f"pip install --dry-run --report alone:     median {mb * 1000:.0f} ms")
        print(f"ratio {ma / mb:.3f} (goal < 1.10)")


if __name__ == "__main__":
    main()
