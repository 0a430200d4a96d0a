"""cluster.adapt() end to end: a local cluster grows while busy and shrinks when idle."""

from conftest import json_report, run_script


def test_adapt_adds_a_node_while_busy_and_removes_it_when_idle():
    out = run_script("adapt_local.py", timeout=480)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json_report(out.stdout)
    assert report == {"grew": True, "results": True, "shrank": True, "after": 3}, report
