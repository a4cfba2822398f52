#!/usr/bin/env python3
"""`alltalk-launch doctor --deep` against the user guide's own verification script, on the same
env, alternating in the same run; prints the medians and their ratio (goal: the deeper check
costs no more than the guide's, ratio <= 1.0).

The guide's script (shared/reference/user-guide-cuda129.md, "comprehensive check") imports click,
typer, gradio, spacy, flask and torch, prints their versions and torch.cuda.is_available(), then
imports TTS's XttsConfig. Here it runs with the env's python; names the env does not have are
left out of both sides and listed. The deep check runs against an AllTalk-shaped root whose
script.py imports the same modules, so it imports those plus what it adds itself (torch,
torchaudio, TTS.tts.models.xtts, TTS.api) in a child prepared as `alltalk-launch server` would be.

usage: bench/deep.py [--launcher build/alltalk-launch] [--env ENV] [--runs 5]
Without --env the test suite's cached torch-oldest venv is used (torch 2.4.1, coqui-tts 0.24.2,
spacy, typer, click); it is never built here: run the integration tests once, or pass --env.
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

import cached_venv  # noqa: E402

GUIDE_MODULES = ["click", "typer", "gradio", "spacy", "flask", "torch"]


def cached_env():
    venvs = cached_venv.cache_root() / "venvs"
    found = sorted((p for p in venvs.glob("torch-oldest-*") if (p / ".complete").exists()),
                   key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def installed(python, names):
    code = ("import importlib.util, sys\n"
            "print(' '.join(n for n in sys.argv[1:] if importlib.util.find_spec(n)))")
    out = subprocess.run([python, "-c", code, *names], capture_output=True, text=True, check=True)
    return out.stdout.split()


def guide_script(modules):
    lines = [f"import {', '.join(modules)}"]
    lines += [f"print({m!r}, getattr({m}, '__version__', '?'))" for m in modules]
    if "torch" in modules:
        lines.append("print('cuda', torch.cuda.is_available())")
    lines += ["try:", "    from TTS.tts.configs.xtts_config import XttsConfig",
              "    print('XttsConfig ok')", "except ImportError as e:",
              "    print('XttsConfig failed', e)"]
    return "\n".join(lines) + "\n"


def timed(cmd, cwd):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, r.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", default=str(ROOT / "build" / "alltalk-launch"))
    ap.add_argument("--env")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    env = Path(args.env) if args.env else cached_env()
    if env is None:
        sys.exit("no env: pass --env, or run the integration tests once (torch-oldest venv)")
    python = str(env / "bin" / "python")
    have = installed(python, GUIDE_MODULES)
    missing = [m for m in GUIDE_MODULES if m not in have]
    with tempfile.TemporaryDirectory(prefix="alltalk_bench_") as tmp:
        root = Path(tmp) / "alltalk_tts"
        root.mkdir()
        (root / "script.py").write_text("".join(f"import {m}\n" for m in have))
        (root / "finetune.py").write_text("print('finetune')\n")
        guide = Path(tmp) / "guide_check.py"
        guide.write_text(guide_script(have))
        guide_cmd = [python, str(guide)]
        deep_cmd = [args.launcher, "--root", str(root), "--env", str(env), "doctor", "--deep"]
        for cmd in (guide_cmd, deep_cmd):  # warm the page cache
            timed(cmd, tmp)
        base, mine, statuses = [], [], set()
        for _ in range(args.runs):
            t, _rc = timed(guide_cmd, tmp)
            base.append(t)
            t, rc = timed(deep_cmd, tmp)
            mine.append(t)
            statuses.add(rc)
    mb, mm = statistics.median(base), statistics.median(mine)
    print(f"env: {env}")
    print(f"  imported by both: {' '.join(have)}" +
          (f" (not installed, left out: {' '.join(missing)})" if missing else ""))
    print(f"  guide's check:     {mb:7.2f} s (median of {args.runs})")
    print(f"  doctor --deep:     {mm:7.2f} s (median of {args.runs}; exit {sorted(statuses)})")
    print(f"  ratio:             {mm / mb:7.3f}  (goal <= 1.00: {'met' if mm / mb <= 1 else 'missed'})")


if __name__ == "__main__":
    main()
