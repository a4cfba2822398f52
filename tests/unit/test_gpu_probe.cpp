#include <doctest/doctest.h>

#include <chrono>

#include "gpu/probe.hpp"

using namespace alltalk;

#ifndef _WIN32
TEST_CASE("no runtime and no driver library: a normal 'no driver' result") {
    GpuProbe p = probe_gpus({"/nonexistent/libcudart.so.12"});
    CHECK(p.devices.empty());
    CHECK_FALSE(p.driver_present);
    CHECK(p.note.find("no NVIDIA driver") == 0);
}

TEST_CASE("a runtime that hangs is killed after the time limit; one that crashes is reported") {
    const auto start = std::chrono::steady_clock::now();
    GpuProbe p = probe_gpus({ALLTALK_BROKEN_CUDART_HANG}, 500);
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(took < std::chrono::seconds(3));
    CHECK(p.note.find("did not answer") != std::string::npos);
    CHECK(p.devices.empty());
    p = probe_gpus({ALLTALK_BROKEN_CUDART_CRASH}, 5000);
    CHECK(p.note.find("the GPU probe crashed (signal 11)") == 0);
    CHECK(p.runtime_version == 12010);  // what it said before crashing is kept
}
#endif
