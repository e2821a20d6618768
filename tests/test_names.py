"""The name trie: only available names come out, the trunk's preference decides among them, and a
stretch the trie forces is fed to the trunk in one call."""

import json

import numpy as np
import pytest

from edgeagent.runtime.names import NameTrie

NAMES = ["get_weather", "get_time", "search", "search_music"]
END = 0
HEADER = [1, 2, 3]  # the call header, fed with the name's first stretch


def tokenize(text):
    return [ord(c) for c in text]  # one token per character: ids 95..122


def walk(trie, prefer, end_bias=0.0):
    """Decode with logits that favour the characters of `prefer` in order; returns the name, the
    fed chunks and every token the trunk saw (fed + pending)."""
    chunks, pos = [], [0]

    def logits_at(i):
        lg = np.zeros(256)
        if i < len(prefer):
            lg[ord(prefer[i])] = 5.0
        else:
            lg[END] = 5.0 + end_bias
        return lg

    def advance(tokens):
        chunks.append(list(tokens))
        pos[0] += len(tokens)
        return logits_at(pos[0] - len(HEADER))

    name, pending = trie.decode(advance, END, before=HEADER)
    seen = [t for c in chunks for t in c] + list(pending)
    assert seen[:len(HEADER)] == HEADER
    return name, chunks, seen[len(HEADER):]


@pytest.mark.parametrize("name", NAMES)
def test_the_preferred_name_comes_out_and_every_token_reaches_the_trunk(name):
    trie = NameTrie(NAMES, tokenize)
    got, _, seen = walk(trie, name)
    assert got == name and seen == tokenize(json.dumps(name)[1:-1])


def test_forced_stretches_are_one_call():
    trie = NameTrie(NAMES, tokenize)
    _, chunks, _ = walk(trie, "get_weather")
    # the header is one call (g/s is the first choice); "g" and the forced "et_" after it are the
    # next; "w" (among w/t) and the forced "eather" end the only name left, so they come back
    # unfed, to go in with the name's end
    assert chunks == [HEADER, [ord(c) for c in "get_"]]
    _, chunks, _ = walk(trie, "search")
    assert chunks == [HEADER, [ord(c) for c in "search"]]  # "search" may end or go on: the logits decide
    # names that share their start: the shared stretch goes in with the header
    _, chunks, _ = walk(NameTrie(["get_weather", "get_time"], tokenize), "get_time")
    assert chunks == [HEADER + [ord(c) for c in "get_"]]


def test_an_unknown_preference_still_gives_an_available_name():
    trie = NameTrie(NAMES, tokenize)
    for prefer in ["zzz", "get_wx", "searcx", ""]:
        assert walk(trie, prefer)[0] in NAMES


def test_a_single_tool_needs_no_trunk_step():
    trie = NameTrie(["only_tool"], tokenize)
    name, chunks, seen = walk(trie, "")
    assert name == "only_tool" and chunks == [] and seen == tokenize("only_tool")  # header + name come back unfed
