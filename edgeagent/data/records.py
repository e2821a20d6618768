"""Records in the common format of shared/data (MANIFEST): find, load, validate.

A record is a plain dict: ``{"id", "source", "messages", "tools"}`` and an optional ``meta``.
The loader adds ``meta["dataset"]``, a short name for the file it came from (``sgd``,
``glaive_en``, ...), so that mixes and stats can group records without parsing ``source``.

Every record is validated on load: tool schemas are JSON Schema, every call names a tool of the
record and its arguments pass that tool's ``parameters`` schema, tool messages follow calls, and
the record ends on an assistant turn. A bad record is skipped and reported as a :class:`Skip`
naming the file, the line and the field; it never stops the load.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

ENV_DATA_DIR = "EDGEAGENT_DATA"

# file stem -> short dataset name. Unknown files keep their stem.
DATASETS: dict[str, str] = {
    "fc_glaive_lf_en": "glaive_en",
    "fc_glaive_lf_zh": "glaive_zh",
    "fc_sealtools_dev": "sealtools",
    "fc_sgd_train": "sgd",
    "neg_sgd_irrelevance_derived": "sgd_irrel",
    "replay_gsm8k_train": "gsm8k",
    "replay_chat": "chat",
}


class RecordError(ValueError):
    """A record breaks the common format. ``field`` is a path like ``messages[3].tool_calls[0]``."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Skip:
    """A record that was not loaded, and why."""

    file: str
    line: int
    record_id: str | None
    field: str
    reason: str

    def __str__(self) -> str:
        rid = f" (id {self.record_id})" if self.record_id else ""
        where = f"{self.field}: " if self.field else ""
        return f"{self.file}:{self.line}{rid}: {where}{self.reason}"


def find_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The shared data folder: ``data_dir``, else ``$EDGEAGENT_DATA``, else ``shared/data`` found
    by walking up from this package and from the current directory (the repo's ``../shared/data``).
    """
    if data_dir is None:
        data_dir = os.environ.get(ENV_DATA_DIR) or None
    if data_dir is not None:
        path = Path(data_dir).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"data dir {path} does not exist (from --data-dir or ${ENV_DATA_DIR})")
        return path
    starts = [Path(__file__).resolve().parent, Path.cwd().resolve()]
    for start in starts:
        for folder in [start, *start.parents]:
            candidate = folder / "shared" / "data"
            if candidate.is_dir() and any(candidate.glob("*.jsonl.gz")):
                return candidate
    raise FileNotFoundError(
        "could not find shared/data above the package or the current directory; "
        f"pass --data-dir or set ${ENV_DATA_DIR}"
    )


def dataset_name(path: str | os.PathLike) -> str:
    """Short dataset name of a ``*.jsonl.gz`` file (``fc_sgd_train.jsonl.gz`` -> ``sgd``)."""
    stem = Path(path).name
    for suffix in (".gz", ".jsonl", ".json"):
        stem = stem.removesuffix(suffix)
    return DATASETS.get(stem, stem)


def data_files(data_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Dataset name -> file, for every ``*.jsonl.gz`` in the data dir, sorted by name."""
    folder = find_data_dir(data_dir)
    return {dataset_name(p): p for p in sorted(folder.glob("*.jsonl.gz"))}


_TEXT_KEYS = ("description", "title")
_ANY_VALUE_KEYS = ("default", "examples", "const")


def _shape(schema):
    """What decides whether ``schema`` is a valid JSON Schema, with the rest blanked: free text
    (string descriptions, titles), enum/default/example values and property names (renamed
    consistently in ``properties`` and ``required``)."""
    if isinstance(schema, list):
        return [_shape(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    props = schema.get("properties")
    rename = {k: f"p{i}" for i, k in enumerate(props)} if isinstance(props, dict) else {}
    for k, v in schema.items():
        if k in _TEXT_KEYS and isinstance(v, str):
            continue
        if k in _ANY_VALUE_KEYS:
            v = None if k != "examples" else []
        elif k == "enum" and isinstance(v, list):
            v = []
        elif k == "properties" and rename:
            v = {rename[name]: _shape(sub) for name, sub in props.items()}
        elif k == "required" and isinstance(v, list) and all(isinstance(x, str) for x in v):
            v = [rename.get(x, x) for x in v]
        else:
            v = _shape(v)
        out[k] = v
    return out


class Validator:
    """Validates records; caches one compiled jsonschema validator per distinct schema."""

    def __init__(self):
        self._cache: dict[str, Draft202012Validator | SchemaError] = {}
        self._checked: dict[str, SchemaError | None] = {}

    def schema_validator(self, schema: dict) -> Draft202012Validator:
        key = json.dumps(schema)  # key order is stable within a source; no sort: this runs per tool
        hit = self._cache.get(key)
        if hit is None:
            # check_schema (a metaschema validation) is the slow part; schemas that differ only
            # in their descriptions share one check.
            shape = json.dumps(_shape(schema))
            err = self._checked.get(shape, 0)
            if err == 0:
                try:
                    Draft202012Validator.check_schema(schema)
                    err = None
                except SchemaError as e:
                    err = e
                self._checked[shape] = err
            hit = err if err is not None else Draft202012Validator(schema)
            self._cache[key] = hit
        if isinstance(hit, SchemaError):
            raise hit
        return hit

    def check(self, rec) -> None:
        """Raise :class:`RecordError` at the first problem of ``rec``; return None if it is valid."""
        if not isinstance(rec, dict):
            raise RecordError("", "record is not a JSON object")
        for key in ("id", "source"):
            if not isinstance(rec.get(key), str) or not rec[key]:
                raise RecordError(key, "missing or not a non-empty string")
        schemas = self._check_tools(rec.get("tools"))
        self._check_messages(rec.get("messages"), schemas)

    def _check_tools(self, tools) -> dict[str, Draft202012Validator]:
        if not isinstance(tools, list):
            raise RecordError("tools", "must be a list (empty for replay records)")
        out: dict[str, Draft202012Validator] = {}
        for i, tool in enumerate(tools):
            field = f"tools[{i}]"
            fn = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(fn, dict) or tool.get("type") != "function":
                raise RecordError(field, 'must be {"type": "function", "function": {...}}')
            name = fn.get("name")
            if not isinstance(name, str) or not name:
                raise RecordError(f"{field}.function.name", "missing or empty")
            if name in out:
                raise RecordError(f"{field}.function.name", f"duplicate tool name {name!r}")
            params = fn.get("parameters")
            if not isinstance(params, dict) or params.get("type") != "object":
                raise RecordError(f"{field}.function.parameters", "must be a JSON Schema with type object")
            try:
                out[name] = self.schema_validator(params)
            except SchemaError as e:
                path = _path(e.path)
                raise RecordError(f"{field}.function.parameters{path}", f"invalid JSON Schema: {e.message}")
        return out

    def _check_messages(self, messages, schemas: dict[str, Draft202012Validator]) -> None:
        if not isinstance(messages, list) or not messages:
            raise RecordError("messages", "must be a non-empty list")
        pending = 0  # calls of the last tool turn not yet answered by a tool message
        seen_user = False
        for i, m in enumerate(messages):
            field = f"messages[{i}]"
            if not isinstance(m, dict):
                raise RecordError(field, "not an object")
            role = m.get("role")
            if role not in ("system", "user", "assistant", "tool"):
                raise RecordError(f"{field}.role", f"unknown role {role!r}")
            if not isinstance(m.get("content"), str):
                raise RecordError(f"{field}.content", "must be a string")
            if "tool_calls" in m and role != "assistant":
                raise RecordError(f"{field}.tool_calls", f"only assistant turns call tools, not {role}")
            if role == "system" and (seen_user or i > 0):
                raise RecordError(f"{field}.role", "a system message must come first")
            if role == "user":
                seen_user = True
                if not m["content"].strip():
                    raise RecordError(f"{field}.content", "empty user turn")
            elif role == "tool":
                if pending <= 0:
                    raise RecordError(field, "tool message without a preceding call")
                pending -= 1
            elif role == "assistant":
                if not seen_user:
                    raise RecordError(field, "assistant turn before any user turn")
                calls = m.get("tool_calls")
                if calls is None:
                    if not m["content"].strip():
                        raise RecordError(f"{field}.content", "assistant turn with neither content nor tool_calls")
                    pending = 0
                    continue
                if not isinstance(calls, list) or not calls:
                    raise RecordError(f"{field}.tool_calls", "must be a non-empty list")
                for j, call in enumerate(calls):
                    self._check_call(call, f"{field}.tool_calls[{j}]", schemas)
                pending = len(calls)
        if messages[-1].get("role") != "assistant":
            raise RecordError(f"messages[{len(messages) - 1}]", "a record must end on an assistant turn")

    def _check_call(self, call, field: str, schemas: dict[str, Draft202012Validator]) -> None:
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or call.get("type") != "function":
            raise RecordError(field, 'must be {"type": "function", "function": {...}}')
        name = fn.get("name")
        if name not in schemas:
            have = ", ".join(sorted(schemas)) or "none"
            raise RecordError(f"{field}.function.name", f"{name!r} is not in tools (available: {have})")
        args = fn.get("arguments")
        if not isinstance(args, dict):
            raise RecordError(f"{field}.function.arguments", "must be a JSON object")
        err = next(iter(schemas[name].iter_errors(args)), None)
        if err is not None:
            path = _path(err.absolute_path)
            raise RecordError(f"{field}.function.arguments{path}", err.message)


def _path(parts) -> str:
    """``.properties.city.type`` / ``.items[0]`` from a jsonschema error path."""
    return "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in parts)


def check_record(rec: dict, validator: Validator | None = None) -> None:
    """Raise :class:`RecordError` if ``rec`` breaks the common format."""
    (validator or Validator()).check(rec)


def iter_file(path: str | os.PathLike, validator: Validator | None = None,
              skips: list[Skip] | None = None) -> Iterator[dict]:
    """Yield the valid records of one ``*.jsonl.gz`` (or plain ``.jsonl``) file.

    Bad records are appended to ``skips`` (if given) and not yielded. Each yielded record gets
    ``meta["dataset"]`` (see :data:`DATASETS`).
    """
    path = Path(path)
    validator = validator or Validator()
    name = dataset_name(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            rec_id = None
            try:
                rec = json.loads(line)
                rec_id = rec.get("id") if isinstance(rec, dict) else None
                validator.check(rec)
            except json.JSONDecodeError as e:
                if skips is not None:
                    skips.append(Skip(path.name, lineno, None, "", f"not JSON: {e.msg} at column {e.colno}"))
                continue
            except RecordError as e:
                if skips is not None:
                    skips.append(Skip(path.name, lineno, rec_id, e.field, e.message))
                continue
            rec.setdefault("meta", {})["dataset"] = name
            yield rec


@dataclass
class Loaded:
    """What :func:`load` read: records per dataset, and the records it skipped."""

    records: dict[str, list[dict]]
    skipped: list[Skip]

    def all(self) -> list[dict]:
        return [r for recs in self.records.values() for r in recs]


def load(data_dir: str | os.PathLike | None = None, datasets: Iterable[str] | None = None,
         progress=None) -> Loaded:
    """Load and validate every ``*.jsonl.gz`` of the data dir (or only ``datasets``).

    ``progress``, if given, is called as ``progress(dataset_name)`` before each file.
    """
    files = data_files(data_dir)
    if datasets is not None:
        wanted = list(datasets)
        missing = [d for d in wanted if d not in files]
        if missing:
            raise FileNotFoundError(f"no file for dataset(s) {missing} in the data dir (have: {sorted(files)})")
        files = {d: files[d] for d in wanted}
    validator = Validator()
    skipped: list[Skip] = []
    records = {}
    for name, path in files.items():
        if progress is not None:
            progress(name)
        records[name] = list(iter_file(path, validator, skipped))
    return Loaded(records, skipped)


def dataset_of(rec: dict) -> str:
    """The short dataset name of a record (``meta.dataset``; else guessed from its id)."""
    meta = rec.get("meta") or {}
    if "dataset" in meta:
        return meta["dataset"]
    return rec.get("id", "unknown").split("_")[0]


def tool_names(rec: dict) -> list[str]:
    return [t["function"]["name"] for t in rec.get("tools", [])]


def tool_turns(rec: dict) -> list[int]:
    """Indices of the assistant messages that call tools."""
    return [i for i, m in enumerate(rec["messages"]) if m["role"] == "assistant" and m.get("tool_calls")]
