"""How often the latest date, time or head count a conversation states agrees with the reference call's value,
on the SGD training split (and the dates on glaive's and Seal-Tools', which state years) (runtime/stated.py; its docstring quotes this script's numbers).

Reads every assistant turn that calls a tool, and each call with exactly one ISO date value (or one
"HH:MM" value, or one head count), as SpanRules.stated_values does; the texts are the user's and the assistant's prose
before that turn. Run: python scripts/measure_stated.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

from edgeagent.data.records import load
from edgeagent.data.split import split_records
from edgeagent.runtime.stated import (COUNT_KEY, CLOCK, ISO_DATE, RELATIVE, SMALL_COUNT, prose_of, stated_counts,
                                      stated_dates, stated_times)


def measure(records) -> Counter:
    c = Counter()
    for rec in records:
        msgs = rec["messages"]
        for i, m in enumerate(msgs):
            if m.get("role") != "assistant" or not m.get("tool_calls"):
                continue
            texts = prose_of(msgs[:i])
            for call in m["tool_calls"]:
                args = call["function"]["arguments"]
                args = json.loads(args) if isinstance(args, str) else args
                _date(args, texts, c)
                _time(args, texts, c)
                _count(args, texts, c)
    return c


def _one(args: dict, pattern, key=None) -> str | None:
    values = [v for k, v in args.items()
              if isinstance(v, str) and pattern.fullmatch(v) and (key is None or key.search(k))]
    return values[0] if len(values) == 1 else None


def _date(args, texts, c):
    value = _one(args, ISO_DATE)
    if value is None:
        return
    c["dates"] += 1
    dates = [d for t in texts for d in stated_dates(t)]
    if not dates or dates[-1] == RELATIVE:
        return
    month, day, year = dates[-1]
    c["date stated"] += 1
    if year is not None:
        c["year stated"] += 1
        c["year agrees"] += year == int(value[:4])
    c["day agrees"] += day == int(value[8:10])
    if month is not None:
        c["month stated"] += 1
        c["month agrees"] += month == int(value[5:7])


def _time(args, texts, c):
    value = _one(args, CLOCK)
    if value is None:
        return
    c["times"] += 1
    times = [t for text in texts for t in stated_times(text)]
    if not times:
        return
    h, mins, sure = times[-1]
    c["time stated"] += 1
    ref_h, ref_m = (int(x) for x in value.split(":"))
    c["time agrees"] += (h == ref_h or (not sure and h % 12 == ref_h % 12)) and mins == ref_m


def _count(args, texts, c):
    value = _one(args, SMALL_COUNT, COUNT_KEY)
    if value is None:
        return
    c["counts"] += 1
    counts = [n for t in texts for n in stated_counts(t)]
    if counts:
        c["count stated"] += 1
        c["count agrees"] += counts[-1] == int(value)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="the data folder (default: ../shared/data, as train finds it)")
    a = ap.parse_args()
    train, _ = split_records(load(a.data, datasets=["sgd"]).all())
    c = measure(train)
    share = lambda k, n: f"{c[k]}/{c[n]} = {100 * c[k] / max(c[n], 1):.2f}%"
    print(f"SGD train split, {len(train)} records")
    print(f"dates (calls with one): {c['dates']}; stated, not relative: {c['date stated']}; "
          f"day agrees {share('day agrees', 'date stated')}; month agrees {share('month agrees', 'month stated')}; "
          f"year agrees {share('year agrees', 'year stated')}")
    print(f"times (calls with one): {c['times']}; stated: {c['time stated']}; "
          f"agrees {share('time agrees', 'time stated')} (a statement that leaves am/pm open agrees on either)")
    print(f"head counts (calls with one): {c['counts']}; stated: {c['count stated']}; "
          f"agrees {share('count agrees', 'count stated')}")
    train, _ = split_records(load(a.data, datasets=["glaive_en", "sealtools"]).all())
    c = measure(train)
    print(f"glaive en and Seal-Tools train split, {len(train)} records: dates (calls with one): {c['dates']}; "
          f"stated: {c['date stated']}; day agrees {share('day agrees', 'date stated')}; "
          f"year agrees {share('year agrees', 'year stated')}")


if __name__ == "__main__":
    main()
