// A CUDA runtime stand-in that misbehaves the way a broken driver install can: it hangs
// (BROKEN_HANG) or crashes (otherwise) in cudaGetDeviceCount. Used only to prove that the GPU probe
// neither hangs nor crashes the launcher; the real runtime is probed in the integration tests.
#include <unistd.h>
#include <csignal>

extern "C" {
__attribute__((visibility("default"))) int cudaDriverGetVersion(int* v) {
    *v = 0;
    return 0;
}
__attribute__((visibility("default"))) int cudaRuntimeGetVersion(int* v) {
    *v = 12010;
    return 0;
}
__attribute__((visibility("default"))) int cudaDeviceGetAttribute(int* v, int, int) {
    *v = 0;
    return 0;
}
__attribute__((visibility("default"))) int cudaGetDeviceProperties(void*, int) {
    return 0;
}
__attribute__((visibility("default"))) int cudaGetDeviceCount(int*) {
#ifdef BROKEN_HANG
    for (;;) {
        ::pause();
    }
#else
    std::raise(SIGSEGV);
    return 0;
#endif
}
}
