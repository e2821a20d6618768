"""Quantize an fp32 artifact folder into a new artifact folder, choosing the pass by measurement.

    fp32 artifact ──► fold the tied lm_head's Transpose into a weight (staged copy)
                  ──► every candidate pass of the scheme writes its own trunk.onnx
                  ──► each is scored against fp32 greedy tokens on dev-split prompts (quant.measure)
                  ──► selection: among candidates whose agreement is ≥ MIN_AGREEMENT, the fastest
                      decode wins; if none reaches it, the most accurate one wins, with a loud warning
                  ──► new folder: chosen trunk + every other file of the fp32 artifact (heads stay
                      fp32, tokenizer) + a manifest whose `quantization_info` records the method,
                      its parameters, its measurements and every candidate's numbers.

The output keeps the trunk's I/O contract (checked by loading it), so the runtime loads it unchanged.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from edgeagent.runtime.manifest import (
    MANIFEST_NAME, ArtifactError, Manifest, load_manifest, sha256_file,
)

from . import measure, passes
from .prompts import PromptSet, dev_prompt_ids

SCHEMES = ("int8", "int4", "fp8")
CANDIDATES_DIR = ".candidates"
# A candidate must keep this share of fp32's greedy tokens (teacher forced, see quant.measure) to
# be chosen for speed. Below it on every candidate, the most accurate one is chosen and flagged.
MIN_AGREEMENT = 0.95
SELECTION_RULE = (f"among candidates with greedy-token agreement >= {MIN_AGREEMENT:.0%}, the fastest decode "
                  "(ties: higher agreement); if none reaches it, the highest agreement (ties: faster), flagged")


@dataclass
class QuantConfig:
    """What `quantize_artifact` tries and how it measures; saved in the manifest."""

    scheme: str = "int8"
    eval_prompts: int = 12  # dev "eval" half; the report uses 50
    new_tokens: int = 16
    max_prompt_tokens: int = 256
    calib_prompts: int = 8  # dev "calib" half (disjoint from eval)
    # static QDQ (55% agreement, 1.1 tok/s, 90 s to calibrate on SmolLM2-135M) is not tried by default
    int8_methods: tuple = ("nbits8-acc4", "nbits8-acc4-fp32head", "dynamic", "nbits8")
    min_agreement: float = MIN_AGREEMENT
    nbits_block: int = 32
    int4_blocks: tuple = (32, 128)
    int4_levels: tuple = (0, 4)
    quantize_lm_head: bool = True
    threads: int | None = None
    seed_note: str = field(default="prompts are a fixed stride over the dev split; no randomness", repr=False)

    def __post_init__(self):
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {self.scheme!r}")


def candidates(cfg: QuantConfig) -> list[tuple[str, dict]]:
    """[(name, pass arguments)] for the scheme, in the order they are tried."""
    if cfg.scheme == "int8":
        # dynamic/static keep the output projection (tied lm_head) and the first and last decoder
        # layers in fp32; nbits8-acc4-fp32head keeps only the output projection in fp32.
        edges = {"fp32_lm_head": True, "fp32_first_last": True}
        table = {"nbits8": {"pass": "nbits", "bits": 8, "block_size": cfg.nbits_block, "accuracy_level": 0},
                 "nbits8-acc4": {"pass": "nbits", "bits": 8, "block_size": cfg.nbits_block, "accuracy_level": 4},
                 "nbits8-acc4-fp32head": {"pass": "nbits", "bits": 8, "block_size": cfg.nbits_block,
                                          "accuracy_level": 4, "fp32_lm_head": True},
                 # per-channel dynamic MatMul collapsed to 0% on SmolLM2-135M (also with the edges in
                 # fp32); per-tensor scales keep 66%: the collapse is the per-channel path, not lm_head.
                 "dynamic": {"pass": "int8_dynamic", "per_channel": False, **edges},
                 "static": {"pass": "int8_static", "per_channel": True, "symmetric_activations": True, **edges},
                 "static-asym": {"pass": "int8_static", "per_channel": True, "symmetric_activations": False,
                                 **edges}}
        unknown = set(cfg.int8_methods) - set(table)
        if unknown:
            raise ValueError(f"unknown int8 methods {sorted(unknown)}; choose from {sorted(table)}")
        return [(f"int8-{m}", table[m]) for m in cfg.int8_methods]
    if cfg.scheme == "int4":
        out = [(f"int4-b{b}-acc{a}", {"pass": "nbits", "bits": 4, "block_size": b, "accuracy_level": a})
               for b in cfg.int4_blocks for a in cfg.int4_levels]
        # Asymmetric blocks (a zero point each) fit weights whose range is not centred on 0, which
        # is how Q4_1 GGUF weights (d·q + min) sit; head8 keeps the output projection (the tied
        # embedding, Q8_0 in the GGUF) at 8 bits.
        for a in cfg.int4_levels:
            b = cfg.int4_blocks[0]
            asym = {"pass": "nbits", "bits": 4, "block_size": b, "accuracy_level": a, "symmetric": False}
            out += [(f"int4-asym-b{b}-acc{a}", asym), (f"int4-asym-b{b}-acc{a}-head8", {**asym, "head_bits": 8})]
        return out
    return [("fp8-e4m3", {"pass": "fp8"})]


def fold_weight_transposes(src: Path, dst: Path) -> int:
    """Write a copy of `src` where MatMul(x, Transpose(W)) with W an initializer becomes MatMul(x, Wᵀ).

    The tied lm_head reads the embedding through a runtime Transpose, so no pass would see it as
    a weight; folding gives it its own [hidden, vocab] initializer (the Gather keeps the original).
    Returns how many were folded.
    """
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(src))
    g = proto.graph
    inits = {t.name: t for t in g.initializer}
    consumers: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    folded, drop = 0, []
    for n in g.node:
        if n.op_type != "Transpose" or n.input[0] not in inits:
            continue
        users = consumers.get(n.output[0], [])
        if not users or any(u.op_type != "MatMul" or u.input[1] != n.output[0] for u in users):
            continue
        perm = [a.ints for a in n.attribute if a.name == "perm"]
        w = numpy_helper.to_array(inits[n.input[0]])
        wt = w.transpose(list(perm[0]) if perm else None).copy()
        g.initializer.append(numpy_helper.from_array(wt, n.output[0]))
        drop.append(n)
        folded += 1
    for n in drop:
        g.node.remove(n)
    onnx.save(proto, str(dst), save_as_external_data=passes._external(src))
    return folded


def _run_pass(spec: dict, src: Path, dst: Path, calib, num_layers: int = 0) -> dict:
    kind = spec["pass"]
    exclude = []
    if spec.get("fp32_lm_head") or spec.get("fp32_first_last"):
        exclude = passes.edge_matmuls(passes.weight_matmuls(src), num_layers, bool(spec.get("fp32_lm_head")),
                                      bool(spec.get("fp32_first_last")))
    if kind == "nbits":
        args = (spec["block_size"], spec["accuracy_level"], spec.get("symmetric", True))
        if not spec.get("head_bits"):
            return passes.nbits(src, dst, spec["bits"], *args, exclude=exclude)
        # the body at `bits`, then the output projection alone at `head_bits` (symmetric)
        head = passes.edge_matmuls(passes.weight_matmuls(src), num_layers, lm_head=True)
        stage = dst.with_name(dst.stem + ".body.onnx")
        try:
            body = passes.nbits(src, stage, spec["bits"], *args, exclude=sorted(set(exclude) | set(head)))
            top = passes.nbits(stage, dst, spec["head_bits"], spec["block_size"], spec["accuracy_level"], True)
        finally:
            stage.unlink(missing_ok=True)
            stage.with_name(stage.name + ".data").unlink(missing_ok=True)
        return {**body, "nodes": body["nodes"] + top["nodes"], "head_bits": spec["head_bits"],
                "fp32_nodes": sorted(set(body["fp32_nodes"]) - set(head))}
    if kind == "int8_dynamic":
        return passes.int8_dynamic(src, dst, spec.get("per_channel", True), exclude=exclude)
    if kind == "int8_static":
        return passes.int8_static(src, dst, calib(), spec.get("per_channel", True),
                                  spec.get("symmetric_activations", True), exclude=exclude)
    if kind == "fp8":
        return passes.fp8(src, dst, calib(same_length=True))
    raise ValueError(f"unknown pass {kind!r}")


def select(results: list[dict], min_agreement: float = MIN_AGREEMENT) -> tuple[dict, bool]:
    """(chosen candidate, whether it met `min_agreement`) under SELECTION_RULE."""
    passing = [r for r in results if r["agreement"] >= min_agreement]
    if passing:
        return max(passing, key=lambda r: (r["decode_tok_s"], r["agreement"])), True
    return max(results, key=lambda r: (r["agreement"], r["decode_tok_s"])), False


def _trunk_files(folder: Path, trunk_file: str) -> list[str]:
    data = folder / (trunk_file + ".data")
    return [trunk_file] + ([data.name] if data.is_file() else [])


def write_artifact(base: Manifest, src_dir: Path, dst_dir: Path, trunk_dir: Path, scheme: str, info: dict,
                   source_hash: str, copy_others: bool = True) -> Manifest:
    """Assemble `dst_dir`: the trunk files from `trunk_dir`, the other files of `src_dir`, a manifest."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    (dst_dir / MANIFEST_NAME).unlink(missing_ok=True)  # no valid-looking folder while half written
    trunk_file = base.graphs["trunk"].file
    files = {}
    for name in _trunk_files(trunk_dir, trunk_file):
        if trunk_dir != dst_dir:
            shutil.copyfile(trunk_dir / name, dst_dir / name)
        files[name] = sha256_file(dst_dir / name)
    graphs = {"trunk": base.graphs["trunk"]}
    if copy_others:
        skip = set(_trunk_files(src_dir, trunk_file))
        for rel, digest in base.files.items():
            if rel in skip:
                continue
            (dst_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src_dir / rel, dst_dir / rel)
            files[rel] = digest
        graphs = dict(base.graphs)
    manifest = replace(base, graphs=graphs, files=files, quantization=scheme, quantization_info=info,
                       source_hash=source_hash, tokenizer=base.tokenizer if copy_others else None)
    (dst_dir / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def quant_hash(base: Manifest, cfg: QuantConfig) -> str:
    """The quantized artifact's source hash: the fp32 artifact's, plus what was asked of quantization
    and the candidate passes that asking expands to (a changed candidate table re-quantizes)."""
    blob = json.dumps({"fp32": base.source_hash, "trunk": base.files[base.graphs["trunk"].file],
                       "others": {k: v for k, v in sorted(base.files.items())},
                       "config": asdict(cfg), "candidates": candidates(cfg),
                       "passes_version": passes.PASSES_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def quantize_artifact(src_dir: str | Path, dst_dir: str | Path, cfg: QuantConfig, *, mix=None,
                      force: bool = False, log=print) -> tuple[Manifest, bool]:
    """Quantize the trunk of the fp32 artifact `src_dir` into the new artifact `dst_dir`.

    Returns (manifest, skipped); skipped when `dst_dir` already verifies with the same source and
    config. `mix` is a prebuilt training mix (its dev split gives the prompts).
    """
    src_dir, dst_dir = Path(src_dir), Path(dst_dir)
    if src_dir.resolve() == dst_dir.resolve():
        raise ArtifactError(f"{dst_dir}: quantization writes a new artifact folder, not the fp32 one")
    base = load_manifest(src_dir, verify=True)
    if base.quantization != "none":
        raise ArtifactError(f"{src_dir}: already quantized ({base.quantization}); quantize the fp32 artifact")
    digest = quant_hash(base, cfg)
    if not force:
        try:
            done = load_manifest(dst_dir, verify=True)
            if done.source_hash == digest:
                log(f"{dst_dir}: up to date ({cfg.scheme}, {done.quantization_info.get('method')}); nothing to do")
                return done, True
        except ArtifactError:
            pass
    if base.tokenizer is None or base.chat_template is None:
        raise ArtifactError(f"{src_dir}: needs a tokenizer and a chat-template family to draw dev prompts")

    t_start = time.perf_counter()
    work = dst_dir / CANDIDATES_DIR
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if mix is None:
        from edgeagent.data.mix import build_mix

        mix = build_mix()
    tok = src_dir / base.tokenizer
    prompts = dev_prompt_ids(tok, base.chat_template, PromptSet("eval", cfg.eval_prompts, cfg.max_prompt_tokens), mix)
    calib_ids = None

    def calib(same_length: bool = False):
        nonlocal calib_ids
        if calib_ids is None:
            calib_ids = dev_prompt_ids(tok, base.chat_template,
                                       PromptSet("calib", cfg.calib_prompts, cfg.max_prompt_tokens), mix)
        kv = base.kv
        return passes.TrunkCalibrationReader(calib_ids, kv.num_layers, kv.kv_heads, kv.head_dim,
                                             kv.past_key, kv.past_value, same_length,
                                             base.graphs["trunk"].has_input("logits_index"))

    log(f"fp32 reference: {len(prompts)} dev prompts × {cfg.new_tokens} greedy tokens")
    fp32 = measure.open_trunk(src_dir, threads=cfg.threads, verify=False)
    ref = measure.reference(fp32, prompts, cfg.new_tokens)
    ref_logits = measure.teacher_forced_logits(fp32, ref)
    fp32_speed = measure.decode_speed(fp32, prompts[0])
    del fp32

    trunk_file = base.graphs["trunk"].file
    staged = work / "fp32-staged.onnx"
    folded = fold_weight_transposes(src_dir / trunk_file, staged) if cfg.quantize_lm_head else 0
    if not cfg.quantize_lm_head:
        shutil.copyfile(src_dir / trunk_file, staged)
    lm_head = (passes.weight_matmuls(staged) or [None])[-1]
    results = []
    for name, spec in candidates(cfg):
        cdir = work / name
        cdir.mkdir()
        t0 = time.perf_counter()
        try:
            params = _run_pass(spec, staged, cdir / trunk_file, calib, base.kv.num_layers)
        except Exception as e:  # a pass that ORT cannot do on this graph is a result, not a crash
            log(f"  {name}: failed ({type(e).__name__}: {e})")
            results.append({"name": name, "error": f"{type(e).__name__}: {e}"})
            continue
        seconds = time.perf_counter() - t0
        if not params.get("nodes"):  # everything excluded: an fp32 copy must not win on agreement
            log(f"  {name}: quantized no MatMul; skipped")
            results.append({"name": name, "params": params, "error": "no MatMul quantized"})
            continue
        write_artifact(base, src_dir, cdir, cdir, cfg.scheme, {"method": name}, "", copy_others=False)
        try:
            m = measure.measure(cdir, ref, ref_logits, threads=cfg.threads)
        except Exception as e:
            log(f"  {name}: quantized in {seconds:.1f}s but does not run on ORT CPU ({type(e).__name__}: {e})")
            results.append({"name": name, "params": params, "quantize_s": round(seconds, 2),
                            "error": f"ORT CPU: {type(e).__name__}: {e}"})
            continue
        results.append({"name": name, "params": params, "quantize_s": round(seconds, 2), **m.to_dict()})
        log(f"  {name}: agreement {m.agreement:.2%} ({m.positions} positions), {m.size_mb:.0f} MB, "
            f"{m.decode_tok_s:.1f} tok/s, quantized in {seconds:.1f}s")
    ok = [r for r in results if "agreement" in r]
    if not ok:
        raise ArtifactError(f"no {cfg.scheme} candidate ran: " + "; ".join(f"{r['name']}: {r['error']}" for r in results))
    best, passed = select(ok, cfg.min_agreement)
    warning = None
    if not passed:
        warning = (f"no {cfg.scheme} candidate reaches {cfg.min_agreement:.0%} greedy-token agreement with fp32; "
                   f"chose the most accurate, {best['name']} ({best['agreement']:.2%}): expect different outputs")
        log("!" * 78)
        log(f"WARNING: {warning}")
        log("!" * 78)
    if best["decode_tok_s"] < fp32_speed:
        # Said, not hidden: on CPUs without int8 dot products (AVX2 only) 8-bit weights can decode no
        # faster than fp32's tuned SGEMM; the artifact is still smaller.
        slower = (f"{best['name']} decodes at {best['decode_tok_s']:.1f} tok/s, fp32 at {fp32_speed:.1f} tok/s on this "
                  f"machine: the {cfg.scheme} artifact is smaller, not faster here")
        warning = f"{warning}; {slower}" if warning else slower
        log(f"note: {slower}")
    info = {
        "method": best["name"], "params": best["params"],
        "measured": {k: best[k] for k in ("agreement", "positions", "sequences_exact", "mean_abs_logit_diff",
                                          "size_mb", "decode_tok_s", "quantize_s")},
        "chosen_by": SELECTION_RULE, "min_agreement": cfg.min_agreement, "met_min_agreement": passed,
        "warning": warning,
        "agreement_definition": "share of the prompts×new_tokens positions whose argmax under teacher "
                                "forcing of the fp32 greedy sequence equals fp32's greedy token",
        "fp32": {"source_hash": base.source_hash, "size_mb": round(measure.graph_size_mb(src_dir), 1),
                 "decode_tok_s": round(fp32_speed, 2)},
        "lm_head_quantized": bool(folded) and lm_head not in best["params"].get("fp32_nodes", []),
        "candidates": results, "config": asdict(cfg),
    }
    if cfg.scheme == "fp8":
        info["note"] = ("FP8 E4M3 targets TensorRT on Hopper/Ada. On ORT CPU it runs only with graph "
                        "optimizations off (Q/DQ reference kernels, fp32 MatMul): the numbers simulate FP8 "
                        "rounding, not FP8 speed. Jetson Orin (Ampere) has no FP8: use int8 or int4 there.")
    info["candidates_wall_s"] = round(time.perf_counter() - t_start, 1)  # reference + every candidate
    chosen = work / best["name"]
    manifest = write_artifact(base, src_dir, dst_dir, chosen, cfg.scheme, info, digest)
    shutil.rmtree(work, ignore_errors=True)
    load_manifest(dst_dir, verify=True)
    log(f"{cfg.scheme}: chose {best['name']} (agreement {best['agreement']:.2%}, {best['decode_tok_s']:.1f} tok/s; "
        f"fp32 {fp32_speed:.1f} tok/s) in "
        f"{time.perf_counter() - t_start:.1f}s → {dst_dir}")
    return manifest, False
