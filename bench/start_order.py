#!/usr/bin/env python3
"""Writes launcher/start_order.txt: the launcher's functions that a start runs, for the linker to
place together at the front of .text (CMakeLists.txt, ALLTALK_START_ORDER).

Why: a start runs code spread over the whole 3.4 MB of .text (CLI11, toml++, nlohmann-json, spdlog,
libstdc++'s filesystem and the launcher's own), and each 64 KB window of it that the start touches
is a page fault, in each of the two processes of a torch-env start (the launch and its re-exec).
Placed together, the torch venv's repeated start faulted on 18 pages of .text instead of 43, and
started 0.06 ms sooner (bench/startup.py's figures are in the README).

How: each start below runs under valgrind's callgrind, with a dump before every exec (so the
process that re-executes itself is counted too); the functions of the launcher's own file that
ran are listed, most frequent start first: a repeated start in the torch venv (the launch that
re-executes itself from its remembered hint, then the re-exec), a repeated start in a bare venv,
a start that has cached decisions but no hint, and a first start with no caches at all. Within
each start's share they are sorted by name, so that a new list differs from the old one only
where what a start runs changed.

A stale list costs only speed (names that are gone are skipped by the linker); run this again
after changing what a start runs:

  bench/start_order.py [--launcher build/alltalk-launch] [--torch-env ENV] [--python PY]
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from startup import cached_torch_env, clean_environ  # noqa: E402

HEADER = """\
# The launcher's functions that a start runs, in the order the linker places them at the front of
# .text (lld --symbol-ordering-file; CMakeLists.txt, ALLTALK_START_ORDER). Written by
# bench/start_order.py, which says why; run it again after changing what a start runs.
"""


def callgrind(launcher, args, out_prefix, environ, cwd):
    """Runs one start under callgrind; returns the profile files it wrote (one per image)."""
    cmd = ["valgrind", "--tool=callgrind", "--demangle=no", "--compress-strings=no",
           "--compress-pos=no", "--trace-children=yes", "--dump-before=execv*",
           f"--callgrind-out-file={out_prefix}.%p", str(launcher), *args]
    subprocess.run(cmd, env=environ, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=600)
    return sorted(out_prefix.parent.glob(out_prefix.name + ".*"))


def functions_of(files, object_name):
    """The mangled names of the functions of `object_name` that ran, in the order first listed."""
    out, seen, current = [], set(), None
    for f in files:
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith("ob="):
                current = line[3:].strip()
            elif line.startswith("fn=") and current and Path(current).name == object_name:
                name = re.sub(r"'\d+$", "", line[3:].strip())  # callgrind's recursion mark
                if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.$]*", name) and name not in seen:
                    seen.add(name)
                    out.append(name)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--launcher", default=str(ROOT / "build" / "alltalk-launch"))
    ap.add_argument("--torch-env", help="an env with torch and coqui-tts (default: the cached "
                                        "torch-newest test venv)")
    ap.add_argument("--python", default=shutil.which("python3.11") or "/usr/bin/python3.11")
    ap.add_argument("--out", default=str(ROOT / "launcher" / "start_order.txt"))
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("start_order.py: valgrind is needed (apt-get install valgrind)")
    torch_env = Path(args.torch_env) if args.torch_env else cached_torch_env()
    if torch_env is None:
        sys.exit("start_order.py: no torch env: run the integration tests once (they build the "
                 "cached torch-newest venv), or pass --torch-env ENV")
    launcher = Path(args.launcher).resolve()
    tmp = Path(tempfile.mkdtemp(prefix="alltalk-order-"))
    try:
        runtime = tmp / "runtime"
        runtime.mkdir(mode=0o700)
        bare = tmp / "bare"
        subprocess.run([args.python, "-m", "venv", "--without-pip", str(bare)], check=True)
        hello = tmp / "hello.py"
        hello.write_text("print('hello')\n")
        environ = clean_environ()
        environ["XDG_RUNTIME_DIR"] = str(runtime)
        torch_args = ["--env", str(torch_env), "python", "-c", "pass"]
        bare_args = ["--env", str(bare), "run", str(hello)]
        (tmp / "cg").mkdir()
        p = tmp / "cg"
        runs = {}
        # In the order they happen; the caches settle for 2 s before they are kept.
        for label, run_args, settle in [("torch-first", torch_args, True),
                                        ("torch-cached", torch_args + ["#"], True),
                                        ("torch-hinted-1", torch_args, False),
                                        ("torch-hinted-2", torch_args, False),
                                        ("bare-first", bare_args, True),
                                        ("bare-repeated", bare_args, False)]:
            runs[label] = callgrind(launcher, run_args, p / label, environ, tmp)
            if settle:
                subprocess.run(["sleep", "2.2"], check=True)
        groups = [("torch venv, repeated", runs["torch-hinted-1"] + runs["torch-hinted-2"]),
                  ("bare venv, repeated", runs["bare-repeated"]),
                  ("torch venv, no hint", runs["torch-cached"]),
                  ("bare venv, first", runs["bare-first"]),
                  ("torch venv, first", runs["torch-first"])]
        order, seen = [], set()
        for label, files in groups:
            names = functions_of(files, launcher.name)
            fresh = sorted(n for n in names if n not in seen)  # stable: diffs show real change
            seen.update(fresh)
            order += fresh
            print(f"  {label}: {len(files)} images, {len(names)} functions ({len(fresh)} new)")
        Path(args.out).write_text(HEADER + "\n".join(order) + "\n")
        print(f"start_order.py: {len(order)} functions written to {args.out}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
