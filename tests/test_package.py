"""The package: public names, no side effects at import, the demo command."""

import subprocess
import sys

import rayexec

PUBLIC = ["Client", "Executor", "Future", "wait", "as_completed", "progress",
          "fire_and_forget", "futures_of", "default_client", "get_client",
          "CancelledError", "FutureCancelledError", "TimeoutError"]


def test_public_names():
    for name in PUBLIC:
        assert getattr(rayexec, name) is not None
    assert rayexec.Executor is rayexec.Client


def test_import_does_not_start_or_import_ray():
    code = ("import sys, rayexec; from rayexec import Client, wait, progress; "
            "assert 'ray' not in sys.modules, 'ray imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_error_types_are_distributed_compatible():
    import concurrent.futures

    assert rayexec.CancelledError is concurrent.futures.CancelledError
    assert issubclass(rayexec.FutureCancelledError, concurrent.futures.CancelledError)
    assert rayexec.TimeoutError is TimeoutError


def test_demo_walks_the_seed_workflow():
    out = subprocess.run([sys.executable, "-m", "rayexec", "demo"], capture_output=True,
                         text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    for expected in ("[2]", "[1, 2, 3, 4, 5]", "[90]", "ZeroDivisionError",
                     "return x / y", "cancelled", "42"):
        assert expected in out.stdout
