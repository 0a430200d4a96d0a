"""The chaos soak, short: a minute of mixed work while worker processes are killed,
a node is replaced and the client restarted (``benchmarks/soak.py``; the full run
is ten minutes, reported in ``benchmarks/RESULTS.md``)."""

import json
import os
import subprocess
import sys

import pytest

SOAK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    "benchmarks", "soak.py")


@pytest.mark.slow
def test_short_soak_returns_only_right_results_and_never_hangs():
    done = subprocess.run([sys.executable, SOAK, "--duration", "60", "--kill-every", "3",
                           "--nodes", "2", "--json"],
                          capture_output=True, text=True, timeout=900)
    # Ray echoes its workers' and raylets' logs on stdout too: the report is the JSON line
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(lines[-1])
    assert report["wrong results"] == 0, report
    assert report["hangs"] == 0, report
    assert report["unexplained errors"] == 0, report
    assert report["operations"] > 0 and report["ok"] > 0, report
    faults = report["faults injected"]
    assert faults["workers killed"] > 0 and faults["nodes replaced"] >= 1, report
    assert faults["client restarts"] == 1, report
    assert report["references"]["end"] <= report["references"]["baseline"], report
    # the shared state lives on the head: the node replaced does not take it along
    assert report["coordination actors"] == {"created": 1, "died": 0,
                                             "alive on the head": 1}, report
    # What Python allocated during the soak and still holds once dask's and rayexec's
    # bounded key caches are emptied: the modules a fault first imports and one new
    # connection's worth, about 3 MB; a few KB kept per operation would pass 10 MB.
    assert report["python memory held since baseline MB"] < 10, report
    assert done.returncode == 0, done.stderr[-4000:]
