"""joblib's, dask's, xarray's and dask-ml's own distributed tests pass through the shim.

Each runs only when a checkout of the library is named by an environment
variable (``JOBLIB_SOURCE``, ``DASK_SOURCE``, ``XARRAY_SOURCE``, ``DASK_ML_SOURCE``); nothing is
downloaded.  ``tests/scripts/library_suites.py`` holds the files run and the
tests left out, with why.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "scripts"))
import library_suites  # noqa: E402

SOURCES = {"joblib": "JOBLIB_SOURCE", "dask": "DASK_SOURCE", "xarray": "XARRAY_SOURCE",
           "dask-ml": "DASK_ML_SOURCE"}


@pytest.mark.parametrize("library", list(SOURCES))
def test_library_own_distributed_tests_pass_on_the_shim(library):
    checkout = os.environ.get(SOURCES[library])
    package = library_suites.package_dir(library)
    if not checkout or not os.path.isdir(os.path.join(checkout, package)):
        pytest.skip(f"set {SOURCES[library]} to a {library} checkout to run its tests")
    pytest.importorskip(package)
    counts, output = library_suites.run(library, checkout)
    assert counts.get("passed", 0) > 0, output[-4000:]
    assert not counts.get("failed") and not counts.get("error"), output[-6000:]


def test_bad_checkout_is_named():
    with pytest.raises(ValueError, match="not a checkout of joblib"):
        library_suites.command("joblib", os.path.dirname(__file__))
    with pytest.raises(ValueError, match="library must be one of"):
        library_suites.command("sklearn", os.path.dirname(__file__))
