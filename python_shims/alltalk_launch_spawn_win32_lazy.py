"""Windows only (run by alltalk_launch_boot.py there): multiprocessing on Windows starts
sys._base_executable instead of sys.executable whenever the two differ
(multiprocessing.popen_spawn_win32.WINENV, meant for venv redirectors), which would start every
worker in the env's python.exe, past the launcher and its preparation. WINENV is turned off as
that module loads; nothing is imported until the app uses it.
"""

import sys


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
