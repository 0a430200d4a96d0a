"""The streamz example of docs/streaming.md runs as written, through the shim."""

import ast
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def streamz_example() -> str:
    with open(os.path.join(ROOT, "docs", "streaming.md")) as f:
        text = f.read()
    section = text.split("## streamz", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)[0]


def test_streamz_example_runs_and_prints_what_it_says():
    code = streamz_example()
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "compat")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    first, second = [line for line in done.stdout.splitlines() if line.startswith("[")][:2]
    assert ast.literal_eval(first.split(" in ")[0]) == list(range(1, 9))
    assert ast.literal_eval(second) == [1, 3, 6, 10]
