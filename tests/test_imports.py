"""The import direction of DESIGN §3: cpp_ext <- runtime <- quant/export <- train.

Checked two ways: statically (every import statement in a layer's files, including the ones
inside functions) and dynamically (importing every runtime module in a fresh interpreter
loads no torch).
"""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HEAVY = {"torch", "transformers", "accelerate", "safetensors.torch", "onnx", "onnxscript", "gguf"}

# layer folder -> edgeagent subpackages it must never import
FORBIDDEN = {
    "cpp_ext": {"edgeagent.runtime", "edgeagent.export", "edgeagent.quant", "edgeagent.train"},
    "runtime": {"edgeagent.export", "edgeagent.quant", "edgeagent.train"},
    "export": {"edgeagent.train"},
    "quant": {"edgeagent.train"},
}


def imported_modules(path: Path):
    """Yield (module name, line) for every import statement in a file, however nested."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # a relative import inside runtime/ resolves inside the same layer
                base = "edgeagent." + path.relative_to(ROOT).parts[0]
                yield (base + "." + node.module) if node.module else base, node.lineno
            elif node.module:
                yield node.module, node.lineno


def _violations(layer: str, banned_prefixes: set[str]):
    out = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for name, line in imported_modules(path):
            for banned in banned_prefixes:
                if name == banned or name.startswith(banned + "."):
                    out.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return out


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_never_imports_above_itself(layer):
    assert _violations(layer, FORBIDDEN[layer]) == []


@pytest.mark.parametrize("layer", ["runtime", "cpp_ext"])
def test_lean_layers_never_import_heavy_packages(layer):
    assert _violations(layer, HEAVY) == []


def test_checker_sees_a_violation(tmp_path, monkeypatch):
    """The static check is live: a file that imports torch is reported."""
    fake = tmp_path / "runtime"
    fake.mkdir()
    (fake / "bad.py").write_text("def f():\n    from torch import nn\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _violations("runtime", HEAVY) == ["runtime/bad.py:2 imports torch"]


def test_importing_the_whole_runtime_loads_no_torch():
    import edgeagent.runtime

    names = [m.name for m in pkgutil.walk_packages(edgeagent.runtime.__path__, "edgeagent.runtime.")]
    code = (
        "import importlib, sys\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        "import edgeagent.cli\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
