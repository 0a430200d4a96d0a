"""rayexec: the API of Dask's ``distributed`` on Ray clusters.

>>> import rayexec as distributed           # one changed import
>>> client = distributed.Client()            # doctest: +SKIP
>>> client.submit(sum, [1, 2]).result()      # doctest: +SKIP
3

Importing rayexec does not import or start Ray; the names below load on first use.
"""

from __future__ import annotations

import importlib

from . import defaults as _defaults
from . import moved as _moved
from .unsupported import PLACEHOLDERS as _PLACEHOLDERS

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    # distributed's names with no Ray counterpart: placeholders that raise on use
    # and say what to use instead.  An entry below for the same name replaces one.
    **dict.fromkeys(_PLACEHOLDERS, "unsupported"),
    "Client": "client",
    "Executor": "client",
    "Future": "future",
    "wait": "waiting",
    "as_completed": "waiting",
    "ALL_COMPLETED": "waiting",
    "FIRST_COMPLETED": "waiting",
    "FIRST_EXCEPTION": "waiting",
    "progress": "diagnostics.progressbar",
    "span": "diagnostics.spans",
    "get_task_stream": "diagnostics.task_stream",
    "performance_report": "diagnostics.performance_report",
    # worker plugins, as Ray runtime environments
    **dict.fromkeys(["WorkerPlugin", "NannyPlugin", "InstallPlugin", "Environ", "PipInstall",
                     "CondaInstall", "UploadFile", "UploadDirectory"], "workers.plugins"),
    "futures_of": "functions",
    "fire_and_forget": "functions",
    "default_client": "defaults",
    "get_client": "defaults",
    "get_worker": "workers.context",
    "CancelledError": "errors",
    "FutureCancelledError": "errors",
    "TimeoutError": "errors",
    "KilledWorker": "errors",
    "FutureLostError": "errors",
    "WorkerOutOfMemory": "errors",
    "ClusterLostError": "errors",
    "CoordinationLostError": "errors",
    "LocalCluster": "deploy.local_cluster",
    "Scheduler": "deploy.local_cluster",
    "Worker": "deploy.local_cluster",
    "Nanny": "deploy.local_cluster",
    # HPC job queues, as dask-jobqueue's clusters
    "PBSCluster": "deploy.jobqueue",
    "SLURMCluster": "deploy.jobqueue",
    "Pool": "legacy.pool",
    "RemoteData": "legacy.pool",
    # distributed.utils.sync: run a coroutine on a client's loop from another thread
    "sync": "asynchronous",
    "activate_shim": "deploy.shim",
    # coordination primitives, shared by name on the cluster
    "Lock": "coordination.locks",
    "MultiLock": "coordination.locks",
    "Semaphore": "coordination.semaphores",
    "Event": "coordination.events",
    "Queue": "coordination.queues",
    "Variable": "coordination.variables",
    # actors: client.submit(Cls, actor=True)
    "Actor": "actors",
    "ActorFuture": "actors",
    "BaseActorFuture": "actors",
    # inside tasks
    "worker_client": "workers.worker_client",
    "local_client": "workers.worker_client",
    "secede": "workers.worker_client",
    "rejoin": "workers.worker_client",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rayexec' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def _new_client(*args, **kwargs):
    return __getattr__("Client")(*args, **kwargs)


# get_client() inside a task makes a client; the core below the Client asks this face for it
_defaults.set_client_factory(_new_client)


# the first release's module paths (rayexec.jobqueue, ...) keep working
_moved.install()


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
