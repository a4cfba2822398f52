#include <doctest/doctest.h>

#include "base/text.hpp"
#include "pypa/pep440.hpp"
#include "pypa/pep508.hpp"
#include "pypa/site_packages.hpp"

using namespace alltalk;

namespace {
int cmp(const char* a, const char* b) {
    auto va = pep440::parse(a);
    auto vb = pep440::parse(b);
    REQUIRE(va);
    REQUIRE(vb);
    return pep440::compare(*va, *vb);
}
}  // namespace

TEST_CASE("PEP 440 normalisation") {
    CHECK(pep440::parse("1.0")->str() == "1.0");
    CHECK(pep440::parse("v1.0.0-Alpha.1")->str() == "1.0.0a1");
    CHECK(pep440::parse("1.0c1")->str() == "1.0rc1");
    CHECK(pep440::parse("1.0-1")->str() == "1.0.post1");
    CHECK(pep440::parse("1.0.post")->str() == "1.0.post0");
    CHECK(pep440::parse("1!2.0.DEV3+Ubuntu-1.2")->str() == "1!2.0.dev3+ubuntu.1.2");
    CHECK(pep440::parse("2.2.1+cu121")->public_str() == "2.2.1");
    CHECK_FALSE(pep440::parse("1.0+"));
    CHECK_FALSE(pep440::parse("not a version"));
    CHECK_FALSE(pep440::parse("1.0.x"));
}

TEST_CASE("PEP 440 ordering") {
    CHECK(cmp("1.0", "1.0.0") == 0);
    CHECK(cmp("1.0.dev0", "1.0a0") < 0);
    CHECK(cmp("1.0a1", "1.0b1") < 0);
    CHECK(cmp("1.0rc1", "1.0") < 0);
    CHECK(cmp("1.0", "1.0.post1") < 0);
    CHECK(cmp("1.0.post1.dev1", "1.0.post1") < 0);
    CHECK(cmp("1.0a1.post1", "1.0a2") < 0);
    CHECK(cmp("1.0", "1.0+local") < 0);
    CHECK(cmp("1.0+abc", "1.0+1") < 0);
    CHECK(cmp("1.0+1", "1.0+1.0") < 0);
    CHECK(cmp("1!0.1", "2.0") > 0);
    CHECK(cmp("4.5.0", "4.10") < 0);
}

TEST_CASE("PEP 440 numbers have no size limit, as Python's int") {
    auto v = pep440::parse("1!18446744073709551616.0.post18446744073709551617");
    REQUIRE(v);
    CHECK(v->str() == "1!18446744073709551616.0.post18446744073709551617");
    CHECK(cmp("18446744073709551616", "18446744073709551615") > 0);
    CHECK(cmp("99999999999999999999", "100000000000000000000") < 0);
    CHECK(cmp("1.0+00018446744073709551616", "1.0+18446744073709551616") == 0);
    CHECK(pep440::Number(9).next().str() == "10");
    CHECK(pep440::Number::parse("0099")->next().str() == "100");
    CHECK_FALSE(pep440::parse(std::string(4301, '1')));  // Python's int() refuses: ValueError
    CHECK(pep440::parse(std::string(4300, '1')));
}

TEST_CASE("Python whitespace (Unicode's too) around a version") {
    CHECK(text::python_strip("\u202f1.0\t\u2029\n ") == "1.0");
    CHECK(text::python_strip("\xc2\xa0x\xc2\x85") == "x");
    CHECK(text::python_strip("\xc3\xa9") == "\xc3\xa9");  // e-acute is no space
    CHECK(pep440::parse("\u3000 v1.0\u2003")->str() == "1.0");
    CHECK_FALSE(pep440::parse("1.0\u2003a1"));
}

TEST_CASE("Marker string literals are Python literals") {
    auto str = [](const char* text) { return pep508::parse_marker(text)->str(); };
    CHECK(str(R"(os_name == "a\x41\u00e9\n")") == "os_name == \"aA\u00e9\n\"");
    CHECK_FALSE(pep508::parse_marker(R"(os_name == 'it\'s')"));     // the token ends at \'
    CHECK(str(R"(os_name == "\d\101")") == R"(os_name == "\dA")");  // unknown escapes stay
    CHECK_FALSE(pep508::parse_marker(R"(os_name == "C:\")"));       // closing quote escaped
    CHECK_FALSE(pep508::parse_marker(R"(os_name == "\x4")"));
    CHECK_FALSE(pep508::parse_marker("os_name == \"a\nb\""));  // a line break in the literal
}

TEST_CASE("Marker atoms and contexts as packaging evaluates them") {
    const pep508::MarkerEnv env = {
        {"os_name", "posix"}, {"python_full_version", "3.11.1+"}, {"python_version", "3.11"}};
    auto eval = [&](const char* text, pep508::MarkerContext ctx,
                    const pep508::MarkerValues* overrides = nullptr) {
        return pep508::parse_marker(text)->evaluate(env, overrides, ctx);
    };
    using C = pep508::MarkerContext;
    CHECK(eval("python_full_version < '3.12'", C::Requirement) == true);  // "3.11.1+local"
    CHECK(eval("os_name == os_name", C::Requirement) == false);           // 'posix' == 'os_name'
    CHECK_FALSE(eval("'a' == 'b'", C::Requirement));  // the right side names an unknown key
    const pep508::MarkerValues a = {{"b", {"a", std::nullopt, false}}};
    CHECK(eval("'a' == 'b'", C::Requirement, &a) == true);
    CHECK(eval("'Foo_Bar' in extras", C::LockFile) == false);
    CHECK_FALSE(eval("'foo' in extras", C::Metadata));  // no "extras" outside lock files
    const pep508::MarkerValues extras = {{"extras", {"", std::vector<std::string>{"foo-bar"}}}};
    CHECK(eval("'Foo_Bar' in extras", C::Metadata, &extras) == true);
    CHECK_FALSE(eval("extras == 'x'", C::LockFile));  // a set on the left: undefined
    CHECK(pep508::parse_marker("'Foo_Bar' in dependency_groups")->str() ==
          "\"foo-bar\" in dependency_groups");
}

TEST_CASE("Specifiers with packaging's pre-release rules") {
    auto set = [](const char* text) { return *pep508::parse_specifiers(text); };
    auto c = [](const char* text) { return pep508::Candidate::from_text(text); };
    CHECK(set(">=1.0").contains(c("2.0a1"), std::nullopt));
    CHECK_FALSE(set(">=1.0").contains(c("2.0a1"), false));
    CHECK(set(">=1.0").contains(pep440::parse("2.0a1").value()));  // pip check: prereleases=True
    CHECK(set("===1.01").contains(c("1.01"), std::nullopt));
    CHECK_FALSE(set("===1.01").contains(pep508::Candidate::from_version(*pep440::parse("1.01")),
                                        std::nullopt));
    const std::vector<pep508::Candidate> items = {c("1.0"), c("2.0a1"), c("junk"), c("1.5")};
    CHECK(set(">=1.0").filter(items) == std::vector<std::size_t>{0, 3});
    CHECK(set("").filter(items) == std::vector<std::size_t>{0, 2, 3});
    CHECK(set(">=1.0").filter({c("2.0a1")}) == std::vector<std::size_t>{0});
    CHECK(set(">1.0.0,>1.0").str() == ">1.0");  // sorted, then equal clauses once
    CHECK(pep508::parse_specifier("\u2003>= 1.0\u00a0"));
    // In a requirement the version ends at Python whitespace, and only " " and "\t" may follow.
    CHECK(pep508::parse_requirement("name>=\u20031.0 ; os_name == 'nt'"));
    CHECK_FALSE(pep508::parse_requirement("name>=1.0\u00a0"));
}

TEST_CASE("PEP 503 names and requires.txt") {
    CHECK(normalize_name("Foo__Bar.baz-Qux") == "foo-bar-baz-qux");
    auto reqs = requires_txt_to_requires_dist(
        "numpy>=1\n\n[cuda]\ncupy\n[:python_version < "
        "\"3.9\"]\nimportlib-metadata\n[docs:sys_platform == \"win32\"]\nsphinx\n");
    REQUIRE(reqs.size() == 4);
    CHECK(reqs[0] == "numpy>=1");
    CHECK(reqs[1] == "cupy; extra == \"cuda\"");
    CHECK(reqs[2] == "importlib-metadata; (python_version < \"3.9\")");
    CHECK(reqs[3] == "sphinx; (sys_platform == \"win32\") and extra == \"docs\"");
}

TEST_CASE("METADATA headers, continuation lines and malformed files") {
    std::vector<MetadataProblem> problems;
    auto d = parse_metadata(
        "Metadata-Version: 2.1\nName: Coqui_TTS\nVersion: 0.24.3\nRequires-Dist: torch>=2.1\n"
        "Requires-Dist: numpy; extra == \"x\"\nProvides-Extra: x\nSummary: a\n  b\n\nBody: no\n",
        "m", problems);
    REQUIRE(d);
    CHECK(d->key == "coqui-tts");
    CHECK(d->version->str() == "0.24.3");
    CHECK(d->requires_dist.size() == 2);
    CHECK(problems.empty());
    CHECK_FALSE(parse_metadata("Name: x\n", "bad", problems));
    CHECK(problems.size() == 1);
}
