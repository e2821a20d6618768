"""How the clause rule (runtime/clauses.py away) meets the values of the mix's tool calls: of the
values a request writes in so many words, how many the rule meets and how many sit only in segments it
points their call away from (runtime/clauses.py's docstring quotes this script's numbers).

Run: python scripts/measure_clauses.py [--recipe cpu] [--split train|dev]
"""

from __future__ import annotations

import argparse
from collections import Counter

from edgeagent.runtime.clauses import away


def measure(examples) -> Counter:
    c = Counter()
    for ex in examples:
        if ex.mode != "tool":
            continue
        calls = ex.target.get("tool_calls") or []
        kind = "several tools" if len({call["function"]["name"] for call in calls}) >= 2 else "one tool"
        request = [m for m in ex.messages if m["role"] == "user"][-1]["content"]
        tools = [(t["function"]["name"], t["function"].get("description", ""), t["function"].get("parameters"))
                 for t in ex.tools]
        names = [name for name, _, _ in tools]
        for call in calls:
            spans = away(request, tools, names.index(call["function"]["name"]))
            if spans:
                c[kind, "characters"] += len(request)
                c[kind, "characters away"] += sum(b - a for a, b in spans)
            for value in call["function"]["arguments"].values():
                text = str(value)
                if isinstance(value, bool) or not isinstance(value, (str, int, float)) or len(text) < 2 \
                        or text not in request:
                    continue
                c[kind, "values written"] += 1
                if not spans:
                    continue
                c[kind, "met"] += 1
                starts = [i for i in range(len(request)) if request.startswith(text, i)]
                c[kind, "pointed away"] += all(any(a <= i < b for a, b in spans) for i in starts)
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="cpu", help="the training recipe whose mix is read (default: cpu)")
    ap.add_argument("--split", default="train", choices=("train", "dev"))
    a = ap.parse_args()
    from edgeagent.data.mix import MixConfig, build_mix
    from edgeagent.train.run import recipe

    mix = build_mix(None, MixConfig(**recipe(a.recipe).get("mix", {})))
    c = measure(getattr(mix, a.split))
    for kind in ("several tools", "one tool"):
        share = 100 * c[kind, "characters away"] / max(c[kind, "characters"], 1)
        print(f"{a.split}, requests for {kind}: {c[kind, 'values written']} values written, "
              f"{c[kind, 'met']} met, {c[kind, 'pointed away']} pointed away; "
              f"{share:.0f}% of the characters of the requests met are away")


if __name__ == "__main__":
    main()
