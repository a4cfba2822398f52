"""The foundation, end to end: the built launcher runs scripts in a real venv and a real
conda-style prefix (copies of this machine's CPython 3.11) in folders with spaces and non-ASCII
characters, exactly as `python script.py` would."""
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import (LAUNCHER, ODD_NAME, clean_env, find_python, make_prefix, make_root,
                      make_venv, run_launcher)

REPORT = textwrap.dedent("""
    import json, os, sys
    import alltalk_launch
    print(json.dumps({
        "name": __name__, "file": __file__, "argv": sys.argv, "path0": sys.path[0],
        "cwd": os.getcwd(), "prefix": sys.prefix, "executable": sys.executable,
        "version": alltalk_launch.__version__, "plan": alltalk_launch.plan(),
        "env": {k: os.environ.get(k) for k in ("PATH", "CONDA_PREFIX", "VIRTUAL_ENV",
                "TRAINER_TELEMETRY", "PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE")},
        "no_user_site": sys.flags.no_user_site,
        "sys_path": sys.path,
        "faulthandler": __import__("faulthandler").is_enabled(),
    }))
""")


def report_of(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def env_python(env: Path) -> Path:
    return env / "bin" / "python"


# --- running scripts as python does -------------------------------------------------------------

def test_server_runs_script_py_as_main(root, any_env):
    (root / "script.py").write_text(REPORT)
    r = run_launcher("--root", root, "--env", any_env, "server", "--", "--tts_model", "xtts",
                     cwd="/")
    rep = report_of(r)
    assert rep["name"] == "__main__"
    assert rep["file"] == str(root / "script.py")
    assert rep["argv"] == [str(root / "script.py"), "--tts_model", "xtts"]
    assert rep["path0"] == str(root)
    assert rep["cwd"] == str(root)
    assert rep["prefix"] == str(any_env)
    assert rep["executable"] == str(LAUNCHER)
    assert any(p.endswith("site-packages") and p.startswith(str(any_env)) for p in rep["sys_path"])
    assert rep["plan"]["root"] == str(root) and rep["plan"]["env"] == str(any_env)
    assert rep["plan"]["command"] == "server"
    assert rep["version"] and rep["faulthandler"]


def test_finetune_sets_trainer_telemetry_and_activation(root, any_env):
    (root / "finetune.py").write_text(REPORT)
    rep = report_of(run_launcher("--root", root, "--env", any_env, "finetune"))
    assert rep["argv"] == [str(root / "finetune.py")]
    assert rep["env"]["TRAINER_TELEMETRY"] == "0"
    path = rep["env"]["PATH"].split(os.pathsep)
    assert str(any_env / "bin") in path[:2]
    if (any_env / "pyvenv.cfg").exists():
        assert rep["env"]["VIRTUAL_ENV"] == str(any_env)
    else:
        assert rep["env"]["CONDA_PREFIX"] == str(any_env)


def test_conda_layout_is_found_without_env_option(tmp_path, prefix_env):
    root = make_root(tmp_path / ODD_NAME)
    (root / "script.py").write_text(REPORT)
    (root / "alltalk_environment").mkdir()
    os.symlink(prefix_env, root / "alltalk_environment" / "env")
    rep = report_of(run_launcher("server", cwd=root))
    assert rep["prefix"] == str(root / "alltalk_environment" / "env")
    assert rep["plan"]["env_kind"] == "conda prefix"


def test_isolation_from_the_shell(root, any_env, tmp_path):
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "json.py").write_text("raise SystemExit('shadowed')\n")
    (root / "script.py").write_text(REPORT)
    env = clean_env(PYTHONPATH=str(shadow), PYTHONHOME="/nonexistent/home")
    rep = report_of(run_launcher("--root", root, "--env", any_env, "server", env=env))
    assert rep["env"]["PYTHONPATH"] is None and rep["env"]["PYTHONHOME"] is None
    assert rep["no_user_site"] == 1
    assert str(shadow) not in rep["sys_path"]


def test_the_mapped_libpython_is_the_envs_own_copy(root, prefix_env, venv_env, base_python):
    code = textwrap.dedent("""
        maps = open('/proc/self/maps').read().splitlines()
        print(sorted({l.split(None, 5)[5] for l in maps if 'libpython3' in l}))
    """)
    (root / "script.py").write_text(code)
    r = run_launcher("--root", root, "--env", prefix_env, "server")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == repr([str(prefix_env / "lib" / "libpython3.11.so.1.0")])
    # A venv has no libpython of its own: it uses its base installation's.
    r = run_launcher("--root", root, "--env", venv_env, "server")
    base_lib = subprocess.run([str(base_python), "-c",
                               "import sysconfig; print(sysconfig.get_config_var('LIBDIR'))"],
                              capture_output=True, text=True).stdout.strip()
    assert r.stdout.strip() == repr([str(Path(base_lib) / "libpython3.11.so.1.0")])


def test_the_executable_does_not_link_the_build_machines_python():
    dyn = subprocess.run(["readelf", "-d", str(LAUNCHER)], capture_output=True, text=True,
                         check=True).stdout
    needed = [l for l in dyn.splitlines() if "NEEDED" in l or "PATH" in l]
    assert needed, dyn  # the check itself can see entries
    assert not [l for l in needed if "python" in l.lower()], needed
    assert not [l for l in dyn.splitlines() if "RPATH" in l or "RUNPATH" in l]


# --- exit status, tracebacks, Ctrl+C, native crashes --------------------------------------------

@pytest.mark.parametrize("body,status,stderr_tail", [
    ("raise SystemExit(3)", 3, None),
    ("import sys; sys.exit(0)", 0, None),
    ("raise SystemExit('fatal: no model')", 1, "fatal: no model"),
    ("raise ValueError('bad input')", 1, "ValueError: bad input"),
    ("import os; os._exit(7)", 7, None),
    ("import sys; sys.exit(-1)", 255, None),  # a negative status is the script's, not a failure
])
def test_exit_status_matches_python(root, any_env, body, status, stderr_tail):
    (root / "script.py").write_text(body + "\n")
    r = run_launcher("--root", root, "--env", any_env, "server")
    plain = subprocess.run([str(env_python(any_env)), str(root / "script.py")], cwd=root,
                           capture_output=True, text=True, env=clean_env())
    assert r.returncode == status == plain.returncode
    if stderr_tail:
        assert plain.stderr.strip().splitlines()[-1] == stderr_tail
        assert plain.stderr in r.stderr  # the script's own traceback/message, unchanged
        # What follows is only the launcher's failure explanation, never more output
        # of the app.
        after = r.stderr.split(plain.stderr, 1)[1]
        assert not after or after.lstrip("\n").startswith("alltalk-launch:")
    if "ValueError" in body:
        assert "Traceback (most recent call last):" in r.stderr
        assert f'File "{root / "script.py"}", line 1, in <module>' in r.stderr


def sigint_after_ready(cmd, cwd, env):
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "ready"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    return p.returncode, out, err


@pytest.mark.parametrize("caught", [False, True])
def test_ctrl_c_raises_keyboardinterrupt_like_python(root, any_env, caught):
    body = "import time, sys\n"
    if caught:
        body += ("try:\n    print('ready', flush=True)\n    time.sleep(60)\n"
                 "except KeyboardInterrupt:\n    print('caught'); sys.exit(5)\n")
    else:
        body += "print('ready', flush=True)\ntime.sleep(60)\n"
    (root / "script.py").write_text(body)
    status, out, err = sigint_after_ready([str(LAUNCHER), "--root", str(root), "--env",
                                           str(any_env), "server"], root, clean_env())
    pstatus, _, perr = sigint_after_ready([str(env_python(any_env)), str(root / "script.py")],
                                          root, clean_env())
    assert status == pstatus
    if caught:
        assert status == 5 and "caught" in out
    else:
        assert status == -signal.SIGINT
        assert "KeyboardInterrupt" in err and "KeyboardInterrupt" in perr


def test_native_crash_prints_the_python_stack(root, any_env):
    (root / "script.py").write_text("import ctypes\n\ndef crash():\n    ctypes.string_at(0)\n\n"
                                    "crash()\n")
    r = run_launcher("--root", root, "--env", any_env, "server")
    assert r.returncode == -signal.SIGSEGV
    assert "Fatal Python error: Segmentation fault" in r.stderr
    # faulthandler writes non-ASCII characters of the path as escapes
    assert 'script.py", line 4 in crash' in r.stderr
    assert 'script.py", line 6 in <module>' in r.stderr


# --- children ------------------------------------------------------------------------------------

CHILD_REPORT = ("import json, sys, alltalk_launch; print(json.dumps([sys.prefix, "
                "alltalk_launch.plan()['env'], sys.executable]))")


def check_child_line(line, env):
    prefix, planned_env, executable = json.loads(line)
    assert prefix == str(env) and planned_env == str(env)
    assert executable == str(LAUNCHER)


def test_children_through_sys_executable(root, any_env):
    (root / "child.py").write_text(CHILD_REPORT + "\n")
    (root / "script.py").write_text(textwrap.dedent(f"""
        import subprocess, sys
        print(subprocess.run([sys.executable, "child.py"], capture_output=True, text=True,
                             check=True).stdout.strip())
        print(subprocess.run([sys.executable, "-c", {CHILD_REPORT!r}], capture_output=True,
                             text=True, check=True).stdout.strip())
        # bare `python` on PATH, as AllTalk v1 runs its helper scripts
        print(subprocess.run(["python", "child.py"], capture_output=True, text=True,
                             check=True).stdout.strip())
        print(subprocess.run([sys.executable, "-c", "raise SystemExit(4)"]).returncode)
    """))
    r = run_launcher("--root", root, "--env", any_env, "server")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    for line in lines[:3]:
        check_child_line(line, any_env)
    assert lines[3] == "4"


def test_child_pip_version(root, venv_env):
    (root / "script.py").write_text(textwrap.dedent("""
        import subprocess, sys
        print(subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True,
                             text=True, check=True).stdout)
    """))
    r = run_launcher("--root", root, "--env", venv_env, "server")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("pip ")
    assert str(venv_env) in r.stdout  # pip runs from the env's own site-packages


def test_os_execv_restart_keeps_the_preparation(root, any_env):
    # tts_server.py restarts itself with os.execv(sys.executable, ['python'] + sys.argv).
    (root / "script.py").write_text(textwrap.dedent(f"""
        import os, sys
        if len(sys.argv) > 1 and sys.argv[1] == "restarted":
            {CHILD_REPORT}
            print(sys.argv)
        else:
            sys.stdout.flush()
            os.execv(sys.executable, ['python'] + sys.argv + ['restarted'])
    """))
    r = run_launcher("--root", root, "--env", any_env, "server")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    check_child_line(lines[0], any_env)
    assert lines[1] == repr([str(root / "script.py"), "restarted"])


def test_multiprocessing_spawn_pool(root, any_env):
    (root / "script.py").write_text(textwrap.dedent("""
        import json, multiprocessing as mp, sys

        def probe(_):
            import alltalk_launch
            return [sys.prefix, alltalk_launch.plan()["env"], sys.executable]

        if __name__ == "__main__":
            ctx = mp.get_context("spawn")
            with ctx.Pool(2) as pool:
                for item in pool.map(probe, range(2)):
                    print(json.dumps(item))
    """))
    r = run_launcher("--root", root, "--env", any_env, "server", timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        check_child_line(line, any_env)


# --- the python command ---------------------------------------------------------------------------

def test_python_command_behaves_like_python(any_env, tmp_path):
    def both(*args, input=None):
        mine = run_launcher("--env", any_env, "python", *args, cwd=tmp_path, input=input)
        plain = subprocess.run([str(env_python(any_env)), *args], cwd=tmp_path, input=input,
                               capture_output=True, text=True, env=clean_env(PYTHONNOUSERSITE="1"))
        return mine, plain

    mine, plain = both("-c", "import sys; print(sys.argv, sys.prefix); sys.exit(6)", "x")
    assert mine.returncode == plain.returncode == 6
    assert mine.stdout == plain.stdout
    mine, plain = both("-m", "json.tool", input='{"a": [1]}')
    assert mine.returncode == 0 and mine.stdout == plain.stdout
    (tmp_path / "f.py").write_text("import sys, os; print(sys.argv, sys.path[0] == os.getcwd())\n")
    mine, plain = both("f.py", "--flag")
    assert mine.stdout == plain.stdout and "['f.py', '--flag'] True" in mine.stdout
    mine, plain = both(input="print(40 + 2)\n")  # no argument: the REPL, reading stdin
    assert mine.returncode == 0 and mine.stdout.strip() == "42" == plain.stdout.strip()
    mine, plain = both("--version")
    assert mine.stdout == plain.stdout and mine.stdout.startswith("Python 3.11")
    mine, plain = both("-c", "import this_module_does_not_exist")
    assert mine.returncode == plain.returncode == 1
    assert mine.stderr.splitlines()[-1] == plain.stderr.splitlines()[-1]


def test_run_command_passes_everything_after_the_script(root, any_env, tmp_path):
    (tmp_path / "tool.py").write_text("import sys, os; print(sys.argv[1:], os.getcwd())\n")
    r = run_launcher("--root", root, "--env", any_env, "run", "tool.py", "-v", "--root", "x",
                     cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"['-v', '--root', 'x'] {root}"


# --- discovery, dry-run, config, logging ----------------------------------------------------------

def test_dry_run_prints_the_plan_and_starts_nothing(root, prefix_env):
    (root / "script.py").write_text("raise SystemExit('must not run')\n")
    r = run_launcher("server", "--dry-run", "--env", prefix_env, "--", "--port", "1", cwd=root)
    assert r.returncode == 0, r.stderr
    for needle in [f"root:       {root} (current directory)", "conda prefix, from --env",
                   f"python:     3.11", f"libpython:  {prefix_env}/lib/libpython3.11.so.1.0",
                   f"argv:       python '{root}/script.py' --port 1", f"cwd:        {root}",
                   "TRAINER_TELEMETRY" if False else "PYTHONNOUSERSITE=1",
                   f"CONDA_PREFIX={prefix_env}"]:
        assert needle in r.stdout, (needle, r.stdout)
    assert not (root / "logs").exists()


def test_root_from_the_launchers_own_folder(tmp_path, venv_env):
    root = make_root(tmp_path / ODD_NAME)
    (root / "script.py").write_text(REPORT)
    tools = root / "tools" / "launcher"
    tools.mkdir(parents=True)
    shutil.copy2(LAUNCHER, tools / "alltalk-launch")
    r = run_launcher("--env", venv_env, "server", cwd="/", launcher=tools / "alltalk-launch")
    rep = report_of(r)
    assert rep["cwd"] == str(root)
    assert rep["executable"] == str(tools / "alltalk-launch")
    # ALLTALK_ROOT wins over the launcher's folder
    other = make_root(tmp_path / "other")
    (other / "script.py").write_text("print('other')\n")
    r = run_launcher("--env", venv_env, "server", cwd="/", launcher=tools / "alltalk-launch",
                     env=clean_env(ALLTALK_ROOT=str(other)))
    assert r.stdout.strip() == "other"


def test_config_file_drives_script_args_env_and_environment(root, venv_env, prefix_env):
    (root / "script.py").write_text(REPORT)
    (root / "alltalk-launch.toml").write_text(textwrap.dedent(f"""
        env = "{venv_env}"
        [environment]
        ALLTALK_TEST_GLOBAL = "g"
        [server]
        args = ["--tts_model", "xtts"]
        [server.environment]
        ALLTALK_TEST_SERVER = "s"
        [finetune]
        env = "{prefix_env}"
    """))
    (root / "script.py").write_text(REPORT.replace(
        '"PYTHONNOUSERSITE")', '"PYTHONNOUSERSITE", "ALLTALK_TEST_GLOBAL", "ALLTALK_TEST_SERVER")'))
    (root / "finetune.py").write_text(REPORT)
    rep = report_of(run_launcher("server", "--", "--port", "9", cwd=root))
    assert rep["prefix"] == str(venv_env)
    assert rep["argv"][1:] == ["--tts_model", "xtts", "--port", "9"]
    assert rep["env"]["ALLTALK_TEST_GLOBAL"] == "g" and rep["env"]["ALLTALK_TEST_SERVER"] == "s"
    rep = report_of(run_launcher("finetune", cwd=root))
    assert rep["prefix"] == str(prefix_env)  # the finetune env may differ from the server's


def test_log_file_and_verbose_decisions(root, venv_env):
    r = run_launcher("-v", "--root", root, "--env", venv_env, "server")
    assert r.returncode == 0, r.stderr
    assert "alltalk-launch: root: " in r.stderr and "alltalk-launch: env: " in r.stderr
    log = (root / "logs" / "alltalk-launch.log").read_text()
    assert "starting AllTalk server" in log and "env: " in log


def test_read_only_root_warns_and_runs(root, venv_env):
    if os.geteuid() == 0:
        # root ignores permissions: make `logs` a file so that the log folder cannot be created
        (root / "logs").write_text("")
    else:
        root.chmod(0o555)
    try:
        r = run_launcher("--root", root, "--env", venv_env, "server")
    finally:
        root.chmod(0o755)
    assert r.returncode == 0
    assert "warning: no log file" in r.stderr
    assert r.stdout.strip() == "script"


# --- bad input: one clear paragraph, a non-zero status, never a crash ----------------------------

def assert_clean_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith("alltalk-launch: error: "), r.stderr
    for bad in ("terminate called", "what():", "Segmentation", "std::"):
        assert bad not in r.stderr
    for n in needles:
        assert n in r.stderr, (n, r.stderr)


def test_errors_no_root_no_env(tmp_path, prefix_env):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_clean_error(run_launcher("server", "--env", prefix_env, cwd=empty),
                       "No AllTalk folder found", "--root")
    root = make_root(tmp_path / "root")
    assert_clean_error(run_launcher("server", cwd=root), "No Python environment found",
                       "alltalk_environment/env", "--env")
    assert_clean_error(run_launcher("--root", tmp_path / "missing", "server"),
                       "does not exist or is not a folder")


def test_errors_bad_envs(tmp_path, root):
    envless = tmp_path / "envless"
    (envless / "bin").mkdir(parents=True)
    assert_clean_error(run_launcher("--root", root, "--env", envless, "server"),
                       "is not a Python environment")
    static = tmp_path / "static"
    for d in ("bin", "lib/python3.11/config-3.11-x86_64-linux-gnu"):
        (static / d).mkdir(parents=True)
    (static / "bin" / "python3.11").write_text("")
    (static / "lib/python3.11/os.py").write_text("")
    (static / "lib/python3.11/config-3.11-x86_64-linux-gnu/libpython3.11.a").write_text("")
    assert_clean_error(run_launcher("--root", root, "--env", static, "server"),
                       "built without a shared library")


def test_error_wrong_python_version(tmp_path, root):
    py312 = find_python("3.12")
    if py312 is None:
        pytest.skip("no Python 3.12 on this machine")
    env = make_venv(tmp_path / "venv312", py312, with_pip=False)
    assert_clean_error(run_launcher("--root", root, "--env", env, "server"),
                       "has Python 3.12", "built for Python 3.11",
                       "-DALLTALK_PYTHON_VERSION=3.12")


def test_errors_missing_script_and_bad_config(root, venv_env):
    (root / "alltalk-launch.toml").write_text("[server]\nscript = \"missing.py\"\n")
    assert_clean_error(run_launcher("--root", root, "--env", venv_env, "server"),
                       "missing.py does not exist")
    (root / "alltalk-launch.toml").write_text("[server]\nscripts = 1\n")
    assert_clean_error(run_launcher("--root", root, "--env", venv_env, "server"),
                       "alltalk-launch.toml:2", "unknown key `scripts`")
    assert_clean_error(run_launcher("--root", root, "--config", root / "nope.toml", "server"),
                       "Cannot read the configuration file")
    (root / "alltalk-launch.toml").unlink()
    assert_clean_error(run_launcher("--root", root, "--env", venv_env, "run", "nope.py"),
                       "nope.py does not exist")


def test_usage_errors_and_a_stale_child_marker(root, venv_env):
    r = run_launcher("server", "--tts_model", "xtts")
    assert r.returncode == 2 and "go after `--`" in r.stderr
    r = run_launcher("--root", root, "server", env=clean_env(ALLTALK_LAUNCH_CHILD="garbage ="))
    assert_clean_error(r, "ALLTALK_LAUNCH_CHILD", "unset it")
