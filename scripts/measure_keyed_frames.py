"""How often a request writes a call's key words again with a value no call holds: where
SpanRules.keyed_frames (runtime/frames.py next_frame) would make one more call of the function.

Reads the first request of each record of the training split (glaive en, Seal-Tools, SGD) that is
answered with calls, and plays the rule after each of the request's calls, with all of them made:
a frame found there is one where the rule would look for a call the data does not have (the call
it makes stays only where it holds the frame's new value).
Run: python scripts/measure_keyed_frames.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import first_requests, run

from edgeagent.runtime.frames import next_frame


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, request, calls in first_requests(records):
        source = rec["meta"]["dataset"]
        made = [args for _, args in calls]
        c[source, "first requests answered with calls"] += 1
        c[source, "calls"] += len(calls)
        fired = [frame for args in made if (frame := next_frame(request, args, made)) is not None]
        c[source, "calls after which a frame is found (the rule looks for a call the data lacks)"] += len(fired)
        if show and fired:
            print(f"  {rec['id']} {request[:200]!r}: new values {[f.values for f in fired]}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the requests where a frame is found")
