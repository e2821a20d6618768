"""Write an artifact folder: the trunk graph, the heads' graphs, the tokenizer, and the manifest
the runtime verifies.

The schema lives in edgeagent.runtime.manifest (export may import the runtime, never the reverse).
Re-export is skipped when the folder's manifest records the same source hashes: for the trunk,
sha256 over the checkpoint's config and weights, the export options and the graph-contract
version; for the heads, sha256 over the heads folder (export/heads.heads_source_hash). When only
the heads changed, the trunk graph already in the folder is kept.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from edgeagent.runtime.gate import GATE_FILE
from edgeagent.runtime.span_prior import PRIOR_FILE
from edgeagent.runtime.manifest import (
    MANIFEST_NAME, ArtifactError, GraphSpec, HeadsSpec, KVLayout, Manifest, TensorSpec, load_manifest, sha256_file,
)

from .trunk import ExportOptions, TrunkShape, export_trunk

# Bump when the trunk graph's contract or numerics change, so old artifacts are re-exported.
GRAPH_VERSION = 2  # 2: logits_index input (logits only where asked)
TRUNK_FILE = "trunk.onnx"
TOKENIZER_FILE = "tokenizer.json"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt")


def source_hash(model, options: ExportOptions, checkpoint_dir: str | Path | None = None) -> str:
    """sha256 over what determines the exported graph.

    With `checkpoint_dir`, hashes config.json and the weight files there (no tensor walk); else hashes
    the loaded model's config and state dict (tiny test models, or checkpoints converted in memory).
    """
    h = hashlib.sha256()
    h.update(json.dumps({"graph_version": GRAPH_VERSION, "options": asdict(options)}, sort_keys=True).encode())
    if checkpoint_dir is not None:
        folder = Path(checkpoint_dir)
        files = sorted(p for p in folder.iterdir() if p.name == "config.json" or p.suffix in WEIGHT_SUFFIXES)
        if not any(p.suffix in WEIGHT_SUFFIXES for p in files):
            raise ArtifactError(f"{folder}: no weight files ({', '.join(WEIGHT_SUFFIXES)}) to hash")
        for p in files:
            h.update(p.name.encode())
            h.update(sha256_file(p).encode())
        return h.hexdigest()
    import torch

    h.update(model.config.to_json_string(use_diff=False).encode())
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().contiguous().cpu()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def special_tokens(config, tokenizer_path: str | Path | None = None) -> dict[str, int]:
    """bos/eos/pad from the model config, im_start/im_end from the tokenizer when it has them."""
    out = {}
    for key in ("bos", "eos", "pad"):
        value = getattr(config, f"{key}_token_id", None)
        if isinstance(value, list):  # some configs list several eos ids; the first is the canonical one
            value = value[0] if value else None
        if value is not None:
            out[key] = int(value)
    if tokenizer_path is not None:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(tokenizer_path))
        for key, text in (("im_start", "<|im_start|>"), ("im_end", "<|im_end|>")):
            tid = tok.token_to_id(text)
            if tid is not None:
                out[key] = int(tid)
    return out


def chat_template_family(checkpoint_dir: str | Path | None) -> str | None:
    """The checkpoint's chat-template family ("smollm2", "smollm3", "chatml"), None when unknown."""
    if checkpoint_dir is None:
        return None
    from edgeagent.formats.family import UNKNOWN, family_of

    family = family_of(Path(checkpoint_dir))
    return None if family == UNKNOWN else family


def exporter_versions() -> dict[str, str]:
    out = {}
    for pkg in ("edgeagent", "torch", "transformers", "onnx", "onnxscript"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _valid_manifest(out_dir: str | Path) -> Manifest | None:
    try:
        return load_manifest(out_dir, verify=True)
    except ArtifactError:
        return None


def up_to_date(out_dir: str | Path, wanted_hash: str, heads_hash: str | None = None) -> bool:
    """True when `out_dir` holds a valid artifact (files verify) exported from the same source hashes.

    `heads_hash` None means a trunk-only artifact is wanted.
    """
    manifest = _valid_manifest(out_dir)
    if manifest is None or manifest.source_hash != wanted_hash:
        return False
    have = manifest.heads.source_hash if manifest.heads is not None else None
    return have == heads_hash


def heads_spec(slot_filler_cfg, source: str, listing: str = "json") -> HeadsSpec:
    """The manifest's description of the heads: special ids, budgets and the spec tables."""
    from dataclasses import asdict as dc_asdict

    from edgeagent.heads.spec import ACTIONS, CONTINUE, KINDS, MODES
    from edgeagent.scaffold import Budgets

    V = slot_filler_cfg.vocab_size
    return HeadsSpec(
        null_id=V, mask_id=V + 1, budgets=dc_asdict(Budgets()), kinds=list(KINDS), actions=list(ACTIONS),
        modes=list(MODES), continue_=list(CONTINUE), max_scaffold_len=slot_filler_cfg.max_len,
        max_slot_pos=slot_filler_cfg.max_slot_pos, source_hash=source, listing=listing,
    )


def export_artifact(
    model, out_dir: str | Path, model_id: str, *, checkpoint_dir: str | Path | None = None,
    tokenizer_file: str | Path | None = None, options: ExportOptions | None = None,
    force: bool = False, digest: str | None = None, external_data: bool | None = None, log=print,
    heads: str | Path | None = None, family: str | None = None,
) -> tuple[Manifest, bool]:
    """Export `model`'s trunk (and the heads in `heads`) into the artifact folder `out_dir`.

    Returns (manifest, skipped). `checkpoint_dir` (the HF folder the model came from) is hashed
    for the skip check and searched for tokenizer.json and the chat template; `tokenizer_file`
    overrides the tokenizer's location, `family` the chat-template family. `digest` is a
    precomputed `source_hash` (the CLI checks it before loading the model). `external_data` as in
    `export_trunk` (default: automatic by weight size). `heads` is a trained heads folder
    (edgeagent.heads.io.heads_dir); without it the artifact has the trunk only.
    """
    options = options or ExportOptions()
    out = Path(out_dir)
    digest = digest or source_hash(model, options, checkpoint_dir)
    heads_digest = None
    if heads is not None:
        from .heads import heads_source_hash

        heads_digest = heads_source_hash(heads, options.opset)
    if not force and up_to_date(out, digest, heads_digest):
        log(f"{out}: up to date (source hash {digest[:12]}); nothing to export")
        return load_manifest(out, verify=False), True

    old = None if force else _valid_manifest(out)
    out.mkdir(parents=True, exist_ok=True)
    # Drop the old manifest first: an interrupted export must not leave a folder that looks valid.
    (out / MANIFEST_NAME).unlink(missing_ok=True)
    if old is not None and old.source_hash == digest:
        log(f"trunk unchanged (source hash {digest[:12]}); keeping {old.graphs['trunk'].file}")
        trunk_graph = old.graphs["trunk"]
        info = {"inputs": [asdict(t) for t in trunk_graph.inputs], "outputs": [asdict(t) for t in trunk_graph.outputs],
                "files": [f for f in old.files if f == TRUNK_FILE or f == TRUNK_FILE + ".data"]}
    else:
        info = export_trunk(model, out / TRUNK_FILE, options, log=log, external_data=external_data)

    if tokenizer_file is None and checkpoint_dir is not None and (Path(checkpoint_dir) / TOKENIZER_FILE).is_file():
        tokenizer_file = Path(checkpoint_dir) / TOKENIZER_FILE
    tokenizer_rel = None
    if tokenizer_file is not None:
        shutil.copyfile(tokenizer_file, out / TOKENIZER_FILE)
        tokenizer_rel = TOKENIZER_FILE
    else:
        log("warning: no tokenizer.json found; the artifact can run token ids only")

    shape = TrunkShape.from_config(model.config)
    graphs = {"trunk": (TRUNK_FILE, info["inputs"], info["outputs"])}
    files = {name: sha256_file(out / name) for name in info["files"]}
    spec = None
    for stale in ("slot_filler.onnx", "mode_head.onnx", "another_head.onnx", "select_head.onnx", GATE_FILE,
                  PRIOR_FILE):
        (out / stale).unlink(missing_ok=True)  # a trunk-only export must not keep old heads around
    if heads is not None:
        from edgeagent.heads.io import heads_listing, load_heads, load_select_head

        from .heads import export_heads, export_select_head

        emb = model.get_input_embeddings().weight.detach().float()
        sf, mode, another = load_heads(Path(heads), emb)
        hinfo = export_heads(sf, mode, another, out, opset=options.opset, log=log)
        for name, g in hinfo["graphs"].items():
            graphs[name] = (g["file"], g["inputs"], g["outputs"])
        files.update({f: sha256_file(out / f) for f in hinfo["files"]})
        select = load_select_head(Path(heads))
        if select is not None:
            sinfo = export_select_head(select, out, opset=options.opset)
            graphs["select_head"] = (sinfo["file"], sinfo["graph"]["inputs"], sinfo["graph"]["outputs"])
            files[sinfo["file"]] = sha256_file(out / sinfo["file"])
        for name in (GATE_FILE, PRIOR_FILE):         # the tool gate, the span prior: JSON read as is
            if (Path(heads) / name).is_file():
                shutil.copyfile(Path(heads) / name, out / name)
                files[name] = sha256_file(out / name)
        spec = heads_spec(sf.cfg, heads_digest, heads_listing(Path(heads)))
    if tokenizer_rel:
        files[tokenizer_rel] = sha256_file(out / tokenizer_rel)
    manifest = Manifest(
        model_id=model_id,
        kv=KVLayout(num_layers=shape.num_layers, kv_heads=shape.kv_heads, head_dim=shape.head_dim),
        hidden_size=shape.hidden, vocab_size=shape.vocab,
        graphs={name: GraphSpec(file=f, inputs=[TensorSpec(**t) for t in i], outputs=[TensorSpec(**t) for t in o])
                for name, (f, i, o) in graphs.items()},
        files=files,
        special_tokens=special_tokens(model.config, out / tokenizer_rel if tokenizer_rel else None),
        tokenizer=tokenizer_rel,
        chat_template=family or chat_template_family(checkpoint_dir),
        quantization="none",
        opset=options.opset,
        exporter=exporter_versions(),
        source_hash=digest,
        heads=spec,
        max_positions=getattr(model.config, "max_position_embeddings", None),
    )
    (out / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    log(f"wrote {out / MANIFEST_NAME}")
    return manifest, False
