"""Client.retire_workers: Ray's node drain, the data moved off first."""

from conftest import json_report, run_script


def test_retiring_a_worker_keeps_its_data_finishes_its_task_and_stops_its_node():
    out = run_script("retire_workers.py", timeout=400)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json_report(out.stdout)
    assert report["data_on_target"], report
    assert report["waited_for_running_task"] and report["running_result"] == 7, report
    assert len(report["retired"]) == 1 and report["gone"], report
    assert report["data_kept"] and report["after"] == 3, report
    assert report["head"].startswith("ValueError") and "head node" in report["head"], report
    assert "unknown worker" in report["unknown"], report
