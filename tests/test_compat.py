"""The drop-in ``distributed``: every way to turn it on, and every name it serves.

The real distributed is installed in this environment; the shim must win over it.
"""

import os
import subprocess
import sys

import pytest
from conftest import SCRIPTS, json_report

import rayexec
from rayexec.deploy.shim import compat_dir, pth_file, shim_off, shim_on
from rayexec.unsupported import PLUGIN_BASES

distributed_real = pytest.importorskip("distributed")  # the installed, real package

# Names of real distributed.__all__ that rayexec serves as placeholders raising on use.
UNSUPPORTED = {
    "Adaptive", "CompatibleExecutor",
    "SSHCluster", "SpecCluster", "SubprocessCluster",
    "SchedulerPlugin", "Reschedule", "Security", "Status",
    "connect", "rpc", "get_task_metadata",
    "widgets",
}
# Served by the shim package itself (re-exported from dask / the stdlib / a submodule).
SHIM_ONLY = {"config", "print", "warn", "dask"}


def run_check(*args, env=None, argv=None):
    env = {**os.environ, **(env or {})}
    argv = argv or [sys.executable, os.path.join(SCRIPTS, "compat_shim_check.py"), *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return json_report(result.stdout)


def assert_shim(report):
    assert report["file"].startswith(compat_dir()), report["file"]
    assert all(report["same"].values()), {k: v for k, v in report["same"].items() if not v}
    assert not report["ray_started"]  # importing the shim starts no Ray


def test_every_distributed_name_is_served_or_explained():
    names = set(distributed_real.__all__)
    assert UNSUPPORTED <= names, UNSUPPORTED - names
    provided = names - UNSUPPORTED - SHIM_ONLY
    for name in sorted(provided):
        value = getattr(rayexec, name)
        assert value.__module__ != "rayexec.unsupported", f"{name} is a placeholder"
    for name in sorted(UNSUPPORTED):
        placeholder = getattr(rayexec, name)
        assert placeholder.__module__ == "rayexec.unsupported", f"{name} is provided now: " \
            "move it out of UNSUPPORTED"
        if name in PLUGIN_BASES:  # registering raises, creating does not
            continue
        with pytest.raises(NotImplementedError, match=rf"distributed\.{name} is not supported "
                                                       r"on Ray: .+\. Use .+ instead\."):
            placeholder()


def test_placeholder_classes_can_be_subclassed_and_raise_on_use():
    class MyPlugin(rayexec.SchedulerPlugin):
        def start(self, scheduler):
            pass

    plugin = MyPlugin()  # as in distributed: a module may create its plugins at import
    with pytest.raises(NotImplementedError, match="SchedulerPlugin is not supported"):
        rayexec.Client.register_plugin(None, plugin)
    with pytest.raises(NotImplementedError, match="token"):
        rayexec.Security.temporary()


def test_one_changed_import():
    import rayexec as distributed

    assert distributed.Executor is distributed.Client
    for name in ("Client", "Future", "wait", "as_completed", "progress", "Pool", "LocalCluster"):
        assert hasattr(distributed, name)


def test_pythonpath_wins_over_installed_distributed():
    assert_shim(run_check(env={"PYTHONPATH": compat_dir()}))


def test_rayexec_run_script_and_module(tmp_path):
    report = run_check(argv=[sys.executable, "-m", "rayexec", "run",
                             os.path.join(SCRIPTS, "compat_shim_check.py"), "x", "--flag"])
    assert_shim(report)
    assert report["argv"] == ["x", "--flag"]
    out = subprocess.run([sys.executable, "-m", "rayexec", "run", "-m", "dask.distributed"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    out = subprocess.run([sys.executable, "-m", "rayexec", "run", "-c"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode != 0


def test_rayexec_run_module_gets_its_options_as_python_m_gives_them(tmp_path):
    (tmp_path / "argv_report.py").write_text(
        "import json, sys, distributed\n"
        "print(json.dumps({'argv': sys.argv[1:], 'file': distributed.__file__}))\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "rayexec", "run", "-m", "argv_report", "-q",
                          "--flag", "x", "-m", "y"], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json_report(out.stdout)
    assert report["argv"] == ["-q", "--flag", "x", "-m", "y"]
    assert report["file"].startswith(compat_dir())
    out = subprocess.run([sys.executable, "-m", "rayexec", "run", "-m"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode != 0 and "give a script or a module" in out.stderr


def test_activate_in_process():
    assert_shim(run_check("activate"))
    script = ("import distributed, rayexec\n"
              "try:\n    rayexec.activate_shim()\nexcept RuntimeError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert "already imported" in out.stdout, out.stdout + out.stderr[-2000:]


def test_environment_switch_on_and_off(tmp_path):
    site_dir = str(tmp_path)
    # Process the .pth in site_dir as the interpreter does for site-packages at start-up.
    argv = [sys.executable, "-c",
            f"import site, runpy, sys; site.addsitedir({site_dir!r}); "
            f"sys.argv = ['check']; runpy.run_path({os.path.join(SCRIPTS, 'compat_shim_check.py')!r}, "
            "run_name='__main__')"]
    path = shim_on(site_dir)
    try:
        assert path == pth_file(site_dir) and path.exists()
        assert_shim(run_check(argv=argv))
        real = run_check(argv=argv, env={"RAYEXEC_SHIM": "0"})
        assert not real["file"].startswith(compat_dir())
    finally:
        assert shim_off(site_dir)
    assert not shim_off(site_dir)
    assert not run_check(argv=argv)["file"].startswith(compat_dir())
    out = subprocess.run([sys.executable, "-m", "rayexec", "shim", "status", "--site-dir",
                          site_dir], capture_output=True, text=True, timeout=60)
    assert "shim off" in out.stdout


def test_distributed_dask_legacy_get_through_shim(client, ray_cluster):
    from operator import add

    from rayexec.legacy.dask import get

    host, port = ray_cluster.address.rsplit(":", 1)
    assert get(host, port, {"x": 1, "y": (add, "x", 2)}, "y") == 3
    assert get(host, int(port), {"a": 1, "b": (lambda x: x + 1, "a")}, ["b", ["a"]]) == [2, [1]]
    with pytest.raises(TypeError, match="port must be a number"):
        get(host, "eighty", {}, [])


@pytest.mark.slow
@pytest.mark.parametrize("shim", [False, True], ids=["real-distributed", "rayexec-shim"])
def test_public_api_suite_passes_on_both(shim):
    """One suite written for distributed's public API passes on the real package and,
    unchanged, on rayexec through the shim."""
    env = {"PYTHONPATH": compat_dir()} if shim else {}
    result = subprocess.run([sys.executable, os.path.join(SCRIPTS, "compat_public_api.py")],
                            capture_output=True, text=True, timeout=400,
                            env={**os.environ, **env})
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    expected = compat_dir() if shim else os.path.dirname(distributed_real.__file__)
    assert f"distributed from {expected}" in result.stdout


def test_a_name_shared_with_a_submodule_stays_the_function():
    script = ("import distributed.worker_client\n"
              "from distributed import worker_client\n"
              "print(callable(worker_client), distributed.worker_client.__module__)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": compat_dir()})
    assert done.stdout.split() == ["True", "rayexec.workers.worker_client"], done.stderr


def test_modules_are_attributes_of_the_package_as_in_distributed():
    # dask's tests write distributed.lock.Lock() without importing distributed.lock.
    code = ("import sys, distributed\n"
            "assert distributed.lock.Lock is distributed.Lock\n"
            "assert distributed.client.Future is distributed.Future\n"
            "assert distributed.utils.thread_state is not None\n"
            "assert 'ray' not in sys.modules, 'importing the shim imported ray'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": compat_dir()})
    assert done.returncode == 0, done.stderr[-3000:]


def test_diagnostics_peer_program_runs_unchanged_through_the_shim(tmp_path):
    """A distributed user's script with performance_report, get_task_stream,
    register_plugin, call_stack and the cluster dump, run with `import distributed`
    as the shim."""
    done = subprocess.run(
        [sys.executable, os.path.join(SCRIPTS, "compat_diagnostics.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=400,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([compat_dir(), SCRIPTS])})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    found = json_report(done.stdout)
    assert found["shim"].startswith(compat_dir())
    assert found["total"] == 55
    assert found["stream_keys"] == ["inc", "sum"] and found["report_has_inc"]
    assert found["env"] == ["set-by-plugin", "from-environ"]
    assert any("peer-hold" in keys for keys in found["processing"].values())
    assert found["stack_mentions_hold"]
    assert found["story_states"][-1] in ("RUNNING", "FINISHED")
    assert "`ray logs`" in found["logs_error"]  # no dashboard here: the error says what to use
    assert found["dump"]
