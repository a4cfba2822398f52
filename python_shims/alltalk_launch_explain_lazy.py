"""The failure explanations' working part (alltalk_launch_explain.py installs the hooks that call
it): what a note says and when, and the patches of logging, threading and traceback. Run once, the
first time a hook needs it: when an exception reaches sys.excepthook, or as one of those modules
is imported (which for most apps is at start; a script that uses none of them never loads this).
"""

import sys

import alltalk_launch

explain = alltalk_launch._explain
said = {}  # keys of what was explained: each once per process
looked_at = []  # (id(exception), id(traceback)) of exceptions noted; ids only, no references
busy = []  # set while a note is being made (the note itself may be logged by the app)


def note(value, tb, text, logged, line=False):
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
            result = explain("", "", text, logged, line)
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
        # A traceback logged as text, or a line that says what failed without one
        # (logging.error(f"Error loading embedding model: {e}")): the rules' patterns decide.
        note(None, None, text, True, "Traceback (most recent call last):" not in text)

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


class Patched:
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
