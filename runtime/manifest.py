"""The artifact manifest: the written contract between `edgeagent export` and the runtime.

An artifact is a folder:

    manifest.json        this schema (Manifest.to_json)
    trunk.onnx           the trunk graph (names/shapes/dtypes in manifest["graphs"]["trunk"])
    tokenizer.json       the trunk's tokenizer, copied from the checkpoint
    slot_filler.onnx     the heads (optional; listed in manifest["graphs"], described in
    mode_head.onnx       manifest["heads"]: special ids, scaffold budgets, the kind/action/mode
    another_head.onnx    tables the heads were trained with)
    select_head.onnx     the tool-selection head, where the heads have one (runtime/select.py)

Export writes it (edgeagent.export.manifest); the runtime reads and verifies it here. The
runtime never guesses: cache layout, special ids and tensor names all come from this file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


class ArtifactError(RuntimeError):
    """An artifact folder is missing, tampered with, or does not match what the runtime expects."""


@dataclass
class TensorSpec:
    """One graph input or output. Symbolic dims are strings ("batch", "seq", "past_seq", ...)."""

    name: str
    dtype: str
    shape: list


@dataclass
class GraphSpec:
    file: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]

    @classmethod
    def from_dict(cls, d: dict) -> "GraphSpec":
        return cls(file=d["file"], inputs=[TensorSpec(**t) for t in d["inputs"]],
                   outputs=[TensorSpec(**t) for t in d["outputs"]])

    def has_input(self, name: str) -> bool:
        """Whether the graph takes `name` (e.g. logits_index, which trunk graphs of version 1 lack)."""
        return any(i.name == name for i in self.inputs)


@dataclass
class KVLayout:
    """The KV cache as the trunk graph takes and returns it: per layer one key and one value of
    [batch, kv_heads, seq, head_dim]; `past_key` % layer names the input, `present_key` the output."""

    num_layers: int
    kv_heads: int
    head_dim: int
    dtype: str = "float32"
    past_key: str = "past_key_values.%d.key"
    past_value: str = "past_key_values.%d.value"
    present_key: str = "present.%d.key"
    present_value: str = "present.%d.value"


@dataclass
class HeadsSpec:
    """What the runtime needs to drive the exported heads, written at export and never guessed.

    null_id / mask_id: the scaffold's NULL and MASK ids (V and V + 1); budgets: the scaffold
    budgets the slot filler was trained with (edgeagent.scaffold.Budgets); kinds / actions /
    modes / continue_: the class tables of edgeagent.heads.spec, in logit order; max_scaffold_len
    and max_slot_pos: the slot filler's position tables (a longer scaffold cannot be read);
    listing: the prompts' tool listing the heads were trained on, which the runtime writes too.
    """

    null_id: int
    mask_id: int
    budgets: dict
    kinds: list[str]
    actions: list[str]
    modes: list[str]
    continue_: list[str]
    max_scaffold_len: int
    max_slot_pos: int
    source_hash: str = ""  # sha256 over the heads folder and the heads' export options
    listing: str = "json"  # how the training prompts listed the tools (formats/hermes.py tool_lines)


@dataclass
class Manifest:
    model_id: str
    kv: KVLayout
    hidden_size: int
    vocab_size: int
    graphs: dict[str, GraphSpec]
    files: dict[str, str]  # relative path -> sha256 hex
    special_tokens: dict[str, int] = field(default_factory=dict)  # bos/eos/pad/im_start/im_end
    tokenizer: str | None = None  # relative path of tokenizer.json
    chat_template: str | None = None  # family, e.g. "chatml"
    quantization: str = "none"  # "none" | "int8" | "int4" | "fp8"
    # how: {"method", "params", "measured": {...}, "candidates": [...], "source": fp32 artifact}
    quantization_info: dict = field(default_factory=dict)
    opset: int = 18
    exporter: dict[str, str] = field(default_factory=dict)  # package -> version
    source_hash: str = ""  # sha256 over checkpoint config + weights + export options
    format_version: int = FORMAT_VERSION
    heads: HeadsSpec | None = None  # None: a trunk-only artifact
    max_positions: int | None = None  # the trunk's max_position_embeddings

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, d: dict) -> "Manifest":
        d = dict(d)
        d["kv"] = KVLayout(**d["kv"])
        d["graphs"] = {k: GraphSpec.from_dict(g) for k, g in d["graphs"].items()}
        if d.get("heads") is not None:
            d["heads"] = HeadsSpec(**d["heads"])
        return cls(**d)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_manifest(folder: str | Path) -> Manifest:
    """Parse `folder/manifest.json` without checking files (see `load_manifest`)."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise ArtifactError(f"{path}: no manifest; is {folder} an artifact folder? Create one with `edgeagent export`.")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ArtifactError(f"{path}: not valid JSON ({e}); re-export the artifact") from e
    version = raw.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtifactError(
            f"{path}: format_version {version!r}, this runtime reads {FORMAT_VERSION}; "
            "re-export with the matching edgeagent version"
        )
    try:
        return Manifest.from_dict(raw)
    except (KeyError, TypeError) as e:
        raise ArtifactError(f"{path}: malformed manifest ({e}); re-export the artifact") from e


def verify_files(folder: str | Path, manifest: Manifest) -> None:
    """Check every listed file exists and has its recorded sha256; raise ArtifactError naming the file."""
    folder = Path(folder)
    for rel, expected in manifest.files.items():
        path = folder / rel
        if not path.is_file():
            raise ArtifactError(f"{path}: listed in {MANIFEST_NAME} but missing; re-export the artifact")
        actual = sha256_file(path)
        if actual != expected:
            raise ArtifactError(
                f"{path}: sha256 {actual[:16]}… does not match the manifest ({expected[:16]}…); the file was "
                "modified or belongs to another export. Re-export the artifact."
            )
    needed = [g.file for g in manifest.graphs.values()] + ([manifest.tokenizer] if manifest.tokenizer else [])
    for rel in needed:
        if rel not in manifest.files:
            raise ArtifactError(f"{Path(folder) / rel}: used by the manifest but has no sha256 entry; re-export")


def load_manifest(folder: str | Path, verify: bool = True) -> Manifest:
    """Read and (by default) verify an artifact folder's manifest and files."""
    manifest = read_manifest(folder)
    if verify:
        verify_files(folder, manifest)
    return manifest


def check_graph_io(graph: GraphSpec, inputs: list[tuple], outputs: list[tuple], where: str) -> None:
    """Compare a loaded graph's (name, dtype, shape) inputs/outputs with the manifest's; raise on mismatch."""
    for kind, want, got in (("inputs", graph.inputs, inputs), ("outputs", graph.outputs, outputs)):
        want = [(t.name, t.dtype, list(t.shape)) for t in want]
        got = [(n, d, list(s)) for n, d, s in got]
        if want == got:
            continue
        if len(want) != len(got):
            raise ArtifactError(f"{where}: the graph has {len(got)} {kind}, the manifest lists {len(want)}; "
                                "re-export the artifact")
        w, g = next((w, g) for w, g in zip(want, got) if w != g)
        raise ArtifactError(f"{where}: graph {kind} differ from the manifest: graph has {g[0]!r} {g[1]} {g[2]}, "
                            f"manifest says {w[0]!r} {w[1]} {w[2]}; re-export the artifact")
