#include <doctest/doctest.h>

#ifndef _WIN32
#include <dlfcn.h>

#include <string>

#include "os/dynlib.hpp"

using namespace alltalk;

TEST_CASE("dynlib::load binds at load, and lazily a library that binding at load refuses") {
    // The loader itself refuses the library with RTLD_NOW: the fallback is what loads it.
    void* now = ::dlopen(ALLTALK_UNRESOLVED_LIB, RTLD_NOW | RTLD_LOCAL);
    CHECK(now == nullptr);
    if (now) {
        ::dlclose(now);
    }
    for (const dynlib::Bind bind : {dynlib::Bind::Now, dynlib::Bind::Lazy}) {
        std::string err;
        const dynlib::Library lib = dynlib::load(ALLTALK_UNRESOLVED_LIB, false, err, bind);
        REQUIRE(lib);
        CHECK(err.empty());
        using Fn = int (*)();
        const auto answer = reinterpret_cast<Fn>(dynlib::symbol(lib, "alltalk_test_answer"));
        REQUIRE(reinterpret_cast<void*>(answer) != nullptr);
        CHECK(answer() == 42);
    }
}

TEST_CASE("dynlib::load with Bind::Now says the loader's error for a file that is not a library") {
    std::string err;
    const dynlib::Library lib =
        dynlib::load(ALLTALK_SOURCE_DIR "/README.md", false, err, dynlib::Bind::Now);
    CHECK_FALSE(lib);
    CHECK(err.find("README.md") != std::string::npos);
}
#endif
