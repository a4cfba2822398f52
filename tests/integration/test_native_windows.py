"""cuDNN selection of the Windows build (mingw-w64, under wine) on a Windows-layout env rebuilt from
the file names of the real win_amd64 wheels (tests/data/win_wheels): ctranslate2 4.4.0, which ships
ctranslate2\\cudnn64_8.dll and loads cudnn_ops_infer64_8.dll by name, beside torch's cuDNN 9 in the
nvidia-cudnn-cu12 9.1.0.70 wheel and the cuDNN 8 of nvidia-cudnn-cu12 8.9.7.29 in a CUDA_PATH
folder. The plan must serve both majors through PATH, or name the missing one with the fix."""
from pathlib import Path

from test_windows import ODD, text, win_build, wine, windows_alltalk  # noqa: F401 (fixtures)

DATA = Path(__file__).resolve().parents[1] / "data" / "win_wheels"


def install(dest: Path, wheel: str, move=None):
    for line in (DATA / f"{wheel}.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        target = dest / line
        if move:
            target = dest / line.replace(*move)
        target.parent.mkdir(parents=True, exist_ok=True)
        content = b""
        if line.endswith(".dist-info/METADATA"):
            name, version = line.split(".dist-info")[0].rsplit("-", 1)
            name = name.replace("_", "-")  # the wheel's METADATA spells nvidia-cudnn-cu12
            content = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()
        target.write_bytes(content)


def test_windows_serves_cudnn_8_and_9_through_path(win_build, wine, tmp_path):  # noqa: F811
    root = tmp_path / ODD
    env = windows_alltalk(root)
    site = env / "Lib" / "site-packages"
    install(site, "ctranslate2-4.4.0-cp311-cp311-win_amd64.whl")
    install(site, "nvidia_cudnn_cu12-9.1.0.70-py3-none-win_amd64.whl")
    # torch's Windows CUDA wheels ship cuDNN 9 in torch\lib (the same DLL names).
    install(site, "nvidia_cudnn_cu12-9.1.0.70-py3-none-win_amd64.whl",
            move=("nvidia/cudnn/bin/", "torch/lib/"))
    meta = site / "torch-2.4.1+cu121.dist-info" / "METADATA"
    meta.parent.mkdir(parents=True)
    meta.write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.4.1+cu121\n"
                    "Requires-Dist: filelock\n\n")
    cuda = tmp_path / "CUDA" / "v12.4"
    install(cuda, "nvidia_cudnn_cu12-8.9.7.29-py3-none-win_amd64.whl",
            move=("nvidia/cudnn/bin/", "bin/"))
    # No cuDNN 8 anywhere: said with the fix (a warning here: no GPU under wine, and ctranslate2
    # loads cuDNN only on the GPU; the run then stops only because the Windows build cannot start
    # Python yet).
    r = wine(win_build / "alltalk-launch.exe", "server", cwd=root)
    out = text(r)
    wenv = wine.winpath(env)
    assert "warning: cuDNN 8 is needed by ctranslate2 4.4.0 (ships ctranslate2/cudnn64_8.dll)" in out
    assert f'"{wenv}\\python.exe" -m pip install "nvidia-cudnn-cu12==8.*"' in out
    assert '-m pip install "ctranslate2>=4.5.0"' in out
    # With CUDA_PATH holding cuDNN 8: both majors chosen and first on PATH.
    wcuda = wine.winpath(cuda)
    r = wine("cmd", "/c", f"set CUDA_PATH={wcuda}&& " + wine.winpath(win_build / "alltalk-launch.exe")
             + " --dry-run server", cwd=root)
    out = text(r)
    assert r.returncode == 0, out
    assert f"chose cuDNN 8: {wcuda}\\bin" in out
    assert "need cuDNN 9: torch 2.4.1+cu121 (ships torch/lib/cudnn64_9.dll)" in out
    assert "candidate cuDNN 9.1.0.70 (nvidia-cudnn-cu12 metadata)" in out
    assert f"chose cuDNN 9: {wenv}\\Lib\\site-packages\\nvidia\\cudnn\\bin" in out
    # The GPU probe ran in its own process and found no NVIDIA driver under wine.
    probe = next(l for l in out.splitlines() if l.strip().startswith("probe:"))
    assert probe.strip() == "probe: no NVIDIA driver (no CUDA runtime and no nvcuda.dll found)"
    path_line = next(l for l in out.splitlines() if l.strip().startswith("PATH="))
    dirs = path_line.strip()[5:].split(";")
    assert dirs[:2] == [f"{wenv}\\Lib\\site-packages\\nvidia\\cudnn\\bin", f"{wcuda}\\bin"], dirs
