"""Connect a Client to a running multi-node cluster (argv[1]: its address) and
exercise workers and placement on it; prints one JSON line of findings.

The cluster has two nodes on this machine: one with 1 CPU, one with 2 CPUs
and the custom resource ``ssd: 1``.
"""

import json
import sys

import numpy as np
import ray

import rayexec
from rayexec.workers import placement


def where(*_):
    return rayexec.get_worker().address


def big(seed):
    return np.full(2_000_000, seed, dtype=np.float64)


def main(address):
    with rayexec.Client(address) as client:
        client.wait_for_workers(2, timeout=60)
        info = client.scheduler_info()
        ssd = [a for a, w in info["workers"].items() if w["resources"].get("ssd")][0]
        plain = [a for a in info["workers"] if a != ssd][0]
        found = {
            "n_workers": info["n_workers"],
            "total_threads": info["total_threads"],
            "nthreads": [client.nthreads()[plain], client.nthreads()[ssd]],
            "pinned": [client.submit(where, a, workers=[a]).result() == a for a in (plain, ssd)],
            "two_cpus": client.submit(where, resources={"CPU": 2}).result() == ssd,
            "ssd": client.gather(client.map(where, range(5), resources={"ssd": 1})) == [ssd] * 5,
            "run": client.run(where) == {plain: plain, ssd: ssd},
        }
        data = client.submit(big, 1.0, workers=[ssd])
        rayexec.wait([data])
        found["who_has"] = client.who_has([data]) == {data.key: [ssd]}
        found["locality"] = client.submit(where, data).result() == ssd
        ref = placement.put_on(big(2.0), [plain])
        ray.wait([ref], fetch_local=False)
        found["put_on"] = rayexec.workers.nodes.locations([ref]) == [[plain]]
        try:
            client.submit(where, resources={"CPU": 3})
            found["too_big"] = "accepted"
        except placement.PlacementError as exc:
            found["too_big"] = "CPU" in str(exc)
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1])
