"""The functions a start runs lie together at the front of the launcher's .text (CMakeLists.txt,
ALLTALK_START_ORDER: lld with launcher/start_order.txt, written by bench/start_order.py), so that a
start faults in a few 64 KB windows of the code instead of most of its 3.4 MB."""
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import LAUNCHER

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("ALLTALK_BUILD_DIR", "build")).resolve()
ORDER = ROOT / "launcher" / "start_order.txt"


def cache_value(name):
    text = (BUILD_DIR / "CMakeCache.txt").read_text()
    m = re.search(rf"^{name}:[A-Z]+=(.*)$", text, re.M)
    return m.group(1) if m else None


def ordered_build():
    return cache_value("ALLTALK_START_ORDER") == "ON" and cache_value("ALLTALK_HAVE_LLD") == "1"


def text_section():
    out = subprocess.run(["readelf", "-SW", str(LAUNCHER)], check=True, capture_output=True,
                         text=True).stdout
    m = re.search(r"\]\s+\.text\s+PROGBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", out)
    return int(m.group(1), 16), int(m.group(2), 16)


def functions():
    out = subprocess.run(["nm", "-S", "--defined-only", str(LAUNCHER)], check=True,
                         capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tTwW":
            found[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
    return found


def listed():
    return [line.strip() for line in ORDER.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


@pytest.mark.skipif(not ordered_build(), reason="built without lld: the start order is not used")
def test_listed_functions_lie_together_at_the_front_of_text():
    text_start, text_size = text_section()
    found = functions()
    names = listed()
    present = [found[n] for n in names if n in found]
    # A stale list costs only speed, but one that mostly misses means it needs making again.
    assert len(present) >= 0.8 * len(names), (
        f"only {len(present)} of {len(names)} listed functions are in the launcher: run "
        "bench/start_order.py")
    first = min(a for a, _ in present)
    end = max(a + s for a, s in present)
    # At the front, and together: what lies between them is little more than their own size
    # (alignment padding), where unordered they spread over all of .text.
    assert first - text_start < 64 * 1024, hex(first - text_start)
    assert end - first < 1.25 * sum(s for _, s in present) + 64 * 1024, (end - first, text_size)
    assert end - first < text_size / 2


def test_the_list_names_the_start_path():
    # What a repeated start runs first: the role, the remembered hint, the plan, the interpreter.
    names = listed()
    for needle in ("main", "read_launch_hint", "make_plan", "run_interpreter"):
        assert any(needle in n for n in names), needle
