"""Connect a Client to the address in argv[1]; print one JSON line with what happened."""

import json
import sys

from rayexec import Client

if __name__ == "__main__":
    try:
        with Client(sys.argv[1], timeout=10) as client:
            report = {"connected": True, "result": client.submit(sum, [1, 2]).result()}
    except Exception as exc:
        report = {"connected": False, "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(report))
