"""The torch part of the weights_only allow-list (alltalk_launch_allowlist.py): registering the
listed classes with torch.serialization.add_safe_globals, and torch.load's retry and explanation.
Kept as source and compiled only when torch.serialization loads (alltalk_launch._exec_lazy):
nothing of it is read in a process that never imports torch.
"""

import sys


def make(plan, text):
    """The hook the watcher calls after each watched module has loaded: on_loaded(name, module)."""
    verbose = bool(plan.get("verbose"))
    config = plan.get("config")

    entries = {}  # "module.qualname" -> (module, qualname)
    by_module = {}  # module -> ["module.qualname", ...]
    for line in text.split("\n"):
        module, _, qualname = line.partition(":")
        full = module + "." + qualname
        entries[full] = (module, qualname)
        by_module.setdefault(module, []).append(full)
    state = {"ser": None, "tuples": False}

    def say(message):
        if verbose:
            print("alltalk-launch: " + message, file=sys.stderr, flush=True)

    def resolve(full):
        module, qualname = entries[full]
        obj = sys.modules.get(module)
        if obj is None:
            return None
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj

    def register(fulls):
        ser = state["ser"]
        items = []
        for full in fulls:
            obj = resolve(full)
            if obj is None:
                continue
            # torch matches a registered class by its own module and name; where the pickled path
            # differs (numpy 1 paths under numpy 2), torch >= 2.5 accepts (object, "path").
            own = "%s.%s" % (getattr(obj, "__module__", None), getattr(obj, "__qualname__", None))
            items.append((obj, full) if state["tuples"] and own != full else obj)
        if items:
            ser.add_safe_globals(items)

    def on_torch_serialization(ser):
        version = getattr(sys.modules.get("torch.version"), "__version__", "?")
        if not hasattr(ser, "add_safe_globals"):
            say(
                "torch %s has no torch.serialization.add_safe_globals (added in 2.4): its "
                "torch.load reads full pickles by default, so the allow-list is not needed and "
                "nothing was registered" % version
            )
            return
        wo = sys.modules.get("torch._weights_only_unpickler")
        user_globals = getattr(wo, "_get_user_allowed_globals", None)
        state["tuples"] = bool(user_globals) and "tuple" in user_globals.__code__.co_names
        state["ser"] = ser
        _wrap_load(ser)
        register([f for m, fs in by_module.items() if m in sys.modules for f in fs])
        say(
            "torch %s: weights_only allow-list active (%d entries); each is registered with "
            "add_safe_globals once its module is loaded" % (version, len(entries))
        )

    def on_loaded(name, module):
        if name == "torch.serialization":
            on_torch_serialization(module)
        if state["ser"] is not None and name in by_module:
            register(by_module[name])

    # ---- torch.load: resolve allow-listed globals on demand, explain the rest -------------------

    def unsupported_global(error):
        marker = "Unsupported global: GLOBAL "
        text = str(error)
        at = text.find(marker)
        if at < 0:
            return None
        rest = text[at + len(marker) :].split()
        return rest[0] if rest else None

    def import_and_register(full):
        module = entries[full][0]
        try:
            __import__(module)
        except Exception as exc:  # the module's own import error, reported in the note
            return "it is on the allow-list, but its module %s could not be imported (%s: %s)" % (
                module,
                type(exc).__name__,
                exc,
            )
        if resolve(full) is None:
            return "it is on the allow-list, but %s has no attribute %s" % (
                module,
                entries[full][1],
            )
        register([full])
        return None

    def explain(error, full, why):
        where = config or "alltalk-launch.toml in your AllTalk folder"
        if why:
            note = "alltalk-launch: the checkpoint needs the global %s; %s." % (full, why)
        else:
            note = (
                "alltalk-launch: the checkpoint needs the global %s, which is not on the "
                "launcher's torch allow-list, so torch refused it (weights_only loading keeps "
                "checkpoints from running code). If you trust this file and %s is a plain class "
                "(a config or data holder, not a function), add it to %s:\n"
                "    [torch]\n"
                '    safe_globals = ["%s"]\n'
                "and start again. Do not set TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD: it turns the "
                "protection off for every file." % (full, full, where, full)
            )
        if hasattr(error, "add_note"):
            error.add_note(note)
        else:
            error.args = (str(error) + "\n\n" + note,) + tuple(error.args[1:])

    def _wrap_load(ser):
        original = ser.load
        if getattr(original, "_alltalk_launch_wrapped", False):
            return
        import os
        import pickle

        def load(f, *args, **kwargs):
            rewind = None
            if not isinstance(f, (str, bytes, os.PathLike)):
                try:
                    start = f.tell()
                    rewind = lambda: f.seek(start)  # noqa: E731
                except Exception:
                    rewind = None
            else:
                rewind = lambda: None  # noqa: E731
            tried = set()
            while True:
                try:
                    return original(f, *args, **kwargs)
                except pickle.UnpicklingError as error:
                    full = unsupported_global(error)
                    if full is None:
                        raise
                    why = None
                    if full in entries:
                        if full in tried:
                            why = (
                                "it is on the allow-list and was registered, but this torch "
                                "still refuses it (older torch matches classes only by the "
                                "module they report, %r)"
                                % (getattr(resolve(full), "__module__", None),)
                            )
                        else:
                            tried.add(full)
                            why = import_and_register(full)
                            if why is None and rewind is None:
                                why = (
                                    "its module is now loaded, but the file object cannot be "
                                    "rewound to read it again: call torch.load again"
                                )
                            if why is None:
                                rewind()
                                continue
                    explain(error, full, why)
                    raise

        load.__wrapped__ = original
        load.__doc__ = original.__doc__
        load.__name__ = original.__name__
        load.__qualname__ = original.__qualname__
        load.__module__ = original.__module__
        load._alltalk_launch_wrapped = True
        ser.load = load
        torch = sys.modules.get("torch")
        if torch is not None and getattr(torch, "load", None) is original:
            torch.load = load

    return on_loaded
