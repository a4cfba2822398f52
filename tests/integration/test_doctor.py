"""`alltalk-launch doctor` on real environments: its conflicts equal the real `pip check`'s (pip
26.3) on a venv with really conflicting packages and on generated envs of hundreds of hand-made
distributions (malformed files, markers for other platforms, extras, pre-releases, local
versions); each platform finding fires when its cause is present and stays quiet otherwise; the
JSON contract, the Markdown report's redaction and the exit statuses."""
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from conftest import BASE_PYTHON, LAUNCHER, clean_env, find_python, make_root, make_venv, run_launcher

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "support"))
import cached_venv  # noqa: E402
from generated_env import generate_env, write_dist  # noqa: E402

PIP_VERSION = "26.3"


@pytest.fixture(scope="session")
def pip_wheel() -> Path:
    """pip 26.3's wheel (the reference pip check), kept in the test cache."""
    dest = cached_venv.cache_root() / "wheels"
    dest.mkdir(parents=True, exist_ok=True)
    found = list(dest.glob(f"pip-{PIP_VERSION}-*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(dest),
                        "--cache-dir", str(cached_venv.cache_root() / "pip"), f"pip=={PIP_VERSION}"],
                       check=True)
        found = list(dest.glob(f"pip-{PIP_VERSION}-*.whl"))
    return found[0]


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3.*/site-packages"))


def venv_with_pip(path: Path, pip_wheel: Path) -> Path:
    make_venv(path, with_pip=False)
    with zipfile.ZipFile(pip_wheel) as z:
        z.extractall(site_packages(path))
    return path


def pip_check(venv: Path) -> tuple[set, int]:
    out = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "check"], capture_output=True,
                         text=True, env=clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1"))
    found = set()
    for line in out.stdout.splitlines():
        if m := re.fullmatch(r"(\S+) (\S+) requires (\S+), which is not installed\.", line):
            found.add((m[1], m[2], m[3], None, None))
        elif m := re.fullmatch(r"(\S+) (\S+) has requirement (.+), but you have (\S+) (\S+)\.", line):
            found.add((m[1], m[2], m[4], m[5], m[3]))
    return found, out.returncode


def doctor(*args, env=None, cwd=None):
    return run_launcher("doctor", *args, env=env, cwd=cwd)


def doctor_json(venv: Path, *extra, env=None, cwd=None) -> dict:
    res = doctor("--env", venv, *extra, "--json", env=env, cwd=cwd)
    assert res.returncode in (0, 1), res.stderr
    return json.loads(res.stdout)


def conflicts_of(report: dict) -> set:
    return {(c["package"], c["version"], c["dependency"], c["installed"],
             c["requirement"] if c["installed"] else None) for c in report["conflicts"]}


def test_real_conflicting_venv_equals_pip_check():
    venv = cached_venv.ensure("doctor-conflicts", HERE.parent / "requirements" / "doctor-conflicts.txt",
                              str(BASE_PYTHON), no_deps=True)
    expected, rc = pip_check(venv)
    assert rc == 1 and len(expected) >= 5  # the env really is broken
    report = doctor_json(venv)
    assert conflicts_of(report) == expected
    # The contract's shape, on a known pair.
    click = [c for c in report["conflicts"] if c["package"] == "typer" and c["dependency"] == "click"]
    assert click == [{"package": "typer", "version": "0.12.5", "requirement": "click>=8.0.0",
                      "dependency": "click", "installed": "7.1.2"}]
    assert report["python"]["version"].startswith("3.11")
    assert report["distributions"] == len(list(site_packages(venv).glob("*.dist-info")))


# ---- generated environments ------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_envs_equal_pip_check(tmp_path, pip_wheel, seed):
    venv = venv_with_pip(tmp_path / "gen", pip_wheel)
    generate_env(site_packages(venv), seed, 300)
    expected, _ = pip_check(venv)
    assert len(expected) > 50  # the generated env has plenty to find
    assert any(e[3] is None for e in expected) and any(e[3] for e in expected)
    report = doctor_json(venv)
    got = conflicts_of(report)
    assert got == expected, (sorted(got - expected)[:10], sorted(expected - got)[:10])
    # Unreadable and damaged distributions are findings, never a crash.
    assert any(f["id"] == "metadata-unreadable" for f in report["findings"])
    damaged = [f["message"] for f in report["findings"] if f["id"] == "metadata-malformed"]
    assert any("empty.egg-info" in m for m in damaged)


# ---- exit statuses, output formats -----------------------------------------------------------

def test_clean_env_exits_0_and_says_so(tmp_path, pip_wheel):
    venv = venv_with_pip(tmp_path / "clean", pip_wheel)
    shutil.which("ffmpeg") or None
    res = doctor("--env", venv, env=clean_env(PATH=os.environ["PATH"]))
    errors = [l for l in res.stdout.splitlines() if "Errors:" in l]
    assert res.returncode == 0, res.stdout
    assert not errors and "0 error(s)" in res.stdout


def test_conflicts_exit_1_with_fix_command(tmp_path, pip_wheel):
    venv = venv_with_pip(tmp_path / "broken env", pip_wheel)
    write_dist(site_packages(venv), "gradio", "4.44.1", ["pydantic<2.0"])
    write_dist(site_packages(venv), "pydantic", "2.6.4", [])
    res = doctor("--env", venv)
    assert res.returncode == 1
    assert "gradio 4.44.1 requires pydantic<2.0, but pydantic 2.6.4 is installed" in res.stdout
    # The fix names this env's own python, quoted for the shell (the path has a space).
    assert f"'{venv}/bin/python' -m pip install 'pydantic<2.0'" in res.stdout
    report = doctor_json(venv)
    assert report["conflicts"] == [{"package": "gradio", "version": "4.44.1",
                                    "requirement": "pydantic<2.0", "dependency": "pydantic",
                                    "installed": "2.6.4"}]
    fix = next(f for f in report["findings"] if f["id"] == "requirement-conflict")
    assert fix["severity"] == "error" and "pip install" in fix["fix"]
    # The same fix as data, what `alltalk-launch fix` applies.
    assert fix["action"] == {"remove": [], "install": ["pydantic<2.0"], "index_url": None,
                             "options": [], "note": "", "automatable": True}


def test_missing_dependency_is_null_in_json(tmp_path, pip_wheel):
    venv = venv_with_pip(tmp_path / "missing", pip_wheel)
    write_dist(site_packages(venv), "coqui-tts", "0.24.3", ["anyascii>=0.3.0"])
    report = doctor_json(venv)
    assert report["conflicts"] == [{"package": "coqui-tts", "version": "0.24.3",
                                    "requirement": "anyascii>=0.3.0", "dependency": "anyascii",
                                    "installed": None}]


def test_doctor_cannot_run_exits_2(tmp_path):
    res = doctor("--root", tmp_path / "nowhere")
    assert res.returncode == 2
    assert "doctor could not run" in res.stderr and "Traceback" not in res.stderr
    res = doctor("--root", tmp_path, "--env", tmp_path / "no env")
    assert res.returncode == 2 and "no env" in res.stderr


def test_doctor_reads_a_broken_python(tmp_path, pip_wheel):
    """The env's interpreter is not run: with its standard library gone, the doctor still works."""
    venv = venv_with_pip(tmp_path / "broken python", pip_wheel)
    write_dist(site_packages(venv), "gradio", "4.44.1", ["pydantic<2.0"])
    (venv / "bin" / "python").unlink()
    (venv / "bin" / "python").write_text("#!/bin/sh\nexit 99\n")
    report = doctor_json(venv)
    assert report["conflicts"][0]["dependency"] == "pydantic"


def test_report_is_markdown_without_home_or_user(tmp_path, pip_wheel):
    home = tmp_path / "home" / "jdoe_user"
    venv = venv_with_pip(home / "AllTalk env", pip_wheel)
    write_dist(site_packages(venv), "gradio", "4.44.1", ["pydantic<2.0"])
    report = tmp_path / "report.md"
    res = doctor("--env", venv, "--report", report,
                 env=clean_env(HOME=str(home), USER="jdoe_user"))
    assert res.returncode == 1
    text = report.read_text()
    assert text.startswith("# alltalk-launch doctor report")
    assert "requirement-missing" in text and "pydantic<2.0" in text
    assert "jdoe_user" not in text and str(home) not in text
    assert "~/AllTalk env" in text


def test_report_to_unwritable_place_is_a_clear_error(tmp_path, pip_wheel):
    venv = venv_with_pip(tmp_path / "v", pip_wheel)
    res = doctor("--env", venv, "--report", tmp_path / "no" / "such" / "dir" / "r.md")
    assert res.returncode == 2 and "could not write the report" in res.stderr


# ---- platform findings: each made to fire, and kept quiet ------------------------------------

def ids(report):
    return {f["id"] for f in report["findings"]}


def test_startup_import_fires_for_sitecustomize_and_pth(tmp_path, pip_wheel):
    venv = venv_with_pip(tmp_path / "hooks", pip_wheel)
    site = site_packages(venv)
    assert "startup-import" not in ids(doctor_json(venv))
    (site / "sitecustomize.py").write_text(
        "import torch\nfrom TTS.tts.configs.xtts_config import XttsConfig\n"
        "torch.serialization.add_safe_globals([XttsConfig])\n")
    (site / "harmless.pth").write_text("/some/dir\n")
    (site / "guide.pth").write_text("import torch; torch.set_num_threads(4)\n")
    report = doctor_json(venv)
    hooks = [f for f in report["findings"] if f["id"] == "startup-import"]
    assert len(hooks) == 2
    assert "torch, TTS" in hooks[0]["message"] and "sitecustomize.py" in hooks[0]["message"]
    assert hooks[0]["fix"].startswith("mv ") and ".disabled" in hooks[0]["fix"]
    # Only a comment mentioning torch, or a .pth path line: quiet.
    (site / "sitecustomize.py").write_text("# import torch was here\n")
    (site / "guide.pth").write_text("/opt/torch/import torch\n")
    assert "startup-import" not in ids(doctor_json(venv))


def test_shell_pythonhome_and_pythonpath(tmp_path, pip_wheel):
    venv = venv_with_pip(tmp_path / "shell", pip_wheel)
    quiet = doctor_json(venv, env=clean_env())
    assert not ids(quiet) & {"shell-pythonhome", "shell-pythonpath"}
    loud = doctor_json(venv, env=clean_env(PYTHONHOME="/opt/py", PYTHONPATH="/opt/lib"))
    assert {"shell-pythonhome", "shell-pythonpath"} <= ids(loud)


def test_root_path_with_dash(pip_wheel):
    base = Path(tempfile.mkdtemp(prefix="alltalk_"))  # mkdtemp names have no '-'
    try:
        venv = venv_with_pip(base / "env", pip_wheel)
        good = make_root(base / "alltalk_tts")
        assert "root-path-dash" not in ids(doctor_json(venv, "--root", good))
        bad = make_root(base / "alltalk-tts")
        report = doctor_json(venv, "--root", bad)
        dash = [f for f in report["findings"] if f["id"] == "root-path-dash"]
        assert dash and dash[0]["severity"] == "error"
    finally:
        shutil.rmtree(base)


def test_alltalk_port_in_use(tmp_path, pip_wheel):
    venv = venv_with_pip(tmp_path / "ports", pip_wheel)
    before = doctor_json(venv)
    if "port-in-use" in ids(before):
        pytest.skip("an AllTalk port is already taken on this machine")
    s = socket.socket()
    s.bind(("127.0.0.1", 7852))
    s.listen()
    try:
        report = doctor_json(venv)
    finally:
        s.close()
    ports = [f for f in report["findings"] if f["id"] == "port-in-use"]
    assert len(ports) == 1 and "7852" in ports[0]["message"] and "web UI" in ports[0]["message"]


def test_ports_from_confignew_and_a_dash_in_a_parent_folder(tmp_path, pip_wheel):
    """A real AllTalk-shaped root under a parent folder with a dash, its confignew.json on other
    ports: no dash error, and the port taken is the configured one."""
    venv = venv_with_pip(tmp_path / "cfg", pip_wheel)
    root = make_root(tmp_path / "my-projects" / "alltalk_tts")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    taken = s.getsockname()[1]
    try:
        (root / "confignew.json").write_text(json.dumps(
            {"branding": "AllTalk ", "gradio_port_number": taken,
             "api_def": {"api_port_number": taken + 1 if taken < 65535 else taken - 1}}))
        report = doctor_json(venv, "--root", root)
    finally:
        s.close()
    assert "root-path-dash" not in ids(report)
    ports = [f for f in report["findings"] if f["id"] == "port-in-use"
             and f"Port {taken} " in f["message"]]
    assert len(ports) == 1, report["findings"]
    assert f"Port {taken} (AllTalk's web UI port, from confignew.json gradio_port_number)" in \
        ports[0]["message"]
    assert "change gradio_port_number in confignew.json" in ports[0]["fix"]


def test_deepspeed_turned_on_in_alltalks_settings(tmp_path, pip_wheel):
    """AllTalk v2's own files: the loaded engine's model_settings.json turns DeepSpeed on."""
    venv = venv_with_pip(tmp_path / "ds", pip_wheel)
    root = make_root(tmp_path / "alltalk_tts")
    engines = root / "system" / "tts_engines"
    (engines / "xtts").mkdir(parents=True)
    (engines / "tts_engines.json").write_text(json.dumps({"engine_loaded": "xtts"}))
    settings = engines / "xtts" / "model_settings.json"
    settings.write_text(json.dumps({"settings": {"deepspeed_enabled": False}}))
    assert not {"deepspeed-enabled-missing", "deepspeed-enabled-no-gpu"} & \
        ids(doctor_json(venv, "--root", root, "--cpu"))
    settings.write_text(json.dumps({"settings": {"deepspeed_enabled": True}}))
    report = doctor_json(venv, "--root", root, "--cpu")
    assert {"deepspeed-enabled-missing", "deepspeed-enabled-no-gpu"} <= ids(report)
    no_gpu = [f for f in report["findings"] if f["id"] == "deepspeed-enabled-no-gpu"][0]
    assert no_gpu["severity"] == "error" and "settings.deepspeed_enabled" in no_gpu["fix"]


def test_finetune_base_model_as_finetune_py_looks_for_it(tmp_path, pip_wheel):
    venv = venv_with_pip(tmp_path / "ft", pip_wheel)
    root = make_root(tmp_path / "alltalk_tts")
    (root / "system" / "tts_engines").mkdir(parents=True)  # a v2 root
    model = root / "models" / "xtts" / "xttsv2_2.0.3"
    model.mkdir(parents=True)
    for name in ("config.json", "model.pth", "mel_stats.pth", "speakers_xtts.pth", "vocab.json"):
        (model / name).write_text("x")
    missing = [f for f in doctor_json(venv, "--root", root)["findings"]
               if f["id"] == "finetune-no-base-model"]
    assert missing and missing[0]["commands"] == ["finetune"]
    (model / "dvae.pth").write_text("x")
    assert "finetune-no-base-model" not in ids(doctor_json(venv, "--root", root))
    assert "finetune-no-base-model" not in ids(doctor_json(venv, "--root", root, "--command",
                                                           "server"))


def test_ffmpeg_fix_fits_a_venv(tmp_path, pip_wheel):
    venv = venv_with_pip(tmp_path / "ffv", pip_wheel)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    report = doctor_json(venv, env=clean_env(PATH=str(empty)))
    ff = [f for f in report["findings"] if f["id"] == "ffmpeg-missing"]
    assert ff and "conda" not in ff[0]["fix"]


def test_ffmpeg_found_in_env_or_path(tmp_path, pip_wheel):
    venv = venv_with_pip(tmp_path / "ff", pip_wheel)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    assert "ffmpeg-missing" in ids(doctor_json(venv, env=clean_env(PATH=str(empty))))
    ffmpeg = venv / "bin" / "ffmpeg"  # conda puts ffmpeg in the env
    ffmpeg.write_text("#!/bin/sh\n")
    ffmpeg.chmod(0o755)
    assert "ffmpeg-missing" not in ids(doctor_json(venv, env=clean_env(PATH=str(empty))))


def test_python_version_other_than_the_launchers(tmp_path):
    py312 = find_python("3.12")
    if py312 is None:
        pytest.skip("no Python 3.12 on this machine")
    venv = make_venv(tmp_path / "py312", py312, with_pip=False)
    res = doctor("--env", venv, "--json")
    assert res.returncode == 1
    report = json.loads(res.stdout)
    assert report["python"]["version"].startswith("3.12")
    f = next(f for f in report["findings"] if f["id"] == "python-version")
    assert f["severity"] == "error" and "3.12" in f["message"]
    assert "python-version" not in ids(doctor_json(make_venv(tmp_path / "py311", with_pip=False)))


def test_not_an_alltalk_root_is_a_warning(tmp_path, pip_wheel):
    venv = venv_with_pip(tmp_path / "r", pip_wheel)
    assert "root-not-alltalk" in ids(doctor_json(venv, "--root", tmp_path))
    root = make_root(tmp_path / "alltalk_tts")
    assert "root-not-alltalk" not in ids(doctor_json(venv, "--root", root))


def test_finds_the_roots_conda_env(tmp_path, pip_wheel):
    root = make_root(tmp_path / "alltalk_tts")
    env = venv_with_pip(root / "alltalk_environment" / "env", pip_wheel)
    write_dist(site_packages(env), "typer", "0.12.5", ["click>=8.0.0"])
    res = doctor(cwd=root, env=clean_env())
    assert res.returncode == 1 and "typer 0.12.5 requires click>=8.0.0" in res.stdout


# ---- known-bad combinations (rules as data) ---------------------------------------------------

RULE_CASES = [
    # rule, installed (fires), installed (quiet)
    ("spacy-typer", ["spacy==3.7.4", "typer==0.12.5"], ["spacy==3.7.5", "typer==0.12.5"]),
    ("gradio4-pydantic211", ["gradio==4.44.1", "pydantic==2.11.3"],
     ["gradio==4.44.1", "pydantic==2.10.6"]),
    ("gradio3-pydantic2", ["gradio==3.50.2", "pydantic==2.6.4"], ["gradio==3.50.2", "pydantic==1.10.13"]),
    ("tts022-transformers-streaming", ["TTS==0.22.0", "transformers==4.46.3"],
     ["TTS==0.22.0", "transformers==4.40.2"]),
    ("tts022-torch26", ["TTS==0.22.0", "torch==2.6.0"], ["TTS==0.22.0", "torch==2.5.1"]),
    ("ctranslate2-cudnn8", ["ctranslate2==4.4.0", "torch==2.6.0"], ["ctranslate2==4.5.0", "torch==2.6.0"]),
    ("profile-alltalk-v2", ["coqui-tts==0.24.3", "gradio==4.44.1", "pydantic==2.11.0"],
     ["coqui-tts==0.24.3", "gradio==4.44.1", "pydantic==2.10.6"]),
]


@pytest.mark.parametrize("rule,fires,quiet", RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_rule_fires_and_stays_quiet(tmp_path, rule, fires, quiet):
    for name, dists in (("fires", fires), ("quiet", quiet)):
        venv = make_venv(tmp_path / name, with_pip=False)
        for d in dists:
            n, v = d.split("==")
            write_dist(site_packages(venv), n, v, [])
        report = doctor_json(venv)
        assert (rule in ids(report)) == (name == "fires"), (name, ids(report))
        if name == "fires":
            f = next(f for f in report["findings"] if f["id"] == rule)
            assert f["message"] and (f["fix"] or f["severity"] == "info")
            assert str(venv / "bin" / "python") in f["fix"] or not f["fix"]


def test_cudnn_need_without_a_cudnn8_and_what_serves_cudnn9(tmp_path):
    """ctranslate2 < 4.5 needs cuDNN 8 (nothing here has one: a warning without a GPU); with 4.5
    the need is cuDNN 9, which /usr/local/cuda's cuDNN serves."""
    old = make_venv(tmp_path / "ct2 old", with_pip=False)
    write_dist(site_packages(old), "ctranslate2", "4.4.0", [])
    report = doctor_json(old)
    missing = [f for f in report["findings"] if f["id"] == "cudnn-missing"]
    assert missing and "cuDNN 8" in missing[0]["message"] and "ctranslate2 4.4.0" in missing[0]["message"]
    assert "pip install" in missing[0]["fix"]
    assert "gpu-none" in ids(report)
    new = make_venv(tmp_path / "ct2 new", with_pip=False)
    write_dist(site_packages(new), "ctranslate2", "4.5.0", [])
    report = doctor_json(new)
    assert "cudnn-missing" not in ids(report)
    served = [f for f in report["findings"] if f["id"] == "cudnn-served"]
    assert served and "cuDNN 9" in served[0]["message"]


# ---- per-command resolution: the env that `server` / `finetune` will really use --------------

@pytest.fixture
def dashless(tmp_path) -> Path:
    """A folder whose path has no '-' (pytest's have one, which AllTalk's script.py refuses: an
    error finding of its own)."""
    base = Path(tempfile.mkdtemp(prefix="alltalk_"))
    yield base
    shutil.rmtree(base)


def root_with_finetune_env(base: Path) -> tuple[Path, Path, Path]:
    """An AllTalk root with a clean server env and, through alltalk-launch.toml, a finetune env
    of its own holding a conflicting pair."""
    root = make_root(base / "alltalk_tts")
    server = make_venv(root / "alltalk_environment" / "env", with_pip=False)
    finetune = make_venv(root / "finetune env", with_pip=False)
    write_dist(site_packages(finetune), "gradio", "4.44.1", ["pydantic<2.0"])
    write_dist(site_packages(finetune), "pydantic", "2.6.4", [])
    (root / "alltalk-launch.toml").write_text('[finetune]\nenv = "finetune env"\n')
    return root, server, finetune


def conflict_findings(report: dict) -> list:
    return [f for f in report["findings"] if f["id"] == "requirement-conflict"]


def test_finetune_env_of_its_own_is_checked_and_labelled(tmp_path, dashless):
    root, server, finetune = root_with_finetune_env(dashless)
    # The default doctor: server, and finetune because it resolves to another env.
    res = doctor("--json", cwd=root, env=clean_env())
    assert res.returncode == 1, res.stderr
    report = json.loads(res.stdout)
    found = conflict_findings(report)
    assert len(found) == 1 and found[0]["commands"] == ["finetune"]
    assert "gradio 4.44.1 requires pydantic<2.0" in found[0]["message"]
    assert f"'{finetune}/bin/python' -m pip install 'pydantic<2.0'" == found[0]["fix"]
    # The old top-level keys are the server's check; each command's facts are under "commands".
    assert report["python"]["prefix"] == str(server) and report["conflicts"] == []
    assert set(report["commands"]) == {"server", "finetune"}
    assert report["commands"]["server"]["python"]["prefix"] == str(server)
    assert report["commands"]["finetune"]["python"]["prefix"] == str(finetune)
    assert "[finetune] env" in report["commands"]["finetune"]["env_source"]
    assert [c["package"] for c in report["commands"]["finetune"]["conflicts"]] == ["gradio"]
    # Findings both checks make are listed once, for both.
    assert all(f["commands"] in (["server"], ["finetune"], ["server", "finetune"])
               for f in report["findings"])
    # The text output tags it, and shows both envs.
    res = doctor(cwd=root, env=clean_env())
    assert res.returncode == 1
    assert "[requirement-conflict] [finetune] gradio 4.44.1 requires pydantic<2.0" in res.stdout
    assert f"finetune:\n    environment:    {finetune}" in res.stdout
    # The Markdown report too.
    md = tmp_path / "report.md"
    assert doctor("--report", md, cwd=root, env=clean_env()).returncode == 1
    text = md.read_text()
    assert "(finetune)" in text and "[finetune] gradio 4.44.1" in text


def test_doctor_command_server_or_finetune(dashless):
    root, server, finetune = root_with_finetune_env(dashless)
    res = doctor("--command", "server", "--json", cwd=root, env=clean_env())
    assert res.returncode == 0, res.stdout
    report = json.loads(res.stdout)
    assert not conflict_findings(report) and report["python"]["prefix"] == str(server)
    assert list(report["commands"]) == ["server"]
    assert all(f["commands"] == ["server"] for f in report["findings"])
    res = doctor("--command", "finetune", "--json", cwd=root, env=clean_env())
    assert res.returncode == 1
    report = json.loads(res.stdout)
    assert [f["commands"] for f in conflict_findings(report)] == [["finetune"]]
    assert report["python"]["prefix"] == str(finetune)
    assert conflicts_of(report) == {("gradio", "4.44.1", "pydantic", "2.6.4", "pydantic<2.0")}
    # What the launch itself resolves for finetune is the env the doctor checked.
    dry = run_launcher("--dry-run", "finetune", cwd=root, env=clean_env())
    assert dry.returncode == 0, dry.stderr
    assert f"env:        {finetune} (venv" in dry.stdout


def test_one_check_when_both_commands_resolve_alike(tmp_path, pip_wheel):
    venv = venv_with_pip(tmp_path / "one", pip_wheel)
    write_dist(site_packages(venv), "gradio", "4.44.1", ["pydantic<2.0"])
    write_dist(site_packages(venv), "pydantic", "2.6.4", [])
    report = doctor_json(venv)
    assert set(report["commands"]) == {"server", "finetune"}
    assert [f["commands"] for f in conflict_findings(report)] == [["server", "finetune"]]
    res = doctor("--env", venv)
    assert "[requirement-conflict] gradio" in res.stdout  # no tag: it concerns every command


def test_doctor_command_bogus_is_a_clear_error(tmp_path):
    res = doctor("--command", "bogus")
    assert res.returncode == 2
    err = res.stderr.strip()
    assert err.startswith("alltalk-launch: error:") and "\n" not in err
    assert "server or finetune" in err and '"bogus"' in err
