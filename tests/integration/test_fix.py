"""`alltalk-launch fix`: the doctor's fixes applied through the env's own pip (pip 26.3, real PyPI
packages from pinned requirement sets), proven before anything changes and undone exactly."""
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import ODD_NAME, clean_env, make_venv, run_launcher
from fix_envs import fresh_env, installed, site_hashes, uv, uv_env


def fix(root, env, *args, timeout=600, input=None):
    return run_launcher("--root", root, "--env", env, "fix", *args, timeout=timeout, input=input)


def doctor_ids(root, env):
    out = run_launcher("--root", root, "--env", env, "doctor", "--json", "--command", "server")
    return {f["id"] for f in json.loads(out.stdout)["findings"]}


@pytest.fixture
def gradio3_env(tmp_path, base_python):
    return fresh_env(tmp_path / ODD_NAME / "env", base_python, ["fix-gradio3.txt"])


def test_gradio3_pydantic2_is_fixed_and_undone_byte_for_byte(root, gradio3_env):
    env = gradio3_env
    assert "gradio3-pydantic2" in doctor_ids(root, env)
    before = site_hashes(env)

    # --dry-run: the plan, and nothing changed anywhere in the env.
    dry = fix(root, env, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "pydantic" in dry.stdout and "2.10.6" in dry.stdout
    assert "This fixes:" in dry.stdout and "gradio3-pydantic2" in dry.stdout
    assert "nothing was changed" in dry.stdout
    assert site_hashes(env) == before
    assert not (env / ".alltalk-launch").exists()

    done = fix(root, env, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert installed(env)["pydantic"].startswith("1."), done.stdout
    assert "gradio3-pydantic2" not in doctor_ids(root, env)
    assert "pip installed exactly what was predicted" in done.stdout
    assert "Successfully installed" in done.stdout + done.stderr  # pip's own output, live

    undo = fix(root, env, "--undo")
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert installed(env)["pydantic"] == "2.10.6"
    after = site_hashes(env)
    assert sorted(set(after) - set(before)) == []  # nothing new remains
    assert sorted(set(before) - set(after)) == []
    assert [p for p in before if before[p] != after[p]] == []


def test_spacy_typer_prediction_equals_what_pip_installs(root, tmp_path, base_python):
    env = fresh_env(tmp_path / "spacy env", base_python, ["fix-spacy.txt"])
    assert "spacy-typer" in doctor_ids(root, env)
    was = installed(env)
    done = fix(root, env, "--only", "spacy-typer", "--yes", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    plan = json.loads(done.stdout)  # stdout is the JSON alone: pip's own output went to stderr
    assert "Successfully installed" in done.stderr
    predicted = {c["name"].lower().replace("_", "-"): c["after"] for c in plan["changes"]}
    now = installed(env)
    actual = {k: v for k, v in now.items() if was.get(k) != v}
    assert predicted == actual
    assert predicted["spacy"] != "3.7.4"
    assert plan["unpredicted"] == []
    assert "spacy-typer" not in doctor_ids(root, env)


def test_a_plan_that_creates_a_conflict_is_refused_and_forced(root, tmp_path, base_python):
    # pydantic-settings 2.6.1 needs pydantic >= 2.7: the gradio 3 fix (pydantic < 2) breaks it.
    env = fresh_env(tmp_path / "env", base_python, ["fix-gradio3.txt"],
                    ["pydantic-settings==2.6.1", "python-dotenv==1.0.1"])
    assert "requirement-conflict" not in doctor_ids(root, env)
    before = site_hashes(env)
    refused = fix(root, env, "--only", "gradio3-pydantic2", "--yes")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Refused" in refused.stdout and "requirement-conflict" in refused.stdout
    assert "pydantic-settings" in refused.stdout
    assert site_hashes(env) == before

    forced = fix(root, env, "--only", "gradio3-pydantic2", "--yes", "--force")
    assert forced.returncode in (0, 1), forced.stdout + forced.stderr
    assert "--force: applying" in forced.stdout
    out = run_launcher("--root", root, "--env", env, "doctor", "--json")
    conflicts = [f["message"] for f in json.loads(out.stdout)["findings"]
                 if f["id"] == "requirement-conflict"]
    assert any("pydantic-settings" in m for m in conflicts), out.stdout


def test_without_a_terminal_or_yes_the_plan_is_printed_and_nothing_changes(root, gradio3_env):
    before = site_hashes(gradio3_env)
    out = fix(root, gradio3_env, input="y\n")
    assert out.returncode == 3, out.stdout + out.stderr
    assert "Run again with --yes" in out.stdout
    assert site_hashes(gradio3_env) == before


def test_bad_input_is_a_clear_error_and_changes_nothing(root, gradio3_env, tmp_path, base_python):
    before = site_hashes(gradio3_env)
    cases = [
        (["--only", "no-such-rule"], "not the id of a finding or a rule"),
        (["--only", "spacy-typer"], "finds no \"spacy-typer\""),
        (["--profile", "alltalk-v9"], "There is no profile \"alltalk-v9\""),
    ]
    for args, message in cases:
        out = fix(root, gradio3_env, *args, "--yes")
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert message in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr and "terminate" not in out.stderr
    out = run_launcher("--root", root, "--env", gradio3_env, "fix", "--command", "trainer")
    assert out.returncode != 0 and "fix --command takes server or finetune" in out.stderr
    assert site_hashes(gradio3_env) == before

    no_pip = make_venv(tmp_path / "no pip", base_python, with_pip=False)
    out = fix(root, no_pip, "--yes")
    assert out.returncode == 2
    assert "has no pip" in out.stderr and "ensurepip" in out.stderr


def test_when_pip_cannot_plan_it_says_why_and_nothing_changes(root, tmp_path, base_python):
    env = fresh_env(tmp_path / "env", base_python, ["fix-gradio3.txt"])
    before = site_hashes(env)
    # The index unreachable and no cache: pip cannot plan, and its own reason is shown.
    blocked = run_launcher("--root", root, "--env", env, "fix", "--yes",
                           env=clean_env(PIP_INDEX_URL="http://127.0.0.1:9/simple",
                                         PIP_NO_CACHE_DIR="1", PIP_RETRIES="0",
                                         PIP_TIMEOUT="2"), timeout=300)
    assert blocked.returncode == 2, blocked.stdout + blocked.stderr
    assert "pip cannot make this change" in blocked.stderr
    assert "nothing was changed" in blocked.stderr
    assert "pydantic" in blocked.stderr  # pip's words about what it looked for
    assert site_hashes(env) == before


def legacy_user_wheel(dest):
    """A real wheel of a distribution whose module imports a name that packaging removed in 22.0
    (packaging.version.LegacyVersion), and whose metadata allows any packaging."""
    import base64
    import hashlib
    import zipfile

    name, version = "legacy_user", "1.0"
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": "from packaging.version import LegacyVersion\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                            "Requires-Dist: packaging\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                         "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        record.append(f"{path},sha256={base64.urlsafe_b64encode(digest).rstrip(b'=').decode()},"
                      f"{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join(record + [f"{dist}/RECORD,,"]) + "\n"
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    return wheel


def test_a_name_gone_from_a_new_major_is_fixed_by_trial(tmp_path, base_python):
    from conftest import make_root
    # It also imports yaml, which nothing installed provides: the deep check's other fixable kind.
    root = make_root(tmp_path / "alltalk_tts",
                     script="import yaml\nimport legacy_user\nprint('started')\n")
    env = fresh_env(tmp_path / "env", base_python,
                    packages=["packaging==26.0", str(legacy_user_wheel(tmp_path))])
    broken = run_launcher("--root", root, "--env", env, "server")
    assert broken.returncode != 0 and "yaml" in broken.stderr

    import tempfile
    scratch = lambda: set(Path(tempfile.gettempdir()).glob("alltalk-trial-*"))  # noqa: E731
    scratch_before = scratch()
    dry = fix(root, env, "--deep", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    plan = json.loads(dry.stdout)
    [trial] = plan["trial_fixes"]
    assert trial["distribution"] == "packaging" and trial["names"] == ["LegacyVersion"]
    assert trial["found"] == "21.3"  # the newest release before 22.0 removed it
    assert trial["trials"] <= 8  # bisection over ~46 releases, not one trial each
    assert any(c["name"] == "packaging" and c["after"] == "21.3" and "trial" in c["why"]
               for c in plan["changes"])
    assert any(c["name"].lower() == "pyyaml" and c["now"] is None for c in plan["changes"])
    assert installed(env)["packaging"] == "26.0"  # --dry-run: nothing changed
    assert scratch() <= scratch_before  # every trial's scratch folder is gone

    done = fix(root, env, "--deep", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert installed(env)["packaging"] == "21.3"
    assert not (env / ".alltalk-launch" / "tmp").exists()  # the trials' folders are gone
    assert "pyyaml" in installed(env)  # the provider of the missing module
    started = run_launcher("--root", root, "--env", env, "server")
    assert started.returncode == 0 and "started" in started.stdout, started.stderr


def test_an_old_pip_is_upgraded_first_when_the_user_agrees(root, gradio3_env):
    subprocess.run([uv(), "pip", "install", "-q", "--python", str(gradio3_env / "bin" / "python"),
                    "pip==22.0.4"], check=True, env=uv_env())
    before = site_hashes(gradio3_env)
    dry = fix(root, gradio3_env, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "pip 22.0.4 in this env cannot say what it would change" in dry.stderr
    assert "came in pip 22.2" in dry.stderr
    assert site_hashes(gradio3_env) == before

    done = fix(root, gradio3_env, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    now = installed(gradio3_env)
    assert int(now["pip"].split(".")[0]) >= 23
    assert now["pydantic"].startswith("1.")  # then the fix itself, planned by the new pip


def test_the_same_plan_applied_with_uv_is_undone_too(root, gradio3_env):
    before = site_hashes(gradio3_env)
    path = str(Path(uv()).parent) + os.pathsep + os.environ.get("PATH", "")
    done = run_launcher("--root", root, "--env", gradio3_env, "fix", "--yes", "--installer", "uv",
                        env=clean_env(PATH=path, UV_CACHE_DIR=uv_env()["UV_CACHE_DIR"],
                                      UV_LINK_MODE="copy"), timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert installed(gradio3_env)["pydantic"].startswith("1.")
    assert "pip installed exactly what was predicted" in done.stdout
    undo = fix(root, gradio3_env, "--undo")
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert site_hashes(gradio3_env) == before
