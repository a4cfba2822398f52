#!/usr/bin/env python3
"""`alltalk-launch explain --no-env` on a 50 MB console log against `grep -c Traceback` on the same
file (the floor: one pass that reads every byte), alternating in the same run; prints the medians,
the ratio and the goal (explain under a second).

The log is what a long AllTalk session leaves: its status lines with ANSI colours, tqdm progress
bars redrawn with carriage returns, uvicorn access lines, and every report of the corpus
(tests/data/explain_corpus) spread through it, so that the reader finds tracebacks, chains and
pattern lines all over, not only at the end.

usage: bench/explain.py [--launcher build/alltalk-launch] [--runs 7] [--mb 50]
"""
import argparse
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "explain_corpus"

FILLER = [
    "\x1b[94m[AllTalk TTS]\x1b[0m \x1b[92mGenerating\x1b[0m speech for: Hello there, this is a "
    "test sentence number {n}.",
    "INFO:     127.0.0.1:{n} - \"POST /api/tts-generate HTTP/1.1\" 200 OK",
    "100%|##########| {n}/{n} [00:01<00:00, 42.00it/s]\r 50%|#####     | 5/10\r",
    "[AllTalk ENG] Generation time: 1.{n} seconds. RTF: 0.21",
    "2024-06-01 12:00:00,123 | INFO | trainer | Step {n}: loss 0.{n}",
]


def make_log(path: Path, megabytes: int) -> int:
    r = random.Random(29)
    reports = [p.read_text(encoding="utf-8").partition("# ----\n")[2] for p in
               sorted(CORPUS.glob("*.txt"))]
    target = megabytes * 1024 * 1024
    size = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        while size < target:
            for _ in range(2000):
                line = r.choice(FILLER).format(n=r.randint(1, 99999)) + "\r\n"
                f.write(line)
                size += len(line.encode())
            text = r.choice(reports)
            f.write(text)
            size += len(text.encode())
    return size


def timed(cmd) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", default=str(ROOT / "build" / "alltalk-launch"))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--mb", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "alltalk-console.log"
        size = make_log(log, args.mb)
        cmds = {
            "explain": [args.launcher, "explain", "--no-env", str(log)],
            "grep -c Traceback": ["grep", "-c", "Traceback", str(log)],
        }
        out = subprocess.run(cmds["explain"][:-1] + ["--json", str(log)], capture_output=True,
                             text=True)
        explained = out.stdout.count('"explained": true')
        times = {k: [] for k in cmds}
        for cmd in cmds.values():
            timed(cmd)  # the file in the page cache
        for _ in range(args.runs):
            for k, cmd in cmds.items():
                times[k].append(timed(cmd))
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"log: {size / 1e6:.1f} MB, {explained} distinct explanations found")
        for k, v in med.items():
            print(f"{k:>20}: median {v * 1000:8.1f} ms over {args.runs} runs")
        ratio = med["explain"] / med["grep -c Traceback"]
        print(f"explain / grep: {ratio:.1f}x; goal explain < 1 s: "
              f"{'met' if med['explain'] < 1.0 else 'NOT met'}")
        return 0 if med["explain"] < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
