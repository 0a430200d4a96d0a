"""Report, as JSON, where `distributed` and its submodules come from in this process.

Run with the shim on in some way (PYTHONPATH, rayexec run, .pth); prints one JSON line.
Optional argv[1] == "activate": turn the shim on in-process first.
"""

import json
import sys

if sys.argv[1:2] == ["activate"]:
    import rayexec

    rayexec.activate_shim()

import dask.distributed
import distributed

if "compat" not in distributed.__file__:  # the real one: say so and stop
    print(json.dumps({"file": distributed.__file__}))
    sys.exit(0)

import distributed.client
import distributed.dask
import distributed.diagnostics.progressbar
import distributed.utils
import distributed.worker

import rayexec

report = {
    "file": distributed.__file__,
    "argv": sys.argv[1:],
    "same": {
        "Client": distributed.Client is rayexec.Client,
        "Executor": distributed.Executor is rayexec.Client,
        "dask.distributed.Client": dask.distributed.Client is rayexec.Client,
        "dask.distributed.wait": dask.distributed.wait is rayexec.wait,
        "client.Future": distributed.client.Future is rayexec.Future,
        "client.as_completed": distributed.client.as_completed is rayexec.as_completed,
        "client.default_client": distributed.client.default_client is rayexec.default_client,
        "client.futures_of": distributed.client.futures_of is rayexec.futures_of,
        "worker.get_client": distributed.worker.get_client is rayexec.get_client,
        "worker.get_worker": distributed.worker.get_worker is rayexec.get_worker,
        "progressbar.progress": distributed.diagnostics.progressbar.progress is rayexec.progress,
        "utils.TimeoutError": distributed.utils.TimeoutError is rayexec.TimeoutError,
        "dask.get": distributed.dask.get.__module__ == "rayexec.legacy.dask",
        "Pool": distributed.Pool is rayexec.Pool,
        "LocalCluster": distributed.LocalCluster is rayexec.LocalCluster,
    },
    "ray_started": __import__("ray").is_initialized() if "ray" in sys.modules else False,
}
print(json.dumps(report))
