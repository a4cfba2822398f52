#pragma once
// The requirement check that `pip check` performs, on a scan of site-packages: every installed
// distribution's Requires-Dist (markers evaluated with extra == "") against the installed versions.
// Reproduces pip's rules, including its quirks: a distribution whose version or requirements cannot
// be parsed is left out of the set (so its dependants see it as not installed), and extras are not
// followed. Proven against the real `pip check` by tests/integration/test_doctor_differential.py.
#include <optional>
#include <string>
#include <vector>

#include "pypa/pep508.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk {

struct Conflict {
    std::string package;      // PEP 503 name of the distribution that has the requirement
    std::string version;      // its version (normalised)
    std::string requirement;  // the requirement as pip prints it
    std::string dependency;   // PEP 503 name of the required distribution
    std::optional<std::string> installed;  // its installed version; nullopt = not installed
};

struct CheckResult {
    std::vector<Conflict> conflicts;          // sorted by package, then requirement
    std::vector<MetadataProblem> unreadable;  // distributions pip would skip, and why
    std::size_t checked = 0;                  // distributions in the set
};

CheckResult check_requirements(const SiteScan& scan, const pep508::MarkerEnv& env);

}  // namespace alltalk
