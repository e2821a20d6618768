"""`edgeagent train`: reproduce the shipped heads from ../shared/data (BFCL is never read)."""

from pathlib import Path

import click

from edgeagent.formats.hermes import LISTINGS

STAGES = ("prepare", "fit", "all", "select", "gate", "span-prior", "lora", "dev")


@click.command("train")
@click.option("--model", default="smollm2-135m", show_default=True, help="Trunk: a model id or a local checkpoint.")
@click.option("--stage", type=click.Choice(STAGES), default="all", show_default=True,
              help="prepare: the mix and token sequences (CPU); fit: trunk states, heads, dev report; "
                   "select: only the tool-selection head (fit trains it too), added to --out; "
                   "gate: only the tool gate (fit trains it too) for the mode head in --out, written there "
                   "(it reads the prompt states of a finished fit in WORK, else a trunk pass over the prompts "
                   "caches them there); "
                   "span-prior: only the span prior (a word model of where a string value starts), "
                   "from the data's records, no trunk pass, written to --out; "
                   "lora: only the LoRA AR baseline (on the prepared examples); "
                   "dev: dev-split metrics of trained heads (--heads, default the shipped ones).")
@click.option("--recipe", type=click.Choice(("full", "cpu", "gpu", "gpu-lists")), default="full", show_default=True,
              help="full: the whole mix (~25M trunk tokens), every head from scratch: a GPU run. "
                   "cpu: a ~1.5M-token mix weighted to number arguments and repeated calls, continued "
                   "from --init heads (default the shipped ones): about 2 hours on 2 CPU cores. "
                   "gpu: the cpu mix about four times over, continued from --init heads for 12 "
                   "epochs: minutes on one GPU. gpu-lists: the gpu mix with 1,200 listed requests (a value "
                   "written as a list of two or three, one call each).")
@click.option("--init", "init", default=None,
              help="Heads directory to continue from ('shipped': the packaged heads). Default: none for "
                   "--recipe full, shipped for the others.")
@click.option("--work", type=click.Path(path_type=Path), default=None,
              help="Work dir: prepared data, cached trunk states, resumable checkpoints "
                   "[default: runs/train, or runs/train-RECIPE for the other recipes].")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Where the trained heads go (default: WORK/heads).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Training data (default: ../shared/data or $EDGEAGENT_DATA).")
@click.option("--no-sgd", is_flag=True, help="Leave the SGD files out (the BFCL-live ablation arm).")
@click.option("--listing", type=click.Choice(LISTINGS), default="json", show_default=True,
              help="How prompts list the tools: the Hermes JSON, or one signature line per tool (without / with "
                   "each argument's description). heads.json records it, and the runtime writes the same.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:1, ...")
@click.option("--epochs", type=int, default=None,
              help="Slot-filler epochs [default: 4; 3 with --recipe cpu, 12 with gpu and gpu-lists].")
@click.option("--lora", is_flag=True, help="Also train the LoRA AR baseline on the same examples.")
@click.option("--lora-tokens", type=click.IntRange(min=1), default=3_000_000, show_default=True,
              help="LoRA baseline budget: tokens of training sequences seen (one pass at most).")
@click.option("--gate-per-group", type=click.IntRange(min=1), default=None,
              help="With --stage gate: fit the gate on at most this many training items of each kind (dataset, "
                   "augmentation and mode, e.g. sgd/listed:tool), drawn with --seed: a mix with thousands of "
                   "first requests then costs a bounded trunk pass [default: all of them].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--heads", type=click.Path(path_type=Path), default=None, help="Heads to score with --stage dev.")
@click.option("--dev-sample", default="tool=100,chat=60,think=20", show_default=True,
              help="With --stage dev: how many dev items of each mode to score ('all': the whole dev set).")
@click.option("--report", type=click.Path(path_type=Path), default=None,
              help="With --stage dev: where the JSON report goes [default: WORK/dev_report.json].")
@click.option("--anchor-weights", default="", show_default=False,
              help="With --stage dev: also score trunk-anchored spans at these weights, e.g. 0.5,1,2 "
                   "(a trunk pass per dev call, cached in the states folder); the pipeline's "
                   "anchor weight is chosen from this.")
@click.option("--anchor-routes", default="", show_default=False,
              help="With --anchor-weights: also score each weight with these route thresholds, e.g. "
                   "-0.7,-2.3 (copy instead of generating where the trunk's guess at the value's first "
                   "token matches the context with at least this log-probability).")
@click.option("--end-weights", default="", show_default=False,
              help="With --stage dev: also score the pipeline's anchors with span ends anchored at these "
                   "weights, e.g. 1,2 (the trunk's chance of closing the value at each end; a trunk pass "
                   "per dev call, not cached).")
def train(model, stage, recipe, init, work, out, data_dir, no_sgd, listing, device, epochs, lora, lora_tokens, seed,
          heads, dev_sample, report, anchor_weights, anchor_routes, end_weights, gate_per_group):
    """Train the mode head, the another-call head and the slot filler on a frozen trunk.

    The trunk's states are computed once and cached in WORK; the heads train on the cache.
    Every stage resumes where a stopped run left off. The dev split of the data is held out
    and scored at the end (train_report.json beside the heads).
    """
    from edgeagent.train.heads_train import TrainConfig
    from edgeagent.train.run import RunConfig, fit, prepare
    from edgeagent.train.run import recipe as get_recipe

    rec = dict(get_recipe(recipe))
    train_over, recipe_init = rec.pop("train", {}), rec.pop("init", None)
    init = init or recipe_init
    cfg = RunConfig(model=model, seed=seed, include_sgd=not no_sgd, device=device, lora=lora,
                    lora_tokens=lora_tokens, listing=listing, **rec)
    tcfg = TrainConfig(seed=seed, device=device, **{**train_over, **({"epochs": epochs} if epochs else {})})
    if init == "shipped":
        from edgeagent.heads.io import heads_dir

        init = heads_dir(model, None)
    work = work or Path("runs/train" if recipe == "full" else f"runs/train-{recipe}")
    out = out or work / "heads"
    if stage in ("prepare", "all"):
        rep = prepare(cfg, work, data_dir)
        click.echo(f"prepared: {rep['items']} items, {rep['tokens']} tokens, skipped {rep['skipped']}")
    if stage in ("fit", "all"):
        if not (work / "prepared.pkl.gz").exists():
            raise click.ClickException(f"{work}/prepared.pkl.gz is missing: run --stage prepare first")
        rep = fit(cfg, work, out, train_cfg=tcfg, init=init, data_dir=data_dir)
        click.echo(f"heads written to {out}; dev: {rep['dev']}")
    if stage == "dev":
        import json

        from edgeagent.train.run import dev_eval

        try:
            sample = None if dev_sample == "all" else {k: int(v) for k, v in (p.split("=") for p in dev_sample.split(","))}
        except ValueError:
            raise click.BadParameter("expected 'all' or mode=count pairs, e.g. tool=100,chat=60",
                                     param_hint="--dev-sample")
        weights, routes = _numbers(anchor_weights, "--anchor-weights"), _numbers(anchor_routes, "--anchor-routes")
        if routes and not weights:
            raise click.BadParameter("needs --anchor-weights (0 scores the route alone)", param_hint="--anchor-routes")
        rep = dev_eval(cfg, work, heads, sample, anchor_weights=weights, anchor_routes=routes,
                       end_weights=_numbers(end_weights, "--end-weights"))
        report = report or work / "dev_report.json"
        report.write_text(json.dumps(rep, indent=2))
        click.echo(json.dumps(rep, indent=2))
    if stage == "select":
        from edgeagent.train.run import fit_select

        if not (work / "prepared.pkl.gz").exists():
            raise click.ClickException(f"{work}/prepared.pkl.gz is missing: run --stage prepare first")
        rep = fit_select(cfg, work, out)
        click.echo(f"tool-selection head written to {out}; dev: {rep['dev']}")
    if stage == "gate":
        from edgeagent.train.run import fit_gate

        if not (work / "prepared.pkl.gz").exists():
            raise click.ClickException(f"{work}/prepared.pkl.gz is missing: run --stage prepare first")
        rep = fit_gate(cfg, work, out, per_group=gate_per_group)
        click.echo(f"tool gate written to {out}; dev, calls right / prose right: "
                   f"{rep['dev']['calls_right']} / {rep['dev']['prose_right']} (the mode head alone: "
                   f"{rep['dev_mode_head_alone']['calls_right']} / {rep['dev_mode_head_alone']['prose_right']})")
    if stage == "span-prior":
        from edgeagent.train.run import fit_span_prior

        rep = fit_span_prior(cfg, out, data_dir)
        click.echo(f"span prior written to {out}; dev, start word right: " + ", ".join(
            f"{k} {v['top1']:.1%} of {v['examples']}" for k, v in rep["dev"].items()))
    if stage == "lora":
        from edgeagent.train.run import fit_lora

        rep = fit_lora(cfg, work, out)
        click.echo(f"LoRA baseline written to {out / 'lora'}: {rep}")


def _numbers(text: str, hint: str) -> tuple[float, ...]:
    try:
        return tuple(float(w) for w in text.split(",") if w.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {text!r}", param_hint=hint) from None
