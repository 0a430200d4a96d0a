"""Bokeh charts of task-stream records: the task stream over time, work per key prefix.

Bokeh is the plotting library distributed's dashboard and reports use; a chart
saved here is one HTML file carrying its own JavaScript (``mode="inline"``),
so it opens offline.

>>> records = [{"key": "inc-1", "worker": "tcp://a:1", "thread": 7, "status": "OK",
...             "startstops": [{"action": "compute", "start": 1.0, "stop": 1.5}]}]
>>> prefix_summary(records)
[{'prefix': 'inc', 'tasks': 1, 'errors': 0, 'compute_s': 0.5, 'transfer_s': 0.0}]
"""

from __future__ import annotations

import html

from ..keys import key_prefix

# Transfers are red, as in distributed's task stream; compute takes its prefix's colour.
TRANSFER_COLOR = "#d62728"
ERROR_COLOR = "#000000"


def _prefix(key) -> str:
    # A graph part is named by its main prefixes ("random_sample,sum"): the first leads.
    return key_prefix(str(key).split(",")[0])


def _palette(prefixes: list[str]) -> dict[str, str]:
    from bokeh.palettes import Category20

    colors = Category20[20]
    return {p: colors[i % len(colors)] for i, p in enumerate(sorted(set(prefixes)))}


def task_stream_figure(records: list[dict], width: int = 1200):
    """A bokeh figure: one row per worker process (worker address, process id), one
    bar per phase of each task over time; hover shows key, phase and duration."""
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    lanes = sorted({f"{r['worker']} pid {r.get('thread')}" for r in records})
    colors = _palette([_prefix(r["key"]) for r in records])
    rows: dict[str, list] = {k: [] for k in ("left", "right", "lane", "color", "key",
                                             "action", "duration", "label")}
    for r in records:
        lane = f"{r['worker']} pid {r.get('thread')}"
        for phase in r["startstops"]:
            if phase["action"] != "compute":
                color, label = TRANSFER_COLOR, "inputs: fetch and read"
            elif r["status"] == "error":
                color, label = ERROR_COLOR, "failed"
            else:
                color, label = colors[_prefix(r["key"])], _prefix(r["key"])
            rows["left"].append(phase["start"] * 1000)  # bokeh datetimes are milliseconds
            rows["right"].append(max(phase["stop"], phase["start"] + 1e-4) * 1000)
            rows["lane"].append(lane)
            rows["color"].append(color)
            rows["key"].append(str(r["key"]))
            rows["action"].append(phase["action"])
            rows["duration"].append(f"{phase['stop'] - phase['start']:.4f} s")
            rows["label"].append(label)
    fig = figure(title="Task Stream", x_axis_type="datetime", y_range=lanes or ["(no tasks)"],
                 height=max(220, 60 * len(lanes) + 100), width=width,
                 tools="xpan,xwheel_zoom,box_zoom,reset,save")
    fig.hbar(y="lane", left="left", right="right", height=0.8, fill_color="color",
             line_color="color", source=ColumnDataSource(rows), legend_field="label")
    fig.add_layout(fig.legend[0], "right")
    fig.add_tools(HoverTool(tooltips=[("key", "@key"), ("phase", "@action"),
                                      ("duration", "@duration")]))
    fig.xaxis.axis_label = "time"
    return fig


def prefix_summary(records: list[dict]) -> list[dict]:
    """Per key prefix: tasks, errors, seconds computing and seconds moving inputs."""
    found: dict[str, dict] = {}
    for r in records:
        prefix = _prefix(r["key"])
        entry = found.setdefault(prefix, {"prefix": prefix, "tasks": 0, "errors": 0,
                                          "compute_s": 0.0, "transfer_s": 0.0})
        entry["tasks"] += 1
        entry["errors"] += r["status"] == "error"
        for phase in r["startstops"]:
            field = "compute_s" if phase["action"] == "compute" else "transfer_s"
            entry[field] += phase["stop"] - phase["start"]
    return sorted(found.values(), key=lambda e: -e["compute_s"])


def prefix_figure(records: list[dict], width: int = 1200):
    """Bars of compute seconds per prefix, over a table of counts and durations."""
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, DataTable, HoverTool, TableColumn
    from bokeh.plotting import figure

    summary = prefix_summary(records)
    colors = _palette([e["prefix"] for e in summary])
    source = ColumnDataSource({
        "prefix": [e["prefix"] for e in summary],
        "tasks": [e["tasks"] for e in summary],
        "errors": [e["errors"] for e in summary],
        "compute_s": [round(e["compute_s"], 4) for e in summary],
        "transfer_s": [round(e["transfer_s"], 4) for e in summary],
        "color": [colors[e["prefix"]] for e in summary]})
    prefixes = [e["prefix"] for e in summary] or ["(no tasks)"]
    bars = figure(title="Compute time per task prefix", x_range=prefixes, height=320,
                  width=width, tools="save")
    bars.vbar(x="prefix", top="compute_s", width=0.8, fill_color="color", source=source)
    bars.add_tools(HoverTool(tooltips=[("prefix", "@prefix"), ("tasks", "@tasks"),
                                       ("compute", "@compute_s s")]))
    bars.yaxis.axis_label = "seconds"
    table = DataTable(source=source, width=width, height=30 * len(summary) + 40, columns=[
        TableColumn(field="prefix", title="prefix"), TableColumn(field="tasks", title="tasks"),
        TableColumn(field="errors", title="errors"),
        TableColumn(field="compute_s", title="compute (s)"),
        TableColumn(field="transfer_s", title="inputs: fetch and read (s)")])
    return column(bars, table)


def code_div(code: str, width: int = 1200):
    """The code that ran, as a bokeh Div."""
    from bokeh.models import Div

    return Div(text=f"<pre>{html.escape(code)}</pre>", width=width)


def save(obj, filename: str, title: str, resources=None, storage_options=None) -> None:
    """Write ``obj`` as one HTML file; ``resources`` is a bokeh resources object or
    mode (``"inline"``, the default, embeds bokeh's JavaScript; ``"cdn"`` links it)."""
    import fsspec
    from bokeh.embed import file_html
    from bokeh.resources import Resources

    if resources is None or isinstance(resources, str):
        resources = Resources(mode=resources or "inline")
    text = file_html(obj, resources=resources, title=title)
    with fsspec.open(filename, "w", encoding="utf-8", **(storage_options or {})) as f:
        f.write(text)
