// A library with a reference that nothing defines, as a plugin built against a newer host has:
// the loader loads it lazily and refuses it with RTLD_NOW. Used only by test_dynlib.cpp.
extern "C" int alltalk_test_nowhere_defined();

extern "C" __attribute__((visibility("default"))) int alltalk_test_answer() {
    return 42;
}

extern "C" __attribute__((visibility("default"))) int alltalk_test_calls_nowhere() {
    return alltalk_test_nowhere_defined();
}
