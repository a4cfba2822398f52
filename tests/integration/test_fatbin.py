"""The CUDA fat binary readers (bootstrap/gpu: elf_section, pe_section, fatbin) on real Windows DLLs
and Linux shared objects from PyPI wheels (tests/support/fatbin_wheels.py), with NVIDIA's cuobjdump
as the oracle: the section is cut out with pefile / pyelftools and `cuobjdump -lelf -lptx` lists
its cubins (sm_XY) and PTX (compute_XY); the readers' list of every architecture in every container
(fatbin_driver every) must be the same set. Then the doctor's torch-archs note on a Linux and a
Windows env layout whose torch/lib holds such a file, a malformed torch library (a warning, bounded
memory), and libFuzzer runs of both readers, seeded with miniatures of the real files."""
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from conftest import LAUNCHER, clean_env, make_root, make_venv, run_launcher

import fatbin_wheels
from fatbin_wheels import miniature, section_range

SOURCE_DIR = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("ALLTALK_BUILD_DIR", "build")).resolve()
DRIVER = BUILD_DIR / "tests" / "fatbin_driver"
SECTION = {"win": ".nv_fatb", "linux": ".nv_fatbin"}


@pytest.fixture(scope="module")
def real() -> Path:
    return fatbin_wheels.ensure()


def cuobjdump_archs(real: Path, lib: Path, tmp: Path) -> set:
    offset, size = section_range(lib)
    fatbin = tmp / (lib.name + ".fatbin")
    with open(lib, "rb") as f:
        f.seek(offset)
        fatbin.write_bytes(f.read(size))
    r = subprocess.run([str(real / "cuobjdump"), "-lelf", "-lptx", str(fatbin)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    archs = set()
    for line in r.stdout.splitlines():
        # "ELF file    1: x.1.sm_86.cubin", "PTX file    1: x.1.sm_86.ptx" (PTX for compute_86)
        m = re.fullmatch(r"(ELF|PTX) file\s+\d+: .*\.sm_(\d+[a-z]?)\.(cubin|ptx)", line.strip())
        assert m, line
        archs.add(("sm_" if m[1] == "ELF" else "compute_") + m[2])
    fatbin.unlink()
    return archs


def driver(mode: str, path: Path):
    return subprocess.run([str(DRIVER), mode, str(path)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("plat", ["win", "linux"])
def test_every_arch_equals_cuobjdumps_list(real, plat, tmp_path):
    libs = fatbin_wheels.libraries(real, plat)
    assert len(libs) == 3
    for lib in libs:
        expected = cuobjdump_archs(real, lib, tmp_path)
        assert any(a.startswith("sm_") for a in expected), (lib, expected)
        r = driver("every", lib)
        assert r.returncode == 0, (lib, r.stderr)
        got = r.stdout.split()
        assert len(got) == len(set(got))
        assert set(got) == expected, (lib.name, sorted(set(got) ^ expected))


def test_windows_and_linux_builds_of_a_library_list_the_same(real):
    # The same sources built for both: the same architectures (a check of the PE reader that
    # does not go through cuobjdump at all).
    for win, linux in [("ctranslate2.dll", "libctranslate2-"), ("nvjpeg64_12.dll", "libnvjpeg.so"),
                       ("nvjpeg2k_0.dll", "libnvjpeg2k.so")]:
        (so,) = [p for p in fatbin_wheels.libraries(real, "linux") if p.name.startswith(linux)]
        assert driver("torch", real / "win" / win).stdout == driver("torch", so).stdout != ""


def torch_note(report: dict) -> dict:
    (note,) = [f for f in report["findings"] if f["id"] == "torch-archs"]
    return note


def doctor(env: Path, cwd: Path, *extra):
    return run_launcher("doctor", "--env", env, *extra, cwd=cwd)


def windows_env(root: Path) -> Path:
    """A Windows conda env's layout (as AllTalk's installer leaves it), with placeholder files."""
    env = root / "alltalk_environment" / "env"
    for f in ["python.exe", "python311.dll", "Lib/os.py", "Scripts/pip.exe",
              "conda-meta/python-3.11.9-h4607a30_0.json"]:
        (env / f).parent.mkdir(parents=True, exist_ok=True)
        (env / f).write_text("{}" if f.endswith(".json") else "")
    (env / "Lib" / "site-packages").mkdir()
    return env


def linux_site(venv: Path) -> Path:
    return venv / "lib" / "python3.11" / "site-packages"


@pytest.mark.parametrize("layout", ["linux", "windows"])
def test_doctor_notes_torchs_architectures_on_both_layouts(real, layout, tmp_path):
    root = make_root(tmp_path / "alltalk")
    if layout == "windows":
        env = windows_env(root)
        site = env / "Lib" / "site-packages"
        lib = site / "torch" / "lib" / "torch_cuda.dll"
        source = real / "win" / "nvjpeg64_12.dll"
    else:
        env = make_venv(tmp_path / "venv", with_pip=False)
        site = linux_site(env)
        lib = site / "torch" / "lib" / "libtorch_cuda.so"
        (source,) = (real / "linux").glob("libctranslate2-*")
    lib.parent.mkdir(parents=True)
    os.symlink(source, lib)
    expected = driver("torch", source).stdout.split()
    assert expected and set(expected) <= cuobjdump_archs(real, source, tmp_path)
    # --cpu: no GPU seen at all, the note all the same.
    for extra in [(), ("--cpu",)]:
        r = doctor(env, root, "--json", *extra)
        assert r.returncode in (0, 1), r.stderr
        note = torch_note(json.loads(r.stdout))
        assert note["severity"] == "info"
        assert note["message"] == (f"torch's CUDA kernels are built for: {' '.join(expected)} "
                                   f"(read from {lib.name}).")
    r = doctor(env, root)
    assert f"  [torch-archs] torch's CUDA kernels are built for: {' '.join(expected)}" in r.stdout


def max_rss_of(cmd, **kw) -> tuple:
    """(the completed process, the largest resident set in MB of it and its children), measured by
    a Python wrapper whose only children they are."""
    r = subprocess.run(["python3", "-c", "import resource,subprocess,sys;"
                        "p=subprocess.run(sys.argv[1:]);"
                        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
                        "file=sys.stderr);sys.exit(p.returncode)", *map(str, cmd)],
                       capture_output=True, text=True, timeout=120, **kw)
    return r, int(r.stderr.strip().splitlines()[-1]) / 1024


def elf_148() -> bytes:
    """The libFuzzer find of the old reader: 148 bytes whose ELF header asks for 65535 section
    headers of 65535 bytes (4 GB) at offset 64."""
    b = bytearray(148)
    b[0:4] = b"\x7fELF"
    b[4], b[5] = 2, 1
    struct.pack_into("<QHHH", b, 0x28, 64, 0, 0, 0)
    struct.pack_into("<HHH", b, 0x3A, 0xFFFF, 0xFFFF, 1)
    return bytes(b)


def test_a_malformed_torch_library_is_a_warning_and_costs_no_memory(real, tmp_path):
    root = make_root(tmp_path / "alltalk")
    venv = make_venv(tmp_path / "venv", with_pip=False)
    lib = linux_site(venv) / "torch" / "lib" / "libtorch_cuda.so"
    lib.parent.mkdir(parents=True)
    lib.write_bytes(elf_148())
    r, mb = max_rss_of([LAUNCHER, "--env", venv, "python", "-c", "print('ran')"], cwd=root, env=clean_env())
    assert r.returncode == 0, r.stderr
    assert "ran" in r.stdout
    assert (f"alltalk-launch: could not read {lib}: section header size 65535, not 64; the GPU "
            "architecture check is skipped") in r.stderr
    assert mb < 100, mb  # the old reader: 4.2 GB
    r = run_launcher("--env", venv, "--dry-run", "python", "-c", "print('ran')", cwd=root)
    assert (f"    torch CUDA architectures: unknown (could not read {lib}: section header size "
            "65535, not 64)\n") in r.stdout
    note = torch_note(json.loads(doctor(venv, root, "--json").stdout))
    assert note["severity"] == "warning"
    assert note["message"].startswith(f"could not read {lib}: section header size 65535")
    # Real files cut where an interrupted install leaves them: "could not read", at once.
    for source in [real / "win" / "ctranslate2.dll", *(real / "linux").glob("libctranslate2-*")]:
        offset, size = section_range(source)
        for cut in [100, offset + size // 2, offset + 7]:
            part = tmp_path / source.name
            with open(source, "rb") as f:
                part.write_bytes(f.read(cut))
            r = driver("every", part)
            assert r.returncode == 1 and r.stderr.startswith("could not read: "), (cut, r)


# ---- fuzzing -----------------------------------------------------------------------------------

FUZZ_SECONDS = int(os.environ.get("ALLTALK_FUZZ_SECONDS", "30"))
READER_SOURCES = ["os/bounded_read.cpp", "gpu/elf_section.cpp", "gpu/pe_section.cpp",
                  "gpu/fatbin.cpp"]


@pytest.mark.parametrize("fmt", ["elf", "pe"])
def test_fuzz_the_reader(real, fmt, tmp_path):
    clang = shutil.which("clang++-14") or shutil.which("clang++")
    assert clang, "clang is needed (scripts/deps.sh test installs clang-14 and libclang-rt-14-dev)"
    fuzzer = tmp_path / f"fuzz_{fmt}"
    subprocess.run([clang, "-std=c++17", "-g", "-O1", "-fsanitize=fuzzer,address,undefined",
                    "-fno-sanitize-recover=all", "-I", str(SOURCE_DIR / "bootstrap"),
                    str(SOURCE_DIR / "tests" / "fuzz" / f"fuzz_{fmt}.cpp"),
                    *(str(SOURCE_DIR / "bootstrap" / s) for s in READER_SOURCES), "-o",
                    str(fuzzer)], check=True, timeout=600)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for lib in fatbin_wheels.libraries(real, "win" if fmt == "pe" else "linux"):
        seed = miniature(lib)
        # A seed reads like its file: the same first containers.
        (corpus / lib.name).write_bytes(seed)
        assert driver("every", corpus / lib.name).returncode in (0, 1)
        (corpus / (lib.name + ".small")).write_bytes(miniature(lib, 4096))
    r = subprocess.run([str(fuzzer), f"-max_total_time={FUZZ_SECONDS}", "-rss_limit_mb=256",
                        "-malloc_limit_mb=64", "-timeout=10", "-max_len=65536",
                        f"-artifact_prefix={tmp_path}/", str(corpus)],
                       capture_output=True, text=True, timeout=FUZZ_SECONDS + 120, cwd=tmp_path,
                       # ASan's quarantine of freed blocks (256 MB by default) would count
                       # against the RSS limit that is meant for the readers.
                       env={**os.environ, "ASAN_OPTIONS": "quarantine_size_mb=16"})
    tail = r.stderr[-3000:]
    assert r.returncode == 0, tail
    assert re.search(r"Done \d+ runs in \d+ second", r.stderr), tail
