"""Tiny random trunk configs for tests: the real architectures, shrunk to run in seconds on a CPU.

The vocabulary matches SmolLM2's tokenizer (49152) so that tests can pair a tiny model with
the real tokenizer; everything else is small.
"""

TINY_VOCAB = 49152


def tiny_llama_config(vocab_size: int = TINY_VOCAB, **overrides):
    """A 2-layer Llama (the SmolLM2 architecture): GQA 4 query / 2 KV heads, tied embeddings."""
    from transformers import LlamaConfig

    kw = dict(
        vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        tie_word_embeddings=True, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, pad_token_id=2,
    )
    kw.update(overrides)
    return LlamaConfig(**kw)


def tiny_smollm3_config(vocab_size: int = TINY_VOCAB, **overrides):
    """A 4-layer SmolLM3: every 4th layer has no rotary embedding (NoPE), as in the 3B model."""
    from transformers import SmolLM3Config

    kw = dict(
        vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        tie_word_embeddings=True, rms_norm_eps=1e-6, no_rope_layer_interval=4,
        bos_token_id=1, eos_token_id=2, pad_token_id=2,
    )
    kw.update(overrides)
    return SmolLM3Config(**kw)


def tiny_model(kind: str = "llama", seed: int = 0, **overrides):
    """A randomly initialised tiny causal LM in eval mode. `kind` is "llama" or "smollm3"."""
    import torch
    from transformers import AutoModelForCausalLM

    configs = {"llama": tiny_llama_config, "smollm3": tiny_smollm3_config}
    if kind not in configs:
        raise ValueError(f"unknown tiny model kind {kind!r}; choose one of {sorted(configs)}")
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(configs[kind](**overrides))
    return model.eval()
