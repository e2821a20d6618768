"""Function names decoded under a trie: the trunk can only write a name that exists."""

from __future__ import annotations

import json


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

    def decode(self, advance, end_token: int, before=()) -> tuple[str, list[int]]:
        """(name, its last tokens not fed yet). Greedy walk: at each node pick the best child
        token, or stop at a complete name when the trunk prefers ``end_token`` (the first token
        after a name). ``advance(tokens)`` feeds tokens to the trunk and returns the logits after
        the last. ``before`` (the call header) is fed with the name's first stretch: the trunk's
        logits are first asked for where the trie leaves a choice. Where the trie leaves one way on
        (one child, no name ends there) the tokens up to the next choice go in one call, since the
        trunk could only pick them; a run that ends a name nothing else extends is returned unfed
        (with ``before`` if nothing was fed: one name), for the caller to feed with what follows."""
        node, run = self.root, list(before)
        while True:
            while None not in node and len(node) == 1:
                run.append(next(iter(node)))
                node = node[run[-1]]
            if None in node and len(node) == 1:
                return node[None], run
            logits = advance(run)
            children = [t for t in node if t is not None]
            if None in node and logits[end_token] >= max(logits[t] for t in children):
                return node[None], []
            run = [max(children, key=lambda t: logits[t])]
            node = node[run[-1]]
