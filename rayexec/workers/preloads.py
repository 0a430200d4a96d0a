"""Worker preloads (``dask worker --preload``): code each worker runs before its tasks.

distributed imports a preload -- a module name, a ``.py`` file, the text of a
script, or a URL -- when a worker starts and calls its ``dask_setup(worker)``
(``dask_teardown(worker)`` when the worker closes).  On Ray a worker is a node
whose tasks run in many worker processes, so each of those processes loads the
node's preloads once, before the first rayexec call it runs, and tears them
down when it exits.

A node learns its preloads from its environment: the node's Ray processes pass
:data:`ENV` on to every worker process they start, so a node started with
``node_environment(...)`` added to its environment preloads in all of them,
including the processes Ray starts later to replace dead ones.

>>> node_environment(["sys"])
{'RAYEXEC_WORKER_PRELOAD': '{"preload": ["sys"], "argv": []}'}
>>> node_environment([])
{}
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import sys
import threading
import types

from .hook_calls import completed, teardown_at_exit

ENV = "RAYEXEC_WORKER_PRELOAD"

_lock = threading.Lock()
_loaded = False  # this process has run its node's preloads (or has none)
_failure: PreloadError | None = None  # why they could not run, raised by every call


class PreloadError(RuntimeError):
    """A worker's preload failed to import or its ``dask_setup`` raised; every task
    on that worker fails with this error until the preload is fixed."""


def node_environment(preload=None, argv=None) -> dict[str, str]:
    """The environment variables that give a node's worker processes these preloads.

    ``preload`` is a name or a list of them (a module, a ``.py`` path, a script's
    text or a URL); None takes ``distributed.worker.preload`` from dask's
    configuration, as distributed's worker does.  ``argv`` goes to a preload
    whose ``dask_setup`` is a click command.  Files and modules are looked up
    here, so that a mistyped name fails when the node starts, not in its first
    task; a module is then imported from where this process found it (the node
    runs on this machine), as distributed's workers find it on the ``sys.path``
    they inherit.
    """
    import dask.config

    if preload is None:
        preload = dask.config.get("distributed.worker.preload", [])
    if argv is None:
        argv = dask.config.get("distributed.worker.preload-argv", [])
    names = [preload] if isinstance(preload, str) else list(preload or [])
    if not names:
        return {}
    checked, search_path = [], []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"preload: each entry must be a module name, a .py path, a "
                            f"script's text or a URL, got {name!r}")
        if _kind(name) == "file":
            path = os.path.abspath(os.path.expanduser(name))
            if not os.path.isfile(path):
                raise FileNotFoundError(f"preload: no such file {name!r}")
            name = path
        elif _kind(name) == "module":
            search_path.append(_search_path_entry(name))
        checked.append(name)
    spec: dict = {"preload": checked, "argv": [str(a) for a in argv or []]}
    if any(search_path):
        spec["path"] = [entry for entry in dict.fromkeys(search_path) if entry]
    return {ENV: json.dumps(spec)}


def _search_path_entry(name: str) -> str | None:
    """The ``sys.path`` entry module ``name`` is found under here (None: built in)."""
    top = name.partition(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise ModuleNotFoundError(f"preload: no module named {top!r} on this machine's "
                                  f"Python path")
    if spec.submodule_search_locations:  # a package: the folder holding it
        return os.path.dirname(os.path.abspath(list(spec.submodule_search_locations)[0]))
    if spec.origin and os.path.isfile(spec.origin):
        return os.path.dirname(os.path.abspath(spec.origin))
    return None


def run_once() -> None:
    """Run this process's node preloads if not done yet; raise :class:`PreloadError`
    (again at every call) if they failed.  Called at each rayexec entry point in a
    worker process; after the first call it costs one flag check."""
    if _loaded and _failure is None:
        return
    _load()


def _load() -> None:
    global _loaded, _failure
    with _lock:
        if not _loaded:
            try:
                _run(os.environ.get(ENV))
            except PreloadError as exc:
                _failure = exc
            _loaded = True
    if _failure is not None:
        raise _failure


def _run(setting: str | None) -> None:
    if not setting:
        return
    spec = json.loads(setting)
    from .context import get_worker

    sys.path.extend(entry for entry in spec.get("path", []) if entry not in sys.path)
    worker = get_worker()
    for name in spec["preload"]:
        try:
            module = _import(name)
        except Exception as exc:
            raise PreloadError(f"worker preload {_short(name)} could not be loaded: "
                               f"{type(exc).__name__}: {exc}") from exc
        setup = getattr(module, "dask_setup", None)
        try:
            if setup is not None:
                _call(setup, worker, spec["argv"])
        except Exception as exc:
            raise PreloadError(f"worker preload {_short(name)}: dask_setup raised "
                               f"{type(exc).__name__}: {exc}") from exc
        teardown = getattr(module, "dask_teardown", None)
        if teardown is not None:
            teardown_at_exit(teardown, worker)


def _kind(name: str) -> str:
    if name.startswith(("http://", "https://")):
        return "url"
    if name.endswith(".py") and "\n" not in name:
        return "file"
    if " " in name or "\n" in name:
        return "text"
    return "module"


def _import(name: str) -> types.ModuleType:
    kind = _kind(name)
    if kind == "module":
        return importlib.import_module(name)
    if kind == "file":
        # Imported under the file's own name, as distributed does: tasks can then
        # `import` it and find the module the preload set up.
        module_name = os.path.splitext(os.path.basename(name))[0]
        spec = importlib.util.spec_from_file_location(module_name, name)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module
    if kind == "url":
        import urllib.request

        with urllib.request.urlopen(name, timeout=30) as response:
            source = response.read()
    else:
        source = name
    module = types.ModuleType("rayexec_preload_" + hashlib.sha1(
        source.encode() if isinstance(source, str) else source).hexdigest()[:12])
    exec(compile(source, name if kind == "url" else "<preload>", "exec"), module.__dict__)
    return module


def _call(setup, worker, argv: list) -> None:
    """``dask_setup(worker)``, or a click command's callback with ``argv`` parsed."""
    try:
        import click
    except ImportError:  # then no preload can be a click command
        click = None
    if click is not None and isinstance(setup, click.Command):
        context = setup.make_context("dask_setup", list(argv), allow_extra_args=False)
        result = setup.callback(worker, *context.args, **context.params)
    else:
        result = setup(worker)
    completed(result)


def _short(name: str) -> str:
    return repr(name if len(name) <= 60 else name[:57] + "...")
