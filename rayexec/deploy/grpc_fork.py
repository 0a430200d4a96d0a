"""gRPC for a process that starts Ray: imported with its fork handlers off.

A client process forks while other threads are inside gRPC: ``ray.init`` starts
each of Ray's processes with ``fork()`` (it sets the child up before ``exec``),
while rayexec probes a starting head's GCS from another thread (see
:mod:`.addresses`), and Ray's own Python code calls gRPC too.  grpcio's fork
support then skips or half-runs its handlers, and the process or the child can
abort (``ev_epoll1_linux.cc ... Check failed: next_worker->state == KICKED``).
The handlers serve a child that goes on using gRPC without ``exec``; every child
started here ``exec``\\s at once, so they are turned off.

grpcio reads ``GRPC_ENABLE_FORK_SUPPORT`` once, when it is first imported.  A
value the user set is kept, and the setting does not reach Ray's child processes.
"""

from __future__ import annotations

import os
import sys
import threading

SETTING = "GRPC_ENABLE_FORK_SUPPORT"
_importing = threading.Lock()


def import_grpc():
    """The ``grpc`` module, imported with its fork handlers off unless the user
    chose otherwise (``GRPC_ENABLE_FORK_SUPPORT``) or it was imported already.

    >>> import_grpc().__name__
    'grpc'
    """
    with _importing:
        if "grpc" in sys.modules or SETTING in os.environ:
            import grpc

            return grpc
        os.environ[SETTING] = "false"
        try:
            import grpc
        finally:
            os.environ.pop(SETTING, None)
        return grpc
