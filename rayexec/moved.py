"""Module paths of rayexec's first release, before the package had one folder per
concern: ``from rayexec.jobqueue import SLURMCluster`` still works and gives
``rayexec.deploy.jobqueue``'s names, with a ``DeprecationWarning`` naming the new path.

>>> import warnings
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     from rayexec.legacy_dask import get
>>> get.__module__
'rayexec.legacy.dask'
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

# old module (under rayexec.) -> where it lives now.  ``coordination`` and ``workers``
# are folders now, so their old modules (coordination.py, workers.py) cannot be aliased.
MOVED = {
    "graph_normalize": "graph.normalize", "graph_partition": "graph.partition",
    "graph_submit": "graph.submit", "graph_execute": "graph.execute",
    "graph_pickle": "graph.pickling", "graph_default": "graph.default_scheduler",
    "dask_methods": "graph.methods",
    "cluster": "deploy.connect", "local_cluster": "deploy.local_cluster",
    "jobqueue": "deploy.jobqueue", "jobqueue_scripts": "deploy.jobqueue_scripts",
    "commands": "deploy.commands",
    "locks": "coordination.locks", "semaphores": "coordination.semaphores",
    "events": "coordination.events", "queues": "coordination.queues",
    "variables": "coordination.variables", "datasets": "coordination.datasets",
    "dataset_methods": "coordination.dataset_methods",
    "metadata_methods": "coordination.metadata_methods",
    "placement": "workers.placement", "replication": "workers.replication",
    "worker_context": "workers.context", "worker_clients": "workers.worker_client",
    "worker_methods": "workers.methods", "executor_methods": "workers.executor_methods",
    "pool": "legacy.pool", "legacy_dask": "legacy.dask",
    "progressbar": "diagnostics.progressbar", "versions": "diagnostics.versions",
}
_PREFIX = "rayexec."


class MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``rayexec.<old name>`` and hands out the module that now holds it."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith(_PREFIX) and fullname[len(_PREFIX):] in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        new = _PREFIX + MOVED[spec.name[len(_PREFIX):]]
        warnings.warn(f"{spec.name} moved to {new}; import it from there",
                      DeprecationWarning, stacklevel=2)
        return importlib.import_module(new)  # the same module object under both names

    def exec_module(self, module):
        pass  # already executed under its new name


def install() -> None:
    """Put the finder on ``sys.meta_path`` once (after the normal finders)."""
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(MovedModules())
