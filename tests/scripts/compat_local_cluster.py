"""Start a LocalCluster, connect a Client to it, let a second process connect too,
then shut both down with ``client.shutdown()``.

Run as: python compat_local_cluster.py <scheduler_port>
Prints the node process ids, so the test can check they are gone afterwards.
"""

import subprocess
import sys

from rayexec import Client, LocalCluster

port = int(sys.argv[1])
cluster = LocalCluster(n_workers=2, threads_per_worker=1, scheduler_port=port,
                       dashboard_address=None)
try:
    print("PIDS", " ".join(str(n.pid) for n in cluster.workers.values()), flush=True)
    assert cluster.scheduler_address == f"tcp://127.0.0.1:{port}", cluster.scheduler_address
    assert cluster.dashboard_link is None  # dashboard_address=None: no dashboard
    client = Client(cluster)
    assert sorted(client.nthreads().values()) == [1, 1], client.nthreads()
    assert client.submit(lambda x: x + 1, 1).result() == 2
    # tasks on the cluster's nodes resolve ``import distributed`` to the shim
    where = client.submit(lambda: __import__("distributed").__file__, pure=False).result()
    assert "compat" in where, where
    other = subprocess.run(
        [sys.executable, "-c",
         "import sys; from rayexec import Client\n"
         "with Client(sys.argv[1]) as c: print('OTHER', c.submit(sum, [1, 2]).result())",
         cluster.scheduler_address],
        capture_output=True, text=True, timeout=120)
    print(other.stdout, other.stderr[-2000:], flush=True)
    assert "OTHER 3" in other.stdout
    client.shutdown()  # the client and the cluster it was given
    assert client.status == "closed" and cluster.status == "closed", (client, cluster)
    print("OK", flush=True)
finally:
    cluster.close()
