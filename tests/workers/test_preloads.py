"""Worker preloads (``Worker(preload=...)``, ``dask worker --preload``)."""

import json

import pytest
from conftest import json_report, run_script

from rayexec.deploy.node_commands import _worker_nodes, add_worker_arguments
from rayexec.workers.preloads import ENV, node_environment


def test_every_worker_process_runs_the_preloads_before_its_tasks():
    out = run_script("worker_preloads.py", timeout=400)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json_report(out.stdout)
    assert report["missing_file"].startswith("FileNotFoundError") \
        and "nowhere.py" in report["missing_file"], report
    assert report["missing_module"].startswith("ModuleNotFoundError") \
        and "no_such_preload_module" in report["missing_module"], report
    assert len(report["workers"]) == 2, report
    for address, seen in zip(report["workers"], report["tasks"], strict=True):
        # the file's module, the module found on the starting process's path, the
        # script's text, the URL's and the click command (given preload_argv) all
        # ran their dask_setup with this worker
        assert seen == {"address": address, "file_module": address,
                        "greeting": f"hello from {address}", "module": address,
                        "text": True, "url": True, "tag": "blue"}, report
    assert all(g.startswith("hello from tcp://") for g in report["map"]), report
    assert report["graph"].startswith("hello from tcp://"), report
    assert report["run"] == {a: f"hello from {a}" for a in report["workers"]}, report
    assert report["actor"].startswith("hello from tcp://"), report
    assert report["failing"].startswith("PreloadError") and "failing.py" in report["failing"] \
        and "no database here" in report["failing"], report
    assert report["others_go_on"] == f"hello from {report['workers'][0]}", report


def test_the_dask_config_names_the_preloads_when_no_argument_does():
    import dask

    with dask.config.set({"distributed.worker.preload": ["json"],
                          "distributed.worker.preload-argv": ["--flag"]}):
        spec = json.loads(node_environment(None)[ENV])
    assert spec["preload"] == ["json"] and spec["argv"] == ["--flag"]
    assert node_environment(None) == {}


def test_dask_worker_takes_preload_flags(tmp_path):
    import argparse

    script = tmp_path / "setup_here.py"
    script.write_text("def dask_setup(worker):\n    pass\n")
    parser = argparse.ArgumentParser()
    add_worker_arguments(parser)
    args = parser.parse_args(["127.0.0.1:1", "--preload", str(script), "--preload", "json",
                              "--nworkers", "2", "--death-timeout", "1"])
    nodes, _ = _worker_nodes(args)
    for node in nodes:  # built, not started
        spec = json.loads(node.environment[ENV])
        assert spec["preload"] == [str(script), "json"]
        node.stop()  # removes the private directory the node was given
    missing = parser.parse_args(["127.0.0.1:1", "--preload", str(tmp_path / "gone.py")])
    with pytest.raises(FileNotFoundError, match="gone.py"):
        _worker_nodes(missing)
