"""Training path on tiny synthetic data: labels, trunk-state cache, heads, resume, accelerate launch."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from edgeagent.data.examples import Example  # noqa: E402
from edgeagent.heads.spec import ACTION_GEN, ACTION_NULL, ACTION_SPAN, MODE_IDS  # noqa: E402
from edgeagent.models.tiny import tiny_model  # noqa: E402
from edgeagent.scaffold import compile_schema  # noqa: E402
from edgeagent.scaffold.testing import tiny_tokenizer  # noqa: E402
from edgeagent.train.features import cache_states, keep_from  # noqa: E402
from edgeagent.train.heads_train import TrainConfig, router_data, train_router, train_slot_filler  # noqa: E402
from edgeagent.train.prepare import Preparer, TokenText, span_text  # noqa: E402

WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"},
                                     "unit": {"type": "string", "enum": ["c", "f"]}, "note": {"type": "string"}},
    "required": ["city", "days"]}}}


def examples(n=12):
    cities = ["Tokyo", "Paris", "Lima", "Oslo", "Cairo", "Quito"]
    out = []
    for i in range(n):
        city, days = cities[i % len(cities)], i % 5 + 1
        msgs = [{"role": "user", "content": f"How is the weather in {city} for the next {days} days?"}]
        call = {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": city, "days": days}}}]}
        out.append(Example(f"t{i}", "synthetic", 1, "tool", msgs, [WEATHER], call, [f"t{i}"]))
        out.append(Example(f"c{i}", "synthetic", 1, "chat", [{"role": "user", "content": f"Say hi to {city}"}], [],
                           {"role": "assistant", "content": f"Hi {city}!"}, [f"c{i}"]))
    return out


@pytest.fixture(scope="module")
def prepared():
    tok = tiny_tokenizer()
    prep = Preparer(tok, "smollm2", max_len=2048)
    items = [prep(ex) for ex in examples()]
    assert all(it is not None for it in items), prep.skipped
    return tok, items


def test_labels_point_at_the_values(prepared):
    tok, items = prepared
    text = TokenText(tok)
    tool_items = [it for it in items if it.mode == MODE_IDS["tool"]]
    assert len(tool_items) == 12 and all(len(it.calls) == 1 for it in tool_items)
    for ex, it in zip([e for e in examples() if e.mode == "tool"], tool_items):
        c = it.calls[0]
        args = ex.target["tool_calls"][0]["function"]["arguments"]
        assert c.ctx_end < c.end < len(it.ids) and c.another == 0
        assert it.target is not None and len(it.target) > 0
        routes = dict(zip(c.slot_first.tolist(), c.action.tolist()))
        for slot in compile_schema(WEATHER["function"]["parameters"], tok).slots:
            # the omitted optional "unit" and "note" (with its presence slot) are NULL
            assert (routes[slot.start] == ACTION_NULL) == (slot.pointer in ("/unit", "/note"))
        spans = [(int(a), int(b)) for (a, b), act in zip(c.span, c.action) if act == ACTION_SPAN]
        # both values are written in the question: each is copied exactly from before the call
        assert sorted(span_text(text, it.ids, a, b) for a, b in spans) == sorted([args["city"], str(args["days"])])
        assert all(b < c.ctx_end for _, b in spans)
        assert ACTION_GEN not in routes.values()
    assert all(not it.calls for it in items if it.mode == MODE_IDS["chat"])


def test_cache_train_and_resume(prepared, tmp_path):
    tok, items = prepared
    trunk = tiny_model("llama", vocab_size=tok.get_vocab_size(), max_position_embeddings=4096)
    keep = [keep_from(it, 1024) for it in items]
    states = cache_states(trunk, [it.ids for it in items], tmp_path / "st", progress=False, keep_from=keep)
    offsets = np.load(tmp_path / "st" / "offsets.npy")
    # the cache holds exactly the states the trunk computes at the kept positions
    it = items[0]
    with torch.no_grad():
        h = trunk.model(torch.as_tensor(it.ids.astype(np.int64))[None]).last_hidden_state[0].numpy()
    np.testing.assert_allclose(states[offsets[0] + it.mode_at], h[it.mode_at], atol=2e-3)
    assert states.shape[0] == sum(len(i.ids) - k for i, k in zip(items, keep))
    # a finished cache is found again for the same sequences, and only for them
    from edgeagent.train.features import complete_states

    again, off2 = complete_states(tmp_path / "st", [it.ids for it in items], keep)
    np.testing.assert_array_equal(again[off2[3] + items[3].mode_at], states[offsets[3] + items[3].mode_at])
    assert complete_states(tmp_path / "st", [it.ids for it in items[1:]], keep[1:]) is None
    assert complete_states(tmp_path / "st", [it.ids for it in items], [0] * len(items)) is None
    progress = tmp_path / "st" / "progress.json"
    progress.write_text(json.dumps({"done": 0, "complete": False}))       # a run that stopped
    assert complete_states(tmp_path / "st", [it.ids for it in items], keep) is None
    progress.write_text(json.dumps({"done": 1}))          # written before "complete" was: every batch of the plan
    assert complete_states(tmp_path / "st", [it.ids for it in items], keep) is not None
    assert complete_states(tmp_path / "nowhere", [it.ids for it in items], keep) is None

    cfg = TrainConfig(epochs=2, batch_size=4, router_epochs=3)
    log = []
    xm, ym, xc, yc = router_data(items, states, offsets)
    assert sorted(set(ym.tolist())) == [MODE_IDS["chat"], MODE_IDS["tool"]] and len(xc) == 12
    train_router(xm, ym, 3, cfg, log, "mode")
    from edgeagent.heads.slot_filler import SlotFillerConfig

    emb = trunk.get_input_embeddings().weight.detach()
    V, H = emb.shape
    sf_cfg = SlotFillerConfig(vocab_size=V, trunk_hidden=H, d_model=H, n_layers=1, n_heads=4, ffn=64)
    train_slot_filler(items, states, offsets, emb, cfg, sf_cfg, V + 1, V, log, out_dir=tmp_path, progress=False)
    sf_epochs = [e for e in log if e["head"] == "slot_filler"]
    assert len(sf_epochs) == 2 and all(np.isfinite(e["gen"]) for e in sf_epochs)
    # a second run with the same plan resumes after the last epoch: no new epoch is trained
    log2 = []
    train_slot_filler(items, states, offsets, emb, cfg, sf_cfg, V + 1, V, log2, out_dir=tmp_path, progress=False)
    assert [e["epoch"] for e in log2 if e["head"] == "slot_filler"] == [0, 1]


DIST_SCRIPT = r'''
import os, sys, json, numpy as np, torch
sys.path.insert(0, sys.argv[1])
from test_train import examples
from edgeagent.scaffold.testing import tiny_tokenizer
from edgeagent.train.prepare import Preparer
from edgeagent.train.features import cache_states, keep_from
from edgeagent.train.heads_train import TrainConfig, train_slot_filler
from edgeagent.heads.slot_filler import SlotFillerConfig
from edgeagent.models.tiny import tiny_model
from accelerate import PartialState
tok = tiny_tokenizer(); prep = Preparer(tok, "smollm2")
items = [prep(e) for e in examples()]
trunk = tiny_model("llama", vocab_size=tok.get_vocab_size(), max_position_embeddings=4096)
out = sys.argv[2] + "/rank" + os.environ.get("RANK", "0")
states = cache_states(trunk, [i.ids for i in items], out, progress=False, keep_from=[keep_from(i, 1024) for i in items])
offsets = np.load(out + "/offsets.npy")
emb = trunk.get_input_embeddings().weight.detach(); V, H = emb.shape
cfg = TrainConfig(epochs=1, batch_size=2)
log = []
m = train_slot_filler(items, states, offsets, emb, cfg, SlotFillerConfig(vocab_size=V, trunk_hidden=H, d_model=H, n_layers=1, n_heads=4, ffn=64), V + 1, V, log, progress=False)
s = PartialState()
w = next(p for p in m.parameters()).detach().flatten()[:4].tolist()
with open(sys.argv[2] + f"/result{s.process_index}.json", "w") as f:  # not stdout: ranks interleave there
    json.dump({"rank": s.process_index, "world": s.num_processes, "w": w}, f)
'''


@pytest.mark.slow
def test_distributed_launch_on_cpu(tmp_path):
    """torchrun with 2 CPU processes (gloo): each trains on its own batches, and the weights stay
    identical because accelerate averages the gradients (without it they would diverge)."""
    script = tmp_path / "dist.py"
    script.write_text(DIST_SCRIPT)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(script), str(Path(__file__).parent), str(tmp_path)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("result*.json"))]
    assert sorted(r["rank"] for r in rows) == [0, 1] and all(r["world"] == 2 for r in rows)
    np.testing.assert_allclose(rows[0]["w"], rows[1]["w"], rtol=1e-6)


def test_token_logits_at_masked_positions_match_the_full_projection():
    from edgeagent.heads.slot_filler import SlotFiller, SlotFillerConfig, mdlm_loss

    torch.manual_seed(0)
    cfg = SlotFillerConfig(vocab_size=50, trunk_hidden=16, d_model=16, n_layers=1, n_heads=4, ffn=32, dropout=0.0)
    m = SlotFiller(cfg, torch.randn(50, 16)).eval()
    ids, zeros = torch.randint(0, 52, (3, 9)), torch.zeros(3, 9, dtype=torch.long)
    ctx, masked = torch.randn(3, 4, 16), torch.rand(3, 9) < 0.4
    gold, t = torch.randint(0, 51, (3, 9)), torch.tensor([0.2, 0.7, 1.0])
    with torch.no_grad():
        full = m(ids, zeros, zeros, ctx)[0]
        part = m(ids, zeros, zeros, ctx, token_at=masked)[0]
    assert part.shape == (int(masked.sum()), 51)
    torch.testing.assert_close(part, full[masked])
    torch.testing.assert_close(mdlm_loss(part, gold, masked, t), mdlm_loss(full, gold, masked, t))


def test_training_continues_from_init_heads(prepared, tmp_path):
    """--init: every head starts from the given weights (no epochs: it is returned unchanged)."""
    from edgeagent.heads.router import Router, RouterConfig
    from edgeagent.heads.slot_filler import SlotFiller, SlotFillerConfig

    tok, items = prepared
    trunk = tiny_model("llama", vocab_size=tok.get_vocab_size(), max_position_embeddings=4096)
    states = cache_states(trunk, [it.ids for it in items], tmp_path / "st", progress=False,
                          keep_from=[keep_from(it, 1024) for it in items])
    offsets = np.load(tmp_path / "st" / "offsets.npy")
    xm, ym, _, _ = router_data(items, states, offsets)
    init = Router(RouterConfig(trunk_hidden=xm.shape[1], n_classes=3))
    still = train_router(xm, ym, 3, TrainConfig(router_epochs=0), [], "mode", init=init)[0]
    for k, v in init.state_dict().items():
        torch.testing.assert_close(still.state_dict()[k], v)
    moved = train_router(xm, ym, 3, TrainConfig(router_epochs=2), [], "mode", init=init)[0]
    assert not torch.equal(moved.net[1].weight, init.net[1].weight)

    emb = trunk.get_input_embeddings().weight.detach()
    V, H = emb.shape
    sf_cfg = SlotFillerConfig(vocab_size=V, trunk_hidden=H, d_model=H, n_layers=1, n_heads=4, ffn=64)
    sf_init = SlotFiller(sf_cfg, emb)
    sf = train_slot_filler(items, states, offsets, emb, TrainConfig(epochs=0), sf_cfg, V + 1, V, [],
                           progress=False, init=sf_init)
    torch.testing.assert_close(sf.state_dict()["action.weight"], sf_init.state_dict()["action.weight"])


def test_recipes_name_real_settings():
    from edgeagent.data.mix import MixConfig
    from edgeagent.commands.train import train as train_command
    from edgeagent.train.run import RECIPES, RunConfig, recipe

    choices = next(p.type.choices for p in train_command.params if p.name == "recipe")
    assert set(choices) == set(RECIPES)  # every recipe reachable from the CLI, none missing
    for name in RECIPES:
        rec = dict(recipe(name))
        rec.pop("init", None)
        TrainConfig(**rec.pop("train", {}))
        cfg = RunConfig(**rec)
        MixConfig(**cfg.mix)
    with pytest.raises(ValueError, match="unknown recipe"):
        recipe("tpu")


def test_a_number_written_with_separators_is_labelled_as_a_span():
    tok = tiny_tokenizer()
    prep = Preparer(tok, "smollm2", max_len=2048)
    msgs = [{"role": "user", "content": "Weather in Lima for the next 12,000 days?"}]
    call = {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Lima", "days": 12000}}}]}
    it = prep(Example("g", "synthetic", 1, "tool", msgs, [WEATHER], call, ["g"]))
    c = it.calls[0]
    spans = sorted(span_text(TokenText(tok), it.ids, int(a), int(b)) for (a, b), act in zip(c.span, c.action)
                   if act == ACTION_SPAN)
    assert spans == ["12,000", "Lima"]


def test_dev_report_groups_sources_by_dataset_or_augmentation():
    from edgeagent.train.evaluate import source_group

    assert source_group("glaive_en/counterfactual+repeat+shuffle") == "repeat"
    assert source_group("sealtools/counterfactual+distractors") == "counterfactual"
    assert source_group("sgd/distractors+shuffle") == "sgd" and source_group("chat") == "chat"
    assert source_group("glaive_en/merge+shuffle") == "merge"


def test_lora_baseline_resumes_where_it_stopped(prepared, tmp_path, monkeypatch):
    """A LoRA run stopped mid-way continues from its checkpoint to the same adapters."""
    from safetensors.torch import load_file

    from edgeagent.train.lora_train import train_lora_baseline
    from edgeagent.train.run import RunConfig

    tok, items = prepared
    cfg = RunConfig(lora_tokens=3_000)

    def run(out, fail_at=None):
        torch.manual_seed(1)
        trunk = tiny_model("llama", vocab_size=tok.get_vocab_size(), max_position_embeddings=4096)
        if fail_at is not None:
            real, calls = torch.optim.AdamW.step, []

            def step(self, *a, **k):
                calls.append(1)
                if len(calls) == fail_at:
                    raise KeyboardInterrupt
                return real(self, *a, **k)

            monkeypatch.setattr(torch.optim.AdamW, "step", step)
            with pytest.raises(KeyboardInterrupt):
                train_lora_baseline(trunk, items, cfg, out, max_tokens_per_batch=256, progress=False, checkpoint_every=1)
            monkeypatch.undo()
            assert (out / "lora.train.pt").exists()
            return run(out)
        rep = train_lora_baseline(trunk, items, cfg, out, max_tokens_per_batch=256, progress=False, checkpoint_every=1)
        return rep, load_file(str(out / "lora.safetensors"))

    rep_a, a = run(tmp_path / "a")
    rep_b, b = run(tmp_path / "b", fail_at=3)
    assert rep_a["steps"] == rep_b["steps"] > 3 and rep_a["tokens"] == rep_b["tokens"]
    assert not (tmp_path / "b" / "lora.train.pt").exists()
    for k in a:
        torch.testing.assert_close(a[k], b[k])


def test_lora_micro_batches_give_the_padded_batch_step(prepared):
    """One sequence per forward (the CPU default: no padding, no mask, output layer at the target
    positions only) gives the loss and gradients of the whole padded batch in one pass."""
    from edgeagent.train.lora import LoraConfig, add_lora
    from edgeagent.train.lora_train import batch_loss, lora_sequences

    tok, items = prepared
    torch.manual_seed(2)
    trunk = tiny_model("llama", vocab_size=tok.get_vocab_size(), max_position_embeddings=4096)
    add_lora(trunk, LoraConfig())
    for name, p in trunk.named_parameters():
        if "lora_b" in name:  # B starts at zero: give the adapters a gradient path through A as well
            torch.nn.init.normal_(p, std=0.02)
    trunk.eval()  # no dropout: the two runs must see the same function
    seqs = lora_sequences(items[:5])
    assert len({len(s) for s, _ in seqs}) > 1  # padding is exercised

    def grads(micro):
        trunk.zero_grad()
        loss, run = batch_loss(trunk, seqs, micro, "cpu")
        return loss, run, {n: p.grad.clone() for n, p in trunk.named_parameters() if p.requires_grad}

    loss_1, run_1, g_1 = grads(1)
    loss_all, run_all, g_all = grads(10 ** 6)
    assert run_1 == run_all == sum(len(s) for s, _ in seqs)
    assert loss_1 == pytest.approx(loss_all, rel=1e-4) and loss_1 > 0
    for n in g_1:
        torch.testing.assert_close(g_1[n], g_all[n], rtol=1e-3, atol=1e-6)


def test_dev_anchors_score_every_top_level_value_and_are_reused(prepared, tmp_path, monkeypatch):
    """The dev report's anchored variants: one score per context token for each top-level value
    slot of each dev call, cached for the same calls (no trunk pass the second time)."""
    from edgeagent.export.torch_backend import TorchTrunk
    from edgeagent.heads.slot_filler import SlotFiller, SlotFillerConfig
    from edgeagent.train.evaluate import dev_anchors, slot_fill_scores

    tok, items = prepared
    torch.manual_seed(0)
    trunk = tiny_model("llama", vocab_size=tok.get_vocab_size(), max_position_embeddings=4096)
    tool_items = [it for it in items if it.calls][:3]
    got = dev_anchors(trunk, tool_items, tok, "cpu", 1024, tmp_path / "anchors.pkl", progress=False)
    assert set(got) == {(n, 0) for n in range(3)}
    sc = compile_schema(WEATHER["function"]["parameters"], tok)
    want = {s.index for s in sc.slots if s.kind in ("string", "integer")}  # not the enum, nor note's presence
    assert len(want) == 3
    for (n, k), anchors in got.items():
        assert set(anchors) == want
        assert all(a.shape == (tool_items[n].calls[k].ctx_end,) and np.isfinite(a).all() for a in anchors.values())
    monkeypatch.setattr(TorchTrunk, "prefill", lambda *a: pytest.fail("the cached anchors were not reused"))
    again = dev_anchors(trunk, tool_items, tok, "cpu", 1024, tmp_path / "anchors.pkl", progress=False)
    assert all(np.array_equal(again[c][i], got[c][i]) for c in got for i in got[c])

    keep = [keep_from(it, 1024) for it in tool_items]
    states = cache_states(trunk, [it.ids for it in tool_items], tmp_path / "st", progress=False, keep_from=keep)
    offsets = np.load(tmp_path / "st" / "offsets.npy")
    H = trunk.config.hidden_size
    sf = SlotFiller(SlotFillerConfig(vocab_size=tok.get_vocab_size(), trunk_hidden=H, d_model=32, n_layers=1, n_heads=4,
                                    ffn=64),
                    trunk.get_input_embeddings().weight.detach()).eval()
    scores = slot_fill_scores(tool_items, states, offsets, sf, tok, "cpu", 1024, steps=(1,), ablate_span=False,
                              anchors=got, anchor_weights=(1.0,), trunk=trunk, end_weights=(2.0,))
    ends = [k for k in scores if k.endswith("end=2")]
    assert len(ends) == 1 and scores["T=1 anchor=1"]["calls"] == scores[ends[0]]["calls"] == scores["T=1"]["calls"] == 3


def test_prepared_prompts_keep_their_listing_and_b_trains_only_on_json(tmp_path):
    import gzip
    import pickle

    from edgeagent.train.run import RunConfig, fit_lora, prepared_listing

    tok = tiny_tokenizer()
    ex = examples(1)[0]
    ids = {name: Preparer(tok, "smollm2", listing=name).prompt_ids(ex.messages, ex.tools)
           for name in ("json", "signature")}
    assert len(ids["signature"]) < len(ids["json"])
    assert "get_weather(city: string, days: integer, unit?:" in tok.decode(ids["signature"], skip_special_tokens=False)
    with pytest.raises(ValueError, match="listing"):
        Preparer(tok, "smollm2", listing="yaml")
    assert prepared_listing({"config": {"model": "x"}}) == "json"      # sets prepared before listings
    with gzip.open(tmp_path / "prepared.pkl.gz", "wb") as f:
        pickle.dump({"config": {"listing": "signature"}, "items": {"train": [], "dev": []}}, f)
    with pytest.raises(ValueError, match="json listing"):
        fit_lora(RunConfig(model="tiny"), tmp_path, tmp_path / "out")
