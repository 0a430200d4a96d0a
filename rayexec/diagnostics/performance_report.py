"""``performance_report``: one HTML file on the work done inside a ``with`` block.

The file shows, from Ray's task events: the task stream (a row per worker
process, a bar per task phase over time), task counts and durations per key
prefix, the bytes Ray stores for the keys the client holds, and the code that
ran.  It carries bokeh's JavaScript inline, so it opens without a network.

>>> with performance_report(filename="report.html"):  # doctest: +SKIP
...     x.sum().compute()
"""

from __future__ import annotations

import html
import inspect
import time

from . import task_stream


class performance_report:
    """Gather the task stream of the block and write it, with the code, to ``filename``.

    ``stacklevel`` picks the frame whose source is shown (1: the caller's);
    ``mode`` is bokeh's resources mode (``"inline"`` by default: a self-contained
    file; ``"cdn"`` links bokeh's JavaScript instead); ``storage_options`` go to
    ``fsspec.open`` for remote paths.

    >>> with performance_report(filename="dask-report.html"):  # doctest: +SKIP
    ...     client.gather(client.map(inc, range(100)))
    """

    def __init__(self, filename="dask-report.html", stacklevel=1, mode=None,
                 storage_options=None):
        if mode not in (None, "inline", "cdn"):
            raise ValueError(f"mode must be 'inline' or 'cdn', got {mode!r}")
        self.filename = filename
        self._stacklevel = stacklevel
        self.mode = mode
        self.storage_options = storage_options

    def __enter__(self) -> performance_report:
        from ..defaults import default_client

        self.client = default_client()
        frame = inspect.currentframe()
        for _ in range(self._stacklevel):
            frame = frame.f_back if frame is not None else None
        try:
            self.code = inspect.getsource(frame) if frame is not None else ""
        except (OSError, TypeError):  # typed at a prompt: no source file
            self.code = ""
        self.start = time.time()
        task_stream.start_recording(self.start)
        return self

    def __exit__(self, *exc) -> None:
        records = self.client.get_task_stream(start=self.start)
        write(self.filename, records, self.code, self.start, time.time(),
              stored=self.client.nbytes(), mode=self.mode,
              storage_options=self.storage_options)

    async def __aenter__(self) -> performance_report:
        return self.__enter__()

    async def __aexit__(self, *exc) -> None:
        from ..asynchronous import in_thread

        await in_thread(self.__exit__, *exc)


def summary_html(records: list[dict], start: float, stop: float, stored: dict) -> str:
    """The report's header: duration, tasks, workers, errors and stored bytes."""
    import ray
    from dask.utils import format_bytes

    workers = sorted({r["worker"] for r in records})
    errors = sum(r["status"] == "error" for r in records)
    rows = [("Duration", f"{stop - start:.2f} s"), ("Ray tasks", len(records)),
            ("Failed tasks", errors), ("Workers", ", ".join(workers) or "none"),
            ("Ray version", ray.__version__),
            ("Data held in Ray's object store",
             ", ".join(f"{k}: {format_bytes(v)}" for k, v in sorted(stored.items()))
             or "none")]
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                   f"<td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return ("<h2>rayexec performance report</h2>"
            "<p>Task timings from Ray's task events; bytes moved between nodes are not "
            "reported by Ray per task.</p>"
            f"<table>{body}</table>")


def write(filename: str, records: list[dict], code: str, start: float, stop: float,
          stored: dict, mode=None, storage_options=None) -> None:
    """Write the report of ``records`` (task-stream records) to ``filename``."""
    from bokeh.layouts import column
    from bokeh.models import Div, TabPanel, Tabs

    from . import charts

    tabs = Tabs(tabs=[
        TabPanel(child=charts.task_stream_figure(records), title="Task Stream"),
        TabPanel(child=charts.prefix_figure(records), title="Task Prefixes"),
        TabPanel(child=charts.code_div(code), title="Code"),
    ])
    page = column(Div(text=summary_html(records, start, stop, stored), width=1200), tabs)
    charts.save(page, filename, "Dask Performance Report", mode, storage_options)
