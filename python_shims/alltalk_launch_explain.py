"""Failure explanations: after the app's own traceback (printed as is, by the hook it had), the
launcher's rules (shared with `alltalk-launch doctor`) say what happened and how to fix it in this
env (not under `alltalk-launch python`, which is exactly python). Nothing runs at start-up beyond
installing the hook; the rules and the env are read only when an exception reaches the top. The
exit status is the script's: the hook prints only."""

import sys


def _install():
    import alltalk_launch

    # `alltalk-launch python ...` promises exactly python's behaviour: no additions there.
    if alltalk_launch.plan().get("command") == "python":
        return
    previous = sys.excepthook

    def hook(tp, value, tb):
        previous(tp, value, tb)
        if tp is None or issubclass(tp, (KeyboardInterrupt, SystemExit)):
            return
        try:
            import traceback

            text = "".join(traceback.format_exception(tp, value, tb))
            name = getattr(tp, "__module__", "") + "." + getattr(tp, "__qualname__", "")
            note = alltalk_launch._explain(name, str(value), text)
        except Exception:
            return
        if note:
            try:
                sys.stderr.write("\n" + note)
                sys.stderr.flush()
            except Exception:
                pass

    hook.__wrapped__ = previous
    sys.excepthook = hook


_install()
del _install
