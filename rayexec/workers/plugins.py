"""distributed's worker plugins on Ray's runtime environments.

A registered plugin becomes part of the runtime environment every later task of
the client names:

- ``WorkerPlugin.setup(worker)`` runs in each worker process as it starts,
  through Ray's ``worker_process_setup_hook``.  A new set of plugins is a new
  runtime environment, so Ray starts fresh worker processes for it, and every
  process started later (a new node, a replaced worker) runs the setups too.
- ``Environ`` -> ``env_vars``; ``PipInstall`` -> ``pip``; ``CondaInstall`` ->
  ``conda``; ``UploadDirectory`` -> ``working_dir`` (uploaded once);
  ``UploadFile`` -> ``py_modules``, as ``Client.upload_file``.

``teardown(worker)`` runs when a worker process exits normally (``atexit``):
Ray gives no other hook at the end of a process.  ``transition`` is never
called: Ray reports task transitions to its own records only (see
``Client.story``).

>>> Environ({"OMP_NUM_THREADS": 1}).runtime_env()
{'env_vars': {'OMP_NUM_THREADS': '1'}}
>>> PipInstall(["toolz"], pip_options=["--upgrade"]).runtime_env()
{'pip': {'packages': ['toolz'], 'pip_check': False, 'pip_install_options': ['--upgrade']}}
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid

from .hook_calls import teardown_at_exit
from .uploads import upload

# Set-up failures in this worker process: plugin name -> the exception.  A failing
# setup must not end the process (Ray would retry starting workers forever); the
# registration probe reads this instead and raises the plugin's own exception.
_failures: dict[str, BaseException] = {}


class WorkerPlugin:
    """Base class of plugins run in every worker process (as in distributed).

    >>> class Greeter(WorkerPlugin):
    ...     def setup(self, worker):
    ...         import builtins
    ...         builtins.GREETING = f"hello from {worker.address}"
    >>> client.register_plugin(Greeter())  # doctest: +SKIP
    """

    idempotent = False

    def setup(self, worker) -> None:
        """Run in each worker process as it starts; ``worker`` is :func:`get_worker`'s."""

    def teardown(self, worker) -> None:
        """Run when a worker process exits normally."""

    def transition(self, key, start, finish, **kwargs) -> None:
        """Never called on Ray (see the module's docstring)."""

    def runtime_env(self) -> dict:
        """The runtime-environment fields this plugin needs besides its setup."""
        return {}


class NannyPlugin(WorkerPlugin):
    """distributed's plugins for the nanny, the process watching a worker.  A Ray node's
    raylet plays that part and takes no plugins: these run in the worker processes."""


class Environ(NannyPlugin):
    """Environment variables for every worker process: Ray's ``env_vars``."""

    def __init__(self, environ: dict | None = None):
        self.environ = {str(k): str(v) for k, v in (environ or {}).items()}

    def runtime_env(self) -> dict:
        return {"env_vars": dict(self.environ)}


class InstallPlugin(WorkerPlugin):
    """Base of the plugins that install software on the workers."""

    idempotent = True


class PipInstall(InstallPlugin):
    """Install packages with pip in the workers' environment: Ray's ``pip``.

    Ray builds a virtual environment with them on each node, once, for the
    tasks of this client; ``restart_workers`` is accepted (Ray's workers for the
    new environment are new processes anyway).
    """

    def __init__(self, packages: list[str], pip_options: list[str] | None = None,
                 restart_workers: bool = False):
        if isinstance(packages, str) or not all(isinstance(p, str) for p in packages):
            raise TypeError(f"packages must be a list of requirement strings, got {packages!r}")
        self.packages = list(packages)
        self.pip_options = list(pip_options or [])
        self.restart_workers = restart_workers

    def runtime_env(self) -> dict:
        pip = {"packages": list(self.packages), "pip_check": False}
        if self.pip_options:
            pip["pip_install_options"] = list(self.pip_options)
        return {"pip": pip}


class CondaInstall(InstallPlugin):
    """Install packages with conda in the workers' environment: Ray's ``conda``.

    ``conda_options`` may name channels (``-c``/``--channel``); Ray takes no
    other conda options.
    """

    def __init__(self, packages: list[str], conda_options: list[str] | None = None,
                 restart_workers: bool = False):
        if isinstance(packages, str):
            raise TypeError(f"packages must be a list of package specs, got {packages!r}")
        self.packages = list(packages)
        self.channels = _channels(list(conda_options or []))
        self.restart_workers = restart_workers

    def runtime_env(self) -> dict:
        conda: dict = {"dependencies": list(self.packages)}
        if self.channels:
            conda["channels"] = list(self.channels)
        return {"conda": conda}


def _channels(options: list[str]) -> list[str]:
    channels = []
    while options:
        option = options.pop(0)
        if option in ("-c", "--channel") and options:
            channels.append(options.pop(0))
        elif option.startswith("--channel="):
            channels.append(option.split("=", 1)[1])
        else:
            raise ValueError(f"CondaInstall: Ray's conda environments take channels only "
                             f"(-c NAME), not {option!r}")
    return channels


class UploadFile(WorkerPlugin):
    """Make a ``.py``, ``.zip`` or ``.egg`` file importable on the workers, as
    ``Client.upload_file`` does (Ray's ``py_modules``)."""

    name = "upload_file"

    def __init__(self, filepath: str, load: bool = True):
        self.filepath = os.fspath(filepath)
        self.load = load
        self.name = f"upload-file-{os.path.basename(self.filepath)}"


class UploadDirectory(NannyPlugin):
    """Send a directory to the workers: it becomes their working directory and is on
    their ``sys.path`` (Ray's ``working_dir``), without the files ``skip_words`` or
    ``skip`` exclude.  One directory per client: a second one replaces the first.
    """

    def __init__(self, path, restart_workers=False, update_path=False,
                 skip_words=(".git", ".github", ".pytest_cache", "tests", "docs"),
                 skip=(lambda fn: os.path.splitext(fn)[1] == ".pyc",), mode="workers"):
        if mode not in ("workers", "scheduler", "all"):
            raise ValueError(f"UploadDirectory: mode must be 'workers', 'scheduler' or 'all', "
                             f"got {mode!r}")
        path = os.path.expanduser(os.fspath(path))
        if not os.path.isdir(path):
            raise FileNotFoundError(f"UploadDirectory: no such directory {path!r}")
        self.path = path
        self.restart_workers = restart_workers
        self.update_path = update_path
        self.skip_words = tuple(skip_words)
        self.skip = tuple(skip)
        self.mode = mode
        self.name = "upload-directory-" + os.path.basename(os.path.normpath(path))
        self._uri: str | None = None

    def runtime_env(self) -> dict:
        if self._uri is None:
            # The copy is needed only until Ray has uploaded it.
            with tempfile.TemporaryDirectory(prefix="rayexec-dir-") as staging:
                self._uri = upload("working_dir", self._staged(staging), "UploadDirectory")
        return {"working_dir": self._uri}

    def _staged(self, staging: str) -> str:
        """A copy, in the directory ``staging``, of the directory without the skipped files."""
        def ignore(folder, names):
            return [n for n in names if any(word in n for word in self.skip_words)
                    or any(rule(n) for rule in self.skip)]

        target = os.path.join(staging, os.path.basename(os.path.normpath(self.path)))
        shutil.copytree(self.path, target, ignore=ignore)
        return target


class _Callback(WorkerPlugin):
    """A ``register_worker_callbacks`` function as a plugin (``dask_worker=`` if it
    takes it)."""

    def __init__(self, setup):
        if not callable(setup):
            raise TypeError(f"setup must be callable, got {setup!r}")
        self.function = setup
        self.name = f"worker-setup-{uuid.uuid4()}"

    def setup(self, worker) -> None:
        from .methods import _takes

        if _takes(self.function, "dask_worker"):
            self.function(dask_worker=worker)
        else:
            self.function()


def plugin_name(plugin) -> str:
    """The name a plugin is registered under when none is given (as distributed)."""
    name = getattr(plugin, "name", None)
    return name if isinstance(name, str) else f"{type(plugin).__name__}-{uuid.uuid4()}"


def runtime_env(plugins: dict) -> dict:
    """The runtime-environment fields of ``plugins`` (name -> plugin), merged in order."""
    env = merge_runtime_envs(*(plugin.runtime_env() for plugin in plugins.values()
                               if hasattr(plugin, "runtime_env")))
    if "pip" in env and "conda" in env:
        raise ValueError("Ray's runtime environments take pip or conda packages, not both: "
                         "unregister the PipInstall or the CondaInstall plugin")
    return env


# Fields whose entries several sources add up: field -> the list inside it, if any.
_JOINED = {"py_modules": None, "pip": "packages", "conda": "dependencies"}


def merge_runtime_envs(*envs: dict) -> dict:
    """One runtime environment from several: ``env_vars`` merged; ``py_modules``, pip
    packages and conda dependencies joined; other fields from the last that has them.

    >>> merge_runtime_envs({"env_vars": {"A": "1"}, "py_modules": ["x"]},
    ...                    {"env_vars": {"B": "2"}, "py_modules": ["y"], "working_dir": "w"})
    {'env_vars': {'A': '1', 'B': '2'}, 'py_modules': ['x', 'y'], 'working_dir': 'w'}
    """
    merged: dict = {}
    for env in envs:
        for field, value in env.items():
            if field == "env_vars":
                merged[field] = {**merged.get(field, {}), **value}
            elif field in _JOINED and field in merged:
                inner = _JOINED[field]
                if inner is None:
                    merged[field] = [*merged[field], *value]
                else:
                    merged[field] = {**merged[field], **value,
                                     inner: [*merged[field][inner], *value[inner]]}
            else:
                merged[field] = value
    return merged


def has_setup(plugin) -> bool:
    """Whether ``plugin`` does anything when a process starts (its own setup or teardown)."""
    return any(getattr(type(plugin), hook, None) not in (None, getattr(WorkerPlugin, hook))
               for hook in ("setup", "teardown"))


def setup_hook(plugins: dict):
    """The ``worker_process_setup_hook`` running each plugin's ``setup`` in a new worker
    process, in registration order, and its ``teardown`` when the process exits."""
    chosen = [(name, plugin) for name, plugin in plugins.items() if has_setup(plugin)]
    return _Setups(chosen) if chosen else None


class _Setups:
    """The hook: a module-level class, so that it runs against this module in the worker
    (``_failures`` there is the one :func:`probe` reads), with the plugins as data."""

    def __init__(self, chosen: list):
        self.chosen = chosen
        self.__name__ = "rayexec_plugins_setup"  # Ray names the hook by it

    def __call__(self) -> None:
        from .context import get_worker
        from .preloads import PreloadError, run_once

        try:
            run_once()  # a worker's preloads come before its plugins, as in distributed
        except PreloadError:
            pass  # reported by every task this process runs
        worker = get_worker()
        for name, plugin in self.chosen:
            try:
                plugin.setup(worker)
            except BaseException as exc:  # reported by the registration probe
                _failures[name] = exc
            else:
                teardown_at_exit(plugin.teardown, worker)


def probe(names: list[str]) -> dict:
    """Run inside a task: ``{"status": "OK"}``, or the failure of one of ``names``'s setups."""
    for name in names:
        if name in _failures:
            return {"status": "error", "plugin": name, "exception": _failures[name]}
    return {"status": "OK"}


def export_hook(hook) -> dict:
    """Runtime-environment fields that make Ray run ``hook`` in each new worker process.

    Ray turns a job's ``worker_process_setup_hook`` into these itself at
    ``ray.init``; for a task's environment the function must be exported
    first, with Ray's exporter, which is not public API: this one place.
    """
    import ray
    from ray._private.runtime_env.setup_hook import upload_worker_process_setup_hook_if_needed

    return upload_worker_process_setup_hook_if_needed(
        {"worker_process_setup_hook": hook}, ray._private.worker.global_worker)
