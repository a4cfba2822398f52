"""Real CUDA binaries for the fat binary readers' tests, and NVIDIA's cuobjdump as their oracle.

The wheels of tests/requirements/fatbin-wheels.txt are downloaded once for win_amd64 and for
manylinux x86_64 (`pip download --only-binary=:all: --no-deps --platform ...`); only the libraries
that carry a CUDA fat binary section, and cuobjdump, are kept, in
$ALLTALK_TEST_CACHE/fatbin-wheels/<hash of the requirements>/ (rebuilt when missing).
"""
import fcntl
import hashlib
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import cached_venv

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements" / "fatbin-wheels.txt"
PLATFORMS = {
    "win": ["win_amd64"],
    "linux": ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
              "manylinux2014_x86_64"],
}
# The libraries with fat binaries, by the end of their path in the wheels.
KEEP = ("ctranslate2.dll", "nvjpeg64_12.dll", "nvjpeg2k_0.dll", "libnvjpeg.so.12",
        "libnvjpeg2k.so.0", "bin/cuobjdump")


def _is_kept(name: str) -> bool:
    return name.endswith(KEEP) or ("/libctranslate2-" in name and ".so." in name)


def ensure() -> Path:
    """The folder holding win/ and linux/ (the libraries) and cuobjdump."""
    text = REQUIREMENTS.read_text()
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    root = cached_venv.cache_root() / "fatbin-wheels" / key
    done = root / ".complete"
    if done.exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return root
        if root.exists():
            shutil.rmtree(root)
        reqs = [line.split("#")[0].strip() for line in text.splitlines()]
        reqs = [r for r in reqs if r]
        for plat, tags in PLATFORMS.items():
            wanted = [r for r in reqs if plat == "linux" or "cuobjdump" not in r]
            download = root / "download" / plat
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                            "--only-binary=:all:", "--python-version", "3.11",
                            *(a for t in tags for a in ("--platform", t)), "-d", str(download),
                            "--cache-dir", str(cached_venv.cache_root() / "pip"), *wanted],
                           check=True, stdout=sys.stderr)
            for wheel in sorted(download.glob("*.whl")):
                with zipfile.ZipFile(wheel) as z:
                    for name in z.namelist():
                        if _is_kept(name):
                            dest = root / ("cuobjdump" if name.endswith("cuobjdump") else
                                           Path(plat) / Path(name).name)
                            dest.parent.mkdir(parents=True, exist_ok=True)
                            dest.write_bytes(z.read(name))
        (root / "cuobjdump").chmod(0o755)
        shutil.rmtree(root / "download")
        done.write_text(text)
    return root


def libraries(root: Path, plat: str) -> list:
    return sorted((root / plat).iterdir())


def section_range(path: Path) -> tuple:
    """(offset, size) of the fat binary section, read with pefile / pyelftools (the tools venv)."""
    from elftools.elf.elffile import ELFFile
    import pefile

    if path.suffix == ".dll":
        pe = pefile.PE(str(path), fast_load=True)
        (s,) = [s for s in pe.sections if s.Name.rstrip(b"\0") == b".nv_fatb"]
        size = min(s.Misc_VirtualSize, s.SizeOfRawData) or s.SizeOfRawData
        offset = s.PointerToRawData
        pe.close()
        return offset, size
    with open(path, "rb") as f:
        s = ELFFile(f).get_section_by_name(".nv_fatbin")
        return s["sh_offset"], s["sh_size"]


def miniature(path: Path, keep: int = 1 << 16, section: bytes = None) -> bytes:
    """The real file's headers and section table with the first `keep` bytes of its fat binary
    section, every other section emptied: a seed of a few KB that the readers read like the
    whole file (up to where the section is cut). `section`: other bytes for the section."""
    data = path.read_bytes()
    offset, size = section_range(path)
    excerpt = section if section is not None else data[offset:offset + min(size, keep)]
    if data[:2] == b"MZ":
        lfanew = struct.unpack_from("<I", data, 0x3C)[0]
        nsec, = struct.unpack_from("<H", data, lfanew + 6)
        opt, = struct.unpack_from("<H", data, lfanew + 20)
        table = lfanew + 24 + opt
        head = bytearray(data[:table + 40 * nsec])
        at = (len(head) + 511) // 512 * 512
        for i in range(nsec):
            e = table + 40 * i
            if head[e:e + 8].rstrip(b"\0") == b".nv_fatb":
                struct.pack_into("<I", head, e + 8, len(excerpt))
                struct.pack_into("<II", head, e + 16, len(excerpt), at)
            else:
                struct.pack_into("<II", head, e + 16, 0, 0)
        return bytes(head) + bytes(at - len(head)) + excerpt
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shnum, shstrndx = struct.unpack_from("<H", data, 0x3C)[0], struct.unpack_from("<H", data, 0x3E)[0]
    table = bytearray(data[shoff:shoff + 64 * shnum])
    names_off, names_size = struct.unpack_from("<QQ", table, 64 * shstrndx + 0x18)
    out = bytearray(data[:64])
    names_at = len(out)
    out += data[names_off:names_off + names_size]
    out += bytes(-len(out) % 8)
    fat_at = len(out)
    out += excerpt
    out += bytes(-len(out) % 8)
    for i in range(shnum):
        e = 64 * i
        o, = struct.unpack_from("<Q", table, e + 0x18)
        if i == shstrndx:
            struct.pack_into("<QQ", table, e + 0x18, names_at, names_size)
        elif o == offset:
            struct.pack_into("<QQ", table, e + 0x18, fat_at, len(excerpt))
        else:
            struct.pack_into("<QQ", table, e + 0x18, 0, 0)
    struct.pack_into("<Q", out, 0x28, len(out))
    struct.pack_into("<H", out, 0x3C, shnum)
    return bytes(out + table)


def without_ptx(path: Path, containers: int = 64) -> bytes:
    """The first `containers` fat binary containers of a real library's section, each with its
    PTX entries (kind 1) left out: real cubins only, so a GPU newer than all of them has nothing
    it can run (the PTX would be compiled for it)."""
    offset, size = section_range(path)
    with open(path, "rb") as f:
        f.seek(offset)
        fb = f.read(size)
    out, pos, n = bytearray(), 0, 0
    while pos + 16 <= len(fb) and n < containers:
        magic, _, hsize, fsize = struct.unpack_from("<IHHQ", fb, pos)
        if magic != 0xBA55ED50:
            pos += 8
            continue
        p, end, entries = pos + hsize, pos + hsize + fsize, bytearray()
        while p + 16 <= end:
            kind, _, eh, payload = struct.unpack_from("<HHIQ", fb, p)
            if eh == 0:
                break
            if kind != 1:
                entries += fb[p:p + eh + payload]
            p += eh + payload
        header = bytearray(fb[pos:pos + hsize])
        struct.pack_into("<Q", header, 8, len(entries))
        out += header + entries
        out += bytes(-len(out) % 8)
        pos, n = end, n + 1
    return bytes(out)
