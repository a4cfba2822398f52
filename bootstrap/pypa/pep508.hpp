#pragma once
// PEP 440 version specifiers and PEP 508 requirements with environment markers, evaluated as the
// `packaging` library that pip vendors does (checked against it by tests/integration/
// test_doctor_differential.py). The doctor reads thousands of these per run without Python, so this
// is a hand-written parser: there is no maintained C++ library for PEP 508.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pypa/pep440.hpp"

namespace alltalk::pep508 {

// One clause such as ">=2.0", "==1.4.*", "~=3.7", "===weird".
struct Specifier {
    std::string op;       // "==", "!=", "<=", ">=", "<", ">", "~=", "==="
    std::string version;  // as written, without the operator and the ".*"
    bool wildcard = false;
    std::optional<pep440::Version> parsed;  // nullopt only for "==="

    bool contains(const pep440::Version& v, std::string_view raw_text) const;
    std::string str() const;
};

struct SpecifierSet {
    std::vector<Specifier> specs;

    // pip check's question: specifier.contains(version, prereleases=True). `raw_text` is the
    // version as written (for "===").
    bool contains(const pep440::Version& v, std::string_view raw_text = {}) const;
    bool empty() const { return specs.empty(); }
    // packaging's str(): clauses sorted, comma-separated.
    std::string str() const;
};

// Parses "==1.0, <2" (the version part of a requirement). nullopt + `error` on invalid text.
std::optional<SpecifierSet> parse_specifiers(std::string_view text, std::string* error = nullptr);

// The marker variables of one Python environment (PEP 508), e.g. python_version = "3.11".
using MarkerEnv = std::map<std::string, std::string, std::less<>>;

struct MarkerNode;

class Marker {
  public:
    Marker() = default;
    explicit Marker(std::shared_ptr<const MarkerNode> root) : root_(std::move(root)) {}

    // true/false, or nullopt with `error` when packaging would raise (an operator that is not
    // defined for the operands, e.g. `os_name ~= "x"`, or an unknown variable).
    std::optional<bool> evaluate(const MarkerEnv& env, std::string_view extra,
                                 std::string* error = nullptr) const;
    bool empty() const { return !root_; }
    // packaging's str(Marker): double-quoted values, normalised variable names.
    std::string str() const;

  private:
    std::shared_ptr<const MarkerNode> root_;
};

std::optional<Marker> parse_marker(std::string_view text, std::string* error = nullptr);

struct Requirement {
    std::string name;  // as written
    std::string key;   // PEP 503-normalised
    std::vector<std::string> extras;
    SpecifierSet specifier;
    std::optional<std::string> url;
    Marker marker;
    std::string text;  // as written (trimmed)
};

// packaging's str(Requirement), which pip check prints.
std::string requirement_str(const Requirement& req);

// A PEP 508 requirement line as packaging.requirements.Requirement parses it.
std::optional<Requirement> parse_requirement(std::string_view text, std::string* error = nullptr);

}  // namespace alltalk::pep508
