#pragma once
// The env after a fix, predicted from pip's report before anything changes (pure): the installed
// distributions, minus those the fix removes and those pip replaces, plus what pip would install,
// each with the Requires-Dist of its metadata. The doctor's checks run on the prediction as on a
// real env, and the findings before and after are compared.
#include <optional>
#include <string>
#include <vector>

#include "diagnose/doctor.hpp"
#include "pypa/pep508.hpp"
#include "pypa/pip_check.hpp"
#include "pypa/pip_report.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk::fix {

// One distribution the fix changes.
struct Change {
    std::string key;                    // PEP 503 name
    std::string name;                   // as its metadata writes it
    std::optional<std::string> before;  // installed version; nullopt: not installed
    std::optional<std::string> after;   // version after; nullopt: removed
    std::string why;  // "requested", "needed by gradio 3.50.2", "removed by the fix", ...
};

struct Prediction {
    SiteScan after;               // the predicted env (the report's items have no metadata_dir)
    std::vector<Change> changes;  // sorted by key; only what changes (a reinstall is a change)
    // PEP 503 names of installed distributions that the fix replaces or removes: what the undo
    // point saves.
    std::vector<std::string> replaced;
    // "name==version" of every distribution pip will install.
    std::vector<std::string> installs;
};

// `remove`: distribution names uninstalled before pip installs the report's items.
Prediction predict(const SiteScan& before, const std::vector<std::string>& remove,
                   const PipReport& report);

// The installed distributions whose requirements the prediction breaks (a conflict that was not
// there before, on a distribution the fix changes), leaving out those in `requested` (PEP 503
// names): they join the request by name, so that pip picks releases of them that fit.
std::vector<Conflict> broken_dependents(const SiteScan& before, const Prediction& p,
                                        const pep508::MarkerEnv& markers,
                                        const std::vector<std::string>& requested);

// The findings before and after, compared: a finding is the same one in both when its id is
// (pip-check conflicts: its id and message, so a conflict with other versions is a new one).
struct FindingDelta {
    std::vector<Finding> fixed;    // before, not after
    std::vector<Finding> left;     // in both (as after)
    std::vector<Finding> created;  // after, not before
    bool creates_error() const;
};
FindingDelta compare_findings(const std::vector<Finding>& before,
                              const std::vector<Finding>& after);

// The facts of a check with the scan replaced by a prediction: what diagnose() sees after the
// change. Facts that the change cannot be predicted for (the deep check's imports) are left out,
// and so `before_facts` leaves them out too, so that the two compare alike.
DoctorFacts before_facts(const DoctorFacts& facts);
DoctorFacts predicted_facts(const DoctorFacts& facts, const SiteScan& after);

}  // namespace alltalk::fix
