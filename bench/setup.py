#!/usr/bin/env python3
"""`alltalk-launch setup` against the best a user can do by hand on the same AllTalk checkout, in
one run, alternating, with the same warm caches (goals: `setup --installer pip` at most 1.2x the
hand-made env, `--installer uv` at most 1.05x); `--cold` also times each once with empty caches.

By hand (the baseline): a venv from the same Python 3.11, then uv installing the checkout's
requirements file (less its local wheel lines, which a user would install the same way) with
the lock's pins as constraints: `uv pip install -r requirements -c pins`. That is what a user who
knows every drift would type; it resolves, and it proves nothing. `setup` makes the same venv,
installs the lock exactly (no resolution, hashes checked) and then runs doctor --deep for server
and finetune (one child for both); its time includes that check. Each setup run's own step times
(--json) are printed too: its install steps alone against by hand, and the checks' wall time.

usage: bench/setup.py --checkout DIR [--launcher build/alltalk-launch] [--runs 3] [--cold]
                      [--uv PATH] [--python PATH] [--lock PATH]
DIR is an AllTalk v2 checkout (branch alltalkbeta) in a folder whose name has no '-'. Each env
is made under a scratch folder and removed after its run. uv comes from --uv, PATH, or the test
tools venv.
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


def timed(cmd, env, parts=None):
    """Runs `cmd`, its wall time. With `parts` (a dict), a setup run's --json step times are added
    to it: its install steps and its checks, each summed."""
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE if parts is not None
                       else subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"bench/setup.py: {cmd[:3]} failed ({r.returncode}): {r.stderr[-3000:]}")
    if parts is not None:
        steps = json.loads(r.stdout)["outcome"]["step_seconds"]
        for key, pick in (("install", lambda k: not k.startswith("check")),
                          ("checks (together)", lambda k: k.startswith("check"))):
            ts = [t for k, t in steps.items() if pick(k)]
            # The checks run side by side: their wall time is the longest one's.
            parts.setdefault(key, []).append(max(ts) if key.startswith("checks") else sum(ts))
    return time.perf_counter() - t0


def pins_of(lock: Path) -> list[str]:
    out = []
    for line in lock.read_text().splitlines():
        if line.startswith("# pin: "):
            out.append(line[len("# pin: "):].split("  ")[0])
        elif line.startswith("# torch: "):
            out.append("torch==" + line[len("# torch: "):].strip())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkout", type=Path, required=True)
    ap.add_argument("--launcher", default=str(ROOT / "build" / "alltalk-launch"))
    ap.add_argument("--lock", type=Path,
                    default=ROOT / "packaging" / "locks" / "alltalk-v2-linux_x86_64-cu130.txt")
    ap.add_argument("--python", default=shutil.which("python3.11") or "/usr/bin/python3.11")
    ap.add_argument("--uv", default=shutil.which("uv"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cold", action="store_true")
    args = ap.parse_args()
    if not args.uv:
        sys.exit("bench/setup.py: no uv (pass --uv PATH)")
    scratch = Path(tempfile.mkdtemp(prefix="alltalk_setup_bench_"))
    reqs = args.checkout / "system" / "requirements" / "requirements_standalone.txt"
    hand_reqs = scratch / "requirements.txt"
    hand_reqs.write_text("".join(l + "\n" for l in reqs.read_text().splitlines()
                                 if l.strip() and not l.strip().startswith((".", "#"))))
    pins = scratch / "pins.txt"
    pins.write_text("".join(p + "\n" for p in pins_of(args.lock)))
    base_env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    base_env["ALLTALK_PYTHON_SEARCH"] = args.python
    base_env["PATH"] = str(Path(args.uv).parent) + os.pathsep + base_env.get("PATH", "")

    def by_hand(env_dir, env):
        py = env_dir / "bin" / "python"
        return (timed([args.python, "-m", "venv", str(env_dir)], env) +
                timed([args.uv, "pip", "install", "--python", str(py), "-r", str(hand_reqs),
                       "-c", str(pins)], env))

    parts = {}  # (kind, part) -> seconds of each warm run

    def setup(installer):
        def run(env_dir, env, record=None):
            return timed([args.launcher, "--root", str(args.checkout), "--env", str(env_dir),
                          "setup", "--yes", "--json", "--lock", str(args.lock), "--installer",
                          installer], env, record)
        return run

    kinds = {"by hand (uv)": by_hand, "setup --installer uv": setup("uv"),
             "setup --installer pip": setup("pip")}

    def once(name, env, record=False):
        env_dir = scratch / "env"
        try:
            if record and name.startswith("setup"):
                return kinds[name](env_dir, env, parts.setdefault(name, {}))
            return kinds[name](env_dir, env)
        finally:
            shutil.rmtree(env_dir, ignore_errors=True)

    if args.cold:
        for name in kinds:
            caches = scratch / "cold-cache"
            env = dict(base_env, UV_CACHE_DIR=str(caches / "uv"), PIP_CACHE_DIR=str(caches / "pip"))
            print(f"cold  {name}: {once(name, env):.1f} s", flush=True)
            shutil.rmtree(caches, ignore_errors=True)
    for name in kinds:  # warm every cache once
        once(name, base_env)
    times = {name: [] for name in kinds}
    for _ in range(args.runs):
        for name in kinds:
            times[name].append(once(name, base_env, record=True))
    hand = statistics.median(times["by hand (uv)"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"warm  {name}: median {med:.1f} s of {len(ts)} ({', '.join(f'{t:.1f}' for t in ts)})"
              f"; ratio {med / hand:.3f}")
        for part, ps in parts.get(name, {}).items():
            pm = statistics.median(ps)
            print(f"        {part}: median {pm:.1f} s; ratio to by hand {pm / hand:.3f}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
