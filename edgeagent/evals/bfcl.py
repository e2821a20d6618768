"""BFCL (Berkeley Function-Calling Leaderboard) from the installed ``bfcl-eval`` package.

BFCL is the benchmark only: nothing here may feed training or tuning, and nothing under train/
may import this module.

What this module does:

- loads the single-turn categories (questions, function docs, possible answers) as
  :class:`BfclItem`; each carries our request (OpenAI chat format with JSON-Schema tools), the
  original BFCL function docs (the AST checker reads their BFCL types) and the ground truth;
- imports BFCL's official AST checker without its model registry (:func:`load_ast_checker`).

A BFCL question is a list of turns, each a list of messages; the eight categories are all
single-turn, but ``live_irrelevance`` turns can hold several messages (system, user, assistant).
Function names may contain dots (``spotify.play``); they are sent as they are unless
``sanitize=True``, which rewrites them to ``^[A-Za-z0-9_-]{1,64}$`` and keeps the reverse map on
the item so that scoring sees BFCL's names again.
"""

from __future__ import annotations

import json
import re
import sys
import types
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .schema import bfcl_tool

BFCL_VERSION = "2026.3.23"
FILE_PREFIX = "BFCL_v4"

NON_LIVE_AST = ("simple_python", "multiple", "parallel", "parallel_multiple")
LIVE_AST = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple")
IRRELEVANCE = ("irrelevance", "live_irrelevance")
DEFAULT_CATEGORIES = NON_LIVE_AST + ("irrelevance", "live_simple", "live_multiple", "live_irrelevance")
KNOWN_CATEGORIES = NON_LIVE_AST + LIVE_AST + IRRELEVANCE

# Items that no output can pass under BFCL's own checker (found by running the oracle over every
# category; tests/test_evals.py keeps this list honest). They stay in the scores, as in BFCL.
UNSOLVABLE = {
    "live_simple_106-63-0": "a required array parameter whose only accepted answer is omission",
    "live_simple_112-68-0": "a required array parameter whose only accepted answer is omission",
    "live_multiple_862-181-3": "the answer requires a parameter the function does not declare",
    "live_multiple_964-207-0": "the answer omits a required parameter and names an undeclared one",
}

# The checker's model-config lookup key. Our stand-in config says "names keep their dots".
CHECKER_MODEL_NAME = "edgeagent"


@dataclass
class BfclItem:
    """One BFCL test case, ready to send and to score."""

    id: str
    category: str
    request: dict                      # {"id", "messages", "tools"}: what a predictor sees
    functions: list[dict]              # BFCL's own function docs (the checker reads these)
    ground_truth: list[dict] | None    # [{func: {param: [options]}}]; None for irrelevance
    name_map: dict[str, str] = field(default_factory=dict)  # request name -> BFCL name

    def bfcl_name(self, name: str) -> str:
        return self.name_map.get(name, name)


def is_irrelevance(category: str) -> bool:
    return "irrelevance" in category


def data_dir() -> Path:
    """The ``data`` folder of the installed bfcl-eval package."""
    try:
        return Path(str(resources.files("bfcl_eval") / "data"))
    except ModuleNotFoundError:
        raise RuntimeError(
            f"bfcl-eval is not installed. Install it without its dependencies: "
            f"pip install --no-deps bfcl-eval=={BFCL_VERSION}") from None


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def sanitize_names(names: list[str]) -> dict[str, str]:
    """A reversible map ``new name -> original`` onto ``^[A-Za-z0-9_-]{1,64}$``, unique per list."""
    out: dict[str, str] = {}
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:60] or "f"
        new, i = base, 1
        while new in out:
            i += 1
            new = f"{base}_{i}"
        out[new] = name
    return out


def to_request(entry: dict, sanitize: bool = False, hint: bool = True) -> tuple[dict, dict[str, str]]:
    """A BFCL entry -> (our request, name map). Turns are flattened into one message list."""
    functions = entry["function"]
    name_map = sanitize_names([f["name"] for f in functions]) if sanitize else {}
    new_name = {orig: new for new, orig in name_map.items()}
    messages = [{"role": m["role"], "content": m["content"]} for turn in entry["question"] for m in turn]
    tools = [bfcl_tool(f, new_name.get(f["name"]), hint=hint) for f in functions]
    return {"id": entry["id"], "messages": messages, "tools": tools}, name_map


def category_size(category: str) -> int:
    """How many items the full category has."""
    return len(_read_jsonl(data_dir() / f"{FILE_PREFIX}_{category}.json"))


def load_category(category: str, sanitize: bool = False, hint: bool = True) -> list[BfclItem]:
    """Every item of one category, in file order."""
    if category not in KNOWN_CATEGORIES:
        raise ValueError(f"unknown BFCL category {category!r}; known: {', '.join(KNOWN_CATEGORIES)}")
    root = data_dir()
    entries = _read_jsonl(root / f"{FILE_PREFIX}_{category}.json")
    answers: dict[str, list] = {}
    if not is_irrelevance(category):
        answers = {a["id"]: a["ground_truth"]
                   for a in _read_jsonl(root / "possible_answer" / f"{FILE_PREFIX}_{category}.json")}
    items = []
    for e in entries:
        if not is_irrelevance(category) and e["id"] not in answers:
            raise RuntimeError(f"{category}: no possible answer for {e['id']} in {root / 'possible_answer'}")
        request, name_map = to_request(e, sanitize=sanitize, hint=hint)
        items.append(BfclItem(id=e["id"], category=category, request=request, functions=e["function"],
                              ground_truth=answers.get(e["id"]), name_map=name_map))
    return items


class _NamesKeepTheirDots(dict):
    """Stand-in for bfcl_eval.constants.model_config.MODEL_CONFIG_MAPPING.

    ast_checker uses the mapping in one place only: ``convert_func_name`` reads
    ``MODEL_CONFIG_MAPPING[model].underscore_to_dot`` to decide whether the expected name's dots
    should be turned into underscores. We map names back to BFCL's before checking, so the answer
    is always False.
    """

    def __missing__(self, key):
        return types.SimpleNamespace(underscore_to_dot=False)


_CHECKER = None


def load_ast_checker():
    """BFCL's official ``ast_checker`` module, imported without the model-handler registry.

    ``ast_checker`` imports ``bfcl_eval.constants.model_config``, which imports every model
    handler and their SDKs (openai, anthropic, ...). A minimal stand-in for that one module is put
    in ``sys.modules`` for the import and removed afterwards; nothing else of bfcl-eval changes.
    """
    global _CHECKER
    if _CHECKER is not None:
        return _CHECKER
    name = "bfcl_eval.constants.model_config"
    mod_name = "bfcl_eval.eval_checker.ast_eval.ast_checker"
    if mod_name in sys.modules:  # someone imported it for real: reuse it, with our stand-in lookup
        checker = sys.modules[mod_name]
    else:
        previous = sys.modules.get(name)
        standin = types.ModuleType(name)
        standin.MODEL_CONFIG_MAPPING = _NamesKeepTheirDots()
        sys.modules[name] = standin
        try:
            import bfcl_eval.eval_checker.ast_eval.ast_checker as checker
        except ModuleNotFoundError as e:
            raise RuntimeError(f"cannot import BFCL's AST checker ({e}). Install bfcl-eval: "
                               f"pip install --no-deps bfcl-eval=={BFCL_VERSION}") from None
        finally:
            if previous is None:
                del sys.modules[name]
            else:
                sys.modules[name] = previous
    if not isinstance(checker.MODEL_CONFIG_MAPPING, _NamesKeepTheirDots):
        checker.MODEL_CONFIG_MAPPING = _NamesKeepTheirDots(checker.MODEL_CONFIG_MAPPING)
    _CHECKER = checker
    return checker
