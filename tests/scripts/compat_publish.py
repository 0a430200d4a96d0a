"""Publish squares under a name on the cluster at argv[1], then exit.

Run as: python compat_publish.py <address> <name>
"""

import sys

from rayexec import Client

address, name = sys.argv[1:3]
with Client(address) as client:
    futures = client.map(lambda x: x * x, range(4))
    client.publish_dataset(futures, name=name)
    print("published", name, client.list_datasets())
