// A line-oriented front end to bootstrap/pep440 and pep508 for the differential tests against
// packaging (tests/integration/test_doctor_differential.py). One answer line per request line:
//   V <tab> version                  -> normalised version, or "!"
//   C <tab> a <tab> b                -> -1, 0 or 1 (both must be valid)
//   S <tab> specifiers <tab> version -> 1 / 0 (contains, prereleases=True), "!spec" or "!ver"
//   E <tab> name <tab> value         -> sets a marker variable; answers "ok"
//   M <tab> marker <tab> extra       -> 1 / 0, "!parse" or "!eval"
//   R <tab> requirement              -> name|extras|specifier|url|marker (packaging's str parts),
//   or "!"
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "pypa/pep440.hpp"
#include "pypa/pep508.hpp"

using namespace alltalk;

namespace {

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        std::size_t tab = line.find('\t', start);
        out.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
        if (tab == std::string::npos) {
            return out;
        }
        start = tab + 1;
    }
}

}  // namespace

int main() {
    std::ios::sync_with_stdio(false);
    pep508::MarkerEnv env;
    std::string line;
    while (std::getline(std::cin, line)) {
        auto f = split_tabs(line);
        f.resize(4);
        const std::string& kind = f[0];
        if (kind == "V") {
            auto v = pep440::parse(f[1]);
            std::cout << (v ? v->str() : "!") << '\n';
        } else if (kind == "C") {
            auto a = pep440::parse(f[1]);
            auto b = pep440::parse(f[2]);
            std::cout << (a && b ? pep440::compare(*a, *b) : 99) << '\n';
        } else if (kind == "S") {
            auto s = pep508::parse_specifiers(f[1]);
            auto v = pep440::parse(f[2]);
            std::cout << (!s ? "!spec" : !v ? "!ver" : s->contains(*v) ? "1" : "0") << '\n';
        } else if (kind == "E") {
            env[f[1]] = f[2];
            std::cout << "ok\n";
        } else if (kind == "M") {
            auto m = pep508::parse_marker(f[1]);
            if (!m) {
                std::cout << "!parse\n";
                continue;
            }
            auto r = m->evaluate(env, f[2]);
            std::cout << (!r ? "!eval" : *r ? "1" : "0") << '\n';
        } else if (kind == "R") {
            auto r = pep508::parse_requirement(f[1]);
            if (!r) {
                std::cout << "!\n";
                continue;
            }
            std::string extras;
            std::vector<std::string> sorted = r->extras;
            std::sort(sorted.begin(), sorted.end());
            for (const auto& e : sorted) {
                extras += (extras.empty() ? "" : ",") + e;
            }
            std::cout << r->name << '|' << extras << '|' << r->specifier.str() << '|'
                      << r->url.value_or("") << '|' << r->marker.str() << '\n';
        } else {
            std::cout << "?\n";
        }
    }
    return 0;
}
