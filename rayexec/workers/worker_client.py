"""Inside a task: a client to submit more work, and leaving the worker's pool while waiting.

distributed runs tasks on a fixed pool of threads, so a task that waits for
the tasks it submitted must ``secede`` from the pool (and ``rejoin`` later) or
the cluster can deadlock.  On Ray a task blocked waiting for other tasks'
results lends its CPU back until the wait ends, so ``worker_client`` simply
gives the task's client; ``secede`` makes a task that waits any other way
(polling) lend its CPU too, until ``rejoin`` (:mod:`rayexec.workers.lending`).

>>> def fib(n):
...     if n < 2:
...         return n
...     with worker_client() as client:
...         a, b = client.submit(fib, n - 1), client.submit(fib, n - 2)
...         return a.result() + b.result()
>>> client.submit(fib, 5).result()  # doctest: +SKIP
5
"""

from __future__ import annotations

import contextlib
import warnings

from ..defaults import get_client
from . import lending
from .context import get_worker


@contextlib.contextmanager
def worker_client(timeout=None, separate_thread=True):
    """A client for this task to submit and wait for more tasks; only inside a task.

    ``timeout`` bounds connecting (seconds, or a string like ``"10s"``);
    ``separate_thread`` is accepted: the task gives its CPU back while it waits
    anyway.  Raises ``ValueError("No worker found")`` outside a task.
    """
    from dask.utils import parse_timedelta

    get_worker()  # outside a task: distributed's ValueError
    yield get_client(timeout=parse_timedelta(timeout, default="s"))


def local_client(*args, **kwargs):
    """The old name of :func:`worker_client`."""
    warnings.warn("local_client has moved to worker_client", stacklevel=2)
    return worker_client(*args, **kwargs)


def secede():
    """Have this task leave the worker's thread pool while it waits for its own tasks.

    A task waiting on other tasks through Ray (``future.result()``,
    ``client.gather``) lends its CPU back to the node for the length of the
    wait anyway.  After ``secede()`` it also lends its CPU while it waits any
    other way -- polling, as joblib's ``Parallel`` does -- as long as tasks it
    submitted are running (:mod:`rayexec.workers.lending`).  Raises
    ``ValueError("No worker found")`` outside a task, as distributed does.
    """
    get_worker()
    lending.start()


def rejoin():
    """Have this task rejoin the worker's thread pool: it stops lending its CPU (see :func:`secede`)."""
    lending.stop()
