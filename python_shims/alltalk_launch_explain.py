"""Failure explanations: after the app's own traceback (printed as is, by the hook it had), the
launcher's rules (shared with `alltalk-launch doctor`) say what happened and how to fix it in this
env (not under `alltalk-launch python`, which is exactly python). Nothing runs at start-up beyond
installing the hook; the rules and the env are read only when something failed. The exit status
is the script's: the hooks print only.

Besides exceptions that reach the top (sys.excepthook), failures the app survives are explained
too: an exception logged at ERROR or above through `logging` (uvicorn's "Exception in ASGI
application", a lifespan failure that starlette hands uvicorn as text, `logger.exception`,
asyncio's default exception handler, which logs through the "asyncio" logger), one printed to
stderr with traceback.print_exc() / print_exception() (gradio's event handlers) and one that ends
a thread (threading.excepthook). Those hooks are installed only as `logging`, `traceback` and
`threading` get imported (a finder that steps aside once all are there), so a script that uses
none of them imports nothing more. The app's own output is unchanged: the note follows it on stderr, once per rule
(or per missing module) per process, never twice for one exception, and for logged failures only
when something is known (no "report this" pointer for what the app chose to survive).
"""

import sys


def _install():
    import alltalk_launch

    # `alltalk-launch python ...` promises exactly python's behaviour: no additions there.
    if alltalk_launch.plan().get("command") == "python":
        return
    # The working part (alltalk_launch_explain_lazy.py) is run the first time a hook needs it;
    # until then only the excepthook and the import watcher below exist (no class is made).
    loaded = []

    def part():
        if not loaded:
            ns = {"__name__": "alltalk_launch._alltalk_launch_explain_lazy"}
            alltalk_launch._exec_lazy("alltalk_launch_explain_lazy", ns)
            loaded.append(ns)
        return loaded[0]

    previous = sys.excepthook

    def hook(tp, value, tb):
        previous(tp, value, tb)
        if tp is None or issubclass(tp, (KeyboardInterrupt, SystemExit)):
            return
        part()["note"](value, tb, "", False)

    hook.__wrapped__ = previous
    sys.excepthook = hook

    # Each module's patch, by the name of its function in the working part.
    pending = {"logging": "patch_logging", "threading": "patch_threading"}
    pending["traceback"] = "patch_traceback"
    for name in list(pending):
        if name in sys.modules:
            part()[pending.pop(name)](sys.modules[name])
    if not pending:
        return

    # The watcher finds nothing itself: for the modules above it asks the other finders and wraps
    # the loader, so that the patch follows the module's own code. A namespace with find_spec is
    # all sys.meta_path needs.
    def find_spec(name, path=None, target=None):
        patch = pending.get(name)
        if patch is None:
            return None
        del pending[name]
        if not pending:
            sys.meta_path.remove(watcher)
        spec = alltalk_launch._spec_from_others(watcher, name, path, target)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            ns = part()
            spec.loader = ns["Patched"](spec.loader, ns[patch])
        return spec

    watcher = type(sys.implementation)(find_spec=find_spec, alltalk_launch="explain watcher")
    sys.meta_path.insert(0, watcher)


_install()
del _install
