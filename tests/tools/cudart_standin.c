/* A CUDA runtime stand-in that reports one GPU, for the GPU check's tests on machines without
 * one: built as libcudart.so.12 (Linux) or cudart64_12.dll (mingw-w64, run under wine) into an
 * env's torch/lib, where the launcher's probe (bootstrap/gpu/probe.cpp) looks for the env's runtime
 * and loads it as it would the real one. Its device: STANDIN_NAME with compute capability
 * STANDIN_MAJOR.STANDIN_MINOR and 16 GiB (defaults: an RTX 5080, 12.0), behind a driver that supports
 * CUDA STANDIN_DRIVER (default 12080: CUDA 12.8). */
#include <string.h>

#ifdef _WIN32
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif
#ifndef STANDIN_NAME
#define STANDIN_NAME "NVIDIA GeForce RTX 5080"
#endif
#ifndef STANDIN_MAJOR
#define STANDIN_MAJOR 12
#endif
#ifndef STANDIN_MINOR
#define STANDIN_MINOR 0
#endif

#ifndef STANDIN_DRIVER
#define STANDIN_DRIVER 12080 /* the CUDA version its driver supports */
#endif

EXPORT int cudaDriverGetVersion(int* v) {
    *v = STANDIN_DRIVER;
    return 0;
}
EXPORT int cudaRuntimeGetVersion(int* v) {
    *v = 12080;
    return 0;
}
EXPORT int cudaGetDeviceCount(int* n) {
    *n = 1;
    return 0;
}
EXPORT int cudaDeviceGetAttribute(int* v, int attr, int device) {
    (void)device;
    *v = attr == 75 ? STANDIN_MAJOR : attr == 76 ? STANDIN_MINOR : 0;
    return 0;
}
/* cudaDeviceProp: the name at 0, totalGlobalMem (size_t) at 288. */
EXPORT int cudaGetDeviceProperties(void* prop, int device) {
    unsigned long long mem = 16ull << 30;
    (void)device;
    strcpy((char*)prop, STANDIN_NAME);
    memcpy((char*)prop + 288, &mem, sizeof mem);
    return 0;
}
EXPORT const char* cudaGetErrorString(int e) {
    (void)e;
    return "stand-in error";
}
