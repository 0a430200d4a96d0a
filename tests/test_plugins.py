"""Worker plugins on Ray runtime environments: setup in every worker process, Environ,
UploadFile, UploadDirectory; PipInstall and CondaInstall by the environment they produce."""

import os

import pytest

from rayexec import (
    CondaInstall,
    Environ,
    PipInstall,
    UploadDirectory,
    UploadFile,
    WorkerPlugin,
)


class Marker(WorkerPlugin):
    """Leaves a mark in the worker process that tasks read."""

    def __init__(self, value):
        self.value = value

    def setup(self, worker):
        import builtins

        builtins.RAYEXEC_TEST_MARK = (self.value, worker.address)


class Broken(WorkerPlugin):
    def setup(self, worker):
        raise RuntimeError("this plugin cannot start")


def getenv(name):
    """A worker's environment variable (``os.environ.get`` itself would travel with
    the client's environment: a bound method pickles its object)."""
    return os.environ.get(name)


def read_mark(_=None):
    import builtins

    return getattr(builtins, "RAYEXEC_TEST_MARK", None)


def test_setup_runs_in_every_worker_process_tasks_use(client):
    reports = client.register_plugin(Marker("m1"), name="marker")
    assert set(reports) == set(client.nthreads())
    assert all(r == {"status": "OK"} for r in reports.values())
    value, address = client.submit(read_mark, key="mark-1").result()
    assert value == "m1" and address in client.nthreads()
    # batched map elements and graph parts run in processes that ran the setup too
    assert {m[0] for m in client.gather(client.map(read_mark, range(16), batch_size=8))} \
        == {"m1"}
    import dask

    assert dask.delayed(read_mark)(0).compute()[0] == "m1"
    client.restart()  # new worker processes: the plugin runs again in them
    assert client.submit(read_mark, key="mark-2").result()[0] == "m1"
    client.unregister_worker_plugin("marker")
    assert client.submit(read_mark, key="mark-3").result() is None
    with pytest.raises(ValueError, match="no worker plugin named 'marker'"):
        client.unregister_worker_plugin("marker")


def test_failing_setup_raises_its_own_exception_and_is_not_kept(client):
    with pytest.raises(RuntimeError, match="this plugin cannot start"):
        client.register_plugin(Broken(), name="broken")
    assert "broken" not in client._plugins
    assert client.submit(abs, -3).result() == 3


def test_worker_callbacks_get_the_worker_when_they_ask(client):
    def setup(dask_worker):
        os.environ["RAYEXEC_CALLBACK_WORKER"] = dask_worker.address

    client.register_worker_callbacks(setup)
    assert client.submit(getenv, "RAYEXEC_CALLBACK_WORKER").result() \
        in client.nthreads()
    with pytest.raises(TypeError, match="callable"):
        client.register_worker_callbacks(42)


def test_environ_sets_worker_environment_variables(client):
    client.register_plugin(Environ({"RAYEXEC_PLUGIN_VAR": 7}))
    assert client.submit(getenv, "RAYEXEC_PLUGIN_VAR").result() == "7"


def test_upload_file_plugin_makes_a_module_importable(client, tmp_path):
    path = tmp_path / "plugin_helper_mod.py"
    path.write_text("VALUE = 'uploaded'\n")
    client.register_plugin(UploadFile(str(path)))

    def read():
        import plugin_helper_mod

        return plugin_helper_mod.VALUE

    assert client.submit(read).result() == "uploaded"


def test_upload_directory_becomes_the_working_directory(client, tmp_path):
    folder = tmp_path / "project"
    (folder / "tests").mkdir(parents=True)
    (folder / "dirmod_for_plugin.py").write_text("NAME = 'from the directory'\n")
    (folder / "data.txt").write_text("payload")
    (folder / "tests" / "skipped.txt").write_text("not shipped")
    client.register_plugin(UploadDirectory(str(folder), update_path=True))

    def read():
        import dirmod_for_plugin

        return dirmod_for_plugin.NAME, open("data.txt").read(), os.path.exists("tests")

    assert client.submit(read).result() == ("from the directory", "payload", False)
    with pytest.raises(FileNotFoundError, match="no such directory"):
        UploadDirectory(str(tmp_path / "missing"))


def test_install_plugins_become_ray_pip_and_conda_fields():
    from rayexec.workers.plugins import runtime_env

    pip = PipInstall(["toolz==0.12.1"], pip_options=["--no-cache-dir"])
    assert pip.runtime_env() == {"pip": {"packages": ["toolz==0.12.1"], "pip_check": False,
                                         "pip_install_options": ["--no-cache-dir"]}}
    both = runtime_env({"a": pip, "b": PipInstall(["tqdm"]), "c": Environ({"X": "1"})})
    assert both["pip"]["packages"] == ["toolz==0.12.1", "tqdm"]
    assert both["env_vars"] == {"X": "1"}
    conda = CondaInstall(["numpy"], conda_options=["-c", "conda-forge"])
    assert conda.runtime_env() == {"conda": {"dependencies": ["numpy"],
                                             "channels": ["conda-forge"]}}
    with pytest.raises(ValueError, match="channels only"):
        CondaInstall(["numpy"], conda_options=["--override-channels"])
    with pytest.raises(ValueError, match="pip or conda"):
        runtime_env({"a": pip, "b": conda})
    with pytest.raises(TypeError, match="list of requirement strings"):
        PipInstall("toolz")


def test_idempotent_plugins_register_once(client):
    client.register_plugin(Environ({"RAYEXEC_ONCE": "1"}), name="once")
    assert client.register_plugin(Environ({"RAYEXEC_ONCE": "2"}), name="once",
                                  idempotent=True) == {}
    assert client.submit(getenv, "RAYEXEC_ONCE").result() == "1"


def test_register_plugin_refuses_other_objects(client):
    with pytest.raises(TypeError, match="WorkerPlugin"):
        client.register_plugin(42)
