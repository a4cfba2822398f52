"""Shared fixtures for the integration tests: the built launcher, the real CPython 3.11 of this
machine, and real environments (a venv and a conda-style prefix) in folders whose paths hold
spaces and non-ASCII characters."""
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))

LAUNCHER = Path(os.environ.get("ALLTALK_LAUNCH_BIN", "build/alltalk-launch")).resolve()
ODD_NAME = "All Talk ü ñ"  # a space and non-ASCII characters, as in real user folders


def find_python(minor: str) -> Path | None:
    """A real shared-library CPython of this machine: pyenv's first, then Debian's."""
    override = os.environ.get(f"ALLTALK_TEST_PYTHON{minor.replace('.', '')}")
    if override:
        return Path(override)
    for cand in sorted(glob.glob(str(Path.home() / f".pyenv/versions/{minor}.*/bin/python{minor}"))):
        return Path(cand)
    system = Path(f"/usr/bin/python{minor}")
    return system if system.exists() else None


BASE_PYTHON = find_python("3.11")


def python_info(python: Path) -> dict:
    code = "import sys, sysconfig; print(sys.base_prefix); print(sysconfig.get_config_var('LIBDIR'))"
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True)
    prefix, libdir = out.stdout.splitlines()
    return {"prefix": Path(prefix), "libdir": Path(libdir)}


def clean_env(**extra) -> dict:
    """The test process's environment without anything a launcher parent would leave behind."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ALLTALK_LAUNCH_CHILD", "ALLTALK_ROOT", "CONDA_PREFIX", "VIRTUAL_ENV",
                        "PYTHONHOME", "PYTHONPATH")}
    env.update(extra)
    return env


def run_launcher(*args, cwd=None, env=None, timeout=120, input=None, launcher=None):
    return subprocess.run([str(launcher or LAUNCHER), *map(str, args)], cwd=cwd,
                          env=env if env is not None else clean_env(), capture_output=True,
                          text=True, timeout=timeout, input=input)


def make_venv(path: Path, python: Path = None, with_pip: bool = True) -> Path:
    python = python or BASE_PYTHON
    cmd = [str(python), "-m", "venv", str(path)]
    if not with_pip:
        cmd.append("--without-pip")
    subprocess.run(cmd, check=True, env=clean_env())
    return path


def make_prefix(path: Path, python: Path = None, conda: bool = True) -> Path:
    """A conda-style prefix: a real copy of a CPython installation (interpreter, libpython,
    standard library) with an empty site-packages, as alltalk_environment/env is laid out."""
    python = python or BASE_PYTHON
    info = python_info(python)
    src = info["prefix"]
    ver = f"python{python.name.removeprefix('python')}"
    (path / "bin").mkdir(parents=True)
    (path / "lib").mkdir()
    shutil.copy2(python, path / "bin" / python.name)
    os.symlink(python.name, path / "bin" / "python")
    os.symlink(python.name, path / "bin" / "python3")
    libname = f"lib{ver}.so.1.0"
    shutil.copy2(info["libdir"] / libname, path / "lib" / libname)  # a real copy: maps are checked
    ignore = shutil.ignore_patterns("site-packages", "test", "idlelib", "tkinter", "turtledemo",
                                    "__pycache__", "ensurepip")
    shutil.copytree(src / "lib" / ver, path / "lib" / ver, ignore=ignore, symlinks=True)
    (path / "lib" / ver / "site-packages").mkdir()
    if conda:
        (path / "conda-meta").mkdir()
        (path / "conda-meta" / "history").write_text("")
    return path


def write_script(folder: Path, name: str, code: str) -> Path:
    """`code` as the file `name` in `folder`: a script for a test to run."""
    p = folder / name
    p.write_text(code)
    return p


def make_root(path: Path, script: str = "", finetune: str = "") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "script.py").write_text(script or "print('script')\n")
    (path / "finetune.py").write_text(finetune or "print('finetune')\n")
    return path


@pytest.fixture(scope="session")
def base_python() -> Path:
    if BASE_PYTHON is None:
        pytest.fail("no CPython 3.11 with a shared library on this machine (pyenv or Debian's)")
    return BASE_PYTHON


@pytest.fixture(scope="session")
def odd_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("envs") / ODD_NAME
    d.mkdir()
    return d


@pytest.fixture(scope="session")
def venv_env(odd_dir, base_python) -> Path:
    return make_venv(odd_dir / "venv env", base_python)


@pytest.fixture(scope="session")
def prefix_env(odd_dir, base_python) -> Path:
    return make_prefix(odd_dir / "conda env", base_python)


@pytest.fixture(params=["venv", "prefix"])
def any_env(request, venv_env, prefix_env) -> Path:
    return venv_env if request.param == "venv" else prefix_env


@pytest.fixture
def root(tmp_path) -> Path:
    return make_root(tmp_path / ODD_NAME / "alltalk_tts")
