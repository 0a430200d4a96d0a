"""Client methods for code and executors: ``get_executor`` and ``upload_file``.

``get_executor`` wraps the client in a standard ``concurrent.futures.Executor``.

``upload_file`` makes a ``.py`` file, or the modules and packages in a ``.zip``
or ``.egg``, importable by the client's tasks and actors submitted after the
call -- on a cluster already running.  Ray ships code through runtime
environments: the file is uploaded once to the cluster as a package, and every
later submission of this client names it in its ``runtime_env`` (``py_modules``),
so Ray's workers for those tasks have it on their path.

>>> client.upload_file("helpers.py")                            # doctest: +SKIP
>>> client.submit(lambda: __import__("helpers").VALUE).result()  # doctest: +SKIP
42
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
import tempfile
import threading
import weakref
import zipfile

from .uploads import upload


class ExecutorMethods:
    """``Client.get_executor`` and ``Client.upload_file``."""

    def get_executor(self, **kwargs) -> ClientExecutor:
        """A ``concurrent.futures.Executor`` running on this client.

        ``kwargs`` (``pure``, ``workers``, ``resources``, ``allow_other_workers``,
        ``retries``) apply to every submission.

        >>> with client.get_executor() as executor:        # doctest: +SKIP
        ...     list(executor.map(abs, [-1, -2]))
        [1, 2]
        """
        return ClientExecutor(self, **kwargs)

    def upload_file(self, filename, load: bool = True):
        """Make ``filename`` (``.py``, ``.zip`` or ``.egg``) importable by later tasks.

        ``load=True`` imports it once on the cluster, so a module that fails to
        import fails here.  Uploading a file of the same name again replaces it
        for later tasks.
        """
        # The staged copies are needed only until Ray has uploaded them.
        with tempfile.TemporaryDirectory(prefix="rayexec-upload-") as staging:
            modules = _modules_in(filename, staging)
            uris = dict(zip(modules, upload("py_modules", list(modules.values()),
                                            "upload_file")))
        with self._lock:
            uploads = dict(getattr(self, "_uploads", {}))
            uploads.update(uris)
            self._uploads = uploads
        if load:
            import ray

            remote = self._with_options(ray.remote(_import_all), {"num_cpus": 0})
            ray.get(remote.remote(sorted(uris)))


def upload_runtime_env(client) -> dict:
    """The ``runtime_env`` entries every submission of ``client`` needs for its uploads.

    ``{}`` when nothing was uploaded, else ``{"py_modules": [...]}``.

    >>> upload_runtime_env(object())
    {}
    """
    uploads = getattr(client, "_uploads", None)
    return {"py_modules": list(uploads.values())} if uploads else {}


def _import_all(names: list[str]) -> None:
    import importlib

    for name in names:
        importlib.import_module(name)


def _modules_in(filename, staging: str) -> dict[str, str]:
    """Module name -> path, in the directory ``staging``, of each module or package
    ``filename`` provides."""
    filename = os.fspath(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f"upload_file: no such file {filename!r}")
    stem, suffix = os.path.splitext(os.path.basename(filename))
    if suffix == ".py":
        # A copy: later edits to the file must not change what tasks import.
        path = os.path.join(staging, os.path.basename(filename))
        shutil.copyfile(filename, path)
        return {stem: path}
    if suffix not in (".zip", ".egg"):
        raise ValueError(f"upload_file takes a .py, .zip or .egg file, got {filename!r}")
    with zipfile.ZipFile(filename) as archive:
        archive.extractall(staging)
    modules = {}
    for entry in sorted(os.listdir(staging)):
        path = os.path.join(staging, entry)
        name, ext = os.path.splitext(entry)
        if os.path.isdir(path) and entry.isidentifier():
            modules[entry] = path
        elif ext == ".py" and name.isidentifier():
            modules[name] = path
    if not modules:
        raise ValueError(f"upload_file: {filename!r} holds no Python module or package "
                         "at its top level")
    return modules


class ClientExecutor(cf.Executor):
    """A ``concurrent.futures.Executor`` whose work runs on a rayexec client.

    ``submit`` returns ``concurrent.futures.Future`` objects, so ``cf.wait`` and
    ``cf.as_completed`` work on them; cancelling one cancels the task.
    """

    _allowed_kwargs = frozenset(["pure", "workers", "resources", "allow_other_workers",
                                 "retries"])

    def __init__(self, client, **kwargs):
        unknown = set(kwargs) - self._allowed_kwargs
        if unknown:
            raise TypeError(f"unsupported arguments to ClientExecutor: {sorted(unknown)}")
        self._client = client
        self._kwargs = kwargs
        self._futures: weakref.WeakSet = weakref.WeakSet()
        self._handed_out: weakref.WeakSet = weakref.WeakSet()  # the cf futures of submit
        self._shutdown = False
        self._lock = threading.Lock()

    def submit(self, fn, *args, **kwargs) -> cf.Future:
        """Run ``fn(*args, **kwargs)`` on the cluster; a ``concurrent.futures.Future``."""
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            future = self._client.submit(fn, *args, **{**self._kwargs, **kwargs})
            self._futures.add(future)
            handed_out = _wrap(future)
            self._handed_out.add(handed_out)
        return handed_out

    def map(self, fn, *iterables, **kwargs):
        """Like the builtin ``map``, computed on the cluster; results in order.

        ``timeout`` (seconds) bounds the whole iteration; ``chunksize`` is ignored.
        """
        import time

        timeout = kwargs.pop("timeout", None)
        kwargs.pop("chunksize", None)
        if kwargs:
            raise TypeError(f"unexpected arguments to map(): {sorted(kwargs)}")
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        futures = self._client.map(fn, *[list(i) for i in iterables], **self._kwargs)
        self._futures.update(futures)

        def results():
            try:
                for i, future in enumerate(futures):
                    left = None if deadline is None else deadline - time.monotonic()
                    try:
                        yield future.result(left)
                    except TimeoutError:
                        raise cf.TimeoutError() from None
                    futures[i] = None  # drop what was delivered
            finally:
                self._client.cancel([f for f in futures if f is not None])

        return results()

    def shutdown(self, wait=True, *, cancel_futures=False):
        """No new work; ``wait`` for what runs, or cancel it (``wait=False``)."""
        with self._lock:
            self._shutdown = True
            futures = list(self._futures)
        if wait and not cancel_futures:
            from ..waiting import wait as wait_all

            wait_all(futures)
            # the futures handed out are settled by a callback thread: wait for those too
            cf.wait(list(self._handed_out))
        else:
            self._client.cancel(futures)


def _wrap(future) -> cf.Future:
    """A ``concurrent.futures.Future`` following a rayexec Future, and cancelling it."""
    out: cf.Future = cf.Future()  # left pending until done, so that it can be cancelled

    def forward(done):
        try:
            value = done.result()
        except cf.CancelledError:
            if out.cancel():
                out.set_running_or_notify_cancel()  # wakes cf.wait / cf.as_completed
            return
        except BaseException as exc:
            settle, arg = out.set_exception, exc
        else:
            settle, arg = out.set_result, value
        try:
            settle(arg)
        except cf.InvalidStateError:  # cancelled meanwhile
            pass

    def back(cf_future):
        if cf_future.cancelled():
            future.cancel()

    future.add_done_callback(forward)
    out.add_done_callback(back)
    return out
