"""The doctor's PEP 440 / PEP 508 engine (bootstrap/pypa) against packaging's own test suite: the
parameter sets of packaging's tests/test_version.py, test_specifiers.py, test_markers.py and
test_requirements.py, at the release that the tools venv's pip vendors (tests/support/
packaging_suite.py gets them). Each parameter set becomes one or more questions (parse this
version, is this version in this specifier set with prereleases=False, evaluate this marker in
this environment and context, ...) asked of pep_oracle in one batch and of pip._vendor.packaging
here; every answer must agree. The expected values written in packaging's tests are not used:
packaging's answer is, so vectors that only feed a question (a list of versions to filter) count
too.

Parametrized tests that ask nothing the engine answers (pickling, repr, hashing internals, set
relations) are listed in NOT_ASKED with the reason; a test that is in neither table fails this
file, so a new packaging release cannot add vectors silently. Vectors whose answer we decided not
to match are in EXCLUDED, each with its reason, and counted.
"""
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from pip._vendor import packaging as vendored
from pip._vendor.packaging.markers import InvalidMarker, Marker, default_environment
from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
from pip._vendor.packaging.specifiers import Specifier, SpecifierSet
from pip._vendor.packaging.version import InvalidVersion, Version

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import packaging_suite  # noqa: E402
from packaging_suite import VersionObject, decode  # noqa: E402

ORACLE = Path(os.environ.get("ALLTALK_BUILD_DIR", "build")) / "tests" / "pep_oracle"
CONTEXTS = ["metadata", "lock_file", "requirement"]
TRI = {None: "N", True: "T", False: "F"}

# --- the questions -------------------------------------------------------------------------------
# A question is a tuple (kind, *fields). Items for contains/filter are "s:<text>" (a str, which
# packaging parses itself; "===" compares it as written) or "v:<text>" (a Version object).


def esc(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def item_field(value) -> str:
    return ("v:" if isinstance(value, VersionObject) else "s:") + str(value)


def env_fields(environment) -> list:
    """A marker environment as fields: "-" for None, else key, value pairs where a value is
    "s:text", "n:" (None) or "S:" + elements joined by \\x1f (a set)."""
    if environment is None:
        return ["-"]
    out = ["+"]
    for key, value in environment.items():
        out.append(key)
        if value is None:
            out.append("n:")
        elif isinstance(value, str):
            out.append("s:" + value)
        else:
            out.append("S:" + "\x1f".join(sorted(value)))
    return out


def decode_item(field: str):
    return Version(field[2:]) if field.startswith("v:") else field[2:]


def decode_tri(field: str):
    return {"N": None, "T": True, "F": False}[field]


def decode_env(fields):
    if fields[0] == "-":
        return None
    env = {}
    for key, value in zip(fields[1::2], fields[2::2]):
        env[key] = None if value[0] == "n" else value[2:] if value[0] == "s" else \
            frozenset(v for v in value[2:].split("\x1f") if v)
    return env


def tri_out(value) -> str:
    return TRI[value]


def version_answer(text):
    try:
        v = Version(text)
    except ValueError:  # InvalidVersion, or a number over Python's int digit limit
        return "!"
    return "\x1f".join([
        str(v), v.public, v.base_version, v.local or "",
        f"{v.pre[0]}{v.pre[1]}" if v.pre else "", "" if v.post is None else str(v.post),
        "" if v.dev is None else str(v.dev), str(v.epoch), ".".join(map(str, v.release)),
        str(int(v.is_prerelease)), str(int(v.is_postrelease)), str(int(v.is_devrelease))])


def expect(q) -> str:
    """packaging's answer to one question, in pep_oracle's answer format."""
    kind = q[0]
    try:
        if kind == "VER":
            return version_answer(q[1])
        if kind == "VCMP":
            a, b = Version(q[1]), Version(q[2])
            return str((a > b) - (a < b))
        if kind == "SPEC":
            s = Specifier(q[1])
            return "\x1f".join([str(s), s.operator, s.version, tri_out(s.prereleases)])
        if kind == "SSET":
            s = SpecifierSet(q[1])
            n = len(s)  # before str(), which de-duplicates
            return "\x1f".join([str(s), str(n), tri_out(s.prereleases)])
        if kind == "SPECEQ":
            return str(int(Specifier(q[1]) == Specifier(q[2])))
        if kind == "SSETEQ":
            return str(int(SpecifierSet(q[1]) == SpecifierSet(q[2])))
        if kind == "SCON":
            _, which, spec, configured, item, pre, installed = q
            kwargs = {} if pre == "N" else {"prereleases": decode_tri(pre)}
            if which == "P":
                s = Specifier(spec, prereleases=decode_tri(configured))
            else:
                s = SpecifierSet(spec, prereleases=decode_tri(configured))
                if installed != "N":
                    kwargs["installed"] = decode_tri(installed)
            return str(int(s.contains(decode_item(item), **kwargs)))
        if kind == "SFIL":
            _, which, spec, configured, pre, *items = q
            cls = Specifier if which == "P" else SpecifierSet
            s = cls(spec, prereleases=decode_tri(configured))
            values = [decode_item(i) for i in items]
            kwargs = {} if pre == "N" else {"prereleases": decode_tri(pre)}
            kept = list(s.filter(values, **kwargs))
            ids = [next(i for i, v in enumerate(values) if v is k) for k in kept]
            return ",".join(map(str, ids))
        if kind == "MARK":
            m = Marker(q[1])
            try:
                return str(m)
            except ValueError:  # a value holding both quote characters
                return "!str"
        if kind == "MEVAL":
            _, text, context, *env = q
            try:
                m = Marker(text)
            except InvalidMarker:
                return "!parse"
            try:
                return str(int(m.evaluate(decode_env(env), context=context)))
            except Exception:
                return "!eval"
        if kind == "REQ":
            r = Requirement(q[1])
            return "\x1f".join([r.name, r.url or "", ",".join(sorted(r.extras)), str(r.specifier),
                                str(r.marker) if r.marker is not None else "", str(r)])
        if kind == "REQEQ":
            return str(int(Requirement(q[1]) == Requirement(q[2])))
    except (ValueError, InvalidRequirement, InvalidMarker, InvalidVersion):
        return "!"
    raise AssertionError(f"unknown question {q!r}")


# --- parameter sets -> questions -----------------------------------------------------------------

def ver(*texts):
    out = []
    for t in texts:
        if isinstance(t, str):
            out.append(("VER", str(t)))
    return out


def spec(*texts):
    return [("SPEC", t) for t in texts]


def sset(*texts):
    return [("SSET", t) for t in texts]


def scon(which, spec_text, configured, item, pre=None, installed=None):
    return [("SCON", which, spec_text, TRI[configured], item_field(item), TRI[pre],
             TRI[installed])]


def sfil(which, spec_text, configured, pre, items):
    return [("SFIL", which, spec_text, TRI[configured], TRI[pre], *map(item_field, items))]


def mark(*texts):
    """Parse and print, and evaluate in the default environment in every context."""
    out = []
    for t in texts:
        out.append(("MARK", t))
        out += [("MEVAL", t, c, "-") for c in CONTEXTS]
    return out


def meval(text, environment, contexts=CONTEXTS):
    return [("MEVAL", text, c, *env_fields(environment)) for c in contexts]


def req(*texts):
    return [("REQ", t) for t in texts]


def version_vectors(p, g):
    out = [q for k, v in p.items() if k != "op" for q in ver(v)]
    if "left" in p and "right" in p:
        out.append(("VCMP", p["left"], p["right"]))
    return out


def basic_requirement(p, g):
    # test_basic_valid_requirement_parsing builds its input from the parameters like this.
    ws = p["whitespace"]
    parts = [p["name"]]
    if p["extras"]:
        parts += ["[", f"{ws},{ws}".join(sorted(p["extras"])), "]"]
    if p["specifier"]:
        parts.append(p["specifier"].format(ws=ws))
    if p["url"] is not None:
        parts += ["@", p["url"].format(ws=ws)]
    if p["marker"] is not None:
        parts.append(" ;" if p["url"] is not None else ";")
        parts.append(p["marker"].format(ws=ws))
    return req(ws.join(parts))


def spec_normalized(p, g):
    ops = ["==", "!="] if "+" in p["version"] else ["~=", "==", "!=", "<=", ">=", "<", ">"]
    return spec(*(op + p["version"] for op in ops))


def contains_versions(which, key_spec, key_versions, configured=True):
    def handler(p, g):
        return [q for v in p[key_versions] for q in scon(which, p[key_spec], configured, v)]
    return handler


def equivalence_contains(p, g):
    out = []
    for item in g["_EQUIV_ITEMS"]:
        for pre in (None, True, False):
            for installed in (None, True, False):
                out += scon("S", p["spec_str"], p["configured"], item, pre, installed)
    return out


def pair(kind):
    def handler(p, g):
        a, b = list(p.values())[:2]
        first = {"SPECEQ": spec, "SSETEQ": sset, "REQEQ": req}[kind]
        return first(a, b) + [(kind, a, b)]
    return handler


S, P = "S", "P"
HANDLERS = {
    # test_version.py: every version string of a parameter set, and each (left, right) pair.
    "test_version.py": defaultdict(lambda: version_vectors),
    "test_specifiers.py": {
        "TestSpecifier::test_specifiers_valid": lambda p, g: spec(p["specifier"]),
        "TestSpecifier::test_specifiers_invalid": lambda p, g: spec(p["specifier"]),
        "TestSpecifier::test_specifiers_normalized": spec_normalized,
        "TestSpecifier::test_specifiers_str_and_repr": lambda p, g: spec(p["specifier"]),
        "TestSpecifier::test_specifiers_hash": lambda p, g: spec(p["specifier"]),
        "TestSpecifier::test_comparison_true": pair("SPECEQ"),
        "TestSpecifier::test_comparison_false": pair("SPECEQ"),
        "TestSpecifier::test_comparison_canonicalizes": pair("SPECEQ"),
        "TestSpecifier::test_specifiers": lambda p, g:
            scon(P, p["spec_str"], True, p["version"]) +
            scon(P, p["spec_str"], True, VersionObject(Version(p["version"]))) +
            scon(S, p["spec_str"], True, p["version"]),
        "TestSpecifier::test_invalid_version": lambda p, g: scon(P, p["spec_str"], True,
                                                                 p["version"]),
        "TestSpecifier::test_specifier_prereleases_set": lambda p, g:
            scon(P, p["specifier"], p["initial_prereleases"], p["version"]) +
            scon(P, p["specifier"], p["set_prereleases"], p["version"]),
        "TestSpecifier::test_arbitrary_equality": lambda p, g: scon(P, p["spec_str"], None,
                                                                    p["version"]),
        "TestSpecifier::test_arbitrary_equality_normalization": lambda p, g:
            scon(P, p["spec_str"], True, p["version"]),
        "TestSpecifier::test_specifier_prereleases_detection": lambda p, g: spec(p["specifier"]),
        "TestSpecifier::test_specifiers_prereleases": lambda p, g:
            scon(P, p["specifier"], p["spec_pre"], p["version"], p["contains_pre"]),
        "TestSpecifier::test_specifier_filter": lambda p, g:
            sfil(P, p["specifier"], p["specifier_prereleases"], p["prereleases"], p["input"]) +
            sfil(S, p["specifier"], p["specifier_prereleases"], p["prereleases"], p["input"]),
        "TestSpecifier::test_specifier_filter_arbitrary_equality_normalization": lambda p, g:
            sfil(P, p["specifier"], True, None, p["input"]),
        "TestSpecifier::test_specifier_operator_property": lambda p, g: spec(p["spec"]),
        "TestSpecifier::test_specifier_version_property": lambda p, g: spec(p["spec"]),
        "TestSpecifier::test_length": lambda p, g: sset(p["spec_str"]),
        "TestSpecifier::test_iteration": lambda p, g: sset(p["spec_str"]),
        "TestSpecifierInternal::test_spec_version_cache_consistency":
            contains_versions(P, "specifier", "test_versions"),
        "TestSpecifierInternal::test_spec_version_cache_with_wildcards":
            contains_versions(P, "specifier", "test_versions"),
        "TestSpecifierInternal::test_spec_version_cache_with_arbitrary_equality": lambda p, g:
            spec(p["specifier"]) + scon(P, p["specifier"], None, "1.0"),
        "TestSpecifierInternal::test_spec_version_cache_compatible_operator":
            contains_versions(P, "specifier", "versions"),
        "TestSpecifierSet::test_empty_specifier": lambda p, g:
            scon(S, "", True, p["version"]) +
            scon(S, "", True, VersionObject(Version(p["version"]))),
        "TestSpecifierSet::test_empty_specifier_arbitrary_string": lambda p, g:
            scon(S, "", p["prereleases"], "foobar") +
            sfil(S, "", p["prereleases"], None, p["versions"]),
        "TestSpecifierSet::test_empty_specifier_ordering_with_arbitrary": lambda p, g:
            sfil(S, "", None, None, p["versions"]),
        "TestSpecifierSet::test_specifier_prereleases_explicit": lambda p, g:
            scon(S, p["spec_str"], p["initial_prereleases"], p["version"]) +
            scon(S, p["spec_str"], p["set_prereleases"], p["version"]),
        "TestSpecifierSet::test_specifier_contains_installed_prereleases": lambda p, g:
            scon(S, p["specifier"], p["spec_prereleases"], p["version"],
                 p["contains_prereleases"], p["installed"]),
        "TestSpecifierSet::test_specifier_filter": lambda p, g:
            sfil(S, p["specifier"], p["specifier_prereleases"], p["prereleases"], p["input"]),
        "TestSpecifierSet::test_filter_exclusionary_bridges": lambda p, g:
            sfil(S, p["specifier"], None, p["prereleases"], p["input"]),
        "TestSpecifierSet::test_contains_exclusionary_bridges": lambda p, g:
            scon(S, p["specifier"], None, p["version"], p["prereleases"]),
        "TestSpecifierSet::test_contains_rejects_invalid_specifier": lambda p, g:
            scon(S, p["specifier"], True, p["input"]),
        "TestSpecifierSet::test_contains_post_release_boundary_intersection": lambda p, g:
            scon(S, p["spec_str"], None, p["version"], True) +
            [q for s in p["spec_str"].split(",") for q in scon(P, s, None, p["version"], True)],
        "TestSpecifierSet::test_contains_oversized_version_raises_valueerror": lambda p, g:
            scon(S, p["specifier"], None, "1.0"),
        "TestSpecifierSet::test_contains_arbitrary_equality_contains": lambda p, g:
            scon(S, p["specifier"], None, p["version"]),
        "TestSpecifierSet::test_contains_arbitrary_equality_normalization": lambda p, g:
            scon(S, p["spec_str"], True, p["version"]),
        "TestSpecifierSet::test_specifiers_str_and_repr": lambda p, g: sset(p["specifier"]),
        "TestSpecifierSet::test_specifiers_hash": lambda p, g: sset(p["specifier"]),
        "TestSpecifierSet::test_specifiers_combine": lambda p, g:
            sset(p["left"], p["right"], p["expected"]) +
            [("SSETEQ", p["left"] + "," + p["right"], p["expected"])],
        "TestSpecifierSet::test_comparison_true": pair("SSETEQ"),
        "TestSpecifierSet::test_comparison_false": pair("SSETEQ"),
        "TestSpecifierSet::test_comparison_canonicalizes": pair("SSETEQ"),
        "TestSpecifierSet::test_comparison_ignores_local": lambda p, g:
            scon(S, p["specifier"], None, VersionObject(Version(p["version"]))),
        "TestIsUnsatisfiable::test_unsatisfiable": lambda p, g: sset(p["spec_str"]),
        "TestIsUnsatisfiable::test_satisfiable": lambda p, g: sset(p["spec_str"]),
        "TestIsUnsatisfiable::test_unsatisfiable_prereleases_false": lambda p, g:
            sset(p["spec_str"]),
        "TestIsUnsatisfiable::test_satisfiable_prereleases_false": lambda p, g:
            sset(p["spec_str"]),
        "TestIsUnsatisfiable::test_post_release_boundary_unsatisfiable": lambda p, g:
            sset(p["spec_str"]),
        "test_pickle_specifier_roundtrip": lambda p, g: spec(p["specifier"]),
        "test_pickle_specifierset_roundtrip": lambda p, g: sset(p["specifiers"]),
        "TestIsUnsatisfiable::test_contains_identical_across_canonicalization":
            contains_versions(S, "spec", "versions", None),
        "test_specifier_construction_is_lazy": lambda p, g: spec(p["spec"]),
        "test_specifierset_construction_is_lazy": lambda p, g: sset(p["spec"]),
        "test_boundary_closure_short_release": lambda p, g:
            scon(P, p["spec_str"], None, VersionObject(Version(p["version_str"]))) +
            sfil(P, p["spec_str"], None, None, [VersionObject(Version(p["version_str"]))]),
        "TestSpecifierSetToRangeEquivalence::test_contains_equivalent": equivalence_contains,
        "TestSpecifierSetToRangeEquivalence::test_filter_equivalent": lambda p, g:
            [q for pre in (None, True, False)
             for q in sfil(S, p["spec_str"], p["configured"], pre, g["_EQUIV_ITEMS"])],
        "TestSpecifierSetToRangeEquivalence::test_contains_equivalent_with_version_objects":
            lambda p, g: [q for v in g["_EQUIV_ITEMS"] if version_answer(v) != "!"
                          for q in scon(S, p["spec_str"], None, VersionObject(Version(v)))],
    },
    "test_markers.py": {
        "TestMarker::test_parses_valid": lambda p, g: mark(p["marker_string"]),
        "TestMarker::test_parses_invalid": lambda p, g: mark(p["marker_string"]),
        "TestMarker::test_parses_invalid_trailing_line_break": lambda p, g:
            mark('python_version >= "3"' + p["line_break"]),
        "TestMarker::test_parses_trailing_horizontal_whitespace": lambda p, g:
            mark('python_version >= "3"' + p["whitespace"]),
        "TestMarker::test_parses_invalid_malformed_quoted_string": lambda p, g:
            mark(p["marker_string"]),
        "TestMarker::test_str_repr_eq_hash": lambda p, g: mark(p["marker_string"],
                                                               p["expected"]),
        "TestMarker::test_different_markers_different_hashes": lambda p, g:
            mark(p["example1"], p["example2"]),
        "TestMarker::test_evaluates": lambda p, g: mark(p["marker_string"]) +
            meval(p["marker_string"], p["environment"]),
        "TestMarker::test_parses_pep345_valid": lambda p, g: mark(p["marker_string"]),
        "TestMarker::test_evaluate_pep345_markers": lambda p, g: mark(p["marker_string"]) +
            meval(p["marker_string"], p["environment"]),
        "TestMarker::test_parses_setuptools_legacy_valid": lambda p, g: mark(p["marker_string"]),
        "TestMarker::test_membership_value_str_normalization": lambda p, g:
            mark(f'"S_P__A_M" in {p["variable"]}', f'"s-p-a-m" in {p["variable"]}'),
        "TestMarker::test_membership_value_str_normalization_negated": lambda p, g:
            mark(f'"Foo_Bar" not in {p["variable"]}', f'"foo-bar" not in {p["variable"]}'),
        "TestMarker::test_extras_and_dependency_groups": lambda p, g:
            mark(p["expression"].format(p["variable"])) +
            meval(p["expression"].format(p["variable"]), {p["variable"]: {"foo", "bar"}}),
        "TestMarker::test_extras_and_dependency_groups_disallowed": lambda p, g:
            mark(f'"foo" in {p["variable"]}'),
        "TestMarker::test_set_valued_marker_on_lhs_raises_undefined_comparison": lambda p, g:
            mark(f"{p['variable']} {p['op']} 'foo'"),
        "TestMarker::test_version_like_equality": lambda p, g: mark(p["marker_string"]) +
            meval(p["marker_string"], p["environment"]),
        "test_pickle_marker_roundtrip": lambda p, g: mark(p["marker_str"]),
    },
    "test_requirements.py": {
        "test_basic_valid_requirement_parsing": basic_requirement,
        "test_normalized_requirements": lambda p, g: req(p["input_req"], p["norm_req"]),
        "TestRequirementParsing::test_valid_marker": lambda p, g: req(f"name; {p['marker']}"),
        "TestRequirementParsing::test_file_url": lambda p, g: req(f"name @ {p['url']}"),
        "TestRequirementParsing::test_error_when_suffixed_with_line_break": lambda p, g:
            req(p["requirement"] + p["line_break"]),
        "TestRequirementParsing::test_trailing_horizontal_whitespace": lambda p, g:
            req("name>=1" + p["whitespace"]),
        "TestRequirementParsing::test_error_invalid_marker_malformed_quoted_string":
            lambda p, g: req(p["to_parse"]),
        "TestRequirementParsing::test_error_when_prefix_match_uses_post_release": lambda p, g:
            req(f"name{p['operator']}1.0.post1.*"),
        "TestRequirementParsing::test_error_when_local_version_label_is_used_incorrectly":
            lambda p, g: req(f"name{p['operator']}1.0+local.version.label"),
        "TestRequirementBehaviour::test_str_and_repr": lambda p, g:
            req(f"name{p['extras']}{p['url_or_specifier']}{p['marker']}"),
        "TestRequirementBehaviour::test_equal_reqs_equal_hashes": pair("REQEQ"),
        "TestRequirementBehaviour::test_equivalent_reqs_equal_hashes_unequal_strings":
            pair("REQEQ"),
        "TestRequirementBehaviour::test_different_reqs_different_hashes": pair("REQEQ"),
        "test_pickle_requirement_roundtrip": lambda p, g: req(p["req_str"]),
        "test_pickle_requirement_setstate_rejects_invalid_string": lambda p, g:
            req(p["invalid_requirement"]),
    },
}

NOT_ASKED = {
    "test_version.py": {
        "TestVersion::test_non_string_versions_raise_invalid_version":
            "non-str inputs (None, 1, bytes): the engine reads text",
        "TestVersion::test_dunder_op_returns_notimplemented": "Python operator protocol",
        "TestVersion::test_compare_other": "Python operator protocol",
        "TestVersion::test_base_version_notimplemented_with_non_base_version":
            "Python operator protocol",
    },
    "test_specifiers.py": {
        "TestSpecifier::test_specifier_filter_with_key": "filter(key=): the items are dicts "
            "written in the test body; filter itself is covered by test_specifier_filter",
        "TestSpecifierSet::test_specifierset_filter_with_key": "as above",
        "TestSpecifierSet::test_empty_specifierset_filter_with_key": "as above",
        "TestSpecifierSet::test_is_subset": "set relations: not part of the engine",
        "TestSpecifierSet::test_is_superset": "set relations: not part of the engine",
        "TestSpecifierSet::test_is_disjoint": "set relations: not part of the engine",
        "TestSpecifierSet::test_set_relations_raise_on_prerelease_policy_mismatch":
            "set relations: not part of the engine",
        "TestSpecifierSet::test_set_relations_reject_arbitrary_equality":
            "set relations: not part of the engine",
        "TestSpecifierSet::test_set_relations_require_specifierset":
            "set relations: not part of the engine",
        "TestSpecifierSet::test_arbitrary_equality_is_intersection_preserving":
            "SpecifierSet & SpecifierSet: not part of the engine",
        "TestSpecifierSetToRangeEquivalence::test_to_specifier_set_roundtrip_matches":
            "VersionRange.to_specifier_set(): not part of the engine",
    },
    "test_markers.py": {
        "TestNode::test_accepts_value": "packaging._parser.Node internals",
        "TestNode::test_str": "packaging._parser.Node internals",
        "TestNode::test_repr": "packaging._parser.Node internals",
        "TestNode::test_value_serialize_chooses_quote_delimiter":
            "packaging._parser.Node internals (the same rule is asked through str(Marker))",
    },
    "test_requirements.py": {
        "test_pickle_requirement_preserves_prereleases": "pickling",
    },
}

# Questions whose answer we decided not to match, each with the reason: (question, reason).
EXCLUDED = {}

# Literal constructor arguments in the test bodies (tests/support/packaging_suite.py).
LITERAL_QUESTIONS = {
    "version": ver,
    "specifier": spec,
    "specifier_set": sset,
    "marker": mark,
    "requirement": req,
}


def questions(data):
    """{file: {question: [test, ...]}} and {file: number of parameter sets}."""
    asked = defaultdict(lambda: defaultdict(list))
    param_sets = Counter()
    untriaged = set()
    for item in data["items"]:
        f, test, params = item["file"], item["test"], item["params"]
        if params is None:
            continue
        params = {k: decode(v) for k, v in params.items()}
        handlers = HANDLERS[f]
        if test in NOT_ASKED[f]:
            continue
        if not isinstance(handlers, defaultdict) and test not in handlers:
            untriaged.add(f"{f}::{test}")
            continue
        param_sets[f] += 1
        g = {k: decode(v) for k, v in data["globals"][f].items()}
        for q in handlers[test](params, g):
            asked[f][q].append(test)
    for f, found in data["literals"].items():
        for kind, text, *rest in found:
            qs = meval(text, decode(rest[0])) if kind == "marker_env" else \
                LITERAL_QUESTIONS[kind](text)
            param_sets[f] += 1
            for q in qs:
                asked[f][q].append("(literal in a test body)")
    return asked, param_sets, untriaged


@pytest.fixture(scope="module")
def suite():
    version = vendored.__version__
    tree = packaging_suite.sdist_tree(version)
    data = packaging_suite.collect(tree)
    assert data["packaging"] == version
    # The sdist's src/packaging is the vendored copy (pip only rewrites its imports).
    for py in (tree / "src" / "packaging").glob("*.py"):
        ours = (Path(vendored.__file__).parent / py.name).read_text()
        assert ours.replace("pip._vendor.packaging", "packaging") == py.read_text(), py.name
    return data


def ask(lines):
    out = subprocess.run([str(ORACLE)], input="".join(l + "\n" for l in lines),
                         capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[-1] == ""
    assert len(out) - 1 == len(lines)
    return out[:-1]


def test_engine_answers_packagings_own_vectors_as_packaging_does(suite):
    asked, param_sets, untriaged = questions(suite)
    assert not untriaged, f"new parametrized tests in packaging, triage them: {sorted(untriaged)}"
    env = default_environment()
    setup = ["E\t" + "\t".join(map(esc, kv)) for kv in env.items()]
    flat = [(f, q) for f in sorted(asked) for q in asked[f]]
    start = time.monotonic()
    got = ask(setup + ["\t".join(map(esc, q)) for _, q in flat])[len(setup):]
    oracle_s = time.monotonic() - start
    report, bad, excluded = [], [], Counter()
    per_file = defaultdict(Counter)
    for (f, q), g in zip(flat, got):
        want = esc(expect(q))
        if q in EXCLUDED:
            excluded[f] += 1
            continue
        per_file[f]["agree" if g == want else "differ"] += 1
        if g != want:
            bad.append((f, asked[f][q][0], q, g, want))
    for f in sorted(per_file):
        report.append(f"{f}: {param_sets[f]} parameter sets, {sum(per_file[f].values())} "
                      f"questions, {per_file[f]['agree']} agree, {per_file[f]['differ']} differ, "
                      f"{excluded[f]} excluded")
    print("\n".join(report) + f"\npep_oracle: {oracle_s:.2f}s for {len(flat)} questions")
    assert not bad, "\n".join(report) + f"\n{len(bad)} disagreements, first 40:\n" + "\n".join(
        f"{f} {t}: {q!r}\n    engine:    {g!r}\n    packaging: {w!r}" for f, t, q, g, w in bad[:40])
    assert len(flat) > 10000
