"""`alltalk-launch doctor --deep`: the command's start-up imports, imported in a child prepared
exactly as its launch, each timed and each failure explained. Real envs: FastAPI/uvicorn
(tests/requirements/explain-uvicorn.txt) and the test suite's torch + coqui-tts env seen without
torchaudio (coqui-tts >= 0.27.4 declares torch/torchaudio only in extras; TTS/__init__.py refuses
to import without them)."""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BASE_PYTHON, make_root, make_venv, run_launcher

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "support"))
import cached_venv  # noqa: E402
import torch_envs  # noqa: E402

REQ = HERE.parent / "requirements"


@pytest.fixture(scope="module")
def web_env():
    return cached_venv.ensure("explain-uvicorn", REQ / "explain-uvicorn.txt", str(BASE_PYTHON),
                              no_deps=True)


@pytest.fixture
def dashless() -> Path:
    """A folder whose path has no '-' (pytest's have one: an error finding of its own)."""
    base = Path(tempfile.mkdtemp(prefix="alltalk_"))
    yield base
    shutil.rmtree(base)


def deep(root, env, *args, timeout=300):
    return run_launcher("--root", root, "--env", env, "doctor", "--deep", *args, timeout=timeout)


def deep_lines(text):
    """The lines of the deep check's table: after "deep check:", up to the blank line."""
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if "deep check:" in l) + 1
    return lines[start:lines.index("", start)]


def test_a_missing_import_in_script_py_is_an_error_with_its_file_and_fix(tmp_path, web_env):
    root = make_root(tmp_path / "alltalk_tts",
                     script="import os\nimport fastapi\nimport alltalk_missing_dep\n"
                            "print('the script body does not run')\n")
    r = deep(root, web_env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "the script body does not run" not in r.stdout + r.stderr
    table = deep_lines(r.stdout)
    assert any(l.strip().startswith("ok") and "import fastapi" in l for l in table)
    failed = [l for l in table if l.strip().startswith("FAILED")]
    assert len(failed) == 1 and "import alltalk_missing_dep  (script.py:3)" in failed[0], r.stdout
    err = r.stdout[r.stdout.index("Errors:"):]
    assert "[deep-import] [server] `import alltalk_missing_dep`" in err
    assert f"imported by {root / 'script.py'} line 3" in err
    py = shlex.quote(str(web_env / "bin" / "python"))
    assert f"fix: {py} -m pip install alltalk_missing_dep" in err
    report = tmp_path / "report.md"
    assert deep(root, web_env, "--report", report).returncode == 1
    assert "| Deep check | 3 import(s), 1 not ok, " in report.read_text()
    assert "**deep-import**" in report.read_text()


def test_a_healthy_env_passes_with_timings(dashless, web_env):
    root = make_root(dashless / "alltalk_tts", script="import json\nfrom fastapi import FastAPI\n"
                     "try:\n    import yaml\nexcept ImportError:\n    yaml = None\n"
                     "import sys\nif sys.platform == 'win32':\n    import winreg\n")
    (root / "tts_server.py").write_text("import uvicorn\nfrom starlette.routing import Route\n")
    r = deep(root, web_env)
    assert r.returncode == 0, r.stdout + r.stderr
    steps = [l.split() for l in deep_lines(r.stdout)]
    names = [" ".join(s[3:]) for s in steps]
    assert "import json (script.py:1)" in names
    assert "from starlette.routing import Route (tts_server.py:2)" in names  # the server child
    assert not any("winreg" in n for n in names)  # not this platform's branch
    for s in steps:
        if "yaml" in " ".join(s):
            assert s[0] == "failed"  # the script copes: a warning, not an error
        else:
            assert s[0] == "ok" and float(s[1]) >= 0 and s[2] == "s"
    assert "[deep-import] [server] `import yaml`" in r.stdout[r.stdout.index("Warnings:"):]


def test_one_child_imports_what_server_and_finetune_import_each_failure_named_with_its_command(
        dashless, web_env):
    """server and finetune launch alike here (one env, no overlay): plain `doctor --deep` runs
    both scripts' imports in one child, and labels each failure with the command it stops; a
    statement both scripts hold is run for each (it fails for both)."""
    root = make_root(dashless / "alltalk_tts", script="import json\nimport alltalk_both_miss\n",
                     finetune="import fastapi\nimport alltalk_both_miss\n"
                              "import alltalk_finetune_miss\n")
    r = deep(root, web_env, "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    j = json.loads(r.stdout)
    assert j["deep"]["also"] == ["finetune"]
    names = [(s["name"], Path(s["file"]).name, s["status"]) for s in j["deep"]["imports"]]
    assert ("import fastapi", "finetune.py", "ok") in names
    assert ("import alltalk_both_miss", "script.py", "failed") in names
    assert ("import alltalk_both_miss", "finetune.py", "failed") in names
    labels = {(f["message"].split("`")[1], Path(f["message"].split("(")[1].split(" line")[0]).name):
              f["commands"] for f in j["findings"] if f["id"] == "deep-import"}
    assert labels[("import alltalk_finetune_miss", "finetune.py")] == ["finetune"], labels
    assert labels[("import alltalk_both_miss", "script.py")] == ["server"], labels
    assert labels[("import alltalk_both_miss", "finetune.py")] == ["finetune"], labels
    text = deep(root, web_env).stdout
    assert "prepared as `alltalk-launch server` (with finetune's imports)" in text
    assert "[deep-import] [finetune] `import alltalk_finetune_miss`" in text, text
    # Asked for one command, the child covers that one alone.
    one = json.loads(deep(root, web_env, "--command", "finetune", "--json").stdout)
    assert one["deep"]["also"] == []
    assert {Path(s["file"]).name for s in one["deep"]["imports"] if s["file"]} == {"finetune.py"}


def test_a_command_with_its_own_environment_gets_a_child_of_its_own(dashless, web_env):
    """[finetune.environment] differs from server's: the two still share one check (same env),
    but finetune's imports run in a child prepared with its variables, and are still checked."""
    root = make_root(dashless / "alltalk_tts", script="import json\n",
                     finetune="import os\nassert os.environ['ALLTALK_T'] == '1'\n"
                              "import alltalk_finetune_miss\n")
    (root / "alltalk-launch.toml").write_text('[finetune.environment]\nALLTALK_T = "1"\n')
    r = deep(root, web_env, "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    j = json.loads(r.stdout)
    assert j["deep"]["also"] == ["finetune"]
    failed = [f for f in j["findings"] if f["id"] == "deep-import"]
    assert len(failed) == 1 and "alltalk_finetune_miss" in failed[0]["message"], failed
    assert failed[0]["commands"] == ["finetune"]


def test_a_failure_the_scripts_own_except_catches_is_a_warning(dashless, web_env):
    # AllTalk v2's tts_server.py: `try: import sounddevice` / `except OSError:` (no PortAudio).
    # The import raises OSError, which that clause catches: the server starts, with a warning.
    root = make_root(dashless / "alltalk_tts", script="import json\n")
    (root / "tts_server.py").write_text(
        "try:\n    import no_portaudio\nexcept OSError:\n    sd = None\n"
        "try:\n    import no_portaudio_either\nexcept KeyError:\n    pass\n")
    (root / "no_portaudio.py").write_text("raise OSError('PortAudio library not found')\n")
    (root / "no_portaudio_either.py").write_text("raise OSError('PortAudio library not found')\n")
    r = deep(root, web_env)
    assert r.returncode == 1, r.stdout + r.stderr  # the second: OSError is no KeyError
    warnings = r.stdout[r.stdout.index("Warnings:"):]
    errors = r.stdout[r.stdout.index("Errors:"):r.stdout.index("Warnings:")]
    assert "`import no_portaudio` (" in warnings and "The script catches this failure" in warnings
    assert "`import no_portaudio_either`" in errors


def test_json_has_a_deep_object(tmp_path, web_env):
    root = make_root(tmp_path / "alltalk_tts", script="import fastapi\nimport nope_not_here\n")
    r = deep(root, web_env, "--json")
    assert r.returncode == 1
    j = json.loads(r.stdout)
    d = j["deep"]
    assert d["timeout"] == 60 and d["launch_error"] is None and d["seconds"] > 0
    assert j["commands"]["server"]["deep"] == d
    ok, bad = d["imports"]
    assert ok["name"] == "import fastapi" and ok["status"] == "ok"
    assert ok["origin"].endswith("site-packages/fastapi/__init__.py")
    assert ok["file"] == str(root / "script.py") and ok["line"] == 1
    assert bad["status"] == "failed" and bad["error"]["type"] == "builtins.ModuleNotFoundError"
    assert "No module named 'nope_not_here'" in bad["error"]["traceback"]
    assert bad["explanation"]["id"] == "import-missing"
    assert "pip install nope_not_here" in bad["explanation"]["fix"]
    finding = [f for f in j["findings"] if f["id"] == "deep-import"]
    assert len(finding) == 1 and finding[0]["severity"] == "error"
    assert finding[0]["fix"] == bad["explanation"]["fix"]


def test_an_import_that_hangs_is_reported_as_timed_out_and_the_rest_still_runs(tmp_path, web_env):
    root = make_root(tmp_path / "alltalk_tts",
                     script="import slow_local\nimport fastapi\nimport after_the_hang_missing\n")
    (root / "slow_local.py").write_text("import time\ntime.sleep(600)\n")
    # fastapi's byte code is written first: on a fresh cache the env was just made without it,
    # and compiling pydantic on a loaded machine can take longer than the limit below.
    subprocess.run([str(web_env / "bin" / "python"), "-c", "import fastapi"], check=True)
    t0 = time.monotonic()
    r = deep(root, web_env, "--deep-timeout", "5", "--json", timeout=120)
    took = time.monotonic() - t0
    assert took < 45, took  # killed past its limit, not waited for
    assert r.returncode == 1
    steps = {s["name"]: s for s in json.loads(r.stdout)["deep"]["imports"]}
    assert steps["import slow_local"]["status"] == "timed out"
    assert 5 <= steps["import slow_local"]["seconds"] < 15
    assert steps["import fastapi"]["status"] == "ok"  # a fresh child after the one killed
    assert steps["import after_the_hang_missing"]["status"] == "failed"
    text = deep(root, web_env, "--deep-timeout", "5", timeout=120).stdout
    assert "TIMED OUT" in text and "[deep-timeout] [server] `import slow_local`" in text


def test_the_child_is_prepared_as_the_commands_launch(dashless, web_env):
    # finetune's launch sets TRAINER_TELEMETRY=0 and makes sys.executable the launcher; the
    # module raises if the import did not happen in such a process.
    root = make_root(dashless / "alltalk_tts", finetune="import prepared_check\n")
    (root / "prepared_check.py").write_text(
        "import os, sys, alltalk_launch\n"
        "plan = alltalk_launch.plan()\n"
        "assert plan['command'] == 'finetune', plan\n"
        "assert os.environ.get('TRAINER_TELEMETRY') == '0'\n"
        "assert os.environ.get('ALLTALK_LAUNCH_CHILD')\n"
        f"assert sys.executable == {str(Path(os.environ['ALLTALK_LAUNCH_BIN']).resolve())!r}\n"
        f"assert sys.path[0] == {str(root)!r}, sys.path\n")
    r = run_launcher("--root", root, "--env", web_env, "doctor", "--deep", "--command",
                     "finetune", "--json")
    steps = json.loads(r.stdout)["deep"]["imports"]
    assert [(s["name"], s["status"]) for s in steps] == [("import prepared_check", "ok")], steps
    assert r.returncode == 0


def test_bad_deep_timeout_is_bad_input(tmp_path, web_env):
    root = make_root(tmp_path / "alltalk_tts")
    r = run_launcher("--root", root, "--env", web_env, "doctor", "--deep-timeout", "0")
    assert r.returncode == 2 and "--deep-timeout" in r.stderr


def test_without_deep_nothing_is_imported(dashless, web_env):
    root = make_root(dashless / "alltalk_tts", script="import nope_not_here\n")
    r = run_launcher("--root", root, "--env", web_env, "doctor", "--json")
    assert "deep" not in json.loads(r.stdout)
    assert r.returncode == 0


@pytest.fixture(scope="module")
def coqui_without_torchaudio(tmp_path_factory):
    """The suite's torch 2.11 + coqui-tts 0.28.0 env, seen through a venv whose site-packages
    links every entry of it except torchaudio: what `pip install coqui-tts torch` gives."""
    base = torch_envs.torch_env("newest", str(BASE_PYTHON))
    env = make_venv(tmp_path_factory.mktemp("coqui") / "env", with_pip=False)
    site = next((env / "lib").glob("python3.*/site-packages"))
    base_site = next((base / "lib").glob("python3.*/site-packages"))
    for entry in base_site.iterdir():
        if not entry.name.startswith("torchaudio") and not (site / entry.name).exists():
            (site / entry.name).symlink_to(entry)
    return env


def test_coqui_tts_without_torchaudio_names_the_failed_import(tmp_path, coqui_without_torchaudio):
    root = make_root(tmp_path / "alltalk_tts", script="import json\n")
    r = deep(root, coqui_without_torchaudio, "--json", timeout=600)
    assert r.returncode == 1
    steps = {s["name"]: s for s in json.loads(r.stdout)["deep"]["imports"]}
    assert steps["import torch"]["status"] == "ok"
    assert "import torchaudio" not in steps  # not installed: not imported
    xtts = steps["import TTS.tts.models.xtts"]
    assert xtts["status"] == "failed" and xtts["error"]["type"] == "builtins.ImportError"
    assert "Coqui TTS requires the PyTorch and Torchaudio libraries" in xtts["error"]["message"]
    assert steps["import TTS.api"]["status"] == "failed"
    text = deep(root, coqui_without_torchaudio, timeout=600).stdout
    assert "[deep-import] `import TTS.api` failed: ImportError: Coqui TTS requires the PyTorch" \
        in text


def test_plain_doctor_reports_coqui_tts_without_torchaudio(tmp_path, coqui_without_torchaudio):
    """The metadata alone shows it too: coqui-tts >= 0.27.4 with torch and no torchaudio (the
    rule coqui-tts-no-torchaudio, from installed facts, no import)."""
    root = make_root(tmp_path / "alltalk_tts", script="import json\n")
    r = run_launcher("--root", root, "--env", coqui_without_torchaudio, "doctor", "--json")
    assert r.returncode == 1
    found = [f for f in json.loads(r.stdout)["findings"] if f["id"] == "coqui-tts-no-torchaudio"]
    assert found and found[0]["severity"] == "error"
    assert "coqui-tts 0.28.0" in found[0]["message"]


def test_a_step_that_aborts_is_named_and_explained_by_what_it_printed(dashless, web_env):
    # ctranslate2 < 4.5 without cuDNN 8 prints the library it could not load, then aborts.
    root = make_root(dashless / "alltalk_tts", script="import os\nimport whisper_engine\n")
    (root / "whisper_engine.py").write_text(
        "import os\n"
        "os.write(2, b'Could not load library libcudnn_ops_infer.so.8. Error: "
        "libcudnn_ops_infer.so.8: cannot open shared object file: No such file or directory\\n')\n"
        "os.abort()\n")
    r = deep(root, web_env, "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    findings = {f["id"]: f for f in json.loads(r.stdout)["findings"]}
    crash = findings["deep-crash"]
    assert "import whisper_engine" in crash["message"]
    assert "SIGABRT" in crash["message"], crash
    assert "cudnn8-missing" in json.dumps(crash), crash
