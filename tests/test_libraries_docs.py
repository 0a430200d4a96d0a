"""The programs of docs/libraries.md run as written, through the shim.

Each checks its answer against the same program run without a client; the
test checks that it ran to the end.  So that the suite starts no Ray per
program, each runs connected to the session's cluster first: its
``Client(n_workers=...)`` then uses the Ray already running in the process,
as it does anywhere.  The job's workers get the shim on their path too.
"""

import os
import re
import subprocess
import sys

import pytest
from conftest import COMPAT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def examples() -> dict[str, str]:
    """Section title -> the section's program."""
    with open(os.path.join(ROOT, "docs", "libraries.md")) as f:
        text = f.read()
    found = {}
    for section in text.split("\n## ")[1:]:
        title, _, body = section.partition("\n")
        programs = re.findall(r"```python\n(.*?)```", body, re.S)
        if programs:
            found[title.strip()] = programs[0]
    return found


EXAMPLES = examples()


def test_every_library_has_its_program():
    assert [title.split()[0] for title in EXAMPLES] == ["scikit-learn", "xarray", "dask"]


@pytest.mark.parametrize("title", list(EXAMPLES))
def test_library_program_runs_and_matches_the_run_without_a_client(title, ray_cluster):
    needs = {"scikit-learn": "sklearn", "xarray": "xarray", "dask": "pandas"}
    pytest.importorskip(needs[title.split()[0]])
    connect = (f"import ray; ray.init(address={ray_cluster.address!r}, logging_level='ERROR', "
               f"runtime_env={{'env_vars': {{'PYTHONPATH': {COMPAT!r}}}}})\n")
    # The session's cluster runs without token authentication unless told otherwise.
    auth = {"RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
    env = {**os.environ, **auth, "PYTHONPATH": COMPAT}
    done = subprocess.run([sys.executable, "-c", connect + EXAMPLES[title]], env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.split()[0] in ("best", "mean", "sums"), done.stdout[-2000:]
