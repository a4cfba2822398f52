"""packaging's own test suite as data: the parameter sets of its tests/test_version.py,
test_specifiers.py, test_markers.py and test_requirements.py, at the release that pip vendors.

Why the sdist, downloaded into the test cache, rather than vectors committed to this repository:
the vectors are whatever packaging's tests say at that release, and pytest itself computes them
(many parameter lists are built with itertools from module-level lists), so reading them from the
real files is the only way that cannot drift. PyPI's sdist of packaging ships tests/ and src/. It is
fetched once per packaging version with pip (`pip download --no-binary :all:`), checked against a
pinned sha256 (reproducible: the same bytes every run), and kept in $ALLTALK_TEST_CACHE beside the
cached venvs (tests/support/cached_venv.py), so a CI machine needs PyPI once per packaging version,
exactly as it already does for the tools venv. Bumping pip means adding the new sdist's hash below.

Collection runs packaging's own pytest configuration in a subprocess with `--collect-only` and a
plugin (this file, loaded with -p) that records every collected item's parameters as JSON. The
subprocess imports the sdist's src/packaging (the same code as pip._vendor.packaging, checked by
the test), so the parameter lists that hold Version objects are built by packaging itself.
"""
import ast
import fcntl
import hashlib
import json
import operator
import os
import shutil
import subprocess
import sys
import tarfile
import types
from pathlib import Path

# sha256 of packaging-<version>.tar.gz on PyPI, per version pip may vendor.
SDIST_SHA256 = {
    "26.3": "94edc256424af38762eb31306eed28beb9f0efc50a8837492c9d6fd6004aed79",
}
TEST_FILES = ["test_version.py", "test_specifiers.py", "test_markers.py", "test_requirements.py"]
# Constructors whose literal string arguments in the test bodies are vectors too (the error cases
# of test_requirements.py are written inline, not as parameters).
LITERAL_CALLS = {"Version": "version", "parse": "version", "Specifier": "specifier",
                 "SpecifierSet": "specifier_set", "Marker": "marker", "Requirement": "requirement"}


def cache_root() -> Path:
    return Path(os.environ.get("ALLTALK_TEST_CACHE", Path.home() / ".cache" / "alltalk-launch-tests"))


def sdist_tree(version: str, python: str = sys.executable) -> Path:
    """The extracted sdist of packaging `version` (downloaded once, hash-checked)."""
    if version not in SDIST_SHA256:
        raise RuntimeError(f"no pinned sha256 for packaging {version}: add it to SDIST_SHA256 in "
                           f"{__file__} (the sdist's hash on PyPI)")
    base = cache_root() / "packaging-sdist" / version
    tree = base / f"packaging-{version}"
    done = base / ".complete"
    if done.exists():
        return tree
    base.mkdir(parents=True, exist_ok=True)
    with open(base.parent / f".{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return tree
        download = base / "download"
        shutil.rmtree(download, ignore_errors=True)
        subprocess.run([python, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps",
                        "--cache-dir", str(cache_root() / "pip"),
                        "-d", str(download), f"packaging=={version}"], check=True,
                       stdout=sys.stderr)
        archive = download / f"packaging-{version}.tar.gz"
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != SDIST_SHA256[version]:
            raise RuntimeError(f"{archive}: sha256 {digest}, expected {SDIST_SHA256[version]}")
        shutil.rmtree(tree, ignore_errors=True)
        with tarfile.open(archive) as tar:
            # The archive is the pinned one; 3.11.2 has no extraction filters.
            members = [m for m in tar.getmembers()
                       if m.name.startswith(f"packaging-{version}/") and ".." not in m.name
                       and (m.isfile() or m.isdir())]
            tar.extractall(base, members=members)
        done.write_text(digest)
    return tree


def collect(tree: Path, python: str = sys.executable) -> dict:
    """Runs packaging's pytest collection over TEST_FILES; returns what the plugin recorded, plus
    the literal constructor arguments of the test bodies (`literals`)."""
    out = tree.parent / "vectors.json"
    key = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    if out.exists():
        try:
            data = json.loads(out.read_text())
            if data.get("collector") == key:
                return data
        except ValueError:
            pass
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "src"), str(Path(__file__).parent)])
    partial = out.with_name(f".vectors.{os.getpid()}.json")  # renamed into place when complete
    env["ALLTALK_VECTORS_OUT"] = str(partial)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run([python, "-m", "pytest", "--collect-only", "-q", "-p", "packaging_suite",
                           "-p", "no:cacheprovider", *[f"tests/{f}" for f in TEST_FILES]],
                          cwd=tree, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"collecting packaging's tests failed:\n{proc.stdout}\n{proc.stderr}")
    data = json.loads(partial.read_text())
    data["literals"] = {f: literal_arguments(tree / "tests" / f) for f in TEST_FILES}
    data["collector"] = key
    partial.write_text(json.dumps(data))
    partial.replace(out)  # reused while this file and the sdist stay the same
    return data


def literal_arguments(path: Path) -> list:
    """[kind, text] for each Version("..."), Marker("...") ... call with a literal first argument
    and each `to_parse = "..."` in the file; ["marker_env", text, environment] for
    Marker("...").evaluate({...literal...})."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and \
                isinstance(node.value.value, str) and \
                any(isinstance(t, ast.Name) and t.id == "to_parse" for t in node.targets):
            found.append(["requirement", node.value.value])
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in LITERAL_CALLS and node.args and \
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            found.append([LITERAL_CALLS[func.id], node.args[0].value])
        if isinstance(func, ast.Attribute) and func.attr == "evaluate" and \
                isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name) and \
                func.value.func.id == "Marker" and func.value.args and \
                isinstance(func.value.args[0], ast.Constant) and node.args:
            env = literal_environment(node.args[0])
            if env is not None:
                found.append(["marker_env", func.value.args[0].value, env])
    return found


def literal_environment(node):
    """A dict literal or dict(k="v") call of constants, as {"__dict__": [[k, v], ...]}."""
    try:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            value = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        else:
            value = ast.literal_eval(node)
    except ValueError:
        return None
    return encode(value) if isinstance(value, dict) else None


# --- JSON encoding of parameter values -----------------------------------------------------------

def encode(value):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return {"__int__": str(value)}
    if isinstance(value, (list, tuple)):
        items = [encode(v) for v in value]
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, (set, frozenset)):
        return {"__set__": sorted((encode(v) for v in value), key=repr)}
    if isinstance(value, dict):
        return {"__dict__": [[encode(k), encode(v)] for k, v in value.items()]}
    if type(value).__name__ == "Version" and type(value).__module__.endswith("packaging.version"):
        return {"__version__": str(value)}
    if callable(value) and getattr(value, "__name__", None):
        return {"__callable__": value.__name__}
    return {"__repr__": repr(value)}


class VersionObject(str):
    """A parameter that was a packaging Version object (its normalised text)."""


def decode(value):
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    (tag, inner), = value.items()
    if tag == "__int__":
        return int(inner)
    if tag == "__tuple__":
        return tuple(decode(v) for v in inner)
    if tag == "__set__":
        return {decode(v) for v in inner}
    if tag == "__dict__":
        return {decode(k): decode(v) for k, v in inner}
    if tag == "__version__":
        return VersionObject(inner)
    if tag == "__callable__":
        return getattr(operator, inner, inner)
    return value  # __repr__: kept as the tagged dict


# --- the pytest plugin (runs inside the collection subprocess) -----------------------------------

sys.modules.setdefault("pretend", types.ModuleType("pretend"))  # used only inside test bodies


def pytest_collection_modifyitems(session, config, items):
    records, globals_ = [], {}
    for item in items:
        module = item.module
        name = Path(module.__file__).name
        if name not in globals_:
            globals_[name] = {k: encode(v) for k, v in vars(module).items()
                              if isinstance(v, (list, tuple)) and v and
                              all(isinstance(x, str) for x in v)}
        callspec = getattr(item, "callspec", None)
        records.append({
            "file": name,
            "test": "::".join(p for p in [item.cls.__name__ if item.cls else None,
                                          item.originalname] if p),
            "params": {k: encode(v) for k, v in callspec.params.items()} if callspec else None,
        })
    import packaging  # the sdist's copy (PYTHONPATH)
    Path(os.environ["ALLTALK_VECTORS_OUT"]).write_text(json.dumps(
        {"packaging": packaging.__version__, "packaging_file": packaging.__file__,
         "items": records, "globals": globals_}))
