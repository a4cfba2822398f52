#pragma once
// PEP 440 version specifiers and PEP 508 requirements with environment markers, evaluated as the
// `packaging` library that pip vendors does (checked against packaging's own test suite by
// tests/integration/test_packaging_suite.py and against generated cases by
// test_doctor_differential.py). The doctor reads thousands of these per run without Python, so
// this is a hand-written parser: there is no maintained C++ library for PEP 508.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pypa/pep440.hpp"

namespace alltalk::pep508 {

// packaging's `prereleases=` (and `installed=`) arguments and properties: None, True or False.
using Tri = std::optional<bool>;

// What contains() and filter() are handed, as packaging tells the two apart: a str (parsed on the
// fly; "===" compares it as written) or a Version object ("===" compares its normalised text).
struct Candidate {
    std::string text;                        // the str, or str(version) for an object
    std::optional<pep440::Version> version;  // nullopt: a str that is no PEP 440 version
    bool is_object = false;

    static Candidate from_text(std::string_view text);
    static Candidate from_version(pep440::Version v);
};

// One clause such as ">=2.0", "==1.4.*", "~=3.7", "===weird".
struct Specifier {
    std::string op;       // "==", "!=", "<=", ">=", "<", ">", "~=", "==="
    std::string version;  // as written, without the operator and the ".*"
    bool wildcard = false;
    std::optional<pep440::Version> parsed;  // the version; for "===" when it is one
    Tri prereleases_override;               // Specifier(..., prereleases=)

    // packaging's Specifier.prereleases: the override, else what the version implies.
    Tri prereleases() const;
    // Specifier.contains(item, prereleases).
    bool contains(const Candidate& item, Tri prereleases = std::nullopt) const;
    // Whether `v` lies in the clause's versions, before any pre-release policy (packaging's
    // ranges; "===" admits everything here, its string test is separate).
    bool matches(const pep440::Version& v) const;
    // Specifier.filter(items, prereleases): the indices of the items kept, in order.
    std::vector<std::size_t> filter(const std::vector<Candidate>& items,
                                    Tri prereleases = std::nullopt) const;
    std::string str() const;
    // What Specifier.__eq__ compares: the operator and the canonical version.
    std::string canonical() const;
};

struct SpecifierSet {
    std::vector<Specifier> specs;  // as written, duplicates included (packaging's len())
    Tri prereleases_override;      // SpecifierSet(..., prereleases=)

    // pip check's question: specifier.contains(version, prereleases=True) for an installed
    // distribution's Version object. (`raw_text` is unused and kept for callers.)
    bool contains(const pep440::Version& v, std::string_view raw_text = {}) const;
    // SpecifierSet.contains(item, prereleases, installed).
    bool contains(const Candidate& item, Tri prereleases, Tri installed = std::nullopt) const;
    // SpecifierSet.filter(items, prereleases): the indices of the items kept, in order.
    std::vector<std::size_t> filter(const std::vector<Candidate>& items,
                                    Tri prereleases = std::nullopt) const;
    // SpecifierSet.prereleases.
    Tri prereleases() const;
    bool empty() const { return specs.empty(); }
    // packaging's str(): clauses sorted as text, equal ones (canonically) once.
    std::string str() const;
    // SpecifierSet.__eq__ (the prereleases settings are ignored, as packaging does).
    bool equals(const SpecifierSet& other) const;
};

// One clause as packaging's Specifier(text) reads it. nullopt + `error` on invalid text.
std::optional<Specifier> parse_specifier(std::string_view text, std::string* error = nullptr);
// Parses "==1.0, <2" (the version part of a requirement) as SpecifierSet(text) does. nullopt +
// `error` on invalid text.
std::optional<SpecifierSet> parse_specifiers(std::string_view text, std::string* error = nullptr);

// The marker variables of one Python environment (PEP 508), e.g. python_version = "3.11".
using MarkerEnv = std::map<std::string, std::string, std::less<>>;

// One value of the `environment` argument of Marker.evaluate: a str, a set of names (what
// "extras" and "dependency_groups" hold) or None (allowed for "extra").
struct MarkerValue {
    std::string text;
    std::optional<std::vector<std::string>> set;
    bool none = false;
};
using MarkerValues = std::map<std::string, MarkerValue, std::less<>>;

// Marker.evaluate's `context`: which variables it provides by default.
enum class MarkerContext { Metadata, LockFile, Requirement };

struct MarkerNode;

class Marker {
  public:
    Marker() = default;
    explicit Marker(std::shared_ptr<const MarkerNode> root) : root_(std::move(root)) {}

    // marker.evaluate({"extra": extra}): true/false, or nullopt with `error` when packaging
    // would raise (an operator that is not defined for the operands, e.g. `os_name ~= "x"`, or a
    // variable that `env` lacks).
    std::optional<bool> evaluate(const MarkerEnv& env, std::string_view extra,
                                 std::string* error = nullptr) const;
    // marker.evaluate(environment, context) with default_environment() = `base` and
    // environment = `overrides` (nullptr: None).
    std::optional<bool> evaluate(const MarkerEnv& base, const MarkerValues* overrides,
                                 MarkerContext context, std::string* error = nullptr) const;
    bool empty() const { return !root_; }
    // packaging's str(Marker): double-quoted values, normalised variable names. nullopt where
    // packaging raises: a value holding both quote characters.
    std::optional<std::string> try_str() const;
    std::string str() const { return try_str().value_or(""); }

  private:
    std::shared_ptr<const MarkerNode> root_;
};

std::optional<Marker> parse_marker(std::string_view text, std::string* error = nullptr);

struct Requirement {
    std::string name;                 // as written
    std::string key;                  // PEP 503-normalised
    std::vector<std::string> extras;  // as written, each once
    SpecifierSet specifier;
    std::optional<std::string> url;
    Marker marker;
    std::string text;  // as written (trimmed)
};

// packaging's str(Requirement), which pip check prints.
std::string requirement_str(const Requirement& req);
// Requirement.__eq__: names and extras normalised, specifier sets and markers compared.
bool requirements_equal(const Requirement& a, const Requirement& b);

// A PEP 508 requirement line as packaging.requirements.Requirement parses it.
std::optional<Requirement> parse_requirement(std::string_view text, std::string* error = nullptr);

}  // namespace alltalk::pep508
