"""cuDNN selection and preload with real libraries: torch 2.4.1's env (the nvidia-cudnn-cu12
9.1.0.70 wheel), the real cuDNN 8.9.2.26 of the nvidia-cudnn-cu12 8.9 wheel (torch 2.3.1's env),
real ctranslate2 4.4.0 (cuDNN 8) and 4.5.0 (cuDNN 9) wheels, and the CUDA toolkit's cuDNN 9 in
/usr/local/cuda (in the loader's cache here). Scripts load cuDNN the way torch and ctranslate2 do,
by plain name, and report the file that was mapped (/proc/self/maps)."""
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BASE_PYTHON, clean_env, run_launcher
import torch_envs

REQ = torch_envs.REQUIREMENTS

# Loads each library by plain name (as torch's DT_NEEDED, cuDNN's own dlopen of its sub-libraries,
# and ctranslate2 do) and prints {name: mapped file or null}; with "child", also runs itself again
# through sys.executable and prints the child's result.
MAPS = r"""
import ctypes, json, os, subprocess, sys
names = [a for a in sys.argv[1:] if a != "child"]
out = {}
for name in names:
    try:
        ctypes.CDLL(name)
    except OSError:
        out[name] = None
        continue
    out[name] = sorted({l.split()[-1] for l in open("/proc/self/maps")
                        if l.split()[-1].endswith("/" + name)})
out["reexec_marker"] = os.environ.get("ALLTALK_LAUNCH_NATIVE_REEXEC")
first = os.environ.get("LD_LIBRARY_PATH", "").split(":")[0]
out["ld_first"] = first
out["ld_first_files"] = sorted(os.listdir(first)) if first else []
if "child" in sys.argv:
    r = subprocess.run([sys.executable, __file__, *names], capture_output=True, text=True)
    out["child"] = json.loads(r.stdout.splitlines()[-1])
    # A child that the app gives another LD_LIBRARY_PATH gets the same cuDNN all the same.
    env = dict(os.environ, LD_LIBRARY_PATH="/nonexistent")
    r = subprocess.run([sys.executable, __file__, *names], capture_output=True, text=True, env=env)
    out["child_other_ld"] = json.loads(r.stdout.splitlines()[-1])
print(json.dumps(out))
"""

CUDNN9 = ["libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn.so.9"]
CUDNN8 = ["libcudnn_ops_infer.so.8", "libcudnn_cnn_infer.so.8", "libcudnn.so.8"]


def site_of(venv: Path) -> Path:
    return next((venv / "lib").glob("python3.*/site-packages"))


def linked_env(dest: Path, *bases: Path, skip=()) -> Path:
    """A venv whose site-packages holds symbolic links to the entries of cached venvs: the
    launcher reads its metadata and folders as if installed (nothing is copied or changed)."""
    subprocess.run([str(BASE_PYTHON), "-m", "venv", "--without-pip", str(dest)], check=True,
                   env=clean_env())
    site = site_of(dest)
    for base in bases:
        for entry in site_of(base).iterdir():
            if entry.name in skip or entry.name.startswith(("_distutils", "distutils-precedence",
                                                            "__pycache__")):
                continue
            if not (site / entry.name).exists():
                os.symlink(entry, site / entry.name)
    return dest


@pytest.fixture(scope="module")
def venvs():
    py = str(BASE_PYTHON)
    return {
        "torch": torch_envs.torch_env("oldest", py),
        "cudnn8": torch_envs.cached_venv.ensure("torch-pre-allowlist",
                                                REQ / "torch-pre-allowlist.txt", py, no_deps=True),
        "ct2_8": torch_envs.cached_venv.ensure("ctranslate2-cudnn8", REQ / "ctranslate2-cudnn8.txt",
                                               py, no_deps=True),
        "ct2_9": torch_envs.cached_venv.ensure("ctranslate2-cudnn9", REQ / "ctranslate2-cudnn9.txt",
                                               py, no_deps=True),
    }


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("native") / "maps.py"
    p.write_text(MAPS)
    return p


@pytest.fixture(scope="module")
def conflict_env(venvs, tmp_path_factory):
    """torch 2.4.1 with its cuDNN 9 wheel beside ctranslate2 4.4.0 (cuDNN 8)."""
    return linked_env(tmp_path_factory.mktemp("conflict") / "env", venvs["torch"], venvs["ct2_8"])


@pytest.fixture(scope="module")
def cuda8(venvs, tmp_path_factory) -> Path:
    """A CUDA_PATH-style folder whose lib64 is the real cuDNN 8.9.2.26 wheel's lib folder."""
    root = tmp_path_factory.mktemp("cuda8") / "CUDA 8 ü"
    root.mkdir()
    os.symlink(site_of(venvs["cudnn8"]) / "nvidia" / "cudnn" / "lib", root / "lib64")
    return root


def real(p: Path) -> list:
    """What /proc/self/maps shows for a file: its path with symbolic links resolved."""
    return [os.path.realpath(p)]


def run_maps(env_dir, script, *names, extra=(), env=None):
    r = run_launcher(*extra, "--env", env_dir, "run", script, *names, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def plain_maps(env_dir, script, *names, env=None):
    r = subprocess.run([str(env_dir / "bin" / "python"), str(script), *names], capture_output=True,
                       text=True, env=env or clean_env())
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def test_torch_env_plain_name_loads_map_the_env_wheel(venvs, script):
    chosen = site_of(venvs["torch"]) / "nvidia" / "cudnn" / "lib"
    out = run_maps(venvs["torch"], script, *CUDNN9, "child")
    for name in CUDNN9:
        assert out[name] == real(chosen / name), name
        assert out["child"][name] == real(chosen / name), name  # children inherit the set-up
        assert out["child_other_ld"][name] == real(chosen / name), name
    assert out["reexec_marker"] is None and out["child"]["reexec_marker"] is None
    # Plain python maps the CUDA toolkit's cuDNN 9.19 (the loader's cache), not torch's 9.1.
    plain = plain_maps(venvs["torch"], script, *CUDNN9)
    for name in CUDNN9:
        assert plain[name] and plain[name] != real(chosen / name), plain


def test_a_repeated_launch_reexecutes_at_once_and_a_wrong_guess_starts_over(venvs, script,
                                                                          tmp_path):
    # A launch started as an earlier one was (same arguments, folder and environment) re-executes
    # itself at once with the LD_LIBRARY_PATH that one needed, before it plans; the plan checks
    # the guess, and a wrong one makes the launch start over. Either way the app runs once, with
    # the chosen files.
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = clean_env(XDG_RUNTIME_DIR=str(runtime))
    chosen = site_of(venvs["torch"]) / "nvidia" / "cudnn" / "lib"
    args = ("-v", "--env", venvs["torch"], "run", script, *CUDNN9)

    def launch(environment=env):
        r = run_launcher(*args, env=environment)
        assert r.returncode == 0, r.stderr
        runs = [line for line in r.stdout.splitlines() if line.startswith("{")]
        assert len(runs) == 1, r.stdout  # the app ran once
        out = json.loads(runs[0])
        assert all(out[name] == real(chosen / name) for name in CUDNN9), out
        assert out["reexec_marker"] is None
        return r

    first = launch()
    assert "re-executing" in first.stderr and "at its start" not in first.stderr
    (hint,) = (runtime / "alltalk-launch" / "cache").glob("launch-*")
    second = launch()
    assert "re-executed itself at its start with LD_LIBRARY_PATH=" in second.stderr, second.stderr
    assert "re-executing" not in second.stderr and "starting over" not in second.stderr
    # Another environment is another launch: no guess.
    other = launch(dict(env, SOME_SETTING="1"))
    assert "re-executing" in other.stderr and "at its start" not in other.stderr
    # A wrong guess (here a folder that is not the chosen one) is found by the plan.
    hint.write_text("alltalk-launch launch hint 1\n/nonexistent-folder\n")
    wrong = launch()
    assert "the remembered LD_LIBRARY_PATH is not what this launch wants" in wrong.stderr
    assert "starting over" in wrong.stderr and "re-executing" in wrong.stderr
    assert "at its start" in launch().stderr  # and the right value is remembered again
    # The app never sees the hand-over variable, and its children get the chosen folder first.
    r = run_launcher("--env", venvs["torch"], "python", "-c",
                     "import os; print(sorted(k for k in os.environ if 'HINT' in k), "
                     "os.environ['LD_LIBRARY_PATH'].split(':')[0])", env=env)
    hinted_keys, first_dir = r.stdout.strip().rsplit(" ", 1)
    assert hinted_keys == "[]", r.stdout
    assert Path(first_dir).parent.parent == runtime / "alltalk-launch", first_dir


def test_conflict_serves_cudnn_8_and_9_together(conflict_env, cuda8, venvs, script):
    env = clean_env(CUDA_PATH=str(cuda8))
    out = run_maps(conflict_env, script, *CUDNN8, *CUDNN9, "child", env=env)
    lib9 = site_of(venvs["torch"]) / "nvidia" / "cudnn" / "lib"
    for name in CUDNN9:
        assert out[name] == real(lib9 / name), out
    for name in CUDNN8:
        assert out[name] == real(cuda8 / "lib64" / name), out
        assert out["child"][name] == real(cuda8 / "lib64" / name), out
        assert out["child_other_ld"][name] == real(cuda8 / "lib64" / name), out
    # LD_LIBRARY_PATH leads with a private folder of links to exactly the chosen cuDNN files: no
    # other library of the env or of the CUDA_PATH folder can be shadowed by it.
    assert not out["ld_first"].startswith((str(conflict_env), str(cuda8)))
    assert set(out["ld_first_files"]) >= set(CUDNN8) | set(CUDNN9)
    assert all(f.startswith("libcudnn") for f in out["ld_first_files"]), out["ld_first_files"]
    # The same script under plain python finds no cuDNN 8 at all.
    plain = plain_maps(conflict_env, script, *CUDNN8, env=env)
    assert all(plain[n] is None for n in CUDNN8), plain
    # The re-executed launcher takes the decision over instead of selecting again.
    r = run_launcher("-v", "--env", conflict_env, "run", script, env=env)
    assert "re-executing" in r.stderr
    assert "(made before the re-exec, not repeated)" in r.stderr, r.stderr
    # The GPU probe started with the plan, ran across the re-exec, and was read once after it.
    assert r.stderr.count("timing: GPU probe") == 1, r.stderr
    assert "(waited for its end; it started with the plan)" in r.stderr, r.stderr
    assert r.stderr.index("re-executing") < r.stderr.index("timing: GPU probe")
    # --dry-run says who needs what, the candidates with versions, and the choice.
    r = run_launcher("--env", conflict_env, "--dry-run", "run", script, env=env)
    assert r.returncode == 0, r.stderr
    assert "need cuDNN 8: ctranslate2 4.4.0" in r.stdout
    assert "need cuDNN 9: torch 2.4.1 (Requires-Dist: nvidia-cudnn-cu12" in r.stdout
    assert "candidate cuDNN 9.1.0.70 (nvidia-cudnn-cu12 metadata)" in r.stdout
    assert "candidate cuDNN 8 " in r.stdout and "[CUDA_PATH]" in r.stdout
    assert f"chose cuDNN 8: {cuda8 / 'lib64'}" in r.stdout
    assert "loaded libcudnn.so.8: cudnnGetVersion() = 8902" in r.stdout
    assert "loaded libcudnn.so.9: cudnnGetVersion() = 90100" in r.stdout


def test_missing_cudnn_for_ctranslate2_without_gpu_is_a_warning(conflict_env, script):
    # ctranslate2 loads its cuDNN sub-libraries only on the GPU: on this GPU-less machine the
    # missing cuDNN 8 is said, with the fix, and the run goes on (as it works today).
    r = run_launcher("--env", conflict_env, "run", script, *CUDNN8)
    assert r.returncode == 0, r.stderr
    py = conflict_env / "bin" / "python"
    assert "warning: cuDNN 8 is needed by ctranslate2 4.4.0" in r.stderr
    # Fix commands are quoted as the user's shell needs them (shlex.quote's rule).
    assert f"{shlex.quote(str(py))} -m pip install 'nvidia-cudnn-cu12==8.*'" in r.stderr
    assert f"{shlex.quote(str(py))} -m pip install 'ctranslate2>=4.5.0'" in r.stderr
    assert "needed only on the GPU" in r.stderr


def test_torch_without_its_cudnn_wheel_is_an_error_with_the_fix(venvs, script, tmp_path):
    # torch 2.3.1 pins nvidia-cudnn-cu12==8.9.2.26 and loads it at import; without the wheel (and
    # with only cuDNN 9 on the system) the launch stops before Python with the exact command.
    env = linked_env(tmp_path / "env", venvs["cudnn8"], skip={"nvidia"})
    r = run_launcher("--env", env, "run", script)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""  # Python never started
    assert "cuDNN 8 is needed by torch 2.3.1 (Requires-Dist: nvidia-cudnn-cu12" in r.stderr
    py = shlex.quote(str(env / "bin" / "python"))
    assert f"{py} -m pip install nvidia-cudnn-cu12==8.9.2.26" in r.stderr
    assert "only other cuDNN versions are there" in r.stderr
    assert "Traceback" not in r.stderr


def test_cudnn_option_overrides_the_choice(conflict_env, cuda8, script, tmp_path):
    out = run_maps(conflict_env, script, *CUDNN8, extra=("--cudnn", cuda8 / "lib64"))
    assert out["libcudnn_ops_infer.so.8"] == real(cuda8 / "lib64" / "libcudnn_ops_infer.so.8")
    (tmp_path / "empty").mkdir()
    r = run_launcher("--cudnn", tmp_path / "empty", "--env", conflict_env, "run", script)
    assert r.returncode == 2 and "holds no cuDNN library" in r.stderr


def test_config_names_cudnn_folder_and_extra_major(venvs, cuda8, script, tmp_path):
    cfg = tmp_path / "alltalk-launch.toml"
    cfg.write_text(f'[native]\ncudnn = "{cuda8 / "lib64"}"\ncudnn_majors = [8]\n')
    out = run_maps(venvs["torch"], script, *CUDNN8, *CUDNN9, extra=("--config", cfg))
    assert out["libcudnn_ops_infer.so.8"] == real(cuda8 / "lib64" / "libcudnn_ops_infer.so.8")
    lib9 = site_of(venvs["torch"]) / "nvidia" / "cudnn" / "lib"
    assert out["libcudnn_ops.so.9"] == real(lib9 / "libcudnn_ops.so.9")


def test_ctranslate2_4_5_needs_cudnn_9_only(venvs, script, tmp_path):
    env = linked_env(tmp_path / "env", venvs["torch"], venvs["ct2_9"])
    r = run_launcher("--env", env, "--dry-run", "run", script)
    assert "need cuDNN 9: ctranslate2 4.5.0 (ships ctranslate2.libs/libcudnn-" in r.stdout
    assert "need cuDNN 8" not in r.stdout


def test_cpu_hides_the_gpus(venvs, tmp_path):
    s = tmp_path / "cvd.py"
    s.write_text("import os; print(repr(os.environ.get('CUDA_VISIBLE_DEVICES')))\n")
    r = run_launcher("--cpu", "--env", venvs["torch"], "run", s)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "''"
    r = run_launcher("--env", venvs["torch"], "run", s)
    assert r.stdout.strip() == "None"


ARCH_CODE = "import torch; print(' '.join(torch._C._cuda_getArchFlags().split()))"


@pytest.mark.parametrize("which", [*torch_envs.TORCH_ENVS, "pre-allowlist"])
def test_arch_list_read_from_libtorch_cuda_equals_torchs_own(which, script, venvs):
    # torch 2.4.1+cu121, 2.11.0+cu130 and 2.3.1+cu121 (the env that brings the cuDNN 8 wheel).
    venv = venvs["cudnn8"] if which == "pre-allowlist" else torch_envs.torch_env(which,
                                                                                 str(BASE_PYTHON))
    own = subprocess.run([str(venv / "bin" / "python"), "-c", ARCH_CODE], capture_output=True,
                         text=True, env=clean_env(), check=True).stdout.strip()
    assert own.startswith("sm_")
    r = run_launcher("--env", venv, "--dry-run", "run", script)
    assert r.returncode == 0, r.stderr
    assert f"    torch CUDA architectures: {own}\n" in r.stdout


def test_probe_without_driver_says_so_once_and_runs_on_the_cpu(venvs, tmp_path):
    s = tmp_path / "t.py"
    s.write_text("import torch\nprint('SUM', torch.ones(3).sum().item(), torch.cuda.is_available())\n")
    r = run_launcher("--env", venvs["torch"], "run", s)
    assert r.returncode == 0, r.stderr
    assert "SUM 3.0 False" in r.stdout
    assert r.stderr.count("no NVIDIA driver/GPU: running on the CPU") == 1
    assert "libcudart.so.12" in r.stderr  # the env's own runtime was loaded for the probe
    # --cpu: no probe at all.
    r = run_launcher("--cpu", "--env", venvs["torch"], "run", s)
    assert r.returncode == 0 and "no NVIDIA driver" not in r.stderr
    r = run_launcher("--no-gpu-check", "--env", venvs["torch"], "--dry-run", "run", s)
    assert "architecture check: off" in r.stdout


def test_python_command_adds_nothing_to_stderr_but_still_probes(venvs):
    # `alltalk-launch python` is exactly the env's python: the probe's "no NVIDIA driver" line,
    # which server/run print, is said there only with -v.
    code = "import sys; sys.stderr.write('own')"
    plain = subprocess.run([str(Path(venvs["torch"]) / "bin" / "python"), "-c", code],
                           capture_output=True, text=True, env=clean_env())
    r = run_launcher("--env", venvs["torch"], "python", "-c", code)
    assert r.returncode == 0 and r.stderr == plain.stderr == "own", r.stderr
    r = run_launcher("-v", "--env", venvs["torch"], "python", "-c", code)
    assert r.returncode == 0 and "no NVIDIA driver/GPU: running on the CPU" in r.stderr, r.stderr


def test_probe_result_is_kept_for_later_launches_until_what_decides_it_changes(venvs, tmp_path):
    # The first launch probes (here: no driver) and its probe's child keeps the result in the
    # launcher's runtime folder; later launches use it and run no probe, until something that
    # could change the answer changes (here CUDA_VISIBLE_DEVICES). -v always probes afresh.
    root = tmp_path / "alltalk_tts"
    root.mkdir()
    (root / "script.py").write_text("print('server ran')\n")
    (root / "finetune.py").write_text("")
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    log = root / "logs" / "alltalk-launch.log"

    def launch(*extra, **env):
        log.parent.mkdir(exist_ok=True)
        log.write_text("")
        r = run_launcher(*extra, "--root", root, "--env", venvs["torch"], "server",
                         env=clean_env(XDG_RUNTIME_DIR=str(runtime), **env))
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "server ran"
        assert r.stderr.count("no NVIDIA driver/GPU: running on the CPU") == 1, r.stderr
        return r, log.read_text()

    kept_line = "GPU probe: the result kept by an earlier launch"
    _, text = launch()
    assert kept_line not in text, text
    entries = list((runtime / "alltalk-launch" / "cache").glob("gpu-probe-*"))
    assert len(entries) == 1 and "note no NVIDIA driver" in entries[0].read_text()
    _, text = launch()
    assert kept_line in text, text
    _, text = launch(CUDA_VISIBLE_DEVICES="0")
    assert kept_line not in text, text
    r, _ = launch("-v")
    assert "timing: GPU probe" in r.stderr and kept_line not in r.stderr, r.stderr
    # A corrupt entry is no entry: probed again, and kept again.
    entries[0].write_text("garbage")
    _, text = launch()
    assert kept_line not in text, text
    _, text = launch()
    assert kept_line in text, text


def metadata_env(dest: Path, base: Path) -> Path:
    """Like linked_env, but with the dist-info folders copied: enough real folders that the
    launcher caches its cuDNN decision there, and metadata that a test may change."""
    import shutil

    env = linked_env(dest, base, skip={p.name for p in site_of(base).glob("*.dist-info")})
    for info in site_of(base).glob("*.dist-info"):
        shutil.copytree(info, site_of(env) / info.name, symlinks=True)
    return env


def test_cached_decision_is_used_at_once_and_a_stale_one_starts_over(venvs, script, tmp_path):
    import time

    env = metadata_env(tmp_path / "env", venvs["torch"])
    chosen = site_of(venvs["torch"]) / "nvidia" / "cudnn" / "lib"
    time.sleep(2.5)  # older than the cache's settle time: the decision is stored
    r = run_launcher("-v", "--env", env, "run", script)
    assert "stored in the cache" in r.stderr, r.stderr
    # Cached: the launch acts on the decision and its inputs are checked in the GPU probe's child.
    r = run_launcher("-v", "--env", env, "run", script, *CUDNN9)
    assert r.returncode == 0, r.stderr
    assert "inputs are checked before the app starts" in r.stderr, r.stderr
    assert "starting over" not in r.stderr
    out = json.loads(r.stdout.splitlines()[-1])
    assert all(out[name] == real(chosen / name) for name in CUDNN9), out
    # An input changes behind the cache's back (ctranslate2 4.4.0 appears: a cuDNN 8 need). The
    # launch that acted on the old decision finds out before the app starts, and starts over.
    info = site_of(env) / "ctranslate2-4.4.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ctranslate2\nVersion: 4.4.0\n")
    r = run_launcher("-v", "--env", env, "run", script, *CUDNN9)
    assert r.returncode == 0, r.stderr
    assert "changed since the cached decision was made: starting over" in r.stderr, r.stderr
    assert r.stderr.count("warning: cuDNN 8 is needed by ctranslate2 4.4.0") == 1, r.stderr
    assert len([line for line in r.stdout.splitlines() if line.startswith("{")]) == 1  # ran once
    out = json.loads(r.stdout.splitlines()[-1])
    assert all(out[name] == real(chosen / name) for name in CUDNN9), out
    assert out["reexec_marker"] is None
