"""Function names decoded under a trie: the trunk can only write a name that exists."""

from __future__ import annotations

import json

import numpy as np


class NameTrie:
    """A token trie of the available function names (each tokenized as it sits in the header)."""

    def __init__(self, names, tokenize):
        self.root: dict = {}
        self.names = list(names)
        for name in self.names:
            node = self.root
            for t in tokenize(json.dumps(name, ensure_ascii=False)[1:-1]):
                node = node.setdefault(int(t), {})
            node[None] = name

    def decode(self, logits: np.ndarray, advance, end_token: int) -> tuple[str, list[int]]:
        """(name, its last tokens not fed yet). Greedy walk: at each node pick the best child
        token, or stop at a complete name when the trunk prefers ``end_token`` (the first token
        after a name). ``advance(tokens)`` feeds tokens to the trunk and returns the logits after
        the last. Where the trie leaves one way on (one child, no name ends there) the tokens up to
        the next choice go in one call, since the trunk could only pick them; a run that ends a
        name nothing else extends is returned unfed, for the caller to feed with what follows."""
        node = self.root
        while True:
            children = [t for t in node if t is not None]
            if None in node and (not children or logits[end_token] >= max(logits[t] for t in children)):
                return node[None], []
            run = [max(children, key=lambda t: logits[t])]
            node = node[run[-1]]
            while None not in node and len(node) == 1:
                run.append(next(iter(node)))
                node = node[run[-1]]
            if None in node and len(node) == 1:
                return node[None], run
            logits = advance(run)
