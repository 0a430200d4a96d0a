"""Every python example of the README and docs/*.md runs as shown.

The examples of a page run in order, in one namespace, in a fresh process with
the shim on the path (so ``from distributed import ...`` is rayexec), on one
local Ray of two CPUs that every ``Client()`` of the examples finds running.  A comment that is a
Python literal is checked: ``future.result()  # 1024`` must give 1024.

An example that cannot run here -- it needs a cluster at an address of the
reader's, a batch system, a package not on PyPI -- is preceded by
``<!-- not run: REASON -->`` (invisible on the rendered page); it must still
compile.  The programs of docs/libraries.md need libraries set up of their own:
tests/test_libraries_docs.py runs them.
"""

import glob
import json
import os
import re
import subprocess
import sys

from conftest import SCRIPTS, json_report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Pages whose programs a test of their own runs, with the libraries they need.
OWN_TESTS = {"libraries.md": "test_libraries_docs.py"}
ALL_PAGES = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))) + [os.path.join(ROOT, "README.md")]
PAGES = [page for page in ALL_PAGES if os.path.basename(page) not in OWN_TESTS]
EXAMPLE = re.compile(r"(?:<!-- not run: (?P<reason>[^>]*?) -->\s*\n)?```python\n(?P<code>.*?)```",
                     re.S)


def examples(page: str) -> list[tuple[int, str, str | None]]:
    """(number, code, reason it is not run, or None) for each python example of a page."""
    with open(page) as f:
        text = f.read()
    return [(number, match["code"], match["reason"])
            for number, match in enumerate(EXAMPLE.finditer(text), 1)]


def test_every_example_runs_or_says_why_not():
    assert sum(len(examples(page)) for page in PAGES) >= 15
    for test in OWN_TESTS.values():
        assert os.path.isfile(os.path.join(ROOT, "tests", test))
    skipped = {}
    for page in ALL_PAGES:
        for number, code, reason in examples(page):
            compile(code, f"{page}, example {number}", "exec")
            if reason is not None:
                assert reason.strip(), f"{page}, example {number}: say why it is not run"
                skipped[f"{os.path.basename(page)} {number}"] = reason
    # the few that need what a test cannot have
    assert len(skipped) <= 8, skipped


def test_the_examples_run_as_shown():
    pages = {os.path.relpath(page, ROOT): [(n, code) for n, code, reason in examples(page)
                                           if reason is None]
             for page in PAGES}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [os.path.join(ROOT, "compat"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, os.path.join(SCRIPTS, "docs_examples.py")],
                          input=json.dumps(pages), capture_output=True, text=True, timeout=600,
                          env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json_report(done.stdout)
    assert report["failed"] is None, f"{report['failed']}:\n{report['error']}"
    assert report["checked"] >= 8  # the stated results were compared
    # the streamz example's running sums, printed by the pipeline
    assert "[1, 3, 6, 10]" in done.stdout
