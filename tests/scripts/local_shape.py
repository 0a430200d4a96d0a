"""Client(n_workers=2, threads_per_worker=1) starts two one-thread workers; prints them."""

import json

from rayexec import Client

if __name__ == "__main__":
    with Client(n_workers=2, threads_per_worker=1, dashboard_address=None,
                processes=True, set_as_default=True) as client:
        info = client.scheduler_info()
        print(json.dumps({"nthreads": list(client.nthreads().values()),
                          "n_workers": info["n_workers"],
                          "total_threads": info["total_threads"],
                          "result": client.submit(sum, [1, 2]).result()}))
