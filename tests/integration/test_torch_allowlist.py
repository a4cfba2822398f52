"""The torch weights_only allow-list with real torch (the oldest with add_safe_globals and the
newest) and real coqui-tts classes: an XTTS-shaped fine-tuning checkpoint saved with torch.save
fails to load in plain python and loads through the launcher, in the main script, in a
sys.executable child and in a multiprocessing spawn worker, with and without `import TTS` first."""
import subprocess
import textwrap

import pytest

from conftest import BASE_PYTHON, clean_env, run_launcher
import torch_envs


@pytest.fixture(scope="module", params=torch_envs.TORCH_ENVS)
def env(request):
    venv = torch_envs.torch_env(request.param, str(BASE_PYTHON))
    version = torch_envs.torch_version(venv)
    return {"venv": venv, "version": version, "kw": torch_envs.load_kwargs(version)}


@pytest.fixture(scope="module")
def work(env, tmp_path_factory):
    d = tmp_path_factory.mktemp("allowlist")
    torch_envs.write_checkpoint(env["venv"], d / "xtts finetune.pth")
    (d / "usermod.py").write_text(torch_envs.USERMOD)
    subprocess.run([str(torch_envs.env_python(env["venv"])), "-c", torch_envs.MAKE_USER_CHECKPOINT,
                    str(d / "user.pth")], check=True, cwd=d, env=clean_env())
    return d


def load_code(env, path, import_tts=False):
    pre = "import TTS.tts.models.xtts\n" if import_tts else ""
    return pre + textwrap.dedent(f"""\
        import sys, torch
        assert 'TTS' not in sys.modules or {import_tts!r}
        c = torch.load({str(path)!r}{env["kw"]})
        print("LOADED", type(c["config"]).__name__, c["config"].datasets[0].path, int(c["step"]),
              type(c["config"].model_args).__name__, float(c["model_loss"]["avg_loss"]))
        """)


LOADED = "LOADED XttsConfig /data/voice 1000 XttsArgs 0.25"


def launch(env, *args, cwd, **kw):
    return run_launcher("--env", env["venv"], *args, cwd=cwd, timeout=600, **kw)


def test_plain_python_refuses_the_checkpoint(env, work):
    # Proves the other tests can fail: without the launcher torch's protection refuses the file.
    r = subprocess.run([str(torch_envs.env_python(env["venv"])), "-c",
                        load_code(env, work / "xtts finetune.pth")], capture_output=True,
                       text=True, cwd=work, env=clean_env())
    assert r.returncode != 0
    assert "Unsupported global" in r.stderr and "TTS.tts.configs.xtts_config" in r.stderr


@pytest.mark.parametrize("import_tts", [False, True], ids=["lazy", "tts-imported"])
def test_loads_in_the_main_script(env, work, import_tts):
    script = work / f"main_{import_tts}.py"
    script.write_text(load_code(env, work / "xtts finetune.pth", import_tts))
    r = launch(env, "python", script, cwd=work)
    assert r.returncode == 0, r.stderr
    assert LOADED in r.stdout


@pytest.mark.parametrize("import_tts", [False, True], ids=["lazy", "tts-imported"])
def test_loads_in_a_sys_executable_child(env, work, import_tts):
    child = load_code(env, work / "xtts finetune.pth", import_tts)
    script = work / f"parent_{import_tts}.py"
    script.write_text(f"import subprocess, sys\n"
                      f"sys.exit(subprocess.run([sys.executable, '-c', {child!r}]).returncode)\n")
    r = launch(env, "python", script, cwd=work)
    assert r.returncode == 0, r.stderr
    assert LOADED in r.stdout


def test_loads_in_a_multiprocessing_spawn_worker(env, work):
    script = work / "spawn.py"
    script.write_text(textwrap.dedent(f"""\
        import multiprocessing as mp
        import sys

        def work(path):
            import torch
            c = torch.load(path{env["kw"]})
            return type(c["config"]).__name__, int(c["step"]), "TTS" in sys.modules

        if __name__ == "__main__":
            with mp.get_context("spawn").Pool(1) as pool:
                print("WORKER", *pool.apply(work, ({str(work / "xtts finetune.pth")!r},)))
        """))
    r = launch(env, "python", script, cwd=work)
    assert r.returncode == 0, r.stderr
    assert "WORKER XttsConfig 1000 True" in r.stdout


def test_loads_from_a_file_object_after_importing_the_module_on_demand(env, work):
    code = (f"import torch\nwith open({str(work / 'xtts finetune.pth')!r}, 'rb') as f:\n"
            f"    c = torch.load(f{env['kw']})\nprint('LOADED', type(c['config']).__name__)\n")
    r = launch(env, "python", "-c", code, cwd=work)
    assert r.returncode == 0, r.stderr
    assert "LOADED XttsConfig" in r.stdout


def test_a_global_not_on_the_list_still_fails_with_the_explanation(env, work):
    code = f"import torch\ntorch.load({str(work / 'user.pth')!r}{env['kw']})\n"
    r = launch(env, "python", "-c", code, cwd=work)
    assert r.returncode != 0
    assert "Unsupported global: GLOBAL usermod.UserMeta" in r.stderr  # torch's own error
    after = r.stderr[r.stderr.index("Unsupported global"):]
    assert "alltalk-launch: the checkpoint needs the global usermod.UserMeta" in after
    assert 'safe_globals = ["usermod.UserMeta"]' in after
    assert "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD" in after


def test_a_config_entry_lets_a_user_class_load(env, work):
    config = work / "user-config.toml"
    config.write_text('[torch]\nsafe_globals = ["usermod.UserMeta"]\n')
    code = (f"import torch\nc = torch.load({str(work / 'user.pth')!r}{env['kw']})\n"
            f"print('USER', c['meta'].name)\n")
    r = launch(env, "--config", config, "python", "-c", code, cwd=work)
    assert r.returncode == 0, r.stderr
    assert "USER voice" in r.stdout


def test_startup_imports_neither_torch_nor_tts_nor_numpy(env, work):
    code = ("import sys\nprint('LOADED-AT-START', sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('torch', 'TTS', 'numpy')))\n")
    r = launch(env, "-v", "python", "-c", code, cwd=work)
    assert r.returncode == 0, r.stderr
    assert "LOADED-AT-START []" in r.stdout
    assert "weights_only allow-list active" not in r.stderr  # nothing happened before torch


def test_verbose_reports_the_list_and_the_activation(env, work):
    r = launch(env, "-v", "python", "-c", "import torch", cwd=work)
    assert r.returncode == 0, r.stderr
    assert "torch allow-list: TTS.tts.configs.xtts_config.XttsConfig (default)" in r.stderr
    assert f"torch {env['version']}" in r.stderr
    assert "weights_only allow-list active" in r.stderr


def test_coexists_with_the_guides_sitecustomize(env, work, tmp_path):
    # torch and TTS are imported by a sitecustomize before the launcher's shim runs.
    overlay = torch_envs.overlay_env(env["venv"], tmp_path / "with sitecustomize", str(BASE_PYTHON),
                                     torch_envs.GUIDE_SITECUSTOMIZE)
    code = load_code(env, work / "xtts finetune.pth", import_tts=True)
    r = run_launcher("--env", overlay, "python", "-c", code, cwd=work, timeout=600)
    assert r.returncode == 0, r.stderr
    assert LOADED in r.stdout
    code = f"import torch\ntorch.load({str(work / 'user.pth')!r}{env['kw']})\n"
    r = run_launcher("--env", overlay, "python", "-c", code, cwd=work, timeout=600)
    assert r.returncode != 0 and "alltalk-launch: the checkpoint needs the global" in r.stderr


def test_a_dangerous_config_entry_is_refused_before_python_starts(tmp_path, venv_env):
    config = tmp_path / "alltalk-launch.toml"
    config.write_text('[torch]\nsafe_globals = [\n  "mypkg.Config",\n  "builtins.eval",\n]\n')
    for args in (["--dry-run", "python"], ["python", "-c", "print('STARTED')"]):
        r = run_launcher("--env", venv_env, "--config", config, *args,
                         cwd=tmp_path)
        assert r.returncode == 2
        assert "STARTED" not in r.stdout
        assert '"builtins.eval"' in r.stderr and f"{config}:4" in r.stderr
        assert "Traceback" not in r.stderr


def test_dry_run_shows_the_active_list(tmp_path, venv_env):
    config = tmp_path / "alltalk-launch.toml"
    config.write_text('[torch]\nsafe_globals = ["mypkg.configs.MyConfig"]\n')
    r = run_launcher("--env", venv_env, "--config", config, "--dry-run",
                     "python", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "torch weights_only allow-list" in r.stdout
    assert "TTS.tts.configs.xtts_config.XttsConfig  (default)" in r.stdout
    assert f"mypkg.configs.MyConfig  ({config}:2)" in r.stdout


def test_torch_without_add_safe_globals_is_left_alone_and_says_so(tmp_path):
    # torch 2.3 has no add_safe_globals and loads full pickles: the shim registers nothing, leaves
    # torch.load as it is, and says so with -v.
    venv = torch_envs.cached_venv.ensure(
        "torch-pre-allowlist", torch_envs.REQUIREMENTS / "torch-pre-allowlist.txt",
        str(BASE_PYTHON), no_deps=True)
    ckpt = tmp_path / "old.pth"
    subprocess.run([str(torch_envs.env_python(venv)), "-c",
                    "import sys, collections, numpy, torch\n"
                    "torch.save({'w': torch.ones(2), 'd': collections.defaultdict(int),"
                    " 'step': numpy.int64(3)}, sys.argv[1])", str(ckpt)], check=True,
                   env=clean_env())
    code = (f"import torch\nc = torch.load({str(ckpt)!r})\n"
            "print('LOADED', int(c['step']), getattr(torch.load, '_alltalk_launch_wrapped', False))\n")
    r = run_launcher("--env", venv, "-v", "python", "-c", code, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "LOADED 3 False" in r.stdout
    assert "torch 2.3.1" in r.stderr and "has no torch.serialization.add_safe_globals" in r.stderr
    assert "allow-list active" not in r.stderr
