"""The doctor's PEP 440 / PEP 508 engine against `packaging`, the library pip vendors (pip 26.3's
copy, the one `pip check` uses), over thousands of generated cases: versions, ordering, specifier
membership, markers and requirement parsing. Any disagreement is printed with the input."""
import os
import random
import subprocess
from pathlib import Path

import pytest
from pip._vendor.packaging import markers as pmarkers
from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
from pip._vendor.packaging.specifiers import InvalidSpecifier, SpecifierSet
from pip._vendor.packaging.version import InvalidVersion, Version

ORACLE = Path(os.environ.get("ALLTALK_BUILD_DIR", "build")) / "tests" / "pep_oracle"
SEED = int(os.environ.get("ALLTALK_DIFF_SEED", "440508"))
N = int(os.environ.get("ALLTALK_DIFF_CASES", "3000"))


def ask(lines):
    out = subprocess.run([str(ORACLE)], input="".join(l + "\n" for l in lines),
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) == len(lines)
    return out


def gen_version(r: random.Random, valid_bias=0.9) -> str:
    if r.random() > valid_bias:
        return r.choice(["", "1.0-", "1..0", "abc", "1.0+", "1.0+a..b", "1.0a-b", "1!", "!1",
                         "1.0.dev1.dev2", "1.0 0", "v", "1.0_", "1.0+_x", "0x10", "1.0rc-1",
                         "1.0-a1+x_", "01.0alpha-", "2.0.0-rc.1.post",
                         # numbers past 2**64 (Python's int has no limit), Unicode spaces
                         "18446744073709551616", "1!18446744073709551617.0rc99999999999999999999",
                         "1.0.post18446744073709551615+18446744073709551616",
                         "\u202f1.0\u3000", "1.0\u00a0a1"])
    s = ""
    if r.random() < 0.1:
        s += "v" if r.random() < 0.5 else "V"
    if r.random() < 0.1:
        s += f"{r.randint(0, 3)}!"
    s += ".".join(str(r.choice([0, 0, 1, 2, 3, 10, 11, 2024, r.randint(0, 99)]))
                  for _ in range(r.randint(1, 4)))
    sep = lambda: r.choice(["", "", ".", "-", "_"])
    if r.random() < 0.3:
        s += sep() + r.choice(["a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "RC", "A"])
        s += sep() + r.choice(["", str(r.randint(0, 12))]) if r.random() < 0.8 else ""
    if r.random() < 0.25:
        if r.random() < 0.3:
            s += f"-{r.randint(0, 5)}"
        else:
            s += sep() + r.choice(["post", "rev", "r", "POST"]) + sep() + r.choice(["", "1", "2", "10"])
    if r.random() < 0.2:
        s += sep() + r.choice(["dev", "DEV"]) + sep() + r.choice(["", "0", "1", "7"])
    if r.random() < 0.15:
        s += "+" + r.choice(["ubuntu", "cu121", "cpu", "1", "abc.5", "g1234-dirty", "Local_1"])
    if r.random() < 0.05:
        s = " " + s + " "
    return s


def gen_spec(r: random.Random) -> str:
    parts = []
    for _ in range(r.randint(1, 3)):
        op = r.choice(["==", "!=", "<=", ">=", "<", ">", "~=", "==="])
        v = gen_version(r, 0.93).strip()
        if op in ("==", "!=") and r.random() < 0.3:
            v = ".".join(v.split("+")[0].split(".")[:2]).rstrip("abcdefghijklmnopqrstuvwxyz-_") + ".*"
        parts.append(op + (" " if r.random() < 0.1 else "") + v)
    return r.choice([",", ", "]).join(parts)


def packaging_version(text):
    try:
        return str(Version(text))
    except InvalidVersion:
        return "!"


def test_versions_parse_and_normalise_like_packaging():
    r = random.Random(SEED)
    cases = [gen_version(r) for _ in range(N)]
    got = ask([f"V\t{c}" for c in cases])
    bad = [(c, g, packaging_version(c)) for c, g in zip(cases, got) if g != packaging_version(c)]
    assert not bad, bad[:20]
    assert sum(g != "!" for g in got) > N // 2  # mostly valid, so ordering below means something


def test_version_ordering_like_packaging():
    r = random.Random(SEED + 1)
    valid = [v for v in (gen_version(r, 1.0) for _ in range(N)) if packaging_version(v) != "!"]
    pairs = [(r.choice(valid), r.choice(valid)) for _ in range(N)]
    # near neighbours too: the interesting cases (pre/post/dev/local of the same release)
    pairs += [(a, a.split("+")[0]) for a in valid[:500]]
    got = ask([f"C\t{a}\t{b}" for a, b in pairs])
    def cmp(a, b):
        va, vb = Version(a), Version(b)
        return (va > vb) - (va < vb)
    bad = [(a, b, g, cmp(a, b)) for (a, b), g in zip(pairs, got) if int(g) != cmp(a, b)]
    assert not bad, bad[:20]


def test_specifier_membership_like_packaging():
    r = random.Random(SEED + 2)
    cases = [(gen_spec(r), gen_version(r, 1.0)) for _ in range(N)]
    def expect(spec, ver):
        try:
            s = SpecifierSet(spec)
        except InvalidSpecifier:
            return "!spec"
        try:
            v = Version(ver)
        except InvalidVersion:
            return "!ver"
        return "1" if s.contains(v, prereleases=True) else "0"
    got = ask([f"S\t{s}\t{v}" for s, v in cases])
    bad = [(s, v, g, expect(s, v)) for (s, v), g in zip(cases, got) if g != expect(s, v)]
    assert not bad, bad[:20]
    assert got.count("1") > N // 10 and got.count("0") > N // 10


MARKER_VARS = ["python_version", "python_full_version", "os_name", "sys_platform",
               "platform_release", "platform_system", "platform_version", "platform_machine",
               "platform_python_implementation", "implementation_name", "implementation_version",
               "extra", "os.name", "sys.platform", "platform.machine", "python_implementation"]
MARKER_VALUES = ["3.8", "3.11", "3.11.7", "3.12", "3", "2.7", "3.*", "linux", "win32", "darwin",
                 "posix", "nt", "Linux", "Windows", "x86_64", "AMD64", "aarch64", "CPython",
                 "cpython", "PyPy", "6.1.0", "test", "Test_Extra", "gpu", "", "3.11.*", "1.0+x",
                 # read as Python literals by packaging: escapes, and ones that make it invalid
                 r"li\x6eux", r"3.11\x2e7", r"C:\\dir", r"\d", r"posix\\", r"\x4", "\\u0033.11"]


def gen_atom(r):
    var = r.choice(MARKER_VARS)
    val = r.choice(MARKER_VALUES)
    op = r.choice(["==", "!=", "<", "<=", ">", ">=", "~=", "===", "in", "not in"])
    q = r.choice(['"', "'"])
    lit = f"{q}{val}{q}"
    sp = r.choice([" ", "", "  "]) if op not in ("in", "not in") else " "
    return f"{var}{sp}{op}{sp}{lit}" if r.random() < 0.85 else f"{lit}{sp}{op}{sp}{var}"


def gen_marker(r, depth=0):
    items = []
    for i in range(r.randint(1, 3)):
        if i:
            items.append(r.choice(["and", "or"]))
        if depth < 2 and r.random() < 0.2:
            items.append("(" + gen_marker(r, depth + 1) + ")")
        else:
            items.append(gen_atom(r))
    text = " ".join(items)
    if r.random() < 0.03:
        text = text.replace(" and ", " and and ", 1) + r.choice(["", ")", " foo"])
    return text


@pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")
def test_markers_evaluate_like_packaging():
    r = random.Random(SEED + 3)
    env = pmarkers.default_environment()
    lines = [f"E\t{k}\t{v}" for k, v in env.items()]
    cases = [(gen_marker(r), r.choice(["", "", "gpu", "Test_Extra", "test-extra"])) for _ in range(N)]
    def expect(m, extra):
        try:
            marker = pmarkers.Marker(m)
        except pmarkers.InvalidMarker:
            return "!parse"
        try:
            return "1" if marker.evaluate({"extra": extra}) else "0"
        except Exception:
            return "!eval"
    got = ask(lines + [f"M\t{m}\t{e}" for m, e in cases])[len(lines):]
    bad = [(m, e, g, expect(m, e)) for (m, e), g in zip(cases, got) if g != expect(m, e)]
    assert not bad, bad[:20]
    assert got.count("1") > N // 20 and got.count("0") > N // 20


def gen_requirement(r):
    name = r.choice(["torch", "coqui-tts", "Gradio_Client", "pydantic", "typing.extensions", "a",
                     "x1", "spacy"])
    s = r.choice(["", " "]) + name
    if r.random() < 0.3:
        s += r.choice(["", " "]) + "[" + ",".join(r.sample(["gpu", "dev", "All", "x_y"], r.randint(1, 2))) + "]"
    if r.random() < 0.1:
        s += " @ https://example.org/pkg-1.0.tar.gz"
        if r.random() < 0.5:
            s += " ; " + gen_marker(r)
        return s
    if r.random() < 0.8:
        spec = gen_spec(r)
        s += r.choice(["", " "]) + (f"({spec})" if r.random() < 0.2 else spec)
    if r.random() < 0.4:
        s += r.choice([";", " ;", "; "]) + gen_marker(r)
    if r.random() < 0.03:
        s += r.choice([" garbage", ",", "]", " @"])
    return s


@pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")
def test_requirements_parse_like_packaging():
    r = random.Random(SEED + 4)
    cases = [gen_requirement(r) for _ in range(N)]
    def expect(text):
        try:
            q = Requirement(text)
        except InvalidRequirement:
            return "!"
        return "|".join([q.name, ",".join(sorted(q.extras)), str(q.specifier), q.url or "",
                         str(q.marker) if q.marker else ""])
    got = ask([f"R\t{c}" for c in cases])
    bad = [(c, g, expect(c)) for c, g in zip(cases, got) if g != expect(c)]
    assert not bad, bad[:20]
    assert sum(g != "!" for g in got) > N // 2
