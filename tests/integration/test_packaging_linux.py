"""Linux installation and packages: `cmake --install` into a temporary prefix gives a working
launcher (one file: it starts the env's libpython itself, no plugin beside it) and desktop entries that
desktop-file-validate accepts; CPack builds the .tar.gz and the .deb with the same files."""
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import ODD_NAME, clean_env, make_root, run_launcher

BUILD_DIR = Path(os.environ.get("ALLTALK_BUILD_DIR", "build")).resolve()
ACTIONS = ("server", "finetune", "doctor")


@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> Path:
    prefix = tmp_path_factory.mktemp("prefix") / ODD_NAME
    subprocess.run(["cmake", "--install", str(BUILD_DIR), "--prefix", str(prefix)], check=True,
                   capture_output=True)
    return prefix


def test_installed_launcher_runs_python_of_a_venv(prefix, venv_env, tmp_path):
    launcher = prefix / "bin" / "alltalk-launch"
    # The launcher is the one file it needs: nothing installed under lib/.
    assert not (prefix / "lib").exists(), sorted(p.name for p in (prefix / "lib").rglob("*"))
    root = make_root(tmp_path / "alltalk")
    r = run_launcher("--root", root, "--env", venv_env, "python", "-c",
                     "import sys; print(sys.prefix); print(sys.executable)", launcher=launcher)
    assert r.returncode == 0, r.stderr
    sys_prefix, executable = r.stdout.splitlines()[-2:]
    assert Path(sys_prefix) == venv_env
    assert Path(executable) == launcher


def test_desktop_entries_validate_and_run_the_installed_launcher(prefix):
    apps = prefix / "share" / "applications"
    for action in ACTIONS:
        entry = apps / f"alltalk-{action}.desktop"
        r = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
        assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr
        text = entry.read_text()
        assert f'Exec="{prefix / "bin" / "alltalk-launch"}" {action}\n' in text
        assert f"Icon=alltalk-{action}\n" in text
        assert (prefix / "share/icons/hicolor/32x32/apps" / f"alltalk-{action}.png").is_file()


def test_cpack_builds_tgz_and_deb(tmp_path):
    out = tmp_path / "packages"
    r = subprocess.run(["cpack", "--config", str(BUILD_DIR / "CPackConfig.cmake"), "-G", "TGZ;DEB",
                        "-B", str(out)], capture_output=True, text=True, env=clean_env())
    assert r.returncode == 0, r.stdout + r.stderr
    (deb,) = out.glob("alltalk-launch_*_amd64.deb")
    (tgz,) = out.glob("alltalk-launch-*.tar.gz")
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], check=True, capture_output=True,
                             text=True).stdout
    for path in ["./usr/bin/alltalk-launch",
                 *(f"./usr/share/applications/alltalk-{a}.desktop" for a in ACTIONS)]:
        assert path in listing
    assert "./usr/lib/" not in listing, listing
    entry = subprocess.run(f"dpkg-deb --fsys-tarfile '{deb}' | tar -xO "
                           "./usr/share/applications/alltalk-server.desktop", shell=True,
                           check=True, capture_output=True, text=True).stdout
    assert 'Exec="/usr/bin/alltalk-launch" server' in entry
    with tarfile.open(tgz) as tar:
        names = tar.getnames()
    assert any(n.endswith("/bin/alltalk-launch") for n in names)
    assert any(n.endswith("/share/applications/alltalk-doctor.desktop") for n in names)
