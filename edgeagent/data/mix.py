"""The training mix (MANIFEST "How to use"): function calling + negatives + replay.

Function-calling records (glaive-en, Seal-Tools, SGD down-sampled to ``sgd_dialogues``) are
split train/dev (:mod:`edgeagent.data.split`), augmented on the train side (synthesized
negatives, parallel merges, distractor tools, shuffled tool order), expanded into one example
per assistant turn, and topped up with replay (chat + GSM8K) to ``replay_share`` of the
examples. ``include_sgd=False`` drops both SGD files: the BFCL-live ablation arm.

Every random choice is seeded from ``seed`` and the record id (:func:`seed_for`), so one
record's augmentations do not change when other records are added.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .augment import (add_distractors, list_values, make_negative, merge_parallel, merge_reason, merge_repeat,
                      opening_request, resample_numbers, shuffle_tools, single_call, split_request,
                      string_alternatives, tool_pool)
from .examples import Example, expand, record_mode
from .records import Loaded, load
from .split import DEV_FRACTION, split_records

FC_DATASETS = ("glaive_en", "sealtools", "sgd")
SGD_DATASETS = ("sgd", "sgd_irrel")
NEGATIVE_DATASETS = ("sgd_irrel",)
REPLAY_DATASETS = {"chat": "chat", "gsm8k": "think"}


@dataclass
class MixConfig:
    """How the training mix is composed. Saved as JSON beside what it builds."""

    seed: int = 0
    dev_fraction: float = DEV_FRACTION
    include_sgd: bool = True            # False: the BFCL-live ablation arm (no SGD, no SGD negatives)
    include_glaive_zh: bool = False
    sgd_dialogues: int = 4000           # train-side SGD dialogues kept (down-sampled)
    sgd_dev_dialogues: int | None = None  # dev-side SGD dialogues kept (None: all)
    negative_rate: float = 0.5          # share of train tool records that also give a negative
    merges: int = 200                   # parallel requests merged from single-call records
    counterfactuals: int = 2            # number-resampled variants per record whose user wrote a number argument
    repeat_merges: int = 200            # parallel requests calling one function twice (a record + its counterfactual)
    splits: int = 0                     # train-side single requests split from multi-call ones (split_request); the
                                        # dev side then holds every split of its records (evals/dev.py leaves them
                                        # out of the default dev set)
    listed: int = 0                     # train-side listed requests: one written value becomes a list of two or
                                        # three, one call each (list_values); the dev set has every dev record's
                                        # (Mix.dev_listed), outside Mix.dev
    distractor_rate: float = 0.5        # share of tool records offered 1..max_distractors extra tools
    max_distractors: int = 3
    shuffle_tools: bool = True
    replay_share: float = 0.25          # replay examples / all train examples
    think_share: float = 0.4            # GSM8K share of the replay

    def save(self, path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path) -> "MixConfig":
        return cls(**json.loads(Path(path).read_text()))


@dataclass
class Mix:
    train: list[Example]
    dev: list[Example]
    report: dict = field(default_factory=dict)
    dev_listed: list[Example] = field(default_factory=list)  # listed requests of dev records (evals/dev.py --lists)


def seed_for(seed: int, *parts: str) -> int:
    """A 32-bit seed from the mix seed and names (stable across runs; no Python hash())."""
    text = "\x1f".join([str(seed), *parts])
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:4], "big")


def source_label(ex: Example) -> str:
    """Row of the report: the dataset, or ``<dataset>/negative`` and ``merge`` for derived ones."""
    if "merge" in ex.augment:
        return "merge"
    if "repeat" in ex.augment:
        return "repeat"
    if "listed" in ex.augment:
        return f"{ex.dataset}/listed"
    if "split" in ex.augment:
        return f"{ex.dataset}/split" + ("-negative" if "negative" in ex.augment else "")
    if "counterfactual" in ex.augment:
        return f"{ex.dataset}/counterfactual"
    if "negative" in ex.augment:
        return f"{ex.dataset}/negative"
    return ex.dataset


def _counts(examples: list[Example]) -> dict:
    by_source: dict[str, Counter] = defaultdict(Counter)
    for ex in examples:
        by_source[source_label(ex)][ex.mode] += 1
    modes = Counter(ex.mode for ex in examples)
    return {
        "examples": len(examples),
        "by_mode": dict(sorted(modes.items())),
        "by_source": {s: {"examples": sum(c.values()), **dict(sorted(c.items()))} for s, c in sorted(by_source.items())},
        "records": len({ex.record_id for ex in examples}),
    }


def _augment_train(fc: list[dict], cfg: MixConfig, report: dict, listed: list[dict]) -> list[dict]:
    """Negatives, merges, distractors and shuffles for the train-side function-calling records;
    ``listed`` (listed requests) get distractors and shuffles too."""
    pool = tool_pool(fc)
    splits = _splits(fc, cfg.splits, seed_for(cfg.seed, "splits"))
    negatives = []
    for rec in fc + splits:
        if record_mode(rec) != "tool":
            continue
        if random.Random(seed_for(cfg.seed, rec["id"], "neg?")).random() < cfg.negative_rate:
            neg = make_negative(rec, seed_for(cfg.seed, rec["id"], "neg"), pool)
            if neg is not None:
                negatives.append(neg)

    singles = [r for r in fc if single_call(r)]
    random.Random(seed_for(cfg.seed, "merge-order")).shuffle(singles)
    merged, used = [], set()
    for i, a in enumerate(singles):
        if len(merged) >= cfg.merges:
            break
        if a["id"] in used:
            continue
        for b in singles[i + 1:i + 20]:
            if b["id"] not in used and merge_reason(a, b) is None:
                merged.append(merge_parallel(a, b))
                used.update((a["id"], b["id"]))
                break

    variants, repeats = _counterfactuals(fc, cfg)

    out = []
    n_distract = 0
    for rec in fc + merged + variants + repeats + splits + listed:
        if rec["tools"] and random.Random(seed_for(cfg.seed, rec["id"], "dis?")).random() < cfg.distractor_rate:
            k = 1 + seed_for(cfg.seed, rec["id"], "k") % cfg.max_distractors
            aug = add_distractors(rec, pool, seed_for(cfg.seed, rec["id"], "dis"), k=k)
            if aug is not None:
                rec, n_distract = aug, n_distract + 1
        out.append(rec)
    # Negatives get no distractors: an added tool is checked against the kept tools only, and
    # could be related to the removed (called) function.
    out += negatives
    if cfg.shuffle_tools:
        out = [shuffle_tools(r, seed_for(cfg.seed, r["id"], "shuffle")) if len(r["tools"]) > 1 else r for r in out]
    report["augment"] = {"negatives": len(negatives), "merges": len(merged), "with_distractors": n_distract,
                         "single_call_candidates": len(singles), "counterfactuals": len(variants),
                         "repeat_merges": len(repeats), "splits": len(splits), "listed": len(listed)}
    return out


def _splits(recs: list[dict], k: int, seed: int) -> list[dict]:
    """Up to ``k`` single requests split from ``recs``' multi-call requests (split_request), drawn with
    ``seed`` and kept in their order."""
    if k <= 0:
        return []
    return _down_sample([s for rec in recs for s in split_request(rec)], k, seed)


def listed_requests(recs: list[dict], seed: int) -> list[dict]:
    """A listed request (list_values) for each of ``recs`` that gives one: a list of two values, or of
    three for one record in three; string values drawn from the other requests of ``recs``."""
    alternatives = string_alternatives(recs)
    out = []
    for rec in recs:
        s = seed_for(seed, rec["id"], "listed")
        listed = list_values(rec, s, k=3 if s % 3 == 0 else 2, alternatives=alternatives)
        if listed is not None:
            out.append(listed)
    return out


def _down_sample(recs: list[dict], k: int, seed: int) -> list[dict]:
    """``k`` of ``recs`` drawn with ``seed``, in their order (all of them if there are no more)."""
    if len(recs) <= k:
        return recs
    keep = set(random.Random(seed).sample(range(len(recs)), k))
    return [r for i, r in enumerate(recs) if i in keep]


def _counterfactuals(recs: list[dict], cfg: MixConfig) -> tuple[list[dict], list[dict]]:
    """Number-resampled variants of ``recs`` (up to ``cfg.counterfactuals`` distinct ones each) and
    up to ``cfg.repeat_merges`` same-function parallel requests: a record that opens with a single
    call + one of its variants, and two of its variants."""
    variants, repeats = [], []
    for rec in recs:
        own, seen = [], set()
        for j in range(cfg.counterfactuals):
            cf = resample_numbers(rec, seed_for(cfg.seed, rec["id"], f"cf{j}"))
            if cf is None:
                break
            key = json.dumps(cf["meta"]["swapped"], sort_keys=True)
            if key not in seen:
                seen.add(key)
                own.append(cf)
        variants += own
        if own and opening_request(rec) is not None:
            for a, b in [(rec, own[0])] + ([(own[1], own[2])] if len(own) > 2 else []):
                if len(repeats) < cfg.repeat_merges:
                    repeats.append(merge_repeat(a, b))
    return variants, repeats


def build_mix(data: Loaded | str | Path | None = None, config: MixConfig | None = None) -> Mix:
    """Compose the train mix and the dev set.

    ``data``: loaded records, or a data dir (None: the default data dir). Returns a :class:`Mix`
    whose ``report`` has per-source and per-mode example counts for train and dev.
    """
    cfg = config or MixConfig()
    fc_names = [d for d in FC_DATASETS if cfg.include_sgd or d not in SGD_DATASETS]
    if cfg.include_glaive_zh:
        fc_names.append("glaive_zh")
    neg_names = [d for d in NEGATIVE_DATASETS if cfg.include_sgd or d not in SGD_DATASETS]
    wanted = fc_names + neg_names + list(REPLAY_DATASETS)
    if not isinstance(data, Loaded):
        data = load(data, datasets=wanted)
    missing = [d for d in wanted if d not in data.records]
    if missing:
        raise ValueError(f"the mix needs dataset(s) {missing}; loaded: {sorted(data.records)}")

    report: dict = {"config": asdict(cfg), "skipped_on_load": len(data.skipped)}
    sides = {d: split_records(data.records[d], cfg.dev_fraction) for d in wanted}
    report["split_records"] = {d: {"train": len(t), "dev": len(v)} for d, (t, v) in sides.items()}

    fc_train = []
    for d in fc_names:
        recs = sides[d][0]
        if d == "sgd":
            recs = _down_sample(recs, cfg.sgd_dialogues, seed_for(cfg.seed, "sgd-sample"))
        fc_train += recs
    # listed requests from every train-side record, SGD not down-sampled: few openings qualify
    listed = _down_sample(listed_requests([r for d in fc_names for r in sides[d][0]], cfg.seed), cfg.listed,
                          seed_for(cfg.seed, "listed")) if cfg.listed > 0 else []
    fc_train = _augment_train(fc_train, cfg, report, listed)
    for d in neg_names:
        fc_train += sides[d][0]
    train = [ex for r in fc_train for ex in expand(r)]

    # Replay: n / (n + len(train)) == replay_share.
    n_replay = round(cfg.replay_share / (1.0 - cfg.replay_share) * len(train)) if cfg.replay_share < 1 else 0
    want = {"gsm8k": round(n_replay * cfg.think_share)}
    want["chat"] = n_replay - want["gsm8k"]
    replay_report = {}
    for d in REPLAY_DATASETS:
        recs = sides[d][0]
        k = min(want[d], len(recs))
        picked = sorted(random.Random(seed_for(cfg.seed, "replay", d)).sample(range(len(recs)), k))
        train += [ex for i in picked for ex in expand(recs[i])]
        replay_report[d] = {"wanted": want[d], "taken": k, "available": len(recs)}
    report["replay"] = replay_report
    random.Random(seed_for(cfg.seed, "order")).shuffle(train)

    dev_recs = []
    for d in fc_names:
        recs = sides[d][1]
        if d == "sgd" and cfg.sgd_dev_dialogues is not None:
            recs = _down_sample(recs, cfg.sgd_dev_dialogues, seed_for(cfg.seed, "sgd-dev-sample"))
        dev_recs += recs
    originals = list(dev_recs)
    if cfg.splits > 0:
        dev_recs += [s for rec in originals for s in split_request(rec)]
    dev_pool = tool_pool(dev_recs)
    dev_negs = [n for r in dev_recs if record_mode(r) == "tool"
                for n in [make_negative(r, seed_for(cfg.seed, r["id"], "neg"), dev_pool)] if n]
    dev_variants, dev_repeats = _counterfactuals(originals, cfg)
    dev_recs += dev_negs + dev_variants + dev_repeats + [r for d in neg_names + list(REPLAY_DATASETS) for r in sides[d][1]]
    dev = [ex for r in dev_recs for ex in expand(r)]

    dev_listed = [ex for r in listed_requests([r for d in fc_names for r in sides[d][1]], cfg.seed) for ex in expand(r)]

    report["train"] = _counts(train)
    report["dev"] = _counts(dev)
    report["dev_listed"] = _counts(dev_listed)
    return Mix(train, dev, report, dev_listed)
