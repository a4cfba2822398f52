"""The shape the fix pipeline issue asked for, kept: no function in launcher/, nor in the layers
of the workflows that change an env or start it (bootstrap/fix/, setup/, launch/), is longer than
80 lines (clang-tidy's readability-function-size, run on the build's compile
database), and the command-line layer reaches fix's workflow only through fix/workflow.hpp and
its report, not through the steps' parts."""
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("ALLTALK_BUILD_DIR", ROOT / "build")).resolve()
LIMIT = 80
CONFIG = ("{Checks: '-*,readability-function-size', CheckOptions: "
          f"[{{key: readability-function-size.LineThreshold, value: {LIMIT}}}]}}")


def long_functions(source: Path) -> list:
    tidy = shutil.which("clang-tidy") or shutil.which("clang-tidy-14")
    assert tidy, "clang-tidy is needed (scripts/deps.sh test installs it)"
    r = subprocess.run([tidy, "-p", str(BUILD_DIR), "--quiet", f"--config={CONFIG}", str(source)],
                       capture_output=True, text=True)
    out = r.stdout + r.stderr
    assert "error:" not in out, out  # a file clang-tidy could not read is no pass
    found = re.findall(r"function '(\w+)' exceeds.*?note: (\d+) lines", out, re.S)
    return [f"{source.relative_to(ROOT)}: {name} ({lines} lines)" for name, lines in found]


def test_no_function_of_the_launcher_or_its_workflows_is_longer_than_80_lines():
    assert (BUILD_DIR / "compile_commands.json").is_file(), BUILD_DIR
    sources = sorted((ROOT / "launcher").glob("*.cpp"))
    for layer in ("fix", "setup", "launch"):
        sources += sorted((ROOT / "bootstrap" / layer).glob("*.cpp"))
    compiled = (BUILD_DIR / "compile_commands.json").read_text()
    # The other platform's files are not in this build's database.
    sources = [s for s in sources if str(s) in compiled]
    assert len(sources) > 30
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = [f for fs in pool.map(long_functions, sources) for f in fs]
    assert not found, "\n".join(found)


def test_the_command_line_reaches_fix_through_its_workflow():
    steps_parts = {"fix/pip.hpp", "fix/apply.hpp", "fix/plan.hpp", "fix/predict.hpp",
                   "fix/trial_run.hpp", "fix/views.hpp", "fix/trial.hpp"}
    found = []
    for source in sorted((ROOT / "launcher").glob("*.[ch]pp")):
        for include in re.findall(r'#include "([^"]+)"', source.read_text()):
            if include in steps_parts:
                found.append(f"{source.name}: {include}")
    assert not found, found
