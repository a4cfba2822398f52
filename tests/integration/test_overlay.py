"""Per-command overlays (`[finetune] overlay = [...]`, `alltalk-launch overlay sync|status|remove`):
a base env with gradio 4.44.1 and pydantic 2.10.6 (real PyPI packages, tests/requirements/
overlay-gradio4.txt), and a finetune overlay of gradio 3.50.2 with pydantic 1, which only finetune
sees, in its main process and every child the launcher prepares; the base env never changes."""
import json
import shutil
import textwrap
from pathlib import Path

import pytest
from conftest import ODD_NAME, make_root, run_launcher
from fix_envs import fresh_env, site_hashes

OVERLAY = ["gradio==3.50.2", "pydantic<2"]

# What pip 26.3 resolves for OVERLAY against overlay-gradio4.txt: only what differs from the base
# (numpy 1.26.4, pandas, pillow, huggingface-hub... are the base's and stay out), and typer: the
# base's typer 0.29.2 requires pydantic>=2.5.3, so it joins by name and pip puts the newest that
# takes pydantic 1 into the overlay, which keeps finetune's view free of conflicts.
EXPECTED = {"gradio": "3.50.2", "gradio-client": "0.6.1", "altair": "5.5.0",
            "websockets": "11.0.3", "jsonschema": "4.26.0", "attrs": "26.1.0",
            "jsonschema-specifications": "2025.9.1", "narwhals": "2.29.0",
            "referencing": "0.37.0", "rpds-py": "2026.9.1", "fastapi": "0.125.0",
            "starlette": "0.50.0", "typer": "0.28.0"}

# The fake AllTalk: both scripts print what gradio and pydantic they import and what
# importlib.metadata says, in the main process, a sys.executable child, `-m pip show` and a
# multiprocessing spawn worker.
PROBE = textwrap.dedent("""
    import json, multiprocessing as mp, subprocess, sys

    def versions(_=None):
        import importlib.metadata as md
        import gradio, pydantic
        return {"gradio": gradio.__version__, "pydantic": str(pydantic.VERSION),
                "meta_gradio": md.version("gradio"), "meta_pydantic": md.version("pydantic")}

    if __name__ == "__main__":
        out = {"main": versions()}
        code = "import json, sys; sys.path.insert(0, '.'); import probe; print(json.dumps(probe.versions()))"
        child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert child.returncode == 0, child.stderr
        out["child"] = json.loads(child.stdout)
        pip = subprocess.run([sys.executable, "-m", "pip", "show", "gradio"], capture_output=True,
                             text=True)
        out["pip"] = [l.split()[1] for l in pip.stdout.splitlines() if l.startswith("Version:")]
        with mp.get_context("spawn").Pool(1) as pool:
            out["spawn"] = pool.map(versions, [0])[0]
        print("VERSIONS " + json.dumps(out))
""")


def write_config(path: Path, overlay, env: Path):
    lines = [f"env = {json.dumps(str(env))}", "[finetune]"]
    if overlay is not None:
        lines.append("overlay = [" + ", ".join(json.dumps(r) for r in overlay) + "]")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def ov(tmp_path_factory, base_python):
    base = tmp_path_factory.mktemp("overlay") / ODD_NAME
    env = fresh_env(base / "env", base_python, ["overlay-gradio4.txt"])
    root = make_root(base / "alltalk_tts", script=PROBE, finetune=PROBE)
    (root / "probe.py").write_text(PROBE)
    write_config(root / "alltalk-launch.toml", OVERLAY, env)
    before = site_hashes(env)
    sync = launch(root, "overlay", "sync", timeout=900)
    return {"env": env, "root": root, "before": before, "sync": sync,
            "dir": env / ".alltalk-launch" / "overlays" / "finetune"}


def launch(root, *args, timeout=300):
    return run_launcher("--root", root, *args, timeout=timeout)


def versions_of(r):
    assert r.returncode == 0, r.stdout + r.stderr
    line = [l for l in r.stdout.splitlines() if l.startswith("VERSIONS ")]
    assert line, r.stdout + r.stderr
    return json.loads(line[0][len("VERSIONS "):])


def assert_everywhere(v, gradio, pydantic_major):
    for where in ("main", "child", "spawn"):
        assert v[where]["gradio"] == gradio, (where, v)
        assert v[where]["meta_gradio"] == gradio, (where, v)
        assert v[where]["pydantic"].startswith(pydantic_major + "."), (where, v)
        assert v[where]["meta_pydantic"] == v[where]["pydantic"], (where, v)
    assert v["pip"] == [gradio], v


def test_sync_installs_only_what_differs(ov):
    r = ov["sync"]
    assert r.returncode == 0, r.stdout + r.stderr
    assert "the env was not changed" in r.stdout
    manifest = json.loads((ov["dir"] / "overlay.json").read_text())
    assert manifest["requirements"] == OVERLAY
    held = {d["name"].lower().replace("_", "-"): d["version"] for d in manifest["distributions"]}
    pydantic = held.pop("pydantic")
    assert pydantic.startswith("1."), held
    assert held == EXPECTED
    # What the folder holds is exactly that: no unchanged or torch-sized distribution landed.
    infos = sorted(p.name for p in ov["dir"].glob("*.dist-info"))
    assert len(infos) == len(EXPECTED) + 1, infos
    for name in ("numpy", "pandas", "pillow", "huggingface_hub", "torch", "matplotlib"):
        assert not list(ov["dir"].glob(name + "-*.dist-info")), name
    assert site_hashes(ov["env"]) == ov["before"]


def test_status_says_current(ov):
    r = launch(ov["root"], "overlay", "status")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("finetune: current, 14 distributions (gradio 3.50.2"), r.stdout


def test_server_keeps_the_base(ov):
    v = versions_of(launch(ov["root"], "server"))
    assert_everywhere(v, "4.44.1", "2")


def test_finetune_sees_the_overlay_in_every_process(ov):
    r = launch(ov["root"], "finetune")
    assert "stale" not in r.stderr and "has not been made" not in r.stderr, r.stderr  # current
    assert_everywhere(versions_of(r), "3.50.2", "1")
    assert site_hashes(ov["env"]) == ov["before"]


def test_the_overlays_pth_files_are_processed_for_its_command_alone(ov, tmp_path):
    # pip --target leaves a package's .pth file in the overlay (setuptools' distutils-precedence,
    # pywin32's), where `site` never looks: the launcher handles them as site does.
    extra = tmp_path / "from pth"
    extra.mkdir()
    (extra / "from_pth.py").write_text("X = 'found through the overlay .pth'\n")
    pth = ov["dir"] / "alltalk-test.pth"
    pth.write_text(f"{extra}\nimport sys; sys.alltalk_pth_ran = True\n")
    code = ("import sys\ntry:\n    import from_pth; x = from_pth.X\nexcept ImportError:\n"
            "    x = None\nprint('PTH', x, getattr(sys, 'alltalk_pth_ran', False))\n")
    root = make_root(tmp_path / "alltalk_tts", script=code, finetune=code)
    write_config(root / "alltalk-launch.toml", OVERLAY, ov["env"])
    try:
        r = launch(root, "finetune")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "PTH found through the overlay .pth True" in r.stdout, r.stdout + r.stderr
        r = launch(root, "server")
        assert "PTH None False" in r.stdout, r.stdout + r.stderr
    finally:
        pth.unlink()


def test_dry_run_shows_the_overlay(ov):
    r = launch(ov["root"], "--dry-run", "finetune")
    assert r.returncode == 0, r.stdout + r.stderr
    row = [l for l in r.stdout.splitlines() if l.strip().startswith("overlay:")]
    assert row and "finetune: current" in row[0] and str(ov["dir"]) in row[0], r.stdout
    server = launch(ov["root"], "--dry-run", "server")
    assert "overlay:" not in server.stdout


def test_a_stale_overlay_warns_once_and_is_used(ov, tmp_path):
    cfg = write_config(tmp_path / "stale.toml", ["pydantic<2", "gradio==3.50.2"], ov["env"])
    st = launch(ov["root"], "--config", cfg, "overlay", "status")
    assert st.returncode == 1
    assert "finetune: stale" in st.stdout and "alltalk-launch overlay sync finetune" in st.stdout
    r = launch(ov["root"], "--config", cfg, "finetune")
    assert r.stderr.count("overlay of finetune is stale") == 1, r.stderr
    assert "alltalk-launch overlay sync finetune" in r.stderr
    assert_everywhere(versions_of(r), "3.50.2", "1")


def test_a_corrupt_overlay_json_is_reported_and_stops_finetune(ov):
    manifest = ov["dir"] / "overlay.json"
    good = manifest.read_bytes()
    try:
        manifest.write_text('{"overlay": 1, "requirements": ["gra')
        st = launch(ov["root"], "overlay", "status")
        assert st.returncode == 1
        assert "finetune: corrupt" in st.stdout and "not JSON" in st.stdout, st.stdout
        r = launch(ov["root"], "finetune")
        assert r.returncode != 0 and "VERSIONS" not in r.stdout
        assert "has an overlay" in r.stderr and "damaged" in r.stderr, r.stderr
        assert "alltalk-launch overlay sync finetune" in r.stderr
        dry = launch(ov["root"], "--dry-run", "finetune")
        assert dry.returncode == 0 and "finetune: corrupt" in dry.stdout
        assert "VERSIONS" not in dry.stdout
        assert versions_of(launch(ov["root"], "server"))["main"]["gradio"] == "4.44.1"
    finally:
        manifest.write_bytes(good)


def test_an_unresolvable_overlay_changes_nothing(ov, tmp_path):
    # gradio 3.50.2 needs huggingface-hub >= 0.14: pip cannot resolve this with anything.
    cfg = write_config(tmp_path / "bad.toml", ["gradio==3.50.2", "huggingface-hub<0.10"],
                       ov["env"])
    overlay_before = {p.relative_to(ov["dir"]): p.stat().st_mtime_ns
                      for p in ov["dir"].rglob("*") if "__pycache__" not in p.parts}
    r = launch(ov["root"], "--config", cfg, "overlay", "sync", "finetune", timeout=900)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "The overlay of `finetune` (" + str(cfg) + ":3) cannot be resolved" in r.stderr
    assert "pip said:" in r.stderr and "huggingface-hub" in r.stderr.lower(), r.stderr
    assert "ResolutionImpossible" in r.stderr or "conflict" in r.stderr.lower(), r.stderr
    after = {p.relative_to(ov["dir"]): p.stat().st_mtime_ns
             for p in ov["dir"].rglob("*") if "__pycache__" not in p.parts}
    assert after == overlay_before
    assert not list(ov["dir"].parent.glob(".finetune.*"))
    assert site_hashes(ov["env"]) == ov["before"]


def test_an_overlay_for_an_unknown_command_is_refused(ov):
    r = launch(ov["root"], "overlay", "sync", "trainer")
    assert r.returncode == 2
    assert "`trainer` is not a command that can have an overlay" in r.stderr, r.stderr
    r = launch(ov["root"], "overlay", "sync", "server")
    assert r.returncode == 2
    assert "`server` has no overlay in" in r.stderr, r.stderr
    assert not (ov["env"] / ".alltalk-launch" / "overlays" / "server").exists()


def test_a_bad_requirement_is_a_config_error(ov, tmp_path):
    cfg = write_config(tmp_path / "typo.toml", ["gradio==3.50.2", "pydantic<<2"], ov["env"])
    r = launch(ov["root"], "--config", cfg, "overlay", "sync")
    assert r.returncode == 2
    assert f"Error in {cfg}:3" in r.stderr
    assert '`finetune.overlay` entry "pydantic<<2" is not a PEP 508 requirement' in r.stderr


def doctor_views(ov):
    r = launch(ov["root"], "doctor", "--json")
    report = json.loads(r.stdout)
    return r, [(f["id"], f["commands"], f["message"]) for f in report["findings"]]


def test_the_doctor_checks_each_commands_view(ov):
    r, findings = doctor_views(ov)
    # Both views hold together, as pip check would say for each (gradio 3 with its client 0.6.1
    # in finetune's, gradio 4 with its 1.x client in server's).
    assert [f for f in findings if f[0].startswith("requirement-")] == [], r.stdout
    assert ("overlay", ["finetune"]) in [(i, c) for i, c, _ in findings], r.stdout
    assert "gradio3-pydantic2" not in [i for i, _, _ in findings]  # pydantic 1 in the overlay

    # One distribution removed from the overlay by hand: finetune's view now has gradio 3.50.2
    # with the base's gradio_client 1.x, and only finetune's check says so.
    aside = ov["dir"].parent / "aside"
    aside.mkdir(exist_ok=True)
    moved = [p for p in ov["dir"].iterdir() if p.name.startswith("gradio_client")]
    assert moved, list(ov["dir"].iterdir())
    try:
        for p in moved:
            shutil.move(str(p), str(aside / p.name))
        r, findings = doctor_views(ov)
        broken = [(c, m) for i, c, m in findings if i == "requirement-conflict"]
        assert broken == [(["finetune"], broken[0][1])], r.stdout
        assert "gradio 3.50.2 requires gradio-client==0.6.1" in broken[0][1]
        assert r.returncode == 1
    finally:
        for p in moved:
            shutil.move(str(aside / p.name), str(p))
        aside.rmdir()
    assert site_hashes(ov["env"]) == ov["before"]


def test_remove_brings_finetune_back_to_the_base(ov):
    r = launch(ov["root"], "overlay", "remove", "finetune")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not ov["dir"].exists()
    st = launch(ov["root"], "overlay", "status")
    assert "finetune: missing" in st.stdout
    f = launch(ov["root"], "finetune")
    assert "has not been made" in f.stderr and "overlay sync finetune" in f.stderr
    assert_everywhere(versions_of(f), "4.44.1", "2")
    assert site_hashes(ov["env"]) == ov["before"]
    again = launch(ov["root"], "overlay", "remove", "finetune")
    assert again.returncode == 0 and "no overlay to remove" in again.stdout


def test_a_fix_for_finetune_that_would_break_server_becomes_an_overlay(ov, tmp_path):
    # The guide's "Option B" (gradio 3.50.2 and pydantic < 2 for finetune) asked of fix for
    # finetune, in an env that server runs from too, and whose script.py needs gradio 4's Timer:
    # fix runs server's imports against the change, finds it broken, and puts the versions into
    # an overlay for finetune instead; the env is never changed. After the remove test above,
    # finetune has no overlay.
    assert not ov["dir"].exists()
    root = make_root(tmp_path / "alltalk_tts", script="from gradio import Timer\nimport pydantic\n",
                     finetune=PROBE)
    (root / "probe.py").write_text(PROBE)
    cfg = write_config(root / "alltalk-launch.toml", None, ov["env"])
    cfg_text = cfg.read_text()
    args = ("fix", "--command", "finetune", "--deep", "--install", "gradio==3.50.2", "pydantic<2")
    dry = launch(root, "--dry-run", *args, timeout=900)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "`server` runs from the same env, and this change would break it" in dry.stdout
    assert "`from gradio import Timer` works for server now, and fails after the change" in dry.stdout
    assert "cannot import name 'Timer'" in dry.stdout
    assert '    [finetune]\n    overlay = ["gradio==3.50.2", "pydantic<2"]\n' in dry.stdout
    assert "--dry-run: nothing was changed." in dry.stdout
    assert cfg.read_text() == cfg_text and not ov["dir"].exists()

    r = launch(root, *args, "--yes", "--json", timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    j = json.loads(r.stdout)
    assert j["overlay"] == {"command": "finetune", "requirements": OVERLAY,
                            "config": str(cfg), "synced": True}
    assert [v["command"] for v in j["other_views"]] == ["server"]
    assert j["other_views"][0]["imports_checked"] and j["applied"] is False
    assert any("Timer" in f["message"] for f in j["other_views"][0]["breaks"]), j["other_views"]
    assert (root / "alltalk-launch.toml.before-fix").read_text() == cfg_text
    assert cfg.read_text() == cfg_text.replace(
        "[finetune]\n", '[finetune]\noverlay = ["gradio==3.50.2", "pydantic<2"]\n')
    assert site_hashes(ov["env"]) == ov["before"]
    assert_everywhere(versions_of(launch(root, "finetune")), "3.50.2", "1")
    server = launch(root, "server")
    assert server.returncode == 0, server.stdout + server.stderr
    assert site_hashes(ov["env"]) == ov["before"]
