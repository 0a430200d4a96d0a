"""client.get_executor() and client.upload_file(): ExecutorMethods on the Client.

``Client`` takes these methods from ``rayexec.workers.executor_methods.ExecutorMethods``;
uploaded modules reach tasks through the client's runtime environment.
"""

import concurrent.futures as cf
import time
import uuid
import zipfile

import pytest

from rayexec.workers.executor_methods import ClientExecutor, upload_runtime_env


def slow_identity(x, delay=0.0):
    time.sleep(delay)
    return x


def fail(x):
    raise ZeroDivisionError(x)


# -- get_executor ------------------------------------------------------------------
def test_executor_submit_gives_concurrent_futures(client):
    with client.get_executor() as executor:
        assert isinstance(executor, cf.Executor)
        future = executor.submit(pow, 2, 5)
        assert isinstance(future, cf.Future)
        assert future.result(timeout=60) == 32
        failing = executor.submit(fail, 1)
        done, _ = cf.wait([future, failing], timeout=60)
        assert len(done) == 2
        assert isinstance(failing.exception(), ZeroDivisionError)
        assert sorted(f.result() for f in cf.as_completed(
            [executor.submit(abs, -i) for i in range(3)], timeout=60)) == [0, 1, 2]


def test_executor_map_is_ordered(client):
    executor = client.get_executor(pure=False)
    assert list(executor.map(slow_identity, [3, 1, 2], [0.2, 0.0, 0.1])) == [3, 1, 2]
    with pytest.raises(cf.TimeoutError):
        list(executor.map(slow_identity, [1], [5.0], timeout=0.2))
    with pytest.raises(TypeError, match="unexpected"):
        executor.map(abs, [1], bogus=1)
    executor.shutdown()


def test_executor_shutdown(client):
    executor = client.get_executor()
    future = executor.submit(slow_identity, "x", 0.2)
    executor.shutdown(wait=True)
    assert future.done() and future.result() == "x"
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit(abs, 1)


def test_executor_cancel_reaches_the_task(client):
    executor = client.get_executor(pure=False)
    blocker = [executor.submit(slow_identity, i, 3.0) for i in range(2)]
    queued = executor.submit(slow_identity, "never", 3.0)
    assert queued.cancel()
    assert queued.cancelled()
    executor.shutdown(wait=False)  # cancels the rest
    for future in blocker:
        with pytest.raises(cf.CancelledError):
            future.result(timeout=60)


def test_executor_refuses_unknown_options(client):
    with pytest.raises(TypeError, match="unsupported arguments"):
        client.get_executor(bogus=True)
    assert isinstance(client.get_executor(retries=1), ClientExecutor)


# -- upload_file ------------------------------------------------------------------
def import_value(name):
    import importlib

    return importlib.import_module(name).VALUE


def test_upload_py_file(client, tmp_path):
    name = f"uploaded_{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.py"
    path.write_text("VALUE = 41\n")
    assert upload_runtime_env(client) == {} or name not in str(upload_runtime_env(client))
    client.upload_file(str(path))
    assert client.submit(import_value, name).result(timeout=120) == 41
    path.write_text("VALUE = 42\n")  # a new version replaces the old for later tasks
    client.upload_file(path)
    assert client.submit(import_value, name, pure=False).result(timeout=120) == 42


def test_upload_zip_package(client, tmp_path):
    name = f"zipped_{uuid.uuid4().hex[:8]}"
    archive = tmp_path / "code.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"{name}/__init__.py", "from .inner import VALUE\n")
        z.writestr(f"{name}/inner.py", "VALUE = 'zipped'\n")
    client.upload_file(str(archive), load=False)
    assert client.submit(import_value, name).result(timeout=120) == "zipped"


def test_upload_that_fails_to_import_fails_here(client, tmp_path):
    path = tmp_path / f"broken_{uuid.uuid4().hex[:8]}.py"
    path.write_text("raise RuntimeError('broken on import')\n")
    with pytest.raises(RuntimeError, match="broken on import"):
        client.upload_file(str(path))


def test_upload_bad_files(client, tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        client.upload_file(str(tmp_path / "missing.py"))
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(ValueError, match=r"\.py, \.zip or \.egg"):
        client.upload_file(str(other))


def test_signatures_match_distributed():
    real = pytest.importorskip("distributed")
    from test_compat_signatures import check

    from rayexec.workers.executor_methods import ExecutorMethods

    check(ExecutorMethods.get_executor, real.Client.get_executor)
    check(ExecutorMethods.upload_file, real.Client.upload_file)
    from distributed.cfexecutor import ClientExecutor as RealExecutor

    for name in ("submit", "map", "shutdown"):
        check(getattr(ClientExecutor, name), getattr(RealExecutor, name))
