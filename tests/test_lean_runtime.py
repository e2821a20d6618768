"""The lean runtime: `edgeagent run --artifacts` in a venv that has only the core dependencies.

DESIGN §2: the runtime needs numpy, onnxruntime, tokenizers, jsonschema, click and the C++
extension; torch is an extra. The test exports a tiny artifact (trunk + random heads) with the
full environment, then runs the CLI in a fresh venv where `import torch` fails.

The venv is assembled offline, in seconds: `python -m venv --without-pip`, then every file of
the distributions in the closure of edgeagent's core requirements (read from the installed
metadata, extras excluded) is linked into its site-packages. That is what `pip install` of the
project without extras would put there, minus the download; the closure itself is checked to
hold no torch. edgeagent comes in as it is installed here (the editable install, with its
built extension).
"""

import json
import os
import re
import subprocess
import sys
import venv  # noqa: F401  (the skip below names it when missing)
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest

pytestmark = pytest.mark.slow

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
requirements = pytest.importorskip("packaging.requirements")

HEAVY = {"torch", "transformers", "onnx", "onnxscript", "accelerate", "safetensors"}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"},
                                     "unit": {"type": "string", "enum": ["c", "f"]}},
    "required": ["city", "days"]}}}]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def core_closure(root: str = "edgeagent") -> dict:
    """canonical name -> Distribution for `root` and everything its non-extra requirements pull in."""
    seen, todo = {}, [root]
    while todo:
        name = _canonical(todo.pop())
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            pytest.skip(f"cannot assemble the lean venv: {name} is required but not installed here")
        seen[name] = dist
        for line in dist.requires or []:
            req = requirements.Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def make_lean_venv(where: Path) -> Path:
    """A venv holding only the core closure (files linked from this environment). Returns its python."""
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True,
                       capture_output=True, timeout=60)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        pytest.skip(f"cannot create a venv here ({e}); the lean runtime check needs `python -m venv`")
    python = where / "bin" / "python"
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True)
    site = Path(out.stdout.strip())
    for dist in core_closure().values():
        for f in dist.files or []:
            rel = Path(str(f))
            if rel.parts[0] == ".." or "__pycache__" in rel.parts:  # scripts in bin/, stale bytecode
                continue
            src = Path(dist.locate_file(f))
            dst = site / rel
            if src.is_file() and not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(src, dst)
    return python


def test_core_closure_has_no_heavy_packages():
    assert not HEAVY & set(core_closure())


def test_run_in_a_venv_without_torch(tmp_path):
    from click.testing import CliRunner

    from edgeagent.cli import main
    from edgeagent.models.tiny import tiny_model
    from edgeagent.scaffold.testing import tiny_tokenizer
    from test_ort_backend import make_heads

    tok = tiny_tokenizer()
    ckpt = tmp_path / "tiny-ckpt"
    tiny_model("llama", vocab_size=tok.get_vocab_size(), max_position_embeddings=2048).save_pretrained(ckpt)
    tok.save(str(ckpt / "tokenizer.json"))
    (ckpt / "edgeagent.json").write_text(json.dumps({"family": "smollm2"}))
    trunk = tiny_model("llama", vocab_size=tok.get_vocab_size(), max_position_embeddings=2048)
    heads = make_heads(tmp_path / "heads", trunk)
    art = tmp_path / "art"
    exported = CliRunner().invoke(main, ["export", "--model", str(ckpt), "--heads", str(heads), "--out", str(art)],
                                  env={"EDGEAGENT_HOME": str(tmp_path / "home")})
    assert exported.exit_code == 0, exported.output
    assert "slot_filler.onnx" in json.loads((art / "manifest.json").read_text())["files"]

    python = make_lean_venv(tmp_path / "lean")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(EDGEAGENT_PROVIDER="cpu", EDGEAGENT_HOME=str(tmp_path / "home"))
    no_torch = subprocess.run([str(python), "-I", "-c", "import torch"], capture_output=True, text=True, env=env)
    assert no_torch.returncode != 0 and "No module named 'torch'" in no_torch.stderr

    (tmp_path / "tools.json").write_text(json.dumps(TOOLS))
    run = subprocess.run(
        [str(python), "-I", "-m", "edgeagent", "run", "Weather in Tokyo for 3 days?", "--artifacts", str(art),
         "--tools", str(tmp_path / "tools.json"), "--tool-choice", "required", "--max-new-tokens", "4"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    calls = json.loads(run.stdout)
    assert calls and all(c["name"] == "get_weather" for c in calls)
    for c in calls:
        jsonschema.validate(c["arguments"], TOOLS[0]["function"]["parameters"])
