"""The probe of `alltalk-launch doctor --deep`: imports what the command imports at start.

It is not one of the start-up shims: the doctor writes it to a folder of its own and starts the
launcher as the command's launch with `--deep-probe FOLDER`, so the launcher runs this file in
place of the command's script, in a process prepared exactly as that launch (the same plan:
allow-list, cuDNN, environment, child plan; see launcher/deep_check.cpp). It reads the script's
(and, for `server`, tts_server.py's) module-level imports with `ast` (those in a module-level
`if` or `try` too, marked so), adds torch, torchaudio and TTS's XTTS modules when they are
installed, and runs each import statement by itself, timed. Each step is written as one JSON line
to FOLDER/results.jsonl before ("begin") and after ("end") it runs, so that the doctor can tell
which import hangs (it kills the process past the timeout and starts again after that import) or
crashed. With GPUs the doctor asks for torch.cuda.is_available() and a tiny operation on each.
"""

import ast
import json
import os
import sys
import time
import traceback


def imports_of(path):
    """(statement node, its text, module, optional, conditional, catches) for each module-level
    import: `catches` names the exception classes of the `try` statements around it (None for a
    bare `except`), so that a failure those catch (tts_server.py's `except OSError` around
    `import sounddevice`) counts as optional too."""
    with open(path, "rb") as f:
        tree = ast.parse(f.read(), filename=path)
    found = []

    def walk(body, optional, conditional, catches=()):
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                if isinstance(node, ast.ImportFrom) and node.level:
                    continue  # relative: the scripts are not packages
                if isinstance(node, ast.Import):
                    module = node.names[0].name
                else:
                    module = node.module or ""
                found.append((node, ast.unparse(node), module, optional, conditional, catches))
            elif isinstance(node, ast.If):
                known = platform_test(node.test)
                if known is None:
                    walk(node.body, optional, True, catches)
                    walk(node.orelse, optional, True, catches)
                else:  # `if sys.platform == "win32":` and the like: only the branch that runs
                    walk(node.body if known else node.orelse, optional, conditional, catches)
            elif isinstance(node, ast.Try):
                caught = any(handles_import_error(h) for h in node.handlers)
                names = tuple(n for h in node.handlers for n in handler_names(h))
                walk(node.body, optional or caught, conditional, catches + names)
                walk(node.orelse, optional, conditional, catches)
                walk(node.finalbody, optional, conditional, catches)

    walk(tree.body, False, False)
    return found


def platform_test(test):
    """The value of an `if` test that only looks at the platform (sys.platform, os.name,
    platform.system() and the like, compared with constants); None for any other test."""
    allowed = (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Constant, ast.Attribute, ast.Name)
    allowed += (ast.Call, ast.Load, ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.And, ast.Or)
    allowed += (ast.Not, ast.Tuple, ast.List)
    for node in ast.walk(test):
        if not isinstance(node, allowed):
            return None
        if isinstance(node, ast.Name) and node.id not in ("sys", "os", "platform"):
            return None
        if isinstance(node, ast.Call) and (
            node.keywords or not all(isinstance(a, ast.Constant) for a in node.args)
        ):
            return None
        if isinstance(node, ast.Attribute) and node.attr not in (
            "platform",
            "name",
            "system",
            "machine",
            "startswith",
        ):
            return None
    import platform

    try:
        code = compile(ast.Expression(test), "<if>", "eval")
        return bool(eval(code, {"__builtins__": {}, "sys": sys, "os": os, "platform": platform}))
    except Exception:
        return None


def handler_names(handler):
    """The class names an `except` clause names; "BaseException" for a bare one."""
    names = []
    for t in handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]:
        if t is None:
            names.append("BaseException")
        elif isinstance(t, ast.Name):
            names.append(t.id)
        elif isinstance(t, ast.Attribute):
            names.append(t.attr)
    return names


def handles_import_error(handler):
    names = set(handler_names(handler))
    return bool({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"} & names)


def caught_by(error, names):
    """Whether one of the built-in exception classes `names` catches `error`."""
    import builtins

    for name in names:
        cls = getattr(builtins, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException) and isinstance(error, cls):
            return True
    return False


def scripts_of(command, script, root, scripts):
    """Adds the files a command's start imports at top level: its script, and for `server` also
    AllTalk's tts_server.py (which script.py starts)."""
    if script and script not in scripts:
        scripts.append(script)
    if command == "server":
        server = os.path.join(root, "tts_server.py")
        if os.path.isfile(server) and server not in scripts:
            scripts.append(server)


def script_steps(script, seen):
    """The import steps of one script, leaving out the statements in `seen` (and adding its own)."""
    try:
        found = imports_of(script)
    except (OSError, SyntaxError, ValueError) as e:
        return [{"kind": "read", "name": "read " + script, "file": script, "error": e}]
    out = []
    for node, text, module, optional, conditional, catches in found:
        if text in seen:
            continue
        seen.add(text)
        code = ast.Module(body=[node], type_ignores=[])
        out.append(
            {
                "kind": "import",
                "name": text,
                "module": module,
                "file": script,
                "line": node.lineno,
                "optional": optional,
                "conditional": conditional,
                "catches": catches,
                "code": compile(code, script, "exec"),
            }
        )
    return out


def steps(plan, also=()):
    """The steps for the plan's command and, in the same child, for `also`: the further commands
    (each {"command", "script"}) that the doctor found to launch alike (the same env, view and
    native libraries), so that one child imports what all of them import. A statement is run
    once per command whose files hold it (again it costs nothing once imported, and a failed
    import fails again), so that each failure is named with each command it stops."""
    root = plan.get("root") or os.getcwd()
    groups = []
    for command, script in [(plan.get("command"), plan.get("script"))] + [
        (o.get("command"), o.get("script")) for o in also
    ]:
        scripts = []
        scripts_of(command, script, root, scripts)
        groups.append(scripts)
    out, seen = [], set()
    for scripts in groups:
        mine = set()
        for script in scripts:
            out += script_steps(script, mine)
        seen |= mine
    from importlib.util import find_spec

    extras = [("torch", "torch"), ("torchaudio", "torchaudio")]
    extras += [("TTS", "TTS.tts.models.xtts"), ("TTS", "TTS.api")]
    for top, module in extras:
        text = "import " + module
        try:
            present = find_spec(top) is not None
        except (ImportError, ValueError):
            present = False
        if present and text not in seen:
            seen.add(text)
            out.append(
                {
                    "kind": "import",
                    "name": text,
                    "module": module,
                    "file": "",
                    "line": 0,
                    "optional": False,
                    "conditional": False,
                    "code": compile(text, "<alltalk-launch doctor --deep>", "exec"),
                }
            )
    return out


def gpu_check(count):
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError(
            "torch.cuda.is_available() is False although the launcher sees %d GPU(s)" % count
        )
    for i in range(torch.cuda.device_count()):
        x = torch.ones(4, device="cuda:%d" % i)
        value = float((x * 2).sum().item())
        if value != 8.0:
            raise RuntimeError("a tensor operation on cuda:%d gave %r, not 8.0" % (i, value))


def main():
    import alltalk_launch

    folder = sys.argv[1]
    with open(os.path.join(folder, "request.json")) as f:
        request = json.load(f)
    plan = alltalk_launch.plan()
    # As when the script itself runs: its folder first on sys.path, as python puts it.
    if plan.get("script"):
        sys.path[0] = os.path.dirname(os.path.abspath(plan["script"]))
    out = open(os.path.join(folder, "results.jsonl"), "a", encoding="utf-8")

    def emit(record):
        out.write(json.dumps(record) + "\n")
        out.flush()

    todo = steps(plan, request.get("also", ()))
    if request.get("gpus"):
        todo.append({"kind": "gpu", "name": "torch.cuda: a tensor operation on each GPU"})
    emit({"event": "steps", "count": len(todo)})
    for i, step in enumerate(todo):
        if i < request.get("start", 0):
            continue
        fields = {k: v for k, v in step.items() if k not in ("code", "error", "catches")}
        emit(dict(fields, event="begin", i=i))
        t0 = time.perf_counter()
        result = {"status": "ok"}
        try:
            if step["kind"] == "read":
                raise step["error"]
            if step["kind"] == "gpu":
                gpu_check(request["gpus"])
            else:
                exec(step["code"], {"__name__": "__alltalk_deep__"})
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            tp = type(e)
            if caught_by(e, step.get("catches", ())):
                fields["optional"] = True  # the script's own `except` catches this failure
            result = {
                "status": "failed",
                "type": getattr(tp, "__module__", "") + "." + tp.__qualname__,
                "message": str(e),
                "traceback": "".join(traceback.format_exception(tp, e, e.__traceback__)),
            }
        result["seconds"] = time.perf_counter() - t0
        module = sys.modules.get(step.get("module") or "")
        origin = getattr(getattr(module, "__spec__", None), "origin", None)
        if origin:
            result["origin"] = origin
        emit(dict(fields, event="end", i=i, **result))
    emit({"event": "done"})
    out.close()


main()
