"""Fresh, writable envs for the fix tests: a venv with pip, and a fully pinned requirements file
installed with --no-deps by uv (from uv's cache, kept in $ALLTALK_TEST_CACHE/uv; copies, never
hard links into that cache, because the tests change the envs). Each test gets its own env, so a
fix in one cannot leak into another."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements"


def cache_root() -> Path:
    return Path(os.environ.get("ALLTALK_TEST_CACHE", Path.home() / ".cache" / "alltalk-launch-tests"))


def tools_python(who: str) -> str:
    """The test tools venv's python (for its uv): ALLTALK_TEST_PYTHON, else the newest in the test
    cache; `who` (a script name) is said when there is none."""
    if os.environ.get("ALLTALK_TEST_PYTHON"):
        return os.environ["ALLTALK_TEST_PYTHON"]
    found = sorted((cache_root() / "venvs").glob("tools-*/bin/python"))
    if not found:
        sys.exit(f"{who}: no test tools venv: run scripts/test.sh once, or set "
                 "ALLTALK_TEST_PYTHON")
    return str(found[-1])


def uv() -> str:
    """The tools venv's uv (beside ALLTALK_TEST_PYTHON, the tools venv's python)."""
    return str(Path(os.environ.get("ALLTALK_TEST_PYTHON", sys.executable)).parent / "uv")


def uv_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHOME")}
    env.update(UV_CACHE_DIR=str(cache_root() / "uv"), UV_LINK_MODE="copy", UV_NO_PROGRESS="1")
    return env


def fresh_env(path: Path, python: Path, requirements=(), packages=()) -> Path:
    """A venv at `path` with pip 26.3 and `requirements` (file names under tests/requirements)
    and `packages` (requirement strings) installed exactly, without dependencies."""
    subprocess.run([uv(), "venv", "-q", "--python", str(python), str(path)], check=True,
                   env=uv_env())
    args = [uv(), "pip", "install", "-q", "--no-deps", "--python", str(path / "bin" / "python"),
            "pip==26.3"]
    for r in requirements:
        args += ["-r", str(REQUIREMENTS / r)]
    args += list(packages)
    subprocess.run(args, check=True, env=uv_env())
    return path


def site_hashes(env: Path) -> dict:
    """sha256 of every file of the env outside __pycache__ (and outside its .alltalk-launch
    folder), by relative path: the env as the user has it."""
    out = {}
    for p in sorted(env.rglob("*")):
        rel = p.relative_to(env)
        if "__pycache__" in rel.parts or rel.parts[0] == ".alltalk-launch" or p.is_dir():
            continue
        if p.is_symlink():
            out[str(rel)] = "link:" + os.readlink(p)
        else:
            out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def installed(env: Path) -> dict:
    """name -> version of every distribution in the env, as pip reports them."""
    import json
    out = subprocess.run([str(env / "bin" / "python"), "-m", "pip", "list", "--format", "json",
                          "--disable-pip-version-check"], check=True, capture_output=True,
                         text=True, env=uv_env())
    return {d["name"].lower().replace("_", "-"): d["version"] for d in json.loads(out.stdout)}
