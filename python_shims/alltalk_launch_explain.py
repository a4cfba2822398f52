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
    explain = alltalk_launch._explain
    said = {}  # keys of what was explained: each once per process
    looked_at = []  # (id(exception), id(traceback)) of exceptions noted; ids only, no references
    busy = []  # set while a note is being made (the note itself may be logged by the app)

    def note(value, tb, text, logged):
        """Explains one failure; `value` is the exception (None for a traceback seen as text)."""
        if busy:
            return
        ident = (id(value), id(value.__traceback__)) if value is not None else None
        if ident is not None and ident in looked_at:
            return
        busy.append(1)
        try:
            if value is not None:
                import traceback

                text = "".join(traceback.format_exception(type(value), value, tb))
                tp = type(value)
                name = getattr(tp, "__module__", "") + "." + getattr(tp, "__qualname__", "")
                result = explain(name, str(value), text, logged)
            else:
                result = explain("", "", text, logged)
            if not result:
                return
            key, message = result
            if key and said.setdefault(key, ident) != ident:
                return  # this rule (or this missing module) was explained already
            if ident is not None:
                looked_at.append(ident)
                del looked_at[:-64]
            sys.stderr.write("\n" + message)
            sys.stderr.flush()
        except Exception:
            pass
        finally:
            busy.clear()

    previous = sys.excepthook

    def hook(tp, value, tb):
        previous(tp, value, tb)
        if tp is None or issubclass(tp, (KeyboardInterrupt, SystemExit)):
            return
        note(value, tb, "", False)

    hook.__wrapped__ = previous
    sys.excepthook = hook

    def patch_logging(logging):
        original = logging.Logger.callHandlers
        level = logging.ERROR

        def callHandlers(self, record):
            original(self, record)  # the app's output first, exactly as it is
            if record.levelno < level or busy:
                return
            exc = record.exc_info
            if exc and exc[1] is not None:
                note(exc[1], exc[2], "", True)
                return
            try:
                text = record.getMessage()
            except Exception:
                return
            if "Traceback (most recent call last):" in text:
                note(None, None, text, True)

        callHandlers.__wrapped__ = original
        logging.Logger.callHandlers = callHandlers

    def patch_threading(threading):
        previous = threading.excepthook

        def thread_hook(args):
            previous(args)
            if args.exc_type is None or issubclass(args.exc_type, SystemExit):
                return
            note(args.exc_value, args.exc_traceback, "", True)

        thread_hook.__wrapped__ = previous
        threading.excepthook = thread_hook

    def patch_traceback(traceback):
        # gradio prints the failures of event handlers with traceback.print_exc() (its queue and
        # routes), to stderr; what is printed into another file (logging's formatter writes
        # into a StringIO) is not a failure shown to the user.
        original = traceback.print_exception

        def print_exception(*args, **kwargs):
            original(*args, **kwargs)
            out = kwargs.get("file", args[4] if len(args) > 4 else None)
            if busy or (out is not None and out is not sys.stderr):
                return
            given = [kwargs.get("value"), args[1] if len(args) > 1 else None]
            given.append(args[0] if args else kwargs.get("exc"))
            value = next((v for v in given if isinstance(v, BaseException)), None)
            if value is None or isinstance(value, (KeyboardInterrupt, SystemExit)):
                return
            note(value, value.__traceback__, "", True)

        print_exception.__wrapped__ = original
        print_exception.__doc__ = original.__doc__
        traceback.print_exception = print_exception

    pending = {"logging": patch_logging, "threading": patch_threading}
    pending["traceback"] = patch_traceback
    for name in list(pending):
        if name in sys.modules:
            pending.pop(name)(sys.modules[name])
    if not pending:
        return

    class _Patched:
        """The real loader, then the patch; the module keeps the real loader as its own."""

        def __init__(self, inner, patch):
            self.inner = inner
            self.patch = patch

        def __getattr__(self, attr):
            return getattr(self.inner, attr)

        def create_module(self, spec):
            return self.inner.create_module(spec)

        def exec_module(self, module):
            module.__loader__ = self.inner
            if getattr(module, "__spec__", None) is not None:
                module.__spec__.loader = self.inner
            self.inner.exec_module(module)
            try:
                self.patch(module)
            except Exception:
                pass

    class _Watcher:
        @staticmethod
        def find_spec(name, path=None, target=None):
            patch = pending.get(name)
            if patch is None:
                return None
            del pending[name]
            if not pending:
                sys.meta_path.remove(_Watcher)
            spec = alltalk_launch._spec_from_others(_Watcher, name, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _Patched(spec.loader, patch)
            return spec

    sys.meta_path.insert(0, _Watcher)


_install()
del _install
