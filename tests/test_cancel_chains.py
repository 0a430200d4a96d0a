"""Cancelling in chains of dependent futures never takes the client process down."""

from conftest import json_report, run_script


def test_cancelling_mid_chain_many_times_cancels_dependents_and_keeps_inputs():
    out = run_script("cancel_chains.py", timeout=400)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json_report(out.stdout) == {"rounds": 30, "cancelled": 30, "kept": 30, "after": 2}
