"""HTML for notebooks: a cluster's workers as a table, as distributed's reprs show them.

>>> from rayexec.workers.nodes import WorkerInfo
>>> page = cluster_html("Client", "tcp://10.0.0.5:6379", None,
...                     [WorkerInfo("tcp://10.0.0.5:4000", "ab", "10.0.0.5", 2, 2**30, {})])
>>> "tcp://10.0.0.5:4000" in page and "1.00 GiB" in page
True
"""

from __future__ import annotations

from html import escape


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def cluster_html(title: str, address: str, dashboard: str | None, workers: list,
                 extra: dict | None = None) -> str:
    """A heading, a summary (address, dashboard link, workers, threads, memory) and one
    row per worker (:class:`~rayexec.workers.nodes.WorkerInfo`)."""
    link = (f'<a href="{escape(dashboard)}" target="_blank">{escape(dashboard)}</a>'
            if dashboard else "not running (start one with dashboard_address=...)")
    summary = {"Scheduler (Ray head)": escape(address), "Dashboard": link,
               "Workers": len(workers),
               "Total threads": sum(w.nthreads for w in workers),
               "Total memory": _gib(sum(w.memory_limit for w in workers)),
               **{escape(k): escape(str(v)) for k, v in (extra or {}).items()}}
    head = "".join(f"<tr><th style='text-align: left'>{k}</th><td style='text-align: left'>"
                   f"{v}</td></tr>" for k, v in summary.items())
    rows = "".join(
        f"<tr><td style='text-align: left'>{escape(w.address)}</td><td>{w.nthreads}</td>"
        f"<td>{_gib(w.memory_limit)}</td><td style='text-align: left'>{escape(w.node_id)}</td>"
        "</tr>" for w in workers)
    return (f"<div><h3 style='margin-bottom: 0px'>{escape(title)}</h3>"
            f"<table>{head}</table>"
            "<details><summary>Workers</summary><table><tr><th>Worker</th><th>Threads</th>"
            f"<th>Memory</th><th>Ray node</th></tr>{rows}</table></details></div>")
