"""distributed's names that have no counterpart on Ray: placeholders that say what to use.

Code that merely imports such a name keeps working; using it -- calling it,
instantiating it, reading its attributes -- raises ``NotImplementedError``
naming the Ray way to do the same thing.

>>> from rayexec.unsupported import SSHCluster
>>> SSHCluster(["host1", "host2"])
Traceback (most recent call last):
  ...
NotImplementedError: distributed.SSHCluster is not supported on Ray: ...

This module imports nothing heavy: ``rayexec/__init__`` reads ``PLACEHOLDERS``.
"""

from __future__ import annotations

_RUNTIME_ENV = "a Ray runtime environment, ray.init(runtime_env={...}) before the Client"
_RAY_CLUSTER = "`ray up cluster.yaml` (see Ray's cluster launcher), or LocalCluster on one machine"
_DIAGNOSTICS = "Ray's dashboard and `ray timeline`"

# name -> (why it has no counterpart, what to use instead)
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "Adaptive": ("Ray scales clusters with its autoscaler",
                 "min_workers/max_workers in a `ray up` cluster config"),
    "CompatibleExecutor": ("it is an internal of distributed's Client",
                           "Client.submit / Client.map, which return concurrent-style futures"),
    "CondaInstall": ("Ray installs packages per job", _RUNTIME_ENV + " with 'conda'"),
    "PipInstall": ("Ray installs packages per job", _RUNTIME_ENV + " with 'pip'"),
    "InstallPlugin": ("Ray installs packages per job", _RUNTIME_ENV),
    "Environ": ("Ray sets worker environment variables per job", _RUNTIME_ENV + " with 'env_vars'"),
    "UploadDirectory": ("Ray ships code per job", _RUNTIME_ENV + " with 'working_dir'"),
    "UploadFile": ("Ray ships code per job", _RUNTIME_ENV + " with 'py_modules'"),
    "SSHCluster": ("Ray starts remote clusters itself", _RAY_CLUSTER + " (provider type: local)"),
    "SpecCluster": ("Ray describes clusters in its own config", _RAY_CLUSTER),
    "SubprocessCluster": ("Ray starts its node processes itself", "LocalCluster"),
    "SchedulerPlugin": ("Ray's scheduler has no plugin hooks", _DIAGNOSTICS),
    "WorkerPlugin": ("Ray workers have no plugin hooks",
                     _RUNTIME_ENV + " with 'worker_process_setup_hook'"),
    "NannyPlugin": ("Ray workers have no plugin hooks", _RUNTIME_ENV),
    "Reschedule": ("Ray does not move a running task", "retries=... on submit"),
    "Security": ("Ray secures clusters with its token authentication",
                 "RAY_AUTH_MODE=token and RAY_AUTH_TOKEN / RAY_AUTH_TOKEN_PATH"),
    "Status": ("rayexec reports status as plain strings",
               "comparisons with strings such as client.status == 'running'"),
    "connect": ("rayexec does not speak distributed's wire protocol", "Client(address)"),
    "rpc": ("rayexec does not speak distributed's wire protocol", "Client(address)"),
    "get_task_metadata": ("Ray keeps task metadata in its own tools", _DIAGNOSTICS),
    "get_task_stream": ("Ray keeps task timings in its own tools", _DIAGNOSTICS),
    "performance_report": ("Ray profiles clusters with its own tools", _DIAGNOSTICS),
    "span": ("Ray groups work by job, not by span", _DIAGNOSTICS),
    "widgets": ("distributed's notebook widgets render its scheduler's state", _DIAGNOSTICS),
}


def message(name: str) -> str:
    why, instead = PLACEHOLDERS[name]
    return f"distributed.{name} is not supported on Ray: {why}. Use {instead} instead."


class _PlaceholderType(type):
    """Class attributes of a placeholder class (``Security.temporary()``) raise too."""

    def __getattr__(cls, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise NotImplementedError(cls._message)


def _placeholder_class(name: str) -> type:
    text = message(name)

    def __new__(cls, *args, **kwargs):
        raise NotImplementedError(text)

    # Subclassing keeps working (class MyPlugin(WorkerPlugin): ...); creating one raises.
    return _PlaceholderType(name, (), {"__new__": __new__, "__doc__": text, "_message": text,
                                       "__module__": __name__})


def _placeholder_function(name: str):
    text = message(name)

    def placeholder(*args, **kwargs):
        raise NotImplementedError(text)

    placeholder.__name__ = placeholder.__qualname__ = name
    placeholder.__doc__ = text
    return placeholder


_MODULES = {"widgets"}  # placeholders for modules: their attributes raise

for _name in PLACEHOLDERS:
    globals()[_name] = (_placeholder_class(_name) if _name[0].isupper() or _name in _MODULES
                        else _placeholder_function(_name))

__all__ = sorted(PLACEHOLDERS)
