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

_RAY_CLUSTER = "`ray up cluster.yaml` (see Ray's cluster launcher), or LocalCluster on one machine"
_DIAGNOSTICS = "Ray's dashboard and `ray timeline`"

# name -> (why it has no counterpart, what to use instead)
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "Adaptive": ("Ray scales clusters with its autoscaler",
                 "min_workers/max_workers in a `ray up` cluster config"),
    "CompatibleExecutor": ("it is an internal of distributed's Client",
                           "Client.submit / Client.map, which return concurrent-style futures"),
    "SSHCluster": ("Ray starts remote clusters itself", _RAY_CLUSTER + " (provider type: local)"),
    "SpecCluster": ("Ray describes clusters in its own config", _RAY_CLUSTER),
    "SubprocessCluster": ("Ray starts its node processes itself", "LocalCluster"),
    "SchedulerPlugin": ("Ray's scheduler has no plugin hooks", _DIAGNOSTICS),
    "Reschedule": ("Ray does not move a running task", "retries=... on submit"),
    "Security": ("Ray secures clusters with its token authentication",
                 "RAY_AUTH_MODE=token and RAY_AUTH_TOKEN / RAY_AUTH_TOKEN_PATH"),
    "Status": ("rayexec reports status as plain strings",
               "comparisons with strings such as client.status == 'running'"),
    "connect": ("rayexec does not speak distributed's wire protocol", "Client(address)"),
    "rpc": ("rayexec does not speak distributed's wire protocol", "Client(address)"),
    "get_task_metadata": ("Ray keeps task metadata in its own tools", _DIAGNOSTICS),
    "widgets": ("distributed's notebook widgets render its scheduler's state", _DIAGNOSTICS),
}


# Client methods with no counterpart: name -> (why, what to use instead)
CLIENT_METHODS: dict[str, tuple[str, str]] = {
    "amm": ("Ray manages object copies itself", "Client.replicate to copy data ahead of need"),
    "benchmark_hardware": ("Ray does not benchmark its nodes", _DIAGNOSTICS),
    "forward_logging": ("Ray forwards worker output to the driver itself",
                        "ray.init(log_to_driver=True), the default"),
    "unforward_logging": ("Ray forwards worker output to the driver itself",
                          "ray.init(log_to_driver=False)"),
    "profile": ("Ray profiles clusters with its own tools", _DIAGNOSTICS),
    "unregister_scheduler_plugin": PLACEHOLDERS["SchedulerPlugin"],
    "restart_workers": ("Ray restarts worker processes, not chosen nodes, on demand",
                        "Client.restart() for fresh worker processes everywhere"),
    "retry": ("a failed task's function and arguments are not kept once it has failed",
              "submit the call again, or submit(..., retries=n) to retry it on failure"),
    "subscribe_topic": ("events are not pushed to clients",
                        "Client.get_events(topic), which returns the events so far"),
    "unsubscribe_topic": ("events are not pushed to clients", "Client.get_events(topic)"),
}


def message(name: str, owner: str = "distributed", why_instead: tuple | None = None) -> str:
    why, instead = why_instead or PLACEHOLDERS[name]
    return f"{owner}.{name} is not supported on Ray: {why}. Use {instead} instead."


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

    # Subclassing keeps working (class MyCluster(SpecCluster): ...); creating one raises.
    return _PlaceholderType(name, (), {"__new__": __new__, "__doc__": text, "_message": text,
                                       "__module__": __name__})


def _placeholder_function(name: str, text: str | None = None):
    text = text or message(name)

    def placeholder(*args, **kwargs):
        raise NotImplementedError(text)

    placeholder.__name__ = placeholder.__qualname__ = name
    placeholder.__doc__ = text
    return placeholder


def _plugin_base(name: str) -> type:
    # As in distributed, a plugin is an ordinary object until it is registered: a
    # module may create one at import time.  Registering it (Client.register_plugin)
    # is what raises.
    return type(name, (), {"__doc__": message(name) + " Creating a plugin works; registering "
                                                      "one raises.", "__module__": __name__})


_MODULES = {"widgets"}  # placeholders for modules: their attributes raise
PLUGIN_BASES = {"SchedulerPlugin"}

for _name in PLACEHOLDERS:
    if _name in PLUGIN_BASES:
        globals()[_name] = _plugin_base(_name)
    elif _name[0].isupper() or _name in _MODULES:
        globals()[_name] = _placeholder_class(_name)
    else:
        globals()[_name] = _placeholder_function(_name)

__all__ = sorted(PLACEHOLDERS)


def add_client_placeholders(cls: type) -> type:
    """Give ``cls`` (the Client) a method for each of :data:`CLIENT_METHODS` that raises
    ``NotImplementedError`` saying what to use instead.

    >>> class C: ...
    >>> add_client_placeholders(C)().profile()
    Traceback (most recent call last):
      ...
    NotImplementedError: Client.profile is not supported on Ray: ...
    """
    for name, why_instead in CLIENT_METHODS.items():
        if not hasattr(cls, name):
            setattr(cls, name, _placeholder_function(name, message(name, "Client", why_instead)))
    return cls
