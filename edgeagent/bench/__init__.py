"""`edgeagent bench`: request -> validated tool call latency, prefill/decode tok/s and peak RSS per path,
against this machine's memory-bandwidth limit (bandwidth.py, latency.py, worker.py, report.py)."""
