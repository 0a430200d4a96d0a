"""Client methods for worker plugins: ``register_plugin``, ``unregister_worker_plugin``,
``register_worker_callbacks`` (see :mod:`rayexec.workers.plugins`).

>>> client.register_plugin(Environ({"MY_SETTING": "1"}))            # doctest: +SKIP
>>> client.submit(os.environ.get, "MY_SETTING").result()             # doctest: +SKIP
'1'
"""

from __future__ import annotations

from .. import unsupported
from . import plugins


class PluginMethods:
    """Mixin of :class:`rayexec.Client`: plugins as Ray runtime environments.

    Relies on the Client's ``run``, ``upload_file`` and ``_lock``.
    """

    _plugins: dict = {}
    _plugin_env: dict = {}

    def register_plugin(self, plugin, name=None, idempotent=None) -> dict:
        """Run ``plugin`` in every worker process, now and in processes started later.

        Returns ``{worker address: {"status": "OK"}}``; a plugin whose ``setup``
        raises is not registered, and its exception is raised here.  Registering
        under a name in use replaces that plugin.

        >>> class Counter(plugins.WorkerPlugin):
        ...     def setup(self, worker):
        ...         import builtins
        ...         builtins.COUNTER = 0
        >>> client.register_plugin(Counter(), name="counter")  # doctest: +SKIP
        {'tcp://10.0.0.5:40000': {'status': 'OK'}}
        """
        if isinstance(plugin, unsupported.SchedulerPlugin):
            raise NotImplementedError(unsupported.message("SchedulerPlugin"))
        if not any(hasattr(plugin, hook) for hook in ("setup", "teardown", "runtime_env")):
            raise TypeError(f"register_plugin takes a WorkerPlugin (with setup/teardown), "
                            f"got {plugin!r}")
        name = name or plugins.plugin_name(plugin)
        if idempotent is None:
            idempotent = getattr(plugin, "idempotent", False)
        if idempotent and name in self._plugins:
            return {}
        if isinstance(plugin, plugins.UploadFile):
            self.upload_file(plugin.filepath, load=plugin.load)
            with self._lock:
                self._plugins = {**self._plugins, name: plugin}
            return {address: {"status": "OK"} for address in self.nthreads()}
        previous = self._plugins, self._plugin_env
        self._use_plugins({**self._plugins, name: plugin})
        try:
            reports = self.run(plugins.probe, [name])
        except BaseException:
            self._plugins, self._plugin_env = previous
            raise
        for report in reports.values():
            if report["status"] == "error":
                self._plugins, self._plugin_env = previous
                raise report["exception"]
        return reports

    def unregister_worker_plugin(self, name, nanny=None) -> None:
        """Stop running the plugin registered as ``name`` in new worker processes.

        Later tasks run in fresh worker processes without it; the plugin's
        ``teardown`` runs in the old ones as they exit.

        >>> client.unregister_worker_plugin("counter")  # doctest: +SKIP
        """
        if name not in self._plugins:
            raise ValueError(f"no worker plugin named {name!r} is registered; registered: "
                             f"{sorted(self._plugins)}")
        self._use_plugins({k: v for k, v in self._plugins.items() if k != name})

    def register_worker_callbacks(self, setup=None) -> dict:
        """Run ``setup()`` (or ``setup(dask_worker=worker)``) in every worker process, now
        and in processes started later.

        >>> client.register_worker_callbacks(lambda: print("ready"))  # doctest: +SKIP
        """
        return self.register_plugin(plugins._Callback(setup))

    def _use_plugins(self, chosen: dict) -> None:
        """Make ``chosen`` the client's plugins: later tasks name their environment."""
        env = plugins.runtime_env(chosen)
        hook = plugins.setup_hook(chosen)
        if hook is not None:
            exported = plugins.export_hook(hook)
            env = plugins.merge_runtime_envs(env, exported)
        with self._lock:
            self._plugins, self._plugin_env = chosen, env

