"""`alltalk-launch explain` over real reports from public trackers (tests/data/explain_corpus: each
file names its thread, the text as the user pasted it, the explanation it must get and the set
of packages the reporter had), with and without an env; the shapes copying gives a console's
text; bad input; the README's coverage figures; and the reader under libFuzzer."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import make_venv, run_launcher

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE.parent.parent
CORPUS = HERE.parent / "data" / "explain_corpus"
sys.path.insert(0, str(HERE.parent / "support"))
from generated_env import write_dist  # noqa: E402


def load(path: Path) -> dict:
    head, sep, body = path.read_text(encoding="utf-8").partition("# ----\n")
    assert sep, f"{path.name}: no '# ----' line between the header and the text"
    fields = {}
    for line in head.splitlines():
        key, _, value = line[2:].partition(": ")
        fields[key] = value.strip()
    fields["body"] = body
    # What a user pastes into an issue: its title (often the error line) and its text.
    fields["text"] = fields["title"] + "\n" + body
    fields["expect"] = [x.strip() for x in fields.get("expect", "").split(",") if x.strip()]
    fields["env"] = fields.get("env", "").split()
    return fields


REPORTS = sorted(CORPUS.glob("*.txt"))
IDS = [p.stem for p in REPORTS]


def explain(path_or_text, *args, cwd=None, env_dir=None, stdin=False):
    pre = ["--env", env_dir] if env_dir else []
    if stdin:
        r = run_launcher(*pre, "explain", *args, "--json", "-", cwd=cwd, input=path_or_text)
    else:
        r = run_launcher(*pre, "explain", *args, "--json", path_or_text, cwd=cwd)
    return r


def ids_of(r) -> list:
    assert r.returncode in (0, 1), r.stderr
    return [f["id"] for f in json.loads(r.stdout)["failures"] if f["explained"]]


def test_the_corpus_is_real_reports_each_with_its_expectation():
    assert len(REPORTS) >= 40
    for p in REPORTS:
        f = load(p)
        assert re.match(r"https://github\.com/[\w.-]+/[\w.-]+/(issues|pull|discussions)/\d+",
                        f["source"]), p.name
        assert f["expect"], f"{p.name}: no expected explanation"
        assert f["body"].strip(), p.name


@pytest.mark.parametrize("report", REPORTS, ids=IDS)
def test_explained_without_an_env(report, tmp_path):
    f = load(report)
    text = tmp_path / "pasted.txt"
    text.write_text(f["text"], encoding="utf-8")
    r = explain(text, "--no-env", cwd=tmp_path)
    assert r.returncode == 0, (r.stdout, r.stderr)
    got = ids_of(r)
    for want in f["expect"]:
        assert want in got, (want, got)
    out = json.loads(r.stdout)
    assert out["facts"]["from"] == "text"


def consoleish(text: str) -> str:
    """What a Windows console copy and a coloured log do to the text: CRLF, colours around the
    error words, a progress bar's carriage returns."""
    text = re.sub(r"(\w*Error)", "\x1b[91m\\1\x1b[0m", text)
    return "Loading model: 10%\r 50%\r100%\n" + text.replace("\n", "\r\n")


@pytest.mark.parametrize("report", REPORTS, ids=IDS)
def test_explained_from_stdin_as_a_console_gives_it(report, tmp_path):
    f = load(report)
    r = explain(consoleish(f["text"]), "--no-env", cwd=tmp_path, stdin=True)
    assert r.returncode == 0, (r.stdout, r.stderr)
    got = ids_of(r)
    for want in f["expect"]:
        assert want in got, (want, got)


def env_with(tmp_path: Path, packages: list) -> Path:
    """A venv of this machine's Python whose site-packages holds the reporter's set (metadata
    only: explain reads versions, it imports nothing)."""
    venv = make_venv(tmp_path / "env", with_pip=False)
    site = next((venv / "lib").glob("python3.*/site-packages"))
    for spec in packages:
        name, _, version = spec.partition("==")
        write_dist(site, name, version, [])
    return venv


@pytest.mark.parametrize("report", REPORTS, ids=IDS)
def test_explained_with_the_reporters_env(report, tmp_path):
    f = load(report)
    venv = env_with(tmp_path, f["env"])
    text = tmp_path / "pasted.txt"
    text.write_text(f["text"], encoding="utf-8")
    r = explain(text, cwd=tmp_path, env_dir=venv)
    assert r.returncode == 0, (r.stdout, r.stderr)
    out = json.loads(r.stdout)
    assert out["facts"]["from"].startswith("env "), out["facts"]
    got = ids_of(r)
    for want in f["expect"]:
        assert want in got, (want, got)
    for item in out["failures"]:
        assert item["explained"] is False or item["assumes"] == [], item  # an env: no guessing


# The env decides: the same text in an env where the rule's conditions do not hold gets no such
# explanation (and with no env, the explanation says what it assumes).
CONTRARY = [
    ("a04-backends-mapping-tf", ["coqui-tts==0.27.5", "transformers==4.57.5"],
     "transformers5-backend-tf", "If transformers is at least 5: "),
    ("a26-add-safe-globals-rvc", ["torch==2.4.1"], "torch-no-add-safe-globals",
     "If torch is older than 2.4: "),
    ("b01-gradio-bool-not-iterable-pydantic", ["gradio==4.44.1", "pydantic==2.10.6"],
     "gradio4-pydantic211", "If gradio is at least 4 and older than 5, and pydantic is at least 2.11: "),
]


@pytest.mark.parametrize("name,packages,rule,assumption", CONTRARY, ids=[c[0] for c in CONTRARY])
def test_an_env_where_the_rule_does_not_hold_gets_no_such_explanation(name, packages, rule,
                                                                      assumption, tmp_path):
    f = load(CORPUS / f"{name}.txt")
    text = tmp_path / "pasted.txt"
    text.write_text(f["text"], encoding="utf-8")
    r = explain(text, cwd=tmp_path, env_dir=env_with(tmp_path, packages))
    assert rule not in ids_of(r)
    r = explain(text, "--no-env", cwd=tmp_path)
    item = next(x for x in json.loads(r.stdout)["failures"] if x.get("id") == rule)
    assert item["message"].startswith(assumption), item["message"]


def test_in_an_alltalk_folder_the_env_is_found_and_its_python_is_in_the_fix(tmp_path):
    root = tmp_path / "alltalk_tts"
    (root / "system").mkdir(parents=True)
    (root / "tts_server.py").write_text("")
    (root / "script.py").write_text("")
    venv = make_venv(root / "alltalk_environment" / "env", with_pip=False)
    site = next((venv / "lib").glob("python3.*/site-packages"))
    write_dist(site, "torch", "2.2.2", [])
    write_dist(site, "safetensors", "0.6.1", [])
    f = load(CORPUS / "a08-torch-uint64-safetensors.txt")
    r = run_launcher("explain", "-", cwd=root, input=f["text"])
    assert r.returncode == 0, r.stderr
    assert "[safetensors061-old-torch]" in r.stdout
    assert f"{venv}/bin/python -m pip install 'safetensors>=0.6.2'" in r.stdout
    assert "versions: safetensors 0.6.1, torch 2.2.2" in r.stdout


def test_text_with_no_failure_exits_1_with_the_report_pointer(tmp_path):
    r = run_launcher("explain", "--no-env", "-", cwd=tmp_path,
                     input="[AllTalk TTS] Server Ready\nall good\n")
    assert r.returncode == 1
    assert r.stdout == ""
    assert "recognised no failure" in r.stderr and "doctor --report" in r.stderr


def test_a_traceback_nothing_knows_is_listed_as_not_recognised(tmp_path):
    text = ("Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n"
            "ZeroDivisionError: division by zero\n")
    r = run_launcher("explain", "--no-env", "-", cwd=tmp_path, input=text)
    assert r.returncode == 1
    assert "<stdin>:1: ZeroDivisionError: division by zero" in r.stdout
    assert "not recognised" in r.stdout
    assert "tracebacks found, none known" in r.stderr


@pytest.mark.parametrize("what", ["missing", "folder"])
def test_unreadable_input_is_a_clear_error_with_status_2(what, tmp_path):
    target = tmp_path / "nothere.txt" if what == "missing" else tmp_path
    r = run_launcher("explain", str(target), cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("alltalk-launch: error: ")
    assert "terminate" not in r.stderr and "what()" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_binary_and_odd_input_never_crashes(tmp_path):
    blobs = [bytes(range(256)) * 64, b"\x1b[" * 5000, b"Traceback (most recent call last):\n" * 3000,
             b"\r" * 10000, b"During handling of the above exception, another exception occurred:"
             b"\n\nTraceback (most recent call last):\n" * 500, b"", b"\x00" * 1000]
    for i, blob in enumerate(blobs):
        p = tmp_path / f"blob{i}"
        p.write_bytes(blob)
        r = subprocess.run([os.environ["ALLTALK_LAUNCH_BIN"], "explain", "--no-env", str(p)],
                           capture_output=True, timeout=60, cwd=tmp_path)
        assert r.returncode in (0, 1), (i, r.stderr[-2000:])


def test_the_readme_reports_the_corpus_coverage(tmp_path):
    explained = 0
    for p in REPORTS:
        f = load(p)
        text = tmp_path / "t.txt"
        text.write_text(f["text"], encoding="utf-8")
        if explain(text, "--no-env", cwd=tmp_path).returncode == 0:
            explained += 1
    readme = (SOURCE_DIR / "README.md").read_text()
    assert f"{explained} of the {len(REPORTS)} reports" in readme


# ---- fuzzing -----------------------------------------------------------------------------------

FUZZ_SECONDS = int(os.environ.get("ALLTALK_FUZZ_SECONDS", "30"))
FUZZ_SOURCES = ["diagnose/pasted.cpp", "diagnose/explain_text.cpp", "diagnose/explain.cpp",
                "diagnose/rules.cpp", "diagnose/import_failure.cpp", "pypa/pep440.cpp",
                "pypa/pep508.cpp", "pypa/site_packages.cpp", "base/text.cpp", "base/error.cpp",
                "os/inputs.cpp", "os/inputs_posix.cpp"]


def test_fuzz_the_reader(tmp_path):
    clang = shutil.which("clang++-14") or shutil.which("clang++")
    assert clang, "clang is needed (scripts/deps.sh test installs clang-14 and libclang-rt-14-dev)"
    build = Path(os.environ["ALLTALK_BUILD_DIR"])
    fuzzer = tmp_path / "fuzz_explain"
    subprocess.run([clang, "-std=c++20", "-g", "-O1", "-fsanitize=fuzzer,address,undefined",
                    "-fno-sanitize-recover=all", "-I", str(SOURCE_DIR / "bootstrap"),
                    "-I", str(build / "bootstrap" / "generated"),
                    str(SOURCE_DIR / "tests" / "fuzz" / "fuzz_explain.cpp"),
                    *(str(SOURCE_DIR / "bootstrap" / s) for s in FUZZ_SOURCES), "-o",
                    str(fuzzer)], check=True, timeout=900)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for p in REPORTS:
        (corpus / p.name).write_text(load(p)["text"], encoding="utf-8")
    r = subprocess.run([str(fuzzer), f"-max_total_time={FUZZ_SECONDS}", "-rss_limit_mb=1024",
                        "-timeout=10", "-max_len=65536", f"-artifact_prefix={tmp_path}/",
                        str(corpus)],
                       capture_output=True, text=True, timeout=FUZZ_SECONDS + 300, cwd=tmp_path,
                       env={**os.environ, "ASAN_OPTIONS": "quarantine_size_mb=16"})
    tail = r.stderr[-3000:]
    assert r.returncode == 0, tail
    assert re.search(r"Done \d+ runs in \d+ second", r.stderr), tail
