#include <doctest/doctest.h>

#include "pypa/site_packages.hpp"
#include "pypa/pep440.hpp"

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
