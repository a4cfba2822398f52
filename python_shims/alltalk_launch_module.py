"""How this process was started by alltalk-launch."""

import sys

# The `alltalk_launch` module of every process the launcher prepares, on every platform: the
# launcher's runner (bootstrap/embed/runner.cpp) executes this in the module's namespace, after
# setting __version__, _plan_items (plan() as str values, "" for none), _explain_address, and for
# each shim named *_lazy (run only when asked for: _exec_lazy) its precompiled code in _lazy_code
# (marshal data, where this interpreter reads the build's bytecode) or else its source in
# _lazy_sources.


def _make(items):
    def plan():
        """The resolved launch: root, env, env_kind, command, script, python, launcher, ..."""
        return {key: (value or None) for key, value in items.items()}

    return plan


plan = _make(_plan_items)  # noqa: F821 (set by the runner)
del _make, _plan_items

_explain_address = int(_explain_address)  # noqa: F821 (set by the runner)


def _explain(exception_type, message, traceback, logged=False, line=False):
    """The launcher's explanation of a failure: (key, text), or None when there is nothing to say.
    `logged`: the app logged it and goes on, so a failure nothing explains gets no pointer. An
    empty `exception_type` means: read it from the traceback text. The key is what "once per
    process" counts (a rule id); it may be empty. `line`: a logged line with no traceback, which
    rules match on their patterns alone."""
    if not _explain_address:
        return None
    import ctypes  # only after a failure: nothing is imported at start-up

    proto = ctypes.CFUNCTYPE(
        ctypes.c_size_t,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_size_t,
    )
    fn = proto(_explain_address)
    out = ctypes.create_string_buffer(16384)

    def enc(s):
        return s.encode("utf-8", "replace")

    flags = (1 if logged else 0) | (2 if line else 0)
    n = fn(enc(exception_type), enc(message), enc(traceback), flags, out, len(out))
    if not n:
        return None
    key, _, text = out.value.decode("utf-8", "replace").partition("\n")
    return key, text


def _exec_lazy(name, namespace):
    """Runs a shim kept aside until it is needed (its code unmarshalled, or its source compiled),
    in `namespace`."""
    data = _lazy_code.get(name)  # noqa: F821 (set by the runner)
    if data is not None:
        import marshal  # built in, and loaded already by the import system

        code = marshal.loads(data)
    else:
        source = _lazy_sources[name]  # noqa: F821 (set by the runner)
        code = compile(source, "<alltalk_launch:%s>" % name, "exec", dont_inherit=True)
    exec(code, namespace)


def _spec_from_others(skip, name, path=None, target=None):
    """The spec the other sys.meta_path finders give for `name` (the shims' import watchers find
    nothing themselves; they ask the rest and wrap the loader), or None."""
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if finder is skip or find is None:
            continue
        spec = find(name, path, target)
        if spec is not None:
            return spec
    return None
