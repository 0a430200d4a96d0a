"""dask workloads larger than Ray's object store, on rayexec: right answers, no crash.

Starts its own Ray (one process, one Ray) with the smallest object store Ray
allows, runs a reduction over 4x the store and ``(x + x.T).mean()`` and a
shuffle-groupby over 2x it, prints a JSON report and stops Ray.
"""

import json

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import ray

import rayexec

STORE = 80 * 2**20


def partition(i, rows=400_000, keys=1000):
    rng = np.random.default_rng(i)
    return pd.DataFrame({"k": rng.integers(0, keys, rows), "x": rng.random(rows)})


def main():
    ray.init(address="local", num_cpus=2, object_store_memory=STORE, include_dashboard=False,
             logging_level="ERROR")
    client = rayexec.Client(ray.get_runtime_context().gcs_address)
    report = {}
    try:
        n = int((4 * STORE / 8) ** 0.5)
        total = dask.compute(da.random.default_rng(0).random((n, n), chunks=(1024, 1024)).sum(),
                             scheduler=client)[0]
        report["sum"] = float(total / (n * n))
        n = int((2 * STORE / 8) ** 0.5)
        x = da.random.default_rng(1).random((n, n), chunks=(512, 512))
        report["transpose"] = float(dask.compute((x + x.T).mean(), scheduler=client)[0])
        parts = (2 * STORE) // (400_000 * 16)
        df = dd.from_map(partition, range(parts))
        grouped = df.shuffle(on="k", npartitions=parts, shuffle_method="tasks").groupby("k").x.sum()
        by_key, whole = dask.compute(grouped, df.x.sum(), scheduler=client)
        expected = pd.concat([partition(i) for i in range(parts)]).groupby("k").x.sum()
        report["groupby_matches"] = bool(np.allclose(by_key.sort_index(), expected))
        report["groupby_total"] = [float(by_key.sum()), float(whole)]
        report["store_bytes"] = STORE
    finally:
        client.close()
        ray.shutdown()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
