#!/usr/bin/env python3
"""Start-up overhead of the launcher against the env's own python, alternating, in the same run;
prints the medians and their ratio for two envs:

  bare venv:  `alltalk-launch --env ENV run hello.py` vs `ENV/bin/python hello.py` (goal <= 1.10)
  torch env:  `alltalk-launch --env ENV python -c pass` vs `ENV/bin/python -c pass` (goal <= 1.25)
              (torch with its CUDA wheels and coqui-tts: the launcher selects cuDNN, re-executes
              itself once with LD_LIBRARY_PATH (from the second launch on at once, with the value
              the first one remembered), reads torch's architectures and probes the GPU)

Each comparison also times, in the same alternation, the floor: a minimal embedder (a few lines
of C, compiled here with cc) that only loads the env's libpython and calls Py_BytesMain. It is
what any launcher that runs the env's own libpython pays before doing anything of its own; where
the env's python is a static build (Debian's /usr/bin/python3.11) and its libpython a separate,
slower shared build, the floor alone reads above 1. The launcher's own cost is its ratio to the
floor. No cc: the floor is left out.

The launcher is timed as installed: it is copied into the bench's temp folder first (as
`cmake --install` and the packages put it). A file the linker has just written starts about 0.1 ms
slower per exec on this machine than the same bytes copied, or read back from disk once the page
cache has dropped them (measured in one alternation: 8.30 vs 8.19 ms, and alike after
drop_caches); users run an installed copy, and the torch env pays it twice (the re-exec).
--in-place times the given file itself.

usage: bench/startup.py [--launcher build/alltalk-launch] [--env ENV] [--python PY] [--runs 200]
                        [--torch-env ENV | --no-torch-env] [--torch-runs 100] [--in-place]
Without --env a fresh venv of --python (this machine's Python 3.11) is made in a temp folder.
Without --torch-env the test suite's cached torch-newest venv is used when it is there (it is
never built here: run the integration tests once, or pass --torch-env).
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

import cached_venv  # noqa: E402


def timed(cmd, env, cwd):
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def installed_copy(launcher, tmp):
    """The launcher copied into tmp/bin, as an install lays it out (it is the one file)."""
    launcher = Path(launcher).resolve()
    dest = tmp / "bin"
    dest.mkdir()
    shutil.copy2(launcher, dest / launcher.name)
    return dest / launcher.name


def clean_environ():
    """This process's environment without what would steer the launcher or python elsewhere."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("ALLTALK_") and k not in (
                "PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX", "LD_LIBRARY_PATH")}


def cached_torch_env():
    """The newest cached torch-newest-* venv of the test suite, if one was built."""
    venvs = cached_venv.cache_root() / "venvs"
    found = sorted((p for p in venvs.glob("torch-newest-*") if (p / ".complete").exists()),
                   key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


FLOOR_C = r"""
#include <dlfcn.h>
#include <stdio.h>
/* floor LIBPYTHON PYTHON ARGS...: what the env's python would do, run from its libpython. */
int main(int argc, char** argv) {
    void* lib = dlopen(argv[1], RTLD_LAZY | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    int (*bytes_main)(int, char**) = (int (*)(int, char**))dlsym(lib, "Py_BytesMain");
    return bytes_main ? bytes_main(argc - 2, argv + 2) : 1;
}
"""


def build_floor(tmp):
    """The minimal embedder, or None without a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    src, exe = tmp / "floor.c", tmp / "floor"
    src.write_text(FLOOR_C)
    r = subprocess.run([cc, "-O2", "-o", str(exe), str(src), "-ldl"], capture_output=True)
    return exe if r.returncode == 0 else None


def libpython_of(env_python, environ):
    """The env's shared libpython, as its python's build says (LIBDIR, or its multiarch folder)."""
    code = ("import sysconfig as s, os; d = s.get_config_var('LIBDIR') or ''; "
            "n = s.get_config_var('INSTSONAME') or ''; m = s.get_config_var('MULTIARCH') or ''; "
            "print(next((p for p in (os.path.join(d, n), os.path.join(d, m, n)) "
            "if n and os.path.isfile(p)), ''))")
    r = subprocess.run([str(env_python), "-c", code], env=environ, capture_output=True, text=True)
    return r.stdout.strip() or None


def compare(label, python_cmd, launcher_cmd, runs, environ, cwd, goal, floor_cmd=None):
    cmds = [python_cmd, launcher_cmd] + ([floor_cmd] if floor_cmd else [])
    for cmd in cmds:  # warm the page cache (and the launcher's own caches)
        for _ in range(5):
            timed(cmd, environ, cwd)
    times = [[] for _ in cmds]
    # Each round starts with the next command in turn, so that none always runs first or always
    # right after the same other one (on this 2-core VM that place alone moves a median by about
    # 0.2 ms).
    for i in range(runs):
        order = list(range(len(cmds)))
        order = order[i % len(order):] + order[:i % len(order)]
        for k in order:
            times[k].append(timed(cmds[k], environ, cwd))
    mb, mm = statistics.median(times[0]), statistics.median(times[1])
    print(f"{label}:")
    print(f"  python:            {mb * 1000:7.2f} ms (median of {runs})")
    if floor_cmd:
        mf = statistics.median(times[2])
        print(f"  floor:             {mf * 1000:7.2f} ms (median of {runs}; {mf / mb:.3f} of "
              "python: its libpython, loaded and run, nothing else)")
    print(f"  alltalk-launch:    {mm * 1000:7.2f} ms (median of {runs})")
    print(f"  ratio:             {mm / mb:7.3f}  (goal <= {goal:.2f}: "
          f"{'met' if mm / mb <= goal else 'missed'})")
    if floor_cmd:
        print(f"  over the floor:    {mm / mf:7.3f}  (the launcher's own part)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", default=str(ROOT / "build" / "alltalk-launch"))
    ap.add_argument("--env")
    ap.add_argument("--python", default=shutil.which("python3.11") or "/usr/bin/python3.11")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--torch-env", help="an env with torch and coqui-tts (default: the cached "
                                        "torch-newest test venv)")
    ap.add_argument("--no-torch-env", action="store_true", help="measure the bare venv only")
    ap.add_argument("--torch-runs", type=int, default=100)
    ap.add_argument("--in-place", action="store_true",
                    help="time --launcher where it is instead of an installed copy")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="alltalk-bench-"))
    try:
        if not args.in_place:
            args.launcher = str(installed_copy(args.launcher, tmp))
        print(f"launcher: {args.launcher}")
        env_dir = Path(args.env) if args.env else tmp / "env"
        if not args.env:
            subprocess.run([args.python, "-m", "venv", "--without-pip", str(env_dir)], check=True)
        hello = tmp / "hello.py"
        hello.write_text("print('hello')\n")
        environ = clean_environ()
        floor = build_floor(tmp)

        def floor_cmd(env, *rest):
            lib = libpython_of(env / "bin" / "python", environ) if floor else None
            return [str(floor), lib, str(env / "bin" / "python"), *rest] if lib else None

        compare("bare venv: run hello.py",
                        [str(env_dir / "bin" / "python"), str(hello)],
                        [args.launcher, "--env", str(env_dir), "run", str(hello)],
                        args.runs, environ, tmp, 1.10, floor_cmd(env_dir, str(hello)))
        torch_env = None if args.no_torch_env else (
            Path(args.torch_env) if args.torch_env else cached_torch_env())
        if torch_env is None:
            if not args.no_torch_env:
                print("torch env: skipped (no cached torch-newest venv; pass --torch-env ENV)")
        else:
            print(f"torch env: {torch_env}")
            compare("torch env: python -c pass",
                            [str(torch_env / "bin" / "python"), "-c", "pass"],
                            [args.launcher, "--env", str(torch_env), "python", "-c", "pass"],
                            args.torch_runs, environ, tmp, 1.25,
                            floor_cmd(torch_env, "-c", "pass"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
