#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "gpu/probe.hpp"
#include "test_support.hpp"

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
TEST_CASE("a probe started early keeps its deadline, and a hung one is ended when dropped") {
    // The deadline counts from start(), not from finish(): work done meanwhile is not added.
    PendingProbe pending = PendingProbe::start({ALLTALK_BROKEN_CUDART_HANG}, 500);
    const std::string handover = pending.handover();
    CHECK_FALSE(handover.empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    const auto start = std::chrono::steady_clock::now();
    GpuProbe p = pending.finish();
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(350));
    CHECK(p.note.find("did not answer") != std::string::npos);
    CHECK(pending.handover().empty());  // read once
    CHECK(pending.finish().note == "the GPU probe was already read");

    // Dropped unread, the hung child is killed and reaped (no zombie left behind).
    pid_t pid = 0;
    {
        PendingProbe dropped = PendingProbe::start({ALLTALK_BROKEN_CUDART_HANG}, 60000);
        pid = static_cast<pid_t>(std::stoll(dropped.handover()));
    }
    CHECK(::kill(pid, 0) != 0);
}

TEST_CASE("a re-executed launcher adopts only its own running probe") {
    CHECK_FALSE(PendingProbe::adopt("").has_value());
    CHECK_FALSE(PendingProbe::adopt("garbage").has_value());
    CHECK_FALSE(PendingProbe::adopt("1 0 0 10000").has_value());  // pid 1 is nobody's child here
    CHECK_FALSE(PendingProbe::adopt(std::to_string(::getpid()) + " 987 0 10000").has_value());
    // Our own child with its pipe: adopted (here in the same process, as exec keeps both). exec
    // drops the starting side without running its destructor; so does this storage.
    alignas(PendingProbe) unsigned char before_exec[sizeof(PendingProbe)];
    auto* started =
        new (before_exec) PendingProbe(PendingProbe::start({"/nonexistent/libcudart.so.12"}));
    std::optional<PendingProbe> adopted = PendingProbe::adopt(started->handover());
    REQUIRE(adopted.has_value());
    GpuProbe p = adopted->finish();
    CHECK(p.note.find("no NVIDIA driver") == 0);
}

TEST_CASE("the probe's child keeps its whole report once the launcher has read it") {
    test::TempDir tmp;
    const auto kept = tmp.path() / "kept";
    GpuProbe p =
        PendingProbe::start({"/nonexistent/libcudart.so.12"}, 5000, {},
                            [&kept](const std::string& report) { std::ofstream(kept) << report; })
            .finish();
    CHECK(p.note.find("no NVIDIA driver") == 0);
    std::ifstream in(kept);
    std::stringstream text;
    text << in.rdbuf();
    GpuProbe again;
    parse_probe_report(text.str(), again);
    CHECK(again.note == p.note);
    // A probe that crashes never gets to keep anything.
    const auto crashed = tmp.path() / "crashed";
    p = PendingProbe::start({ALLTALK_BROKEN_CUDART_CRASH}, 5000, {},
                            [&crashed](const std::string&) { std::ofstream(crashed) << "x"; })
            .finish();
    CHECK(p.note.find("the GPU probe crashed") == 0);
    CHECK_FALSE(std::filesystem::exists(crashed));
}

TEST_CASE("a known result is handed on with the check's answer, and nothing is probed") {
    GpuProbe known;
    known.driver_present = true;
    known.driver_version = 12080;
    known.devices.push_back({0, "NVIDIA GeForce RTX 5090", 12, 0, 34190000000ull});
    known.kept = true;
    // The runtime given would crash the child if it were loaded.
    GpuProbe p =
        PendingProbe::start(
            {ALLTALK_BROKEN_CUDART_CRASH}, 5000, [] { return std::string("/a/b"); }, {}, &known)
            .finish();
    CHECK(p.note.empty());
    REQUIRE(p.devices.size() == 1);
    CHECK(p.devices[0].cc_major == 12);
    CHECK(p.devices[0].name == "NVIDIA GeForce RTX 5090");
    CHECK(p.kept);
    CHECK(p.inputs_changed == std::optional<std::string>("/a/b"));
}
#endif

TEST_CASE("only a result that describes the machine lasts") {
    GpuProbe p;
    p.driver_present = true;
    p.devices.push_back({0, "NVIDIA H200", 9, 0, 0});
    CHECK(probe_result_lasts(p));
    for (const char* note : {"no CUDA GPU", "no NVIDIA driver",
                             "no NVIDIA driver (no CUDA runtime and no libcuda.so.1 found)"}) {
        GpuProbe q;
        q.note = note;
        CHECK(probe_result_lasts(q));
    }
    for (const char* note : {"the GPU probe did not answer within 10 s (driver hung); continuing "
                             "without it",
                             "the GPU probe crashed (signal 11) in libcudart.so.12; continuing "
                             "without it",
                             "cudaGetDeviceCount failed: busy (46)",
                             "the NVIDIA driver did not start (cuInit error 999)"}) {
        GpuProbe q;
        q.note = note;
        CHECK_FALSE(probe_result_lasts(q));
    }
    GpuProbe none;  // nothing said at all: not a result
    CHECK_FALSE(probe_result_lasts(none));
}
