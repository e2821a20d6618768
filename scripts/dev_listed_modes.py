"""Whether a listed request is answered in the mode of the request it was made from.

For each listed request of the dev split (`edgeagent eval dev --lists only`), the routed
diffusion predictor (shipped heads and gate, PyTorch) answers it and its parent's opening
request, the same request with one value. Prints one line per pair and the count of
(listed mode, original mode): where the gate answers both in prose, the list is not the cause.

    python scripts/dev_listed_modes.py [--recipe cpu]
"""

import argparse
from collections import Counter

from edgeagent.data.examples import expand
from edgeagent.data.mix import MixConfig, build_mix
from edgeagent.data.records import load
from edgeagent.data.split import split_records
from edgeagent.evals.predictors import get_predictor
from edgeagent.train.run import recipe


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="cpu")
    args = ap.parse_args()
    cfg = MixConfig(**recipe(args.recipe).get("mix", {}))
    mix = build_mix(None, cfg)
    data = load(None, datasets=sorted({ex.dataset for ex in mix.dev_listed}))
    parents = {r["id"]: r for recs in data.records.values() for r in split_records(recs, cfg.dev_fraction)[1]}
    predict = get_predictor("diffusion", steps=1)
    pairs = Counter()
    for ex in mix.dev_listed:
        original = expand(parents[ex.record_id.split("#list")[0]])[0]
        listed, alone = predict([{"id": "listed", "messages": ex.messages, "tools": ex.tools},
                                 {"id": "original", "messages": original.messages, "tools": original.tools}])
        pairs[listed["mode"], alone["mode"]] += 1
        print(f"{ex.record_id}: listed {listed['mode']}, original {alone['mode']}", flush=True)
    for (a, b), n in sorted(pairs.items()):
        print(f"listed {a}, original {b}: {n}")


if __name__ == "__main__":
    main()
