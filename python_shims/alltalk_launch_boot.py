"""Runs inside every interpreter that alltalk-launch starts, after `site` and before user code.

It must stay cheap: no imports beyond `sys` and the embedded `alltalk_launch` module (the Windows
multiprocessing fix, alltalk_launch_spawn_win32_lazy.py, is run on Windows only and imports
importlib.util only when the app starts a worker).
"""

import sys

import alltalk_launch

_plan = alltalk_launch.plan()

# Children that the app starts through sys.executable (subprocess, os.execv, multiprocessing's
# spawn) must come back through the launcher so that they get the same preparation as this
# process. The launcher recognises such a child by the ALLTALK_LAUNCH_CHILD variable it set in
# the environment and then behaves exactly like the env's python. sys._base_executable keeps
# pointing at the env's real interpreter.
if _plan.get("launcher"):
    sys.executable = _plan["launcher"]


# The command's overlay (alltalk-launch overlay sync): a folder of the distributions that differ
# for this command, ahead of the env's site-packages, so that imports and importlib.metadata both
# find its versions first. Children get it again through the launcher (ALLTALK_LAUNCH_CHILD).
def _put_overlay_first(overlay, site_packages):
    if overlay in sys.path:
        return
    for i, entry in enumerate(sys.path):
        if entry == site_packages or entry.rstrip("/\\").endswith("site-packages"):
            sys.path.insert(i, overlay)
            return
    sys.path.append(overlay)


def _overlay_pth_files(overlay):
    # The overlay's .pth files, as `site` handles site-packages' own (a path line is appended to
    # sys.path, an `import` line runs): pip --target puts them there (setuptools'
    # distutils-precedence.pth, pywin32's), and site never sees this folder. `site` and `os` are
    # loaded already at this point.
    import os
    import site

    try:
        names = sorted(n for n in os.listdir(overlay) if n.endswith(".pth"))
    except OSError:
        return
    for name in names:
        site.addpackage(overlay, name, None)


if _plan.get("overlay"):
    _put_overlay_first(_plan["overlay"], _plan.get("site_packages"))
    _overlay_pth_files(_plan["overlay"])
del _put_overlay_first, _overlay_pth_files

if sys.platform == "win32" and _plan.get("launcher"):
    # multiprocessing's spawn on Windows (alltalk_launch_spawn_win32_lazy.py says why).
    alltalk_launch._exec_lazy(
        "alltalk_launch_spawn_win32_lazy", {"__name__": "alltalk_launch._spawn_win32"}
    )

del _plan
