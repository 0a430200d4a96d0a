"""distributed's progress widgets for notebooks, over futures: one bar
(:class:`ProgressWidget`) or one per group of tasks (:class:`MultiProgressWidget`).

They are ipywidgets, built as distributed builds them -- ``bar``/``bars``,
``bar_text``/``bar_texts``, ``elapsed_time`` -- so a notebook shows what it showed on
distributed.  They move on the client's event loop: ``await widget.listen()`` (or
``client.sync(widget.listen)``) follows the tasks until all are done or one
failed; ``progress(..., notebook=True)`` starts that at once, and showing the
widget starts it if nothing did.
"""

from __future__ import annotations

import asyncio
import html

from dask.utils import format_time

from .progress_counts import FuturesProgress, Updates, group_of, tracked_states

_BOX = '<div style="padding: 0px 10px 5px 10px">{}</div>'
_COUNT = '<div style="padding: 0px 10px 0px 10px; text-align: right">{} / {}</div>'


def ipywidgets():
    """The ipywidgets module; an ImportError saying what to install without it."""
    try:
        import ipywidgets
    except ImportError as exc:
        raise ImportError("progress widgets in a notebook need ipywidgets: "
                          "pip install ipywidgets (or rayexec[notebook])") from exc
    return ipywidgets


class _Widget(FuturesProgress):
    """The listening and the time line common to both widgets."""

    def __init__(self, keys, interval="100ms", complete=False, group_of=None):
        super().__init__(keys, interval, complete, group_of)
        self.elapsed_time = ipywidgets().HTML("")
        self._listening = False  # started listening (start), on the client's loop

    async def listen(self) -> None:
        """Follow the tasks until all are done or one failed, redrawing every
        ``interval``; the widget then shows how it ended."""
        states = tracked_states(self.futures, self.complete)
        self.comm = Updates(states)
        try:
            while True:
                response = self._count(states)
                self._draw_bar(**response)
                if response["status"] != "running":
                    break
                await asyncio.sleep(self.interval)
        finally:
            self.comm.close()
        self._draw_stop(**response)

    def start(self) -> None:
        """Listen on the client's event loop from now on (once)."""
        if self._listening:
            return
        self._listening = True
        if not self.futures:  # nothing to follow: draw the empty bar as finished
            self._draw_stop(**self._count([]))
            return
        loop = self.futures[0].client.loop
        asyncio.run_coroutine_threadsafe(self.listen(), getattr(loop, "asyncio_loop", loop))

    def _repr_mimebundle_(self, **kwargs):
        """Shown in a notebook: the widget, listening from now on if nothing started it."""
        self.start()
        return self.widget._repr_mimebundle_(**kwargs)

    def _show_time(self, label: str) -> None:
        self.elapsed_time.value = _BOX.format(f"<b>{label}</b> {format_time(self.elapsed)}")

    def _show_end(self, status: str, exception=None) -> None:
        if status == "error":
            self.elapsed_time.value = _BOX.format(
                f"<b>Exception</b> <tt>{html.escape(repr(exception), quote=False)}</tt>:"
                f"{format_time(self.elapsed)}")
        else:
            self._show_time("Finished:")


class ProgressWidget(_Widget):
    """One bar over all the futures (and, with ``complete=True``, what they
    depend on), as distributed draws it in a notebook.

    >>> bar = ProgressWidget(client.map(time.sleep, [0.5] * 4))   # doctest: +SKIP
    >>> client.sync(bar.listen); bar.status, bar.bar.value        # doctest: +SKIP
    ('finished', 1.0)
    """

    def __init__(self, keys, scheduler=None, interval="100ms", complete=False, loop=None,
                 **kwargs):
        super().__init__(keys, interval, complete)
        widgets = ipywidgets()
        self.bar = widgets.FloatProgress(min=0, max=1, description="")
        self.bar_text = widgets.HTML("")
        self.bar_widget = widgets.HBox([self.bar_text, self.bar])
        self.widget = widgets.VBox([self.elapsed_time, self.bar_widget])

    def _draw_bar(self, remaining: int, all: int, **kwargs) -> None:
        self._show_time("Computing:")
        self.bar.value = (all - remaining) / all if all else 1.0
        self.bar_text.value = _COUNT.format(all - remaining, all)

    def _draw_stop(self, remaining: int, status: str, exception=None, **kwargs) -> None:
        if status == "error":
            self.bar.bar_style = "danger"
        elif not remaining:
            self.bar.bar_style = "success"
        self._show_end(status, exception)


class MultiProgressWidget(_Widget):
    """A bar per group of tasks: per key prefix (``group_by="prefix"``, the
    default), per span (``"spans"``: see :func:`rayexec.span`), or per what a
    function of the key returns; the most numerous group first.

    >>> bars = MultiProgressWidget(client.map(inc, range(5)))   # doctest: +SKIP
    >>> client.sync(bars.listen); bars.bars["inc"].value        # doctest: +SKIP
    1.0
    """

    def __init__(self, keys, scheduler=None, minimum=0, interval="100ms", complete=False,
                 group_by="prefix", func=None, **kwargs):
        super().__init__(keys, interval, complete, group_of(func or group_by))
        self.widget = ipywidgets().VBox([])
        self.bars: dict = {}
        self.bar_texts: dict = {}
        self.bar_labels: dict = {}

    def _make_bars(self, all: dict) -> None:
        widgets = ipywidgets()
        order = sorted(all, key=lambda group: (all[group], str(group)), reverse=True)
        for group in order:
            label = group[0] if isinstance(group, tuple) else str(group)  # (span name, id)
            self.bars[group] = widgets.FloatProgress(min=0, max=1, description="")
            self.bar_texts[group] = widgets.HTML("")
            self.bar_labels[group] = widgets.HTML(
                '<div style="padding: 0px 10px 0px 10px; text-align:left; '
                f'word-wrap: break-word;">{html.escape(label)}</div>')
        rows = [widgets.HBox([self.bar_texts[g], self.bars[g], self.bar_labels[g]])
                for g in order]
        self.widget.children = (self.elapsed_time, widgets.VBox(rows))

    def _draw_bar(self, remaining: dict, all: dict, **kwargs) -> None:
        if not self.widget.children:
            self._make_bars(all)
        self._show_time("Computing:")
        for group, total in all.items():
            done = total - remaining[group]
            self.bars[group].value = done / total if total else 1.0
            self.bar_texts[group].value = _COUNT.format(done, total)

    def _draw_stop(self, remaining: dict, status: str, exception=None, **kwargs) -> None:
        for group, left in remaining.items():
            self.bars[group].bar_style = "danger" if left else "success"
        if status == "error" or self.futures:
            self._show_end(status, exception)
        else:
            self.elapsed_time.value = _BOX.format("<b>Finished:</b> no tasks given")

