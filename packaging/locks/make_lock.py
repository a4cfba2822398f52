#!/usr/bin/env python3.11
"""Make a "proven lock" for an AllTalk checkout: a pip requirements file with
exact pins and sha256 hashes, headed by `# key: value` lines that the launcher
reads, and written only once a fresh venv built from it has passed the checks.

    python3.11 packaging/locks/make_lock.py /path/to/alltalk --alltalk v2 \
        --variant cu130 --out packaging/locks/alltalk-v2-linux_x86_64-cu130.txt --prove

Steps: read the checkout's requirements file; move local-path lines (the fairseq
wheels) to the `local:` header and lock their dependencies instead (data below);
add the known pins (data below, each with its reason; --pin REQ=REASON adds more,
replacing a local dependency of the same name); resolve with
`uv pip compile --generate-hashes` for CPython 3.11 on x86_64-manylinux_2_28;
`pip download` every file to count download-bytes; with --prove: fresh venv from
/usr/bin/python3.11, `pip install --no-deps --require-hashes -r LOCK`, `pip check`,
run the import statements that AllTalk's start files run at top level plus the
checks below, then read torch's CUDA architectures with alltalk-launch --dry-run.
A lock whose proof fails is not written. Tools: --uv (uv binary), --pip-spec (the
pip the proof venv uses). Needs PyPI only. torchaudio.load needs FFmpeg 4-9 shared
libraries (via torchcodec): run with LD_LIBRARY_PATH set if the system lacks them.
"""
import argparse, ast, datetime, hashlib, json, os, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path

INDEX = "https://pypi.org/simple"
FAIRSEQ_0_12_2 = ["cffi", "cython", "hydra-core>=1.0.7,<1.1", "omegaconf<2.1", "numpy", "regex",
                  "sacrebleu>=1.4.12", "torch", "tqdm", "bitarray", "torchaudio>=0.8.0"]  # its setup.py
KNOWN = {
    "v2": dict(
        requirements="system/requirements/requirements_standalone.txt",
        commit="7a59e9c20e65ddb9f50247f400548627762e675b 2025-02-27 alltalkbeta",
        start_files=["script.py", "tts_server.py", "finetune.py"],
        skip={"modules": "text-generation-webui's, only when AllTalk runs as its extension",
              "sounddevice": "needs the system's PortAudio; AllTalk catches the OSError (optional)"},
        local_deps={"fairseq": FAIRSEQ_0_12_2},
        pins=[
            ("pydantic<2.11", "gradio 4.44.1 fails with pydantic 2.11+ (2.11.0, 2.14.4): launch -> /info -> "
             "gradio_client get_type: TypeError: argument of type 'bool' is not iterable"),
            ("huggingface_hub<1.0", "gradio 4.44.1 gradio/oauth.py imports HfFolder, removed in huggingface_hub 1.0 "
             "(ImportError at `import gradio` with 2.4.0)"),
            ("transformers>=4.43.0,<4.49", "coqui-tts 0.24.3 TTS/tts/layers/tortoise/arch_utils.py imports "
             "transformers.LogitsWarper (ImportError with 5.24.0); 4.48.3 is the last wheel exporting it; "
             "coqui-tts declares >=4.43.0"),
            ("pynvml", "finetune.py imports pynvml; no requirements file names it"),
            ("torchcodec", "torchaudio 2.9+ load()/save() go through torchcodec (ImportError: TorchCodec is required); "
             "coqui-tts xtts load_audio calls torchaudio.load; needs FFmpeg 4-9 shared libs at run time"),
            ("hydra-core>=1.3", "for the fairseq wheel, replaces fairseq 0.12.2's hydra-core<1.1: hydra-core 1.0.7-1.2.0 "
             "fail to import on Python 3.11 (ValueError: mutable default ... OverrideDirname)"),
            ("omegaconf>=2.1", "for the fairseq wheel, replaces fairseq 0.12.2's omegaconf<2.1: omegaconf 2.0.1-2.0.6 "
             "declare PyYAML>=5.1.* which pip>=24.1 rejects even with --no-deps; hydra-core 1.3 needs 2.2+"),
        ],
        extra_imports=["import TTS.api", "import TTS.utils.synthesizer", "import whisper", "import spacy",
                       "import plotly.graph_objects", "import scipy.signal", "import cutlet", "import fugashi",
                       "import pypinyin", "import hangul_romanize", "import num2words", "import matplotlib.pyplot",
                       "import hydra.core.config_store", "import omegaconf", "import piper",
                       "import system.tts_engines.xtts.model_engine"]),
    "v1": dict(requirements="system/requirements/requirements_standalone.txt",
               commit="492dbe58c04794567241cb425342e695990cf268 main",
               start_files=["script.py", "tts_server.py", "finetune.py"], skip={"modules": ""}, local_deps={}, pins=[], extra_imports=[]),
}
VARIANTS = {
    "cu130": dict(cuda="13.0", pins=[
        ("torch<2.15", "torch 2.15.0 on PyPI is a CUDA 13.2 build (2.15.0+cu132); 2.11-2.14 are CUDA 13.0 "
         "(nvidia-cuda-runtime==13.0.96)")]),
    "cu128": dict(cuda="12.8", pins=[
        ("torch>=2.8,<2.11", "for drivers older than 580 (CUDA 13 builds need 580+): torch 2.8-2.10 on PyPI are "
         "CUDA 12.8 builds (nvidia-cuda-runtime-cu12==12.8.90), with sm_120 kernels; 2.11+ are CUDA 13"),
        ("torchaudio<2.11", "the resolver picks torchaudio 2.11.0 for torch 2.10.0 (its metadata allows it), but its "
         "libtorchaudio.abi3.so does not load with torch 2.10 (OSError: Could not load this library)"),
        ("torchcodec<0.11", "the resolver picks torchcodec 0.17.0, whose libtorchcodec_*.so does not load with "
         "torch 2.10 (undefined symbol: torch_from_blob); torchcodec 0.10 is the release built for torch 2.10")]),
    "cu126": dict(cuda="12.6", pins=[
        ("torch>=2.7,<2.8", "for GPUs before sm_75 (GTX 10xx and older), which CUDA 12.8 and 13 builds have no "
         "kernels for: torch 2.7.1 on PyPI is a CUDA 12.6 build (nvidia-cuda-runtime-cu12==12.6.77)"),
        ("torchaudio<2.8", "torchaudio's compiled library loads only with the torch it was built with, which its "
         "metadata does not say (2.11.0 fails with torch 2.10); 2.7.x is the release built for torch 2.7"),
        ("torchcodec<0.6", "torchcodec's libraries load only with the torch they were built for (0.17.0 with torch "
         "2.10: undefined symbol torch_from_blob); 0.4-0.5 are the releases built for torch 2.7")]),
}

PROBE = r'''
import json, sys, traceback, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, "."); ok, bad = [], {}
def check(name, src):
    try: exec(src, {}); ok.append(name)
    except BaseException as e: bad[name] = "".join(traceback.format_exception_only(e)).strip()[-400:]
for stmt in json.loads(sys.argv[1]): check(stmt, stmt)
check("torch.version.cuda==" + sys.argv[2], "import torch; assert torch.version.cuda == %r, torch.version.cuda" % sys.argv[2])
check("torchaudio.load/save", """import numpy, soundfile, torchaudio, tempfile, os
p = os.path.join(tempfile.mkdtemp(), "t.wav"); soundfile.write(p, numpy.zeros(22050, "float32"), 22050)
w, sr = torchaudio.load(p); assert sr == 22050 and w.shape[-1] == 22050; torchaudio.save(p, w, sr)""")
check("gradio launch+/info", """import gradio as gr, urllib.request
with gr.Blocks() as demo:
    t = gr.Textbox(); d = gr.Dropdown(["a", "b"], value="a"); a = gr.Audio(type="filepath"); b = gr.Button()
    b.click(lambda x, y: None, [t, d], [a])
demo.launch(server_name="127.0.0.1", server_port=7891, prevent_thread_lock=True, quiet=True)
for p in ("/config", "/info"): urllib.request.urlopen("http://127.0.0.1:7891" + p, timeout=60).read()
demo.close()""")
print("PROBE" + json.dumps({"ok": ok, "bad": bad}))
'''


def run(cmd, **kw):
    print("+", " ".join(map(str, cmd))[:200], file=sys.stderr, flush=True)
    return subprocess.run(list(map(str, cmd)), check=True, text=True, **kw)


def start_imports(checkout, files, skip):
    """The module-level import statements (also inside top-level try/if) of AllTalk's start files."""
    stmts = []
    for f in files:
        body = list(ast.parse((checkout / f).read_text(encoding="utf-8")).body)
        while body:
            node = body.pop(0)
            if isinstance(node, (ast.Try, ast.If)):
                body[:0] = node.body
            elif isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0):
                top = (node.module if isinstance(node, ast.ImportFrom) else node.names[0].name).split(".")[0]
                if top not in sys.stdlib_module_names and top not in skip:
                    s = ast.unparse(node)
                    stmts += [] if s in stmts else [s]
    return stmts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkout", type=Path)
    ap.add_argument("--alltalk", choices=KNOWN, required=True)
    ap.add_argument("--variant", choices=VARIANTS, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--pin", action="append", default=[], metavar="REQ=REASON")
    ap.add_argument("--prove", action="store_true")
    ap.add_argument("--commit", help="'SHA DATE BRANCH' (default: git, else the known one)")
    ap.add_argument("--uv", default=shutil.which("uv"), help="the uv binary (default: on PATH)")
    ap.add_argument("--pip-spec", default="pip", help="pip requirement for the proof venv")
    ap.add_argument("--launcher", default=str(Path(__file__).resolve().parents[2] / "build/alltalk-launch"))
    ap.add_argument("--work", type=Path, help="scratch folder (default: a new temp folder)")
    a = ap.parse_args()
    if not a.uv:
        sys.exit("make_lock.py: no uv on PATH: pip install uv, or pass --uv PATH")
    known, var = KNOWN[a.alltalk], VARIANTS[a.variant]
    co = a.checkout.resolve()
    work = (a.work or Path(tempfile.mkdtemp(prefix="make_lock."))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    req_bytes = (co / known["requirements"]).read_bytes()

    # 1. Requirements: local-path lines -> `local:` (their dependencies are locked instead); add the pins.
    given = [re.match(r"(.*?[^=<>!~])=(?!=)(.*)", p) for p in a.pin]
    pins = known["pins"] + var["pins"] + [m.groups() if m else (p, "given with --pin") for m, p in zip(given, a.pin)]
    pin_names = {re.split(r"[<>=!~; \[]", r, 1)[0].lower().replace("_", "-") for r, _ in pins}
    lines, local = [], []
    for line in req_bytes.decode().splitlines():
        s = line.split("#", 1)[0].strip()
        if not re.match(r"(\.{0,2}/|file:)", s):
            lines.append(s)
        elif ";" not in s or re.search(r"sys_platform\s*==\s*['\"]linux['\"]", s):
            local.append(s)
            name = Path(s.split(";")[0].strip()).name.split("-")[0].lower()
            deps = known["local_deps"].get(name)
            if deps is None:
                sys.exit(f"no dependency data for local wheel {s!r}")
            lines += [d for d in deps if re.split(r"[<>=!~; \[]", d, 1)[0].lower() not in pin_names]
    lines += [r for r, _ in pins]
    (work / "lock.in").write_text("\n".join(l for l in lines if l) + "\n")

    # 2. Resolve.
    uv_version = run([a.uv, "--version"], capture_output=True).stdout.split()[1]
    t0 = time.time()
    run([a.uv, "pip", "compile", work / "lock.in", "--generate-hashes", "--no-annotate", "--no-header",
         "--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28", "--index-url", INDEX,
         "--no-cache", "-o", work / "body.txt"])
    resolve_s = time.time() - t0
    body = (work / "body.txt").read_text()
    locked = dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", body, re.M))
    bad = [l for l in body.splitlines() if l and not l.startswith((" ", "#")) and not re.match(r"\S+==\S+ \\$", l)]
    if bad:
        sys.exit(f"lock has lines that are not name==version pins: {bad[:3]}")

    # 3. A fresh venv: its pip downloads every file (download-bytes, sdist-only), then (--prove) installs.
    env = work / "venv"
    shutil.rmtree(env, ignore_errors=True)
    run(["/usr/bin/python3.11", "-m", "venv", env])
    py = env / "bin/python"
    run([py, "-m", "pip", "install", "-q", "--upgrade", a.pip_spec])
    pip_version = run([py, "-m", "pip", "--version"], capture_output=True).stdout.split()[1]
    dl = work / "download"
    shutil.rmtree(dl, ignore_errors=True)
    run([py, "-m", "pip", "download", "-q", "--no-deps", "--require-hashes", "-r", work / "body.txt", "-d", dl])
    files = list(dl.iterdir())
    download_bytes = sum(f.stat().st_size for f in files)
    sdists = sorted(f.name for f in files if not f.name.endswith(".whl"))

    header = {"alltalk": a.alltalk, "alltalk-commit": a.commit or git_commit(co) or known["commit"],
              "platform": "linux_x86_64", "python": "3.11", "variant": a.variant, "cuda": var["cuda"],
              "torch": locked.get("torch", "none"), "torch-archs": "unknown", "index": INDEX,
              "requirements": f"{known['requirements']} sha256={hashlib.sha256(req_bytes).hexdigest()}"}
    proven = "no (made without --prove)"
    installed_bytes = "unknown"
    sdist_names = [re.sub(r"-[^-]+\.(tar\.gz|zip|tar\.bz2)$", "", s) for s in sdists]
    compiled = []
    if a.prove:
        t0 = time.time()
        run([py, "-m", "pip", "install", "-q", "--no-deps", "--require-hashes", "-r", work / "body.txt"])
        install_s = time.time() - t0
        wheels = [co / l.split(";")[0].strip() for l in local]
        present = [w for w in wheels if w.is_file()]
        for w in present:  # as setup does after the lock
            run([py, "-m", "pip", "install", "-q", "--no-deps", w])
        run([py, "-m", "pip", "check"])
        stmts = start_imports(co, known["start_files"], known["skip"]) + known["extra_imports"]
        stmts += [f"import {w.name.split('-')[0]}" for w in present]
        out = run([py, "-c", PROBE, json.dumps(stmts), var["cuda"]], cwd=co, capture_output=True).stdout
        res = json.loads(out.split("PROBE", 1)[1])
        if res["bad"]:
            for k, v in res["bad"].items():
                print(f"FAILED {k}: {v}", file=sys.stderr)
            sys.exit("proof failed: lock not written")
        site = next((env / "lib").glob("python3.11/site-packages"))
        installed_bytes = run(["du", "-sb", site], capture_output=True).stdout.split()[0]
        # Which sdists built into a platform wheel (a compiler was needed): setup leaves those out.
        compiled = [n for n in sdist_names if "none-any" not in wheel_tag(site, n)]
        header["torch-archs"] = torch_archs(a.launcher, env, work)
        mods = sorted({re.match(r"(?:from|import) ([\w.]+)", s).group(1) for s in stmts})
        proven = (f"fresh venv (/usr/bin/python3.11 {run([py, '-V'], capture_output=True).stdout.split()[1]}), "
                  f"pip install --no-deps --require-hashes (pip {pip_version}) in {install_s:.0f} s, "
                  f"local wheels: {' '.join(w.name for w in present) or 'none'} installed ({len(wheels) - len(present)} "
                  f"absent from the checkout), pip check clean, "
                  f"ran {len(stmts)} import statements of {'/'.join(known['start_files'])} and more, modules: "
                  f"{' '.join(mods)}; checks: {'; '.join(k for k in res['ok'] if k not in stmts)}")
    header |= {"local": local, "pin": [f"{r}  {why}" for r, why in pins], "sdist-only": " ".join(n for n in sdist_names if n not in compiled) or "none",
               "needs-compiler": " ".join(compiled) or "none",
               "download-bytes": download_bytes, "installed-bytes": installed_bytes,
               "made": f"{datetime.date.today()} packaging/locks/make_lock.py (uv {uv_version})", "proven": proven}
    text = ["# alltalk-launch lock"]
    for k, v in header.items():
        text += [f"# {k}: {x}" for x in (v if isinstance(v, list) else [v])]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(text) + "\n" + body)
    print(f"wrote {a.out}: {len(locked)} packages, resolve {resolve_s:.1f} s, {download_bytes} download bytes",
          file=sys.stderr)


def git_commit(co):
    try:
        r = run(["git", "-C", co, "log", "-1", "--format=%H %cs"], capture_output=True).stdout.strip()
        b = run(["git", "-C", co, "rev-parse", "--abbrev-ref", "HEAD"], capture_output=True).stdout.strip()
        return f"{r} {b}"
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None


def wheel_tag(site, name):
    norm = re.sub(r"[-_.]+", "_", name).lower()
    for d in site.glob("*.dist-info"):
        if re.sub(r"[-_.]+", "_", d.name.split("-", 1)[0]).lower() == norm:
            return ",".join(re.findall(r"^Tag: (\S+)", (d / "WHEEL").read_text(), re.M))
    return "not installed"


def torch_archs(launcher, env, work):
    """torch's CUDA architectures as alltalk-launch reads them from libtorch_cuda.so."""
    if not os.access(launcher, os.X_OK):
        return "unknown (no alltalk-launch)"
    (work / "root").mkdir(exist_ok=True)
    out = subprocess.run([launcher, "--root", work / "root", "--env", env, "--dry-run", "python"],
                         capture_output=True, text=True).stdout
    m = re.search(r"torch CUDA architectures: (.*)", out)
    return m.group(1).strip() if m else "unknown"


if __name__ == "__main__":
    main()
