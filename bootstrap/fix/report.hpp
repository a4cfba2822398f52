#pragma once
// `fix`'s report (pure): its text parts, and the run as one JSON object for --json.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "fix/workflow.hpp"

namespace alltalk::fix {

// "1 error, 2 warnings".
std::string severity_counts(const std::vector<Finding>& findings);

// The predicted changes as a table: distribution, now, after, why.
std::string change_table(const Prediction& p);

// One indented line per finding ("    (none)" for none).
std::string finding_lines(const std::vector<Finding>& findings);

nlohmann::json finding_json(const std::vector<Finding>& findings);

// The whole run: findings, request, changes, trial fixes, other views, overlay, outcome.
nlohmann::json run_json(const FixRun& r, const FixSettings& s);

}  // namespace alltalk::fix
