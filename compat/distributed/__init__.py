"""``distributed``, served by rayexec: code written for distributed runs on Ray.

Only re-exports.  Names load on first use, so importing this package does not
start Ray; names distributed has and Ray has no counterpart for raise on use,
saying what to use instead (see ``rayexec.unsupported``).

>>> import distributed                       # with <checkout>/compat on the path
>>> distributed.Client is __import__("rayexec").Client
True
"""

# print and warn: Ray already forwards a task's output and warnings to the client,
# which is what distributed's versions add to the builtins.
from builtins import print  # noqa: F401
from warnings import warn  # noqa: F401

# distributed's versions follow dask's, and libraries compare them.
from dask import __version__  # noqa: F401

# distributed exposes dask's configuration under this name.
from dask.config import config  # noqa: F401

from rayexec import __all__ as _rayexec_names
from rayexec import __dir__, __getattr__  # noqa: F401

# distributed's package imports its modules, so code reaches them as attributes
# (``distributed.lock.Lock``, ``distributed.client.Future``) without importing them.
from . import (  # noqa: E402, F401
    actor,
    client,
    core,
    deploy,
    diagnostics,
    event,
    lock,
    multi_lock,
    nanny,
    queues,
    scheduler,
    security,
    semaphore,
    threadpoolexecutor,
    utils,
    variable,
    worker,
)

# A name that is also a submodule's, bound now as distributed binds it: importing the
# submodule later (`import distributed.worker_client`) must not make the name the module.
from .worker_client import worker_client  # noqa: F401,E402

__all__ = sorted({*_rayexec_names, "config", "print", "warn", "dask"})

