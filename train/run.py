"""`edgeagent train`: data mix -> prepared sequences -> cached trunk states -> trained heads.

Stages (each resumable, each writing into the work dir):
  prepare  the mix (dev split held out), one token sequence and its labels per example;
  states   one frozen-trunk pass per sequence, float16 states cached on disk;
  fit      router (mode, another call) and slot filler on the cache; optional LoRA baseline;
  report   dev metrics, loss curves, per-source counts.
"""

from __future__ import annotations

import gzip
import json
import pickle
import random
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from edgeagent.heads.spec import MODES


@dataclass
class RunConfig:
    model: str = "smollm2-135m"
    seed: int = 0
    max_len: int = 3072                  # longest trunk sequence kept
    cap_per_mode: dict = field(default_factory=lambda: {"tool": 12000, "chat": 6000, "think": 1500})
    dev_cap_per_mode: dict = field(default_factory=lambda: {"tool": 600, "chat": 300, "think": 100})
    include_sgd: bool = True
    device: str = "cpu"
    lora: bool = False
    lora_tokens: int = 3_000_000         # LoRA baseline budget (tokens of sequences seen)
    mix: dict = field(default_factory=dict)  # MixConfig fields that differ from its defaults
    listing: str = "json"                # how prompts list the tools (formats/hermes.py tool_lines)


# Recipes. "full": the whole mix, every head from scratch (a GPU run: the trunk pass over ~25M
# tokens takes about 15 hours on 2 CPU cores). "cpu": a continuation that fits this 2-core
# machine: a ~1.5M-token mix weighted towards what the full mix lacks (number arguments read
# from the request: counterfactuals; one function called twice: repeat merges; few SGD turns),
# trained from existing heads (--init) at a lower learning rate. "gpu": the cpu recipe's mix at
# about four times its size (more counterfactuals, more SGD dialogues, longer sequences; repeat
# merges are bounded by their candidates, about 80 either way),
# continued from existing heads for 12 epochs (6 scored lower on its dev split): minutes on one GPU.
RECIPES = {
    "full": {},
    "cpu": {"max_len": 1400, "cap_per_mode": {"tool": 1400, "chat": 600, "think": 100},
            "dev_cap_per_mode": {"tool": 150, "chat": 60, "think": 10},
            "mix": {"sgd_dialogues": 100, "sgd_dev_dialogues": 20, "counterfactuals": 3, "repeat_merges": 300,
                    "replay_share": 0.2, "splits": 600},
            "train": {"epochs": 3, "lr": 1e-4, "router_epochs": 10, "router_lr": 3e-4},
            "init": "shipped"},
    "gpu": {"max_len": 2048, "cap_per_mode": {"tool": 8000, "chat": 3000, "think": 400},
            "dev_cap_per_mode": {"tool": 150, "chat": 60, "think": 10},
            "mix": {"sgd_dialogues": 400, "sgd_dev_dialogues": 20, "counterfactuals": 8, "repeat_merges": 300,
                    "replay_share": 0.2, "splits": 100000},
            "train": {"epochs": 12, "lr": 1e-4, "router_epochs": 10, "router_lr": 3e-4},
            "init": "shipped"},
}
# "gpu-lists": the gpu recipe with up to 1,200 listed requests in its mix (one written value made a
# list of two or three, a call per element: data/augment.py list_values), for the next GPU fit;
# the shipped heads have not seen them (the gpu recipe is theirs).
RECIPES["gpu-lists"] = {**RECIPES["gpu"], "mix": {**RECIPES["gpu"]["mix"], "listed": 1200}}


def recipe(name: str) -> dict:
    """The recipe's settings: RunConfig fields, plus "train" (TrainConfig fields) and "init"."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; known: {sorted(RECIPES)}")
    return RECIPES[name]


def _cap(examples, caps, seed):
    by = {}
    for ex in examples:
        by.setdefault(ex.mode, []).append(ex)
    out = []
    for mode, exs in sorted(by.items()):
        k = min(len(exs), caps.get(mode, len(exs)))
        out += random.Random(f"{seed}-{mode}").sample(exs, k)
    random.Random(f"{seed}-order").shuffle(out)
    return out


def prepare(cfg: RunConfig, work: Path, data_dir=None, progress=True) -> dict:
    """Build the mix and the prepared items; writes prepared.pkl.gz and prepare.json."""
    from tqdm import tqdm

    from edgeagent.data.mix import MixConfig, build_mix
    from edgeagent.models.registry import describe, resolve
    from edgeagent.train.prepare import Preparer

    work.mkdir(parents=True, exist_ok=True)
    out = work / "prepared.pkl.gz"
    if out.exists():
        return json.loads((work / "prepare.json").read_text())
    t0 = time.time()
    path = resolve(cfg.model)
    family = describe(path).family
    tok = _tokenizer(cfg.model)
    mix = build_mix(data_dir, MixConfig(**{**cfg.mix, "seed": cfg.seed, "include_sgd": cfg.include_sgd}))
    sides = {"train": _cap(mix.train, cfg.cap_per_mode, cfg.seed),
             "dev": _cap(mix.dev, cfg.dev_cap_per_mode, cfg.seed)}
    prep = Preparer(tok, family, max_len=cfg.max_len, listing=cfg.listing)
    items = {}
    for side, exs in sides.items():
        kept = []
        for ex in tqdm(exs, desc=f"prepare {side}", disable=not progress):
            it = prep(ex)
            if it is not None:
                it.source = ex.dataset + ("/" + "+".join(ex.augment) if ex.augment else "")
                kept.append(it)
        items[side] = kept
    report = {
        "model": cfg.model, "family": family, "mix": mix.report, "seconds": round(time.time() - t0, 1),
        "skipped": prep.skipped,
        "items": {s: len(v) for s, v in items.items()},
        "tokens": {s: int(sum(len(i.ids) for i in v)) for s, v in items.items()},
        "by_mode": {s: {m: sum(1 for i in v if MODES[i.mode] == m) for m in MODES} for s, v in items.items()},
        "calls": {s: int(sum(len(i.calls) for i in v)) for s, v in items.items()},
        "by_source": {s: _count(i.source for i in v) for s, v in items.items()},
    }
    tmp = out.with_suffix(".tmp")
    with gzip.open(tmp, "wb", compresslevel=6) as f:
        pickle.dump({"config": asdict(cfg), "items": items}, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(out)
    (work / "prepare.json").write_text(json.dumps(report, indent=2))
    return report


def _count(xs):
    out = {}
    for x in xs:
        out[x] = out.get(x, 0) + 1
    return dict(sorted(out.items()))


def _tokenizer(model):
    from edgeagent.models.load import load_tokenizer

    tok = load_tokenizer(model)
    return getattr(tok, "backend_tokenizer", tok)


def load_prepared(work: Path) -> dict:
    with gzip.open(work / "prepared.pkl.gz", "rb") as f:
        return pickle.load(f)


def prepared_listing(data: dict) -> str:
    """How the prepared prompts list the tools (sets prepared before listings were an option: json)."""
    return (data.get("config") or {}).get("listing", "json")


def _lora_needs_json(listing: str, work: Path) -> None:
    if listing != "json":
        raise ValueError(f"{work}: its prompts use the {listing!r} tool listing; the LoRA baseline (b) trains on "
                         "the json listing, the one its predictor writes")


def fit(cfg: RunConfig, work: Path, out_dir: Path, trunk=None, progress=True, train_cfg=None, init=None,
        data_dir=None) -> dict:
    """Cache states, train the heads, write them to ``out_dir``; returns the dev report.

    ``init``: a heads directory to continue from (every head starts from its weights) instead of
    a fresh start. ``data_dir``: where the span prior's records are read (fit_span_prior)."""
    import torch

    from edgeagent.heads.slot_filler import SlotFillerConfig
    from edgeagent.train.evaluate import dev_report
    from edgeagent.train.features import cache_states, keep_from
    from edgeagent.train.heads_train import TrainConfig, router_data, save_heads, train_router, train_slot_filler

    data = load_prepared(work)
    items = data["items"]
    cfg = replace(cfg, listing=prepared_listing(data))   # heads.json records what the prompts really listed
    if cfg.lora:
        _lora_needs_json(cfg.listing, work)
    tcfg = train_cfg or TrainConfig(seed=cfg.seed, device=cfg.device)
    if trunk is None:
        from edgeagent.models.load import load_trunk

        # fp32 states, as the CPU runtime computes them (TF32 matmuls on a GPU keep it fast)
        torch.backends.cuda.matmul.allow_tf32 = True
        trunk, _ = load_trunk(cfg.model, dtype="fp32", device=cfg.device)
    t0 = time.time()
    states = {side: cache_states(trunk, [it.ids for it in items[side]], work / f"states-{side}",
                                 device=cfg.device, progress=progress,
                                 max_tokens_per_batch=65536 if cfg.device.startswith("cuda") else 8192,
                                 keep_from=[keep_from(it, tcfg.max_ctx) for it in items[side]])
              for side in ("train", "dev")}
    offsets = {side: np.load(work / f"states-{side}" / "offsets.npy") for side in states}
    t_states = time.time() - t0
    log: list = []
    t1 = time.time()
    emb = trunk.get_input_embeddings().weight.detach().float().cpu()
    V, H = emb.shape
    start = {"slot_filler": None, "mode": None, "another": None}
    if init is not None:
        from edgeagent.heads.io import load_heads

        start = dict(zip(start, load_heads(Path(init), emb)))
    xm, ym, xc, yc = router_data(items["train"], states["train"], offsets["train"])
    mode_head, mode_cfg = train_router(xm, ym, len(MODES), tcfg, log, "mode", init=start["mode"])
    cont_head, cont_cfg = train_router(xc, yc, 2, tcfg, log, "another", init=start["another"])
    sf_cfg = start["slot_filler"].cfg if init is not None else SlotFillerConfig(vocab_size=V, trunk_hidden=H, d_model=H)
    slot_filler = train_slot_filler(items["train"], states["train"], offsets["train"], emb, tcfg, sf_cfg,
                                    mask_id=V + 1, null_id=V, log=log, out_dir=work, progress=progress,
                                    init=start["slot_filler"])
    t_fit = time.time() - t1
    files = save_heads(out_dir, slot_filler, sf_cfg, mode_head, mode_cfg, cont_head, cont_cfg,
                       meta={"model": cfg.model, "seed": cfg.seed, "train_config": asdict(tcfg),
                             "run_config": asdict(cfg), "init": _init_meta(init)})
    (out_dir / "train_log.json").write_text(json.dumps(log, indent=1))
    report = {"seconds": {"states": round(t_states, 1), "fit": round(t_fit, 1)}, "files": files,
              "dev": dev_report(items["dev"], states["dev"], offsets["dev"], mode_head, cont_head,
                                slot_filler, tcfg, V, tokenizer=_tokenizer(cfg.model))}
    # the selection head reads the tools back from json-listed prompts; it reads the request's text,
    # not trunk states, so one trained on a json-listing mix serves heads of any listing
    report["select"] = fit_select(cfg, work, out_dir, progress=progress) if cfg.listing == "json" else {
        "skipped": f"listing {cfg.listing!r}: train the selection head on a json-listing work dir and copy it here"}
    prompt_states = {side: _at_prompts(states[side], offsets[side], items[side]) for side in ("train", "dev")}
    try:
        report["gate"] = fit_gate(cfg, work, out_dir, progress=progress, states=prompt_states)
    except ValueError as e:              # a mix without first requests of both kinds: no gate
        from edgeagent.runtime.gate import GATE_FILE

        (out_dir / GATE_FILE).unlink(missing_ok=True)   # an old one was fitted to another mode head
        report["gate"] = {"skipped": str(e)}
    report["span_prior"] = fit_span_prior(cfg, out_dir, data_dir)   # the records' text only: seconds
    if cfg.lora:
        from edgeagent.train.lora_train import train_lora_baseline

        report["lora"] = train_lora_baseline(trunk, items["train"], cfg, out_dir / "lora", progress=progress)
    (out_dir / "train_report.json").write_text(json.dumps(report, indent=2))
    del torch
    return report


def fit_select(cfg: RunConfig, work: Path, out_dir: Path, progress=True, epochs: int = 30, lr: float = 1e-3) -> dict:
    """Train the tool-selection head on WORK's prepared items and add it to ``out_dir``; returns
    its dev report. Needs no trunk: the head reads match features of the prompt's text."""
    from edgeagent.heads.io import save_select_head
    from edgeagent.runtime.select import FEATURES
    from edgeagent.train.select import select_data, select_report, train_select

    from edgeagent.models.registry import describe, resolve

    items = load_prepared(work)["items"]
    tok = _tokenizer(cfg.model)
    family = describe(resolve(cfg.model)).family
    data = {side: select_data(items[side], tok, family) for side in ("train", "dev")}
    if not len(data["train"]["gold"]):
        raise ValueError(f"{work}: no training call lists two or more tools; nothing to train the selection head on")
    t0 = time.time()
    log: list = []
    head, _ = train_select(data["train"], epochs=epochs, lr=lr, seed=cfg.seed, log=log, dev=data["dev"])
    report = {"seconds": round(time.time() - t0, 1), "features": list(FEATURES),
              "train_calls": int(len(data["train"]["gold"])), "epochs": epochs, "lr": lr,
              "train": select_report(head, data["train"]), "dev": select_report(head, data["dev"])}
    save_select_head(out_dir, head, {"model": cfg.model, "seed": cfg.seed, "work": _portable(work), **report,
                                     "log": log})
    return report


def fit_gate(cfg: RunConfig, work: Path, out_dir: Path, trunk=None, progress=True, l2: float = 1.0,
             states: dict | None = None, per_group: int | None = None) -> dict:
    """Train the tool gate (runtime/gate.py) for the mode head in ``out_dir`` on WORK's prepared
    items and save it there; returns its report.

    ``states``: side -> [items, H] trunk states of each item's last prompt token (the fit stage
    passes its own); else they are read from a finished fit's cache in WORK, or computed once, the
    gate's prompts only, into WORK/prompt-states-SIDE. ``per_group``: the training side keeps at most
    that many items of each kind (train/gate.py pick_gate_items); the dev side keeps all."""
    import torch

    from edgeagent.heads.io import heads_dir, load_router
    from edgeagent.models.registry import describe, resolve
    from edgeagent.train.gate import gate_data, gate_report, pick_gate_items, train_gate

    items = load_prepared(work)["items"]
    tok = _tokenizer(cfg.model)
    family = describe(resolve(cfg.model)).family
    picked = {side: pick_gate_items(items[side], tok, family, per_group if side == "train" else None, cfg.seed)
              for side in ("train", "dev")}
    if states is None:
        states = _fit_states_at_prompts(work, items)
    if states is not None:
        states = {side: states[side][picked[side]] for side in picked}
    items = {side: [items[side][i] for i in picked[side]] for side in picked}
    if states is None:
        from edgeagent.train.features import cache_states

        if trunk is None:
            from edgeagent.models.load import load_trunk

            trunk, _ = load_trunk(cfg.model, dtype="fp32", device=cfg.device)
        states = {}
        for side in ("train", "dev"):
            prompts = [it.ids[: it.mode_at + 1] for it in items[side]]
            cached = cache_states(trunk, prompts, work / f"prompt-states-{side}", device=cfg.device,
                                  progress=progress, keep_from=[len(p) - 1 for p in prompts])
            states[side] = np.asarray(cached[: len(prompts)], np.float32)   # one row per item, in order
    folder = heads_dir(cfg.model, out_dir)
    mode_head = load_router(folder, "mode")
    data = {}
    with torch.inference_mode():
        for side in ("train", "dev"):
            logits = mode_head(torch.as_tensor(np.asarray(states[side], np.float32))).numpy()
            data[side] = gate_data(items[side], logits, tok, family)
    gate = train_gate(data["train"], l2=l2)
    gate.report = {"work": _portable(work), "l2": l2, "balanced": False, "per_group": per_group,
                   "train": gate_report(gate, data["train"]), "dev": gate_report(gate, data["dev"]),
                   "dev_mode_head_alone": gate_report(None, data["dev"])}
    gate.save(folder)
    return gate.report


def fit_span_prior(cfg: RunConfig, out_dir: Path, data_dir=None, l2: float = 1.0) -> dict:
    """Train the span prior (runtime/span_prior.py) on the training split of ../shared/data's tool
    datasets (glaive en, Seal-Tools, and SGD unless ``cfg.include_sgd`` is off) and save it in
    ``out_dir``; returns its report (top-1 word of the value's start, train and dev). No trunk pass."""
    from edgeagent.data.records import load
    from edgeagent.data.split import split_records
    from edgeagent.train.span_prior import train_prior

    t0 = time.time()
    datasets = ["glaive_en", "sealtools"] + (["sgd"] if cfg.include_sgd else [])
    train, dev = split_records(load(data_dir, datasets=datasets).all())
    prior = train_prior(train, dev, l2=l2, seed=cfg.seed)
    prior.report.update(seconds=round(time.time() - t0, 1), datasets=datasets)
    out_dir.mkdir(parents=True, exist_ok=True)
    prior.save(out_dir)
    return prior.report


def _fit_states_at_prompts(work: Path, items: dict) -> dict | None:
    """side -> [items, H] states of each item's last prompt token, read from the fit stage's finished
    caches (WORK/states-SIDE), or None where either side has none."""
    from edgeagent.train.features import complete_states, keep_from
    from edgeagent.train.heads_train import TrainConfig

    max_ctx = TrainConfig().max_ctx
    out = {}
    for side in ("train", "dev"):
        got = complete_states(work / f"states-{side}", [it.ids for it in items[side]],
                              [keep_from(it, max_ctx) for it in items[side]])
        if got is None:
            return None
        out[side] = _at_prompts(*got, items[side])
    return out


def _at_prompts(states, offsets, items) -> np.ndarray:
    """[items, H] float32: each item's state at its last prompt token, from a fit's cache."""
    return np.stack([np.asarray(states[offsets[i] + it.mode_at], np.float32) for i, it in enumerate(items)])


def _portable(path: Path) -> str:
    """A path for a shipped report: relative to the working directory where it lies under it, else
    its last part (no machine's absolute paths in committed files)."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name


def _init_meta(init):
    """What a continued run started from: the heads' own meta (their training chain)."""
    if init is None:
        return None
    meta = json.loads((Path(init) / "heads.json").read_text())
    return {k: meta[k] for k in ("model", "seed", "train_config", "run_config", "init") if k in meta}


def fit_lora(cfg: RunConfig, work: Path, out_dir: Path, trunk=None, progress=True) -> dict:
    """Only the LoRA AR baseline, on the prepared training examples."""
    from edgeagent.train.lora_train import train_lora_baseline

    data = load_prepared(work)
    _lora_needs_json(prepared_listing(data), work)
    items = data["items"]
    if trunk is None:
        from edgeagent.models.load import load_trunk

        trunk, _ = load_trunk(cfg.model, dtype="bf16" if cfg.device.startswith("cuda") else "fp32", device=cfg.device)
    rep = train_lora_baseline(trunk, items["train"], cfg, Path(out_dir) / "lora", progress=progress)
    (Path(out_dir) / "lora" / "lora_report.json").write_text(json.dumps(rep, indent=2))
    return rep


def dev_eval(cfg: RunConfig, work: Path, heads, limit_per_mode: dict | None = None, trunk=None,
             progress=True, anchor_weights=(), anchor_routes=(), end_weights=()) -> dict:
    """Dev-split metrics of trained heads (the shipped ones by default) on a sample of the prepared
    dev set: trunk states for the sample are cached under WORK/states-devsample. ``anchor_weights``
    (and ``anchor_routes``): also score trunk-anchored spans at these settings (the trunk's guesses
    are cached beside the states)."""
    import torch

    from edgeagent.heads.io import heads_dir, load_heads
    from edgeagent.heads.spec import MODES
    from edgeagent.train.evaluate import dev_report
    from edgeagent.train.features import cache_states, keep_from
    from edgeagent.train.heads_train import TrainConfig

    items = load_prepared(work)["items"]["dev"]
    n_all = len(items)
    if limit_per_mode:
        picked, seen = [], {}
        for it in items:
            m = MODES[it.mode]
            if seen.get(m, 0) < limit_per_mode.get(m, 0):
                picked.append(it)
                seen[m] = seen.get(m, 0) + 1
        items = picked
    tcfg = TrainConfig(seed=cfg.seed, device=cfg.device)
    if trunk is None:
        from edgeagent.models.load import load_trunk

        trunk, _ = load_trunk(cfg.model, dtype="fp32", device=cfg.device)
    # the whole dev set: the states `fit` cached for its own dev report
    tag = "-".join(f"{m}{n}" for m, n in sorted((limit_per_mode or {}).items()))
    where = work / ("states-dev" if len(items) == n_all else f"states-dev-{tag}")
    states = cache_states(trunk, [it.ids for it in items], where, device=cfg.device,
                          progress=progress, keep_from=[keep_from(it, tcfg.max_ctx) for it in items])
    offsets = np.load(where / "offsets.npy")
    emb = trunk.get_input_embeddings().weight.detach().float()
    sf, mode, another = load_heads(heads_dir(cfg.model, heads), emb, cfg.device)
    tokenizer = _tokenizer(cfg.model)
    anchors = None
    if anchor_weights or end_weights:
        from edgeagent.train.evaluate import dev_anchors

        anchors = dev_anchors(trunk, items, tokenizer, cfg.device, tcfg.max_ctx, where / "anchors.pkl", progress)
    with torch.inference_mode():
        rep = dev_report(items, states, offsets, mode, another, sf, tcfg, emb.shape[0], tokenizer=tokenizer,
                         anchors=anchors, anchor_weights=anchor_weights, anchor_routes=anchor_routes,
                         trunk=trunk if end_weights else None, end_weights=end_weights)
    rep["sample"] = {"items": len(items), "calls": int(sum(len(i.calls) for i in items)),
                     "by_mode": _count(MODES[i.mode] for i in items)}
    return rep
