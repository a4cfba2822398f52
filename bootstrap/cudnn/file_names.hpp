#pragma once
// The one reading of cuDNN file names, for the needs (what a package ships) and the candidates
// (what a folder serves) alike:
//   Linux    libcudnn.so.9, libcudnn.so.9.1.0, libcudnn_ops_infer.so.8, and auditwheel's renamed
//            copies inside a package, libcudnn-1a2b3c4d.so.8.9.7;
//   Windows  cudnn64_9.dll, cudnn_ops64_9.dll, cudnn_ops_infer64_8.dll, cudnn_engines_...64_9.dll.
#include <string>
#include <string_view>

#include "base/platform.hpp"

namespace alltalk {

struct CudnnFileName {
    int major = -1;            // -1: not a cuDNN library
    std::string library;       // "libcudnn", "libcudnn_ops", "cudnn", "cudnn_ops_infer", ...
    bool main = false;         // libcudnn.so.N / cudnn64_N.dll
    bool ops = false;          // the ops library (cudnn_ops, or cuDNN 8's cudnn_ops_infer)
    bool bundled = false;      // auditwheel's copy inside a package (a hash in its name): it
                               // shows that the package needs this major, but it is not a
                               // library that anything else can load by its plain name
    std::string full_version;  // of a main library named with it: libcudnn.so.9.1.0 -> "9.1.0"
};

CudnnFileName classify_cudnn_file(std::string_view name, Platform platform);

}  // namespace alltalk
