// fatbin_driver every FILE   every architecture in every container of FILE's fat binary section
// fatbin_driver torch FILE   torch's rule (most of the first 64 containers: gpu/torch_arch.hpp)
// fatbin_driver site SITE    read_torch_arch_facts(SITE), as the launcher reads torch/lib
// One architecture a line (sm_XY, compute_XY). Exit 0; 3 when there is no fat binary; 1 with
// "could not read: REASON" on stderr for a malformed file; 2 for usage.
#include <cstdio>
#include <cstring>
#include <string>

#include "gpu/torch_arch.hpp"

int main(int argc, char** argv) {
    using namespace alltalk;
    if (argc != 3) {
        std::fputs("usage: fatbin_driver every|torch|site PATH\n", stderr);
        return 2;
    }
    const std::string mode = argv[1];
    std::optional<std::vector<std::string>> archs;
    std::string error;
    if (mode == "site") {
        TorchArchs t = read_torch_arch_facts(argv[2]);
        archs = t.archs;
        error = t.error;
    } else if (mode == "every" || mode == "torch") {
        archs = read_fatbin_archs(argv[2], mode == "every" ? ArchScope::Every : ArchScope::Torch,
                                  &error);
    } else {
        std::fputs("usage: fatbin_driver every|torch|site PATH\n", stderr);
        return 2;
    }
    if (!error.empty()) {
        std::fprintf(stderr, "could not read: %s\n", error.c_str());
        return 1;
    }
    if (!archs) {
        std::fputs("no fat binary\n", stderr);
        return 3;
    }
    for (const auto& a : *archs) {
        std::printf("%s\n", a.c_str());
    }
    return 0;
}
