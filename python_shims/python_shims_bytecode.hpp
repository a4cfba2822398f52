#pragma once
// The shims as marshalled code objects, compiled at build time by precompile.py with the Python
// the launcher is built for (ALLTALK_SHIM_BYTECODE). embed/runner.cpp uses them when the running
// interpreter's magic number matches, else it compiles python_shims.hpp's sources.
#include <string_view>
#include <vector>

namespace alltalk::shims {

struct Bytecode {
    std::string_view name;  // the shim's module name, as in Source
    std::string_view data;  // marshal.dumps(code object)
};

const std::vector<Bytecode>& bytecode();
// importlib.util.MAGIC_NUMBER of the build's Python, read as a little-endian number (what
// PyImport_GetMagicNumber() returns).
unsigned long bytecode_magic();

}  // namespace alltalk::shims
