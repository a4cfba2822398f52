"""Compiles the shims to code objects at build time (marshal), for the launcher's embed runner.

usage: python3.X precompile.py OUT.cpp SHIM.py...

Run with the Python minor version the launcher is built for: marshal data and bytecode are the same
for every patch release of a minor version, and the runner checks the magic number at run time and
falls back to compiling the source if it differs. Compiling the shims' source at every start cost
about 1.7 ms of the launcher's start-up (bench/startup.py); unmarshalling costs a few µs.
"""

import importlib.util
import marshal
import sys
from pathlib import Path


def main() -> None:
    out = Path(sys.argv[1])
    entries = []
    for src in map(Path, sys.argv[2:]):
        name = src.stem
        code = compile(src.read_bytes(), f"<alltalk_launch:{name}>", "exec", dont_inherit=True)
        data = marshal.dumps(code)
        entries.append((name, data))
    magic = int.from_bytes(importlib.util.MAGIC_NUMBER, "little")
    lines = ['#include "python_shims_bytecode.hpp"', "namespace alltalk::shims {", "namespace {"]
    for name, data in entries:
        body = ",".join(str(b) for b in data)
        lines.append(f"const unsigned char k_{name}[] = {{{body}}};")
    lines += [
        "}  // namespace",
        "const std::vector<Bytecode>& bytecode() {",
        "    static const std::vector<Bytecode> table = {",
    ]
    for name, data in entries:
        lines.append(
            f'        {{"{name}", std::string_view(reinterpret_cast<const char*>(k_{name}), '
            f"{len(data)})}},"
        )
    lines += [
        "    };",
        "    return table;",
        "}",
        f"unsigned long bytecode_magic() {{ return {magic}UL; }}",
        "}  // namespace alltalk::shims",
        "",
    ]
    text = "\n".join(lines)
    if not out.exists() or out.read_text() != text:
        out.write_text(text)


if __name__ == "__main__":
    main()
