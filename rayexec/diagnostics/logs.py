"""Worker and scheduler logs, read through Ray's log API (``ray.util.state``).

A worker's log is its node's: the raylet's own log and the output of the node's
worker processes (``worker-*.out``/``.err``, where tasks print).  The
scheduler's log is the head's control store (``gcs_server.out``).  Lines come
as ``(level, line)`` pairs, as distributed returns them: the worker processes'
output first, then the raylet's, each file newest line first.  Ray's
log API is served by its dashboard: a cluster started without one
(``Client()`` without ``dashboard_address``) has no logs to read this way, and
the error says so.

>>> level_of("[2026-12-03 14:00:00,123 E 1234 5678] core_worker.cc:88: failed")
'ERROR'
>>> level_of("2026-12-03 14:00:00,123 WARNING worker.py:10 -- slow")
'WARNING'
"""

from __future__ import annotations

import re
import time

_GLOG = re.compile(r"^\[[^\]]*? ([DIWEF]) \d+ \d+\]")
_GLOG_LEVELS = {"D": "DEBUG", "I": "INFO", "W": "WARNING", "E": "ERROR", "F": "CRITICAL"}
_PY_LEVEL = re.compile(r"\b(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")

WORKER_FILES = ("worker-*.err", "worker-*.out", "raylet.out")
SCHEDULER_FILES = ("gcs_server.out",)
DEFAULT_LINES = 10_000  # distributed keeps this many log lines per worker by default
AGENT_WAIT = 30.0  # seconds a new node's agent may take to serve its logs to the dashboard


def level_of(line: str) -> str:
    """The log level of one line of a Ray log (C++ or Python format); INFO if none."""
    match = _GLOG.match(line)
    if match:
        return _GLOG_LEVELS[match.group(1)]
    match = _PY_LEVEL.search(line[:80])
    return match.group(1) if match else "INFO"


def _no_dashboard(exc: Exception) -> RuntimeError:
    return RuntimeError(
        "Ray's log API is served by the Ray dashboard, which did not answer: start one with "
        "Client(dashboard_address=':8265') or `ray start --head --include-dashboard=true`, "
        f"or read the logs with `ray logs` on a node ({type(exc).__name__}: {exc})")


def _log_files(address: str, node_id: str) -> dict:
    """The node's log files, by Ray's listing.  A dashboard that answers with a
    server error is asked again for up to :data:`AGENT_WAIT` seconds: it serves a
    node's logs through the node's agent, which joins it a while after the node
    starts (longer on a busy machine).  No dashboard at all fails at once."""
    from ray.util.state import list_logs

    deadline = time.monotonic() + AGENT_WAIT
    while True:
        try:
            return list_logs(address=address, node_id=node_id)
        except Exception as exc:
            answered = "Server Error" in str(exc)  # HTTP 5xx: the dashboard is there
            if not answered:
                raise _no_dashboard(exc) from exc
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Ray's dashboard could not list the logs of node {node_id} within "
                    f"{AGENT_WAIT:.0f} s (its agent may not have joined, or the node has "
                    f"left): {type(exc).__name__}: {exc}") from exc
            time.sleep(0.5)


def node_log(node_id: str, patterns: tuple[str, ...], n: int | None) -> list[tuple[str, str]]:
    """The last ``n`` lines of each of a node's log files matching ``patterns``, newest
    first (files in turn, each newest line first)."""
    from fnmatch import fnmatch

    import ray
    from ray.util.state import get_log

    n = DEFAULT_LINES if n is None else int(n)
    address = ray.get_runtime_context().gcs_address  # this cluster, among any others here
    listing = _log_files(address, node_id)
    # Files in the order of ``patterns``: the worker processes' output (where tasks
    # print and fail) before the raylet's own log, so that ``n`` lines show it.
    names = sorted({name for group in listing.values() for name in group
                    if any(fnmatch(name, pattern) for pattern in patterns)},
                   key=lambda name: ([fnmatch(name, p) for p in patterns].index(True), name))
    lines: list[tuple[str, str]] = []
    for name in names:
        try:
            text = "".join(get_log(address=address, node_id=node_id, filename=name, tail=n))
        except Exception:  # a worker's file may go as its process ends
            continue
        lines.extend((level_of(line), line) for line in reversed(text.splitlines()) if line)
    return lines[:n] if n >= 0 else lines


def worker_logs(workers: list, n: int | None = None) -> dict[str, list[tuple[str, str]]]:
    """Worker address -> its node's log lines (``workers``: :class:`WorkerInfo` objects)."""
    return {w.address: node_log(w.node_id, WORKER_FILES, n) for w in workers}


def scheduler_logs(head_node_id: str, n: int | None = None) -> list[tuple[str, str]]:
    """The head's control-store log lines, newest first."""
    return node_log(head_node_id, SCHEDULER_FILES, n)
