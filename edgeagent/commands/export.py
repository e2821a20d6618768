"""`edgeagent export`: the trunk of a model as an ONNX artifact folder the runtime verifies."""

from __future__ import annotations

import time
from pathlib import Path

import click

from edgeagent.models import registry


def default_out(model: str) -> Path:
    """$EDGEAGENT_HOME/artifacts/<model id, or the checkpoint folder's name>."""
    name = model if model in registry.KNOWN else Path(model).expanduser().resolve().name
    return registry.cache_root() / "artifacts" / name


@click.command()
@click.option("--model", "-m", default=registry.DEFAULT_MODEL, show_default=True,
              help="A known model id (see `edgeagent models`) or a local Hugging Face checkpoint folder.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Artifact folder [default: $EDGEAGENT_HOME/artifacts/<model>].")
@click.option("--opset", type=click.IntRange(17, 23), default=18, show_default=True, help="ONNX opset.")
@click.option("--force", is_flag=True, help="Export even if the folder's manifest says nothing changed.")
@click.option("--heads", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Trained heads folder to export with the trunk [default: the heads shipped for --model; "
                   "none for a model without shipped heads].")
@click.option("--int8", "quant", flag_value="int8", default=None,
              help="Also write <out>-int8: the trunk quantized to INT8 (weight-only 8-bit, dynamic or static "
                   "QDQ, whichever agrees best with fp32 greedy tokens on dev prompts).")
@click.option("--int4", "quant", flag_value="int4", help="Also write <out>-int4: 4-bit MatMulNBits weights.")
@click.option("--fp8", "quant", flag_value="fp8", help="Also write <out>-fp8: FP8 E4M3 QDQ for TensorRT on Hopper/Ada.")
@click.option("--trt", is_flag=True, help="Build TensorRT engines from the ONNX (needs the `trt` extra).")
@click.option("--lora", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="LoRA weights (lora.safetensors + lora.json from `edgeagent train --stage lora`) merged into "
                   "the trunk before export: baseline (b) on ONNX Runtime (`eval --baseline lora-ar --lora "
                   "<this artifact>`) [default out: <model>-lora-<folder name>].")
@click.option("--eval-prompts", type=click.IntRange(1, 500), default=12, show_default=True,
              help="Dev-split prompts used to score quantization candidates.")
def export(model, out, opset, force, quant, trt, eval_prompts, heads, lora):
    """Export the trunk (frozen causal LM with KV cache; prefill and decode in one graph) and its heads to ONNX.

    Writes trunk.onnx, slot_filler.onnx, mode_head.onnx, another_head.onnx, tokenizer.json and
    manifest.json (files with sha256, tensor names and shapes, KV layout, special token ids, the
    heads' special ids, budgets and tables). Skips the export when the checkpoint, the heads and
    the options are unchanged since the last export into the same folder (only the heads are
    re-exported when only they changed). Runs from local files only.
    """
    from edgeagent.export.heads import heads_source_hash
    from edgeagent.export.manifest import export_artifact, source_hash, up_to_date
    from edgeagent.export.trunk import ExportOptions
    from edgeagent.heads.io import heads_dir

    try:
        checkpoint = registry.resolve(model)
    except registry.ModelNotFound as e:
        raise click.ClickException(str(e)) from None
    out = out or default_out(model)
    if lora is not None:
        if not (lora / "lora.safetensors").is_file() or not (lora / "lora.json").is_file():
            raise click.BadParameter(f"{lora} has no lora.safetensors and lora.json", param_hint="--lora")
        out = out if out != default_out(model) else out.with_name(f"{out.name}-lora-{lora.resolve().name}")
    options = ExportOptions(opset=opset)
    t0 = time.perf_counter()
    click.echo(f"[1/3] hashing {checkpoint}")
    digest = source_hash(None, options, checkpoint)
    if lora is not None:
        import hashlib

        from edgeagent.runtime.manifest import sha256_file

        digest = hashlib.sha256((digest + sha256_file(lora / "lora.safetensors")
                                 + sha256_file(lora / "lora.json")).encode()).hexdigest()
    try:
        heads = heads_dir(model, heads)
    except FileNotFoundError as e:
        if heads is not None:
            raise click.ClickException(str(e)) from None
        click.echo(f"      note: no heads shipped for {model}; the artifact gets the trunk only (pass --heads DIR)")
        heads = None
    heads_digest = heads_source_hash(heads, opset) if heads is not None else None
    if trt:
        from edgeagent.quant.trt import TensorRTMissing, require_tensorrt

        try:
            require_tensorrt()
        except TensorRTMissing as e:
            raise click.ClickException(str(e)) from None
    if not force and up_to_date(out, digest, heads_digest):
        click.echo(f"{out}: up to date (source {digest[:12]}); nothing to do. Use --force to re-export.")
        if quant or trt:
            _quantize(out, quant, trt, eval_prompts, force)
        return

    click.echo(f"[2/3] loading {model} (float32)" + (f" with the LoRA weights of {lora} merged" if lora else ""))
    if lora is not None:
        from edgeagent.train.lora import load_lora_trunk

        lm, _ = load_lora_trunk(model, lora, dtype="float32")
    else:
        from edgeagent.models.load import load_trunk

        lm, _ = load_trunk(model, dtype="float32")
    click.echo(f"[3/3] exporting into {out}")
    model_id = model if lora is None else f"{model}+lora:{lora.resolve().name}"
    manifest, _ = export_artifact(lm, out, model_id=model_id, checkpoint_dir=checkpoint, options=options,
                                  force=force, digest=digest, heads=heads, log=lambda msg: click.echo(f"      {msg}"))
    total = sum((out / f).stat().st_size for f in manifest.files)
    click.echo(f"done in {time.perf_counter() - t0:.1f}s: {out} ({total / 1e6:.1f} MB, "
               f"{len(manifest.files)} files, opset {manifest.opset})")
    if quant or trt:
        _quantize(out, quant, trt, eval_prompts, force)


def _quantize(fp32_dir: Path, scheme: str | None, trt: bool, eval_prompts: int, force: bool) -> None:
    """Quantize the fp32 artifact into <fp32_dir>-<scheme>, then build TensorRT engines if asked."""
    from edgeagent.quant.artifact import QuantConfig, quantize_artifact

    target = fp32_dir
    if scheme:
        t0 = time.perf_counter()
        target = fp32_dir.with_name(f"{fp32_dir.name}-{scheme}")
        click.echo(f"quantizing ({scheme}) into {target}")
        manifest, _ = quantize_artifact(fp32_dir, target, QuantConfig(scheme=scheme, eval_prompts=eval_prompts),
                                        force=force, log=lambda msg: click.echo(f"      {msg}"))
        m = manifest.quantization_info["measured"]
        click.echo(f"{scheme}: {manifest.quantization_info['method']}, agreement {m['agreement']:.2%}, "
                   f"{m['size_mb']:.0f} MB, {m['decode_tok_s']:.1f} tok/s ({time.perf_counter() - t0:.1f}s)")
    if trt:
        from edgeagent.quant.trt import build_engines

        build_engines(target, log=lambda msg: click.echo(f"      {msg}"))
