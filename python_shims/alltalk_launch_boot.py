"""Runs inside every interpreter that alltalk-launch starts, after `site` and before user code.

It must stay cheap: no imports beyond `sys` and the embedded `alltalk_launch` module (the Windows
multiprocessing fix below imports importlib.util only when the app starts a worker).
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
    # multiprocessing on Windows starts sys._base_executable instead of sys.executable whenever
    # the two differ (multiprocessing.popen_spawn_win32.WINENV, meant for venv redirectors), which
    # would start every worker in the env's python.exe, past the launcher and its preparation.
    # WINENV is turned off as that module loads; nothing is imported until the app uses it.
    class _SpawnWatcher:
        name = "multiprocessing.popen_spawn_win32"

        @classmethod
        def find_spec(cls, name, path=None, target=None):
            if name != cls.name:
                return None
            sys.meta_path.remove(cls)
            from importlib.util import find_spec

            spec = find_spec(name)
            if spec is not None and spec.loader is not None:
                spec.loader = _SpawnLoader(spec.loader)
            return spec

    class _SpawnLoader:
        def __init__(self, inner):
            self.inner = inner

        def create_module(self, spec):
            return self.inner.create_module(spec)

        def exec_module(self, module):
            self.inner.exec_module(module)
            module.WINENV = False

    sys.meta_path.insert(0, _SpawnWatcher)

del _plan
