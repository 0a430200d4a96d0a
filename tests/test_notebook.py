"""In a notebook: HTML reprs of Client, Future and LocalCluster; progress returns at once."""

import operator
import os
import sys
import time
import types

from rayexec import progress, span
from rayexec.diagnostics.progress_widgets import MultiProgressWidget, ProgressWidget
from rayexec.diagnostics.progressbar import in_kernel
from rayexec.utils_test import inc


def wait_for_file(path):
    while not os.path.exists(path):
        time.sleep(0.05)
    return 1


def test_client_html_shows_threads_memory_and_dashboard(client):
    page = client._repr_html_()
    assert "Total threads" in page and "GiB" in page and "Dashboard" in page
    assert client.id in page


def test_future_html_shows_function_status_type_and_key(client):
    future = client.submit(abs, -4)
    future.result()
    page = future._repr_html_()
    assert "Future: abs" in page and "finished" in page and "int" in page
    assert future.key in page


def test_local_cluster_html_without_connecting():
    from rayexec import LocalCluster

    cluster = LocalCluster.__new__(LocalCluster)  # the table from what was asked for
    cluster.name, cluster.status, cluster._workers, cluster._threads = "lc", "closed", [], 2
    cluster._head = types.SimpleNamespace(port=1, dashboard_url=None)
    cluster.host = "127.0.0.1"
    page = cluster._repr_html_()
    assert "LocalCluster: lc" in page and "tcp://127.0.0.1:1" in page


def test_progress_in_a_notebook_returns_at_once_and_fills_up(client, tmp_path):
    flag = str(tmp_path / "go")
    futures = client.map(wait_for_file, [flag] * 3, pure=False, batch_size=1)
    bar = progress(futures, notebook=True)  # tasks wait for the flag: it cannot be done
    assert isinstance(bar, MultiProgressWidget) and bar.status != "finished"
    open(flag, "w").close()
    client.gather(futures)
    deadline = time.time() + 30
    while bar.status != "finished" and time.time() < deadline:
        time.sleep(0.05)
    assert bar.bars["wait_for_file"].value == 1.0
    assert "3 / 3" in bar.bar_texts["wait_for_file"].value
    assert bar.bars["wait_for_file"].bar_style == "success" and bar.comm.closed()


def test_widgets_count_dependencies_group_by_span_and_show_the_error(client):
    with span("load"):
        xs = client.map(inc, range(4))
    with span("combine"):
        total = client.submit(sum, xs)
    failing = client.submit(operator.truediv, total, 0)
    bars = progress(failing, notebook=True, group_by="spans")  # complete=True: all 6 tasks
    client.sync(bars.listen)
    assert bars.status == "error"
    values = {name: bar.value for (name, _id), bar in bars.bars.items()}
    assert values == {"load": 1.0, "combine": 1.0, "default": 0.0}
    assert "4 / 4" in bars.bar_texts[next(k for k in bars.bars if k[0] == "load")].value
    assert "ZeroDivisionError" in bars.elapsed_time.value
    # without the dependencies (complete=False) only what has not finished counts
    single = ProgressWidget([failing])
    client.sync(single.listen)
    assert (single.bar.value, single.bar.bar_style) == (0.0, "danger")
    assert "0 / 1" in single.bar_text.value


def test_a_notebook_without_ipywidgets_gets_the_text_bar(client, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ipywidgets" else real(name, *a))
    assert progress(client.map(abs, [-1, -2], pure=False), notebook=True) is None
    assert "100% Completed" in capsys.readouterr().out


def test_a_kernel_is_recognised(monkeypatch):
    assert not in_kernel()
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert in_kernel()


def test_progress_in_a_terminal_blocks_until_done(client, tmp_path):
    futures = client.map(abs, [-1, -2], pure=False)
    assert progress(futures, notebook=False, file=open(os.devnull, "w")) is None
    assert all(f.done() for f in futures)


def test_showing_a_widget_starts_it(client):
    bar = ProgressWidget(client.map(abs, [-1, -2], pure=False))
    assert "application/vnd.jupyter.widget-view+json" in bar._repr_mimebundle_()
    deadline = time.time() + 30
    while bar.status != "finished" and time.time() < deadline:
        time.sleep(0.05)
    assert bar.status == "finished" and bar.bar.value == 1.0
