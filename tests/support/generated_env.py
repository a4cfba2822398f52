"""Generated site-packages for the doctor's tests and benchmark: hundreds of hand-made
distributions with real-world metadata shapes (dist-info and egg-info, names spelled several
ways, pre/post/dev/local versions, markers for this and other platforms, extras, malformed
requirements and versions, a dist-info without METADATA)."""
import random
import re
from pathlib import Path

OTHER_PLATFORM = ['sys_platform == "win32"', 'platform_system == "Darwin"', 'os_name == "nt"',
                  'python_version < "3.8"', 'platform_machine == "arm64"',
                  'implementation_name == "pypy"']
THIS_PLATFORM = ['sys_platform == "linux"', 'python_version >= "3.8"', 'os_name == "posix"',
                 'platform_python_implementation == "CPython"', 'python_full_version >= "3.11.0"']


def gen_version(r: random.Random) -> str:
    v = ".".join(str(r.randint(0, 12)) for _ in range(r.randint(1, 3)))
    roll = r.random()
    if roll < 0.1:
        v += r.choice(["a1", "b2", "rc1", ".dev3", "rc2.dev1"])
    elif roll < 0.15:
        v += r.choice([".post1", "-2", ".post0.dev1"])
    elif roll < 0.2:
        v += r.choice(["+cu121", "+cpu", "+local.7"])
    return v


def spec_around(r: random.Random, version: str) -> str:
    base = version.split("+")[0]
    ops = []
    for _ in range(r.randint(1, 2)):
        op = r.choice([">=", "<", "==", "!=", "~=", ">", "<=", "==*"])
        target = r.choice([base, gen_version(r).split("+")[0]])
        if op == "==*":
            ops.append("==" + ".".join(target.split(".")[:1]) + ".*")
        elif op == "~=":
            rel = re.match(r"[0-9.]+", target)[0].strip(".")
            ops.append("~=" + (rel if "." in rel else rel + ".0"))
        else:
            ops.append(op + target)
    return ",".join(ops)


def write_dist(site: Path, name: str, version: str, requires: list, kind: str = "dist-info",
               meta_name: str | None = None, extras=()):
    meta = [f"Metadata-Version: 2.1", f"Name: {meta_name or name}", f"Version: {version}"]
    meta += [f"Provides-Extra: {e}" for e in extras]
    if kind == "dist-info":
        d = site / f"{name.replace('-', '_')}-{version}.dist-info"
        d.mkdir()
        meta += [f"Requires-Dist: {q}" for q in requires]
        (d / "METADATA").write_text("\n".join(meta) + "\n\nA long description.\n\nwith: colons\n")
    else:  # an egg-info folder with requires.txt, as setuptools writes it
        d = site / f"{name.replace('-', '_')}-{version}-py3.11.egg-info"
        d.mkdir()
        (d / "PKG-INFO").write_text("\n".join(meta) + "\n")
        lines = [q for q in requires if ";" not in q]
        lines += ["", "[gpu]"] + [q.split(";")[0] for q in requires if "extra" in q]
        (d / "requires.txt").write_text("\n".join(lines) + "\n")


def generate_env(site: Path, seed: int, count: int):
    r = random.Random(seed)
    names = [f"pkg-{i:03d}" for i in range(count)]
    installed = {n: gen_version(r) for n in names if r.random() < 0.8}
    for name, version in installed.items():
        requires = []
        for _ in range(r.randint(0, 6)):
            dep = r.choice(names)
            spelled = r.choice([dep, dep.upper(), dep.replace("-", "_"), dep.replace("-", ".")])
            spec = spec_around(r, installed.get(dep, "1.0")) if r.random() < 0.8 else ""
            extras = "[gpu]" if r.random() < 0.1 else ""
            req = f"{spelled}{extras}{spec}"
            roll = r.random()
            if roll < 0.15:
                req += "; " + r.choice(OTHER_PLATFORM)
            elif roll < 0.3:
                req += "; " + r.choice(THIS_PLATFORM)
            elif roll < 0.38:
                req += '; extra == "gpu"'
            requires.append(req)
        roll = r.random()
        if roll < 0.02:
            requires.append("bad requirement ((")  # pip skips this distribution
        elif roll < 0.03:
            version = "not.a.version"
        kind = "egg-info" if r.random() < 0.05 and "." not in version[-1:] else "dist-info"
        write_dist(site, name, version, requires, kind=kind,
                   meta_name=r.choice([name, name.replace("-", "_"), name.title()]),
                   extras=["gpu"])
    # Malformed bits: a dist-info without METADATA, a stray file, an empty egg-info file.
    (site / "broken-1.0.dist-info").mkdir()
    (site / "stray.dist-info").write_text("not a folder")
    (site / "empty.egg-info").write_text("")
