"""The GPU architecture check of the Windows build (mingw-w64, under wine) before start: a stand-in
CUDA runtime (tests/tools/cudart_standin.c, built as the env's torch\\lib\\cudart64_12.dll) that
the launcher's probe loads as the real one reports an RTX 5080 (sm_120), and torch\\lib\\
torch_cuda.dll is a real DLL's headers carrying the first containers of its real fat binary
(ctranslate2.dll of ctranslate2 4.5.0: sm_53..sm_86 cubins, its PTX left out). The launcher must
stop before start with the GPU, torch's list and the install command, word for word as the Linux
build says it for the same files (libcudart.so.12, libtorch_cuda.so from the Linux wheel);
--no-gpu-check skips the check."""
import os
import subprocess
from pathlib import Path

import pytest

from conftest import make_root, make_venv, run_launcher
from test_windows import ODD, text, win_build, wine, windows_alltalk  # noqa: F401 (fixtures)

import fatbin_wheels

STANDIN = Path(__file__).resolve().parents[1] / "tools" / "cudart_standin.c"
DRIVER = Path(os.environ.get("ALLTALK_BUILD_DIR", "build")).resolve() / "tests" / "fatbin_driver"
ARCHS = "sm_53 sm_60 sm_61 sm_70 sm_75 sm_80 sm_86"


def message(python: str) -> str:
    return ("The GPU NVIDIA GeForce RTX 5080 (GPU 0, compute capability 12.0, sm_120) cannot run "
            f"the installed torch: it has kernels for {ARCHS} only, and no sm_120 kernels or PTX "
            "that could be compiled for it, so every CUDA operation would fail with \"no kernel "
            "image is available for execution on the device\". Install a torch build with sm_120 "
            f"kernels: {python} -m pip install --upgrade torch torchaudio --index-url "
            "https://download.pytorch.org/whl/cu128 . Or run on the CPU with --cpu, or start "
            "anyway with --no-gpu-check.")


@pytest.fixture(scope="module")
def real() -> Path:
    return fatbin_wheels.ensure()


def cubins_only(real: Path, plat: str, dest: Path):
    """A library named `dest`: the real one's headers, its fat binary's first containers without
    their PTX (fatbin_wheels.without_ptx)."""
    lib = (real / "win" / "ctranslate2.dll" if plat == "win"
           else next((real / "linux").glob("libctranslate2-*")))
    dest.parent.mkdir(parents=True, exist_ok=True)
    section = fatbin_wheels.without_ptx(lib)
    dest.write_bytes(fatbin_wheels.miniature(lib, section=section))
    # cuobjdump on the section's bytes (it reads no PE file); the launcher's reader on the file.
    cut = dest.parent / "section.fatbin"
    cut.write_bytes(section)
    r = subprocess.run([str(real / "cuobjdump"), "-lelf", "-lptx", str(cut)],
                       capture_output=True, text=True)
    cut.unlink()
    d = subprocess.run([str(DRIVER), "every", str(dest)], capture_output=True, text=True)
    assert d.stdout.split() == ARCHS.split(), d.stderr
    assert r.returncode == 0, r.stderr
    listed = {line.rsplit(".", 2)[1] for line in r.stdout.split("\n") if line}
    assert " ".join(sorted(listed, key=lambda a: int(a[3:]))) == ARCHS  # cubins only
    assert "PTX" not in r.stdout


def test_windows_stops_before_start_on_an_sm_120_gpu(win_build, wine, real, tmp_path):  # noqa: F811
    root = tmp_path / ODD
    env = windows_alltalk(root)
    lib = env / "Lib" / "site-packages" / "torch" / "lib"
    cubins_only(real, "win", lib / "torch_cuda.dll")
    subprocess.run(["x86_64-w64-mingw32-gcc", "-shared", "-O2", "-static-libgcc", "-o",
                    str(lib / "cudart64_12.dll"), str(STANDIN)], check=True)
    r = wine(win_build / "alltalk-launch.exe", "server", cwd=root)
    out = text(r)
    assert r.returncode != 0, out
    assert message(f'"{wine.winpath(env)}\\python.exe"') in out
    assert "print('server')" not in out and "server\n" not in r.stdout.decode()
    # -v names the probed GPU and the list read from torch_cuda.dll.
    r = wine(win_build / "alltalk-launch.exe", "--dry-run", "-v", "server", cwd=root)
    out = text(r)
    assert "NVIDIA GeForce RTX 5080, sm_120" in out
    assert f"torch CUDA architectures: {ARCHS}" in out
    assert "GPU 0 sm_120: NOT supported" in out
    # --no-gpu-check: no check (the start then goes on, and ends on the placeholder python311.dll).
    r = wine(win_build / "alltalk-launch.exe", "--no-gpu-check", "server", cwd=root)
    out = text(r)
    assert "cannot run the installed torch" not in out
    assert "python311.dll" in out, out
    # The doctor says the same as an error, with torch's list as its note.
    r = wine(win_build / "alltalk-launch.exe", "doctor", cwd=root)
    out = text(r)
    assert f"[torch-archs] torch's CUDA kernels are built for: {ARCHS} (read from torch_cuda.dll)" \
        in out
    assert "[gpu-arch] The installed torch has no kernels for NVIDIA GeForce RTX 5080 (sm_120)" in out


def test_linux_says_the_same_for_the_same_files(real, tmp_path):
    root = make_root(tmp_path / "alltalk")
    venv = make_venv(tmp_path / "venv", with_pip=False)
    lib = venv / "lib" / "python3.11" / "site-packages" / "torch" / "lib"
    cubins_only(real, "linux", lib / "libtorch_cuda.so")
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(lib / "libcudart.so.12"),
                    str(STANDIN)], check=True)
    r = run_launcher("--env", venv, "python", "-c", "print('ran')", cwd=root)
    assert r.returncode != 0
    assert "ran" not in r.stdout
    assert message(f"{venv}/bin/python") in r.stderr.replace("\n", " ").replace("  ", " "), r.stderr
    r = run_launcher("--no-gpu-check", "--env", venv, "python", "-c", "print('ran')", cwd=root)
    assert r.returncode == 0 and "ran" in r.stdout, r.stderr
