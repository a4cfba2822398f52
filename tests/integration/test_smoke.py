from conftest import run_launcher


def test_version_names_the_embedded_python():
    r = run_launcher("--version")
    assert r.returncode == 0
    assert "alltalk-launch" in r.stdout and "Python 3.11" in r.stdout
