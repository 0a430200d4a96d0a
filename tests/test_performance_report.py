"""performance_report: one self-contained HTML file with the block's task stream and code."""

import json
import re

from rayexec import performance_report


def inc(x):
    return x + 1


def bokeh_documents(text: str) -> list:
    """The bokeh documents embedded in a saved HTML file (as bokeh writes them)."""
    found = re.findall(r'<script type="application/json" id="[^"]+">\s*(.+?)\s*</script>',
                       text, re.S)
    return [json.loads(blob) for blob in found]


def test_report_holds_task_stream_prefixes_and_code(client, tmp_path):
    import dask.array as da

    path = tmp_path / "report.html"
    with performance_report(filename=str(path)):
        client.gather(client.map(inc, range(5), batch_size=1, key="rep-inc"))
        assert int(da.ones((40, 40), chunks=(10, 10)).sum().compute()) == 1600
    text = path.read_text()
    (document,) = bokeh_documents(text)
    blob = json.dumps(document)
    assert "rep-inc" in blob                       # task keys, in the task stream's data
    assert "ones" in blob and "sum" in blob        # prefixes of the graph's tasks
    assert "Task Stream" in blob and "Task Prefixes" in blob
    assert "rep-inc" in blob and "da.ones((40, 40)" in blob  # the code that ran
    assert not re.search(r'<script[^>]+src="https://cdn', text)  # bokeh's JavaScript is inline
    assert "Bokeh.embed" in text


def test_report_of_an_empty_block_and_cdn_mode(client, tmp_path):
    path = tmp_path / "empty.html"
    with performance_report(filename=str(path), mode="cdn"):
        pass
    text = path.read_text()
    assert re.search(r'<script[^>]+src="https://cdn.bokeh.org', text) and bokeh_documents(text)


def test_bad_mode_is_refused():
    import pytest

    with pytest.raises(ValueError, match="mode"):
        performance_report(mode="svg")
