#include "cudnn/select.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <system_error>

#include "base/text.hpp"
#include "pypa/pep440.hpp"

namespace fs = std::filesystem;

namespace alltalk {

namespace {

// How far a candidate's version is from a pinned one: 0 same release, 1 same minor, 2 other.
int pin_distance(const CudnnCandidate& c, const std::vector<CudnnNeed>& needs) {
    int best = 3;
    for (const auto& n : needs) {
        auto eq = n.requirement.find("==");
        if (n.major != c.major || eq == std::string::npos ||
            n.requirement.find('*') != std::string::npos) {
            continue;
        }
        const std::string pin = n.requirement.substr(eq + 2);
        auto a = pep440::parse(pin), b = pep440::parse(c.version);
        if (!a || !b || b->release.size() < 2) {
            continue;  // only the major is known: nothing to compare
        }
        if (*a == *b) {
            best = std::min(best, 0);
        } else if (a->release.size() >= 2 && b->release.size() >= 2 &&
                   a->release[1] == b->release[1]) {
            best = std::min(best, 1);
        } else {
            best = std::min(best, 2);
        }
    }
    return best;
}

bool newer(const CudnnCandidate& a, const CudnnCandidate& b) {
    auto va = pep440::parse(a.version), vb = pep440::parse(b.version);
    if (va && vb) {
        return *va > *vb;
    }
    return false;
}

}  // namespace

std::vector<fs::path> NativeDecision::library_dirs() const {
    // In preference order (the env's own first): a system folder chosen for one major may also
    // hold another major's files, and must not shadow the env's folder chosen for that one.
    std::vector<const CudnnChoice*> ordered;
    for (const auto& c : choices) {
        ordered.push_back(&c);
    }
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const CudnnChoice* a, const CudnnChoice* b) {
                         return a->candidate.rank < b->candidate.rank;
                     });
    std::vector<fs::path> out;
    for (const CudnnChoice* cp : ordered) {
        const CudnnChoice& c = *cp;
        if (std::find(out.begin(), out.end(), c.candidate.dir) == out.end()) {
            out.push_back(c.candidate.dir);
        }
    }
    return out;
}

NativeDecision choose_cudnn(std::vector<CudnnNeed> needs, std::vector<CudnnCandidate> candidates,
                            const fs::path& python, Platform platform) {
    NativeDecision d;
    d.needs = std::move(needs);
    d.candidates = std::move(candidates);
    std::vector<int> majors;
    for (const auto& n : d.needs) {
        if (std::find(majors.begin(), majors.end(), n.major) == majors.end()) {
            majors.push_back(n.major);
        }
    }
    for (int major : majors) {
        std::vector<CudnnNeed> who;
        for (const auto& n : d.needs) {
            if (n.major == major) {
                who.push_back(n);
            }
        }
        const CudnnCandidate* best = nullptr;
        int best_pin = 3;
        for (const auto& c : d.candidates) {
            if (c.major != major || !c.complete) {
                continue;
            }
            const int pin = pin_distance(c, who);
            if (!best || c.rank < best->rank ||
                (c.rank == best->rank &&
                 (pin < best_pin || (pin == best_pin && newer(c, *best))))) {
                best = &c;
                best_pin = pin;
            }
        }
        if (best) {
            std::string why;
            if (best->rank == 0) {
                why = "named by " + best->origin;
            } else if (best->env_own) {
                why = "the env's own cuDNN " + std::to_string(major) + " (" + best->origin + ")";
            } else {
                why = "the env has no complete cuDNN " + std::to_string(major) +
                      "; the first system one found (" + best->origin + ")";
            }
            int others = 0;
            for (const auto& c : d.candidates) {
                others += (c.major == major && &c != best) ? 1 : 0;
            }
            if (others > 0) {
                why += "; preferred over " + std::to_string(others) + " other candidate" +
                       (others > 1 ? "s" : "");
            }
            if (best_pin == 2) {
                why += "; its version " + best->version + " differs from the pinned one";
            }
            d.choices.push_back({major, *best, why});
            continue;
        }
        MissingCudnn m;
        m.major = major;
        m.needed_by = who;
        const std::string py = text::quote_arg(python.string(), platform);
        const auto [requirement, conda, alternative] = cudnn_fix_parts(m);
        if (!requirement.empty()) {
            m.fix = py + " -m pip install " + text::quote_arg(requirement, platform);
        } else if (!conda.empty()) {
            m.fix = conda + " (in this env)";
        }
        if (!alternative.empty()) {
            m.fix += ", or remove the cuDNN " + std::to_string(major) + " need with " + py +
                     " -m pip install " + text::quote_arg(alternative, platform);
        }
        d.missing.push_back(std::move(m));
    }
    return d;
}

CudnnFixParts cudnn_fix_parts(const MissingCudnn& m) {
    CudnnFixParts p;
    for (const auto& n : m.needed_by) {
        if (n.requirement.rfind("conda ", 0) == 0) {
            p.conda = n.requirement;
        } else if (p.requirement.empty()) {
            p.requirement = n.requirement;
        }
        if (!n.alternative.empty()) {
            p.alternative = n.alternative;
        }
    }
    return p;
}

NativeDecision analyze_native(const NativeFacts& facts) {
    const auto start = std::chrono::steady_clock::now();
    SiteScan own;
    const SiteScan* scan = facts.scan;
    if (!scan) {
        own = scan_site_packages(facts.env.site_packages);
        if (facts.overlay_dir) {
            own = layered(scan_site_packages(*facts.overlay_dir), own);
        }
        scan = &own;
    }
    NeedFacts nf;
    nf.scan = scan;
    nf.site_packages = facts.env.site_packages;
    nf.env_dir = facts.env.dir;
    nf.platform = facts.platform;
    nf.configured_majors = facts.configured_majors;
    nf.configured_source = facts.configured_source;

    std::vector<CudnnNeed> needs = cudnn_needs(nf);
    if (needs.empty() && !facts.search_without_needs && !facts.override_dir) {
        NativeDecision d;  // nothing to serve: no candidate search (the common CPU-only env)
        d.elapsed_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        return d;
    }
    CandidateFacts cf;
    cf.env = facts.env;
    cf.scan = scan;
    cf.env_vars = facts.env_vars;
    cf.platform = facts.platform;
    cf.override_dir = facts.override_dir;
    cf.override_source = facts.override_source;
    cf.overlay_dir = facts.overlay_dir;
    cf.system_dirs =
        facts.system_dirs ? *facts.system_dirs : system_cudnn_dirs(facts.env_vars, facts.platform);

    NativeDecision d =
        choose_cudnn(std::move(needs), find_cudnn_candidates(cf), facts.env.python, facts.platform);
    if (facts.override_dir) {
        bool any = false;
        for (const auto& c : d.candidates) {
            any = any || c.rank == 0;
        }
        if (!any) {
            d.override_problem = "The cuDNN folder " + facts.override_dir->string() + " (" +
                                 facts.override_source +
                                 ") holds no cuDNN library (libcudnn.so.N / cudnn64_N.dll). Point "
                                 "it at the folder that holds them (the `lib` or `bin` folder of "
                                 "a cuDNN install), or leave it out to let the launcher choose.";
        }
    }
    d.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return d;
}

bool missing_only_on_gpu(const NativeDecision& d) {
    for (const auto& m : d.missing) {
        for (const auto& n : m.needed_by) {
            if (!n.gpu_only) {
                return false;
            }
        }
    }
    return !d.missing.empty();
}

std::string missing_cudnn_message(const NativeDecision& d, const PythonEnv& env) {
    if (!d.override_problem.empty()) {
        return d.override_problem;
    }
    if (d.missing.empty()) {
        return {};
    }
    std::ostringstream os;
    for (const auto& m : d.missing) {
        os << "cuDNN " << m.major << " is needed by ";
        for (std::size_t i = 0; i < m.needed_by.size(); ++i) {
            os << (i ? " and " : "") << m.needed_by[i].who << " (" << m.needed_by[i].why << ")";
        }
        os << ", but no folder with cuDNN " << m.major << " was found (looked in the env "
           << env.dir.string() << ", CUDA_PATH, the CUDA toolkit and the loader's folders";
        int other = 0;
        for (const auto& c : d.candidates) {
            other += c.major != m.major ? 1 : 0;
        }
        if (other) {
            os << "; only other cuDNN versions are there";
        }
        os << "). Fix: " << m.fix << ". Or point --cudnn DIR (or [native] cudnn) at a folder "
           << "holding cuDNN " << m.major << ". ";
    }
    std::string text = os.str();
    if (!text.empty() && text.back() == ' ') {
        text.pop_back();
    }
    return text;
}

std::string describe_native(const NativeDecision& d, const std::vector<std::string>& confirmed) {
    std::ostringstream os;
    os << "  native libraries (cuDNN):\n";
    if (d.needs.empty()) {
        os << "    needs: none (no installed package asks for cuDNN)\n";
    }
    for (const auto& n : d.needs) {
        os << "    need cuDNN " << n.major << ": " << n.who << " (" << n.why << ")\n";
    }
    if (d.candidates.empty()) {
        os << (d.needs.empty() ? "    candidates: not searched (nothing needs cuDNN)\n"
                               : "    candidates: none found\n");
    }
    for (const auto& c : d.candidates) {
        os << "    candidate cuDNN " << c.version << " (" << c.version_source << ") in "
           << c.dir.string() << " [" << c.origin << (c.complete ? "" : ", incomplete") << "]\n";
    }
    for (std::size_t i = 0; i < d.choices.size(); ++i) {
        const CudnnChoice& c = d.choices[i];
        os << "    chose cuDNN " << c.major << ": " << c.candidate.dir.string() << " (" << c.why
           << ")\n";
        if (i < confirmed.size() && !confirmed[i].empty()) {
            os << "      loaded " << c.candidate.main_library() << ": " << confirmed[i] << "\n";
        }
    }
    for (const auto& m : d.missing) {
        os << "    MISSING cuDNN " << m.major << ": fix with " << m.fix << "\n";
    }
    if (!d.override_problem.empty()) {
        os << "    PROBLEM: " << d.override_problem << "\n";
    }
    return os.str();
}

}  // namespace alltalk
