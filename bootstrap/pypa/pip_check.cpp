#include "pypa/pip_check.hpp"

#include <algorithm>
#include <map>

namespace alltalk {

namespace {

struct Entry {
    const Distribution* dist;
    pep440::Version version;
    std::vector<pep508::Requirement> deps;  // those whose marker holds with extra == ""
};

}  // namespace

CheckResult check_requirements(const SiteScan& scan, const pep508::MarkerEnv& env) {
    CheckResult result;
    std::map<std::string, Entry, std::less<>> set;
    for (const auto& d : scan.dists) {
        if (!d.version) {
            result.unreadable.push_back(
                {d.metadata_dir, "version '" + d.version_text + "' is not a PEP 440 version"});
            continue;
        }
        Entry e{&d, *d.version, {}};
        bool ok = true;
        for (const auto& line : d.requires_dist) {
            std::string error;
            auto req = pep508::parse_requirement(line, &error);
            if (!req) {
                result.unreadable.push_back({d.metadata_dir, "Requires-Dist: " + error});
                ok = false;
                break;
            }
            auto keep = req->marker.evaluate(env, "", &error);
            if (!keep) {
                result.unreadable.push_back(
                    {d.metadata_dir, "Requires-Dist '" + line + "': " + error});
                ok = false;
                break;
            }
            if (*keep) {
                e.deps.push_back(std::move(*req));
            }
        }
        if (ok) {
            set.emplace(d.key, std::move(e));
        }
    }
    result.checked = set.size();
    for (const auto& [key, e] : set) {
        std::vector<Conflict> mine;
        for (const auto& req : e.deps) {
            auto it = set.find(req.key);
            Conflict c{key, e.version.str(), pep508::requirement_str(req), req.key, std::nullopt};
            if (it == set.end()) {
                mine.push_back(std::move(c));
                continue;
            }
            if (!req.specifier.contains(it->second.version)) {
                c.installed = it->second.version.str();
                mine.push_back(std::move(c));
            }
        }
        std::sort(mine.begin(), mine.end(), [](const Conflict& a, const Conflict& b) {
            return std::tie(a.dependency, a.requirement) < std::tie(b.dependency, b.requirement);
        });
        mine.erase(std::unique(mine.begin(), mine.end(),
                               [](const Conflict& a, const Conflict& b) {
                                   return a.dependency == b.dependency &&
                                          a.requirement == b.requirement;
                               }),
                   mine.end());
        result.conflicts.insert(result.conflicts.end(), mine.begin(), mine.end());
    }
    return result;
}

}  // namespace alltalk
