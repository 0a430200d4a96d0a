"""processing, story, call_stack, logs and the cluster dump, read from Ray's own records."""

import os
import time

import pytest
from conftest import json_report, run_script


def wait_for_file(path, timeout=60):
    """Block until ``path`` exists: a task that stays running until the test lets it go."""
    deadline = time.time() + timeout
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.05)
    return "released"


def until(check, timeout=30):
    """Poll ``check()`` until it returns something true (Ray reports task states about
    once a second); that value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{check} stayed false for {timeout} s")


def test_processing_names_running_keys_per_worker(client, tmp_path):
    flag = str(tmp_path / "go")
    future = client.submit(wait_for_file, flag, key="blocker-1")

    def running():
        found = client.processing()
        return found if any("blocker-1" in keys for keys in found.values()) else None

    found = until(running)
    assert set(found) == set(client.scheduler_info()["workers"])
    (worker,) = [w for w, keys in found.items() if "blocker-1" in keys]
    assert client.processing(workers=[worker]) .keys() == {worker}
    open(flag, "w").close()
    assert future.result() == "released"
    until(lambda: not any("blocker-1" in keys for keys in client.processing().values()))


def test_processing_leaves_out_a_released_key_whose_task_still_runs(client, tmp_path):
    # distributed's scheduler forgets a key no client holds, even while a worker still
    # runs its code; Ray's records still call the task running
    flag = str(tmp_path / "go")
    future = client.submit(wait_for_file, flag, key="released-1")
    until(lambda: any("released-1" in keys for keys in client.processing().values()))
    del future
    try:
        assert not any("released-1" in keys for keys in client.processing().values())
    finally:
        open(flag, "w").close()


def test_processing_names_each_key_of_a_batched_map(client, tmp_path):
    flag = str(tmp_path / "go")
    futures = client.map(wait_for_file, [flag] * 4, pure=False, batch_size=4)
    keys = {f.key for f in futures}
    found = until(lambda: {k for ks in client.processing().values() for k in ks} & keys)
    assert found == keys
    open(flag, "w").close()
    client.gather(futures)


def test_story_lists_ray_transitions_of_a_key(client):
    future = client.submit(abs, -5, key="story-abs")
    assert future.result() == 5
    story = until(lambda: [e for e in client.story("story-abs") if e[3] == "FINISHED"]
                  and client.story("story-abs"))
    assert all(entry[0] == "scheduler" and entry[1] == "story-abs" for entry in story)
    states = [entry[3] for entry in story]
    assert states[-1] == "FINISHED"
    assert story[0][2] == "released"
    times = [entry[-1] for entry in story]
    assert times == sorted(times) and abs(times[-1] - time.time()) < 120
    assert client.story("no-such-key") == []


def test_story_of_a_failed_key_ends_failed(client):
    future = client.submit(lambda: 1 / 0, key="story-fail")
    with pytest.raises(ZeroDivisionError):
        future.result()
    story = until(lambda: [e for e in client.story("story-fail") if e[3] == "FAILED"])
    assert story[0][1] == "story-fail"


def test_story_rejects_bad_on_error(client):
    with pytest.raises(ValueError, match="on_error"):
        client.story("x", on_error="maybe")


def test_worker_and_scheduler_logs_through_rays_log_api_with_a_dashboard():
    out = run_script("logs_with_dashboard.py", timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json_report(out.stdout)
    assert report["dashboard"].startswith("http://127.0.0.1:"), report
    assert report["workers"] and report["pairs"] and report["task_output_found"], report
    assert report["scheduler_lines"] > 0, report
    assert "could not list the logs of node " + "ab" * 28 in report["unknown_node"], report
