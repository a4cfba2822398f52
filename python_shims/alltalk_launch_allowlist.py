"""torch `weights_only` allow-list: lets torch.load accept the classes that XTTS models and
fine-tuning checkpoints hold, with torch's protection on, at no start-up cost.

Runs after the boot shim, after `site` and before user code, in the launcher's process and in every
child it prepares. It imports neither torch nor TTS nor numpy: a sys.meta_path watcher notices
when torch.serialization or a module named on the list has finished loading, then registers each
listed class with torch.serialization.add_safe_globals once both torch and its module are loaded.
torch.load is wrapped so that a checkpoint whose "Unsupported global" is on the list, but whose
module was not imported yet, has that module imported and registered and is loaded again from the
start. Anything not on the list still fails with torch's own error, followed by the launcher's
explanation.
It never sets TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD and never passes weights_only=False.

Only the watcher is here; the rest (alltalk_launch_allowlist_lazy.py) is compiled when
torch.serialization loads, so a process that never imports torch pays for the watcher alone.
"""

import sys

import alltalk_launch


def _install(plan):
    text = plan.get("torch_safe_globals")
    if not text:
        return
    watched = {line.partition(":")[0] for line in text.split("\n")} | {"torch.serialization"}
    state = {"on_loaded": None, "busy": set()}

    def loaded(name, module):
        # Until torch.serialization loads there is nothing to register with.
        if state["on_loaded"] is None:
            if name != "torch.serialization":
                return
            ns = {"__name__": "alltalk_launch._alltalk_launch_allowlist_lazy"}
            alltalk_launch._exec_lazy("alltalk_launch_allowlist_lazy", ns)
            state["on_loaded"] = ns["make"](plan, text)
        state["on_loaded"](name, module)

    # Finds nothing itself: for watched modules it wraps the real loader's exec_module. A namespace
    # with find_spec is all sys.meta_path needs (no class is made at start).
    def find_spec(name, path=None, target=None):
        if name not in watched or name in state["busy"]:
            return None
        state["busy"].add(name)
        try:
            spec = alltalk_launch._spec_from_others(watcher, name, path, target)
        finally:
            state["busy"].discard(name)
        if spec is None:
            return None
        loader = spec.loader
        if loader is None or isinstance(loader, type) or not hasattr(loader, "exec_module"):
            return spec
        inner = loader.exec_module

        def exec_module(module):
            inner(module)
            try:
                loaded(name, module)
            except Exception:  # never break the import itself
                sys.excepthook(*sys.exc_info())

        loader.exec_module = exec_module
        return spec

    watcher = type(sys.implementation)(find_spec=find_spec, alltalk_launch="allow-list watcher")
    sys.meta_path.insert(0, watcher)
    ser = sys.modules.get("torch.serialization")
    if ser is not None:  # a sitecustomize imported torch before us
        loaded("torch.serialization", ser)


_install(alltalk_launch.plan())
del _install
