"""Worker preloads on a local cluster of a head and a worker node, as distributed's
``Worker(preload=...)``: a ``.py`` file, a module found on this process's path and
a script's text, each set up in every worker process before its first task, a
preload whose ``dask_setup`` raises, a missing file.  Prints one JSON line.
"""

import http.server
import json
import os
import shutil
import sys
import tempfile
import threading

import dask

from rayexec import Client, get_worker
from rayexec.deploy.local_cluster import Worker
from rayexec.workers.nodes import alive_workers

FILE_PRELOAD = """
state = {}

def dask_setup(worker):
    state["address"] = worker.address
    worker.greeting = "hello from " + worker.address
"""

MODULE_PRELOAD = """
import os

def dask_setup(worker):
    os.environ["PRELOADED_MODULE"] = worker.address
"""

TEXT_PRELOAD = "def dask_setup(worker):\n    worker.from_text = True\n"

URL_PRELOAD = b"def dask_setup(worker):\n    worker.from_url = True\n"

CLICK_PRELOAD = """
import click

@click.command()
@click.option("--tag")
def dask_setup(worker, tag):
    worker.tag = tag
"""

FAILING_PRELOAD = "def dask_setup(worker):\n    raise RuntimeError('no database here')\n"


def seen():
    """What a task sees of the preloads, in its own worker process."""
    import preload_file  # the file preload's module, under its file's name

    worker = get_worker()
    return {"address": worker.address, "file_module": preload_file.state.get("address"),
            "greeting": getattr(worker, "greeting", None),
            "module": os.environ.get("PRELOADED_MODULE"),
            "text": getattr(worker, "from_text", False),
            "url": getattr(worker, "from_url", False), "tag": getattr(worker, "tag", None)}


def seen_in_dask_worker(dask_worker):
    return dask_worker.greeting


class Holder:
    def where(self):
        return seen()


def serve_once(body: bytes):
    """An HTTP server on loopback answering every GET with ``body``, on a thread."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def report_error(call) -> str:
    try:
        call()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "no error"


if __name__ == "__main__":
    folder = tempfile.mkdtemp(prefix="preloads-")
    with open(os.path.join(folder, "preload_file.py"), "w") as f:
        f.write(FILE_PRELOAD)
    modules = os.path.join(folder, "modules")
    os.makedirs(modules)
    with open(os.path.join(modules, "preload_module.py"), "w") as f:
        f.write(MODULE_PRELOAD)
    sys.path.insert(0, modules)  # found here, as distributed's workers inherit sys.path

    report = {}
    report["missing_file"] = report_error(
        lambda: Client(n_workers=2, preload=[os.path.join(folder, "nowhere.py")]))
    report["missing_module"] = report_error(
        lambda: Client(n_workers=2, preload=["no_such_preload_module"]))
    with open(os.path.join(folder, "click_preload.py"), "w") as f:
        f.write(CLICK_PRELOAD)
    server = serve_once(URL_PRELOAD)
    preload = [os.path.join(folder, "preload_file.py"), "preload_module", TEXT_PRELOAD,
               f"http://127.0.0.1:{server.server_port}/setup.py",
               os.path.join(folder, "click_preload.py")]
    with Client(n_workers=2, threads_per_worker=1, preload=preload,
                preload_argv=["--tag", "blue"]) as client:
        addresses = sorted(w.address for w in alive_workers())
        report["workers"] = addresses
        report["tasks"] = [client.submit(seen, workers=[a], pure=False).result()
                           for a in addresses]
        report["map"] = client.gather(client.map(lambda _: seen()["greeting"], range(4)))
        report["graph"] = dask.compute(dask.delayed(seen)())[0]["greeting"]
        report["run"] = client.run(seen_in_dask_worker)
        holder = client.submit(Holder, actor=True).result()
        report["actor"] = holder.where().result()["greeting"]

        failing = os.path.join(folder, "failing.py")
        with open(failing, "w") as f:
            f.write(FAILING_PRELOAD)
        extra = Worker(client.scheduler.address, nthreads=1, preload=[failing])
        try:
            report["failing"] = report_error(
                lambda: client.submit(seen, workers=[extra.address], pure=False).result(60))
            report["others_go_on"] = client.submit(seen, workers=[addresses[0]],
                                                   pure=False).result()["greeting"]
        finally:
            extra.close()
    server.shutdown()
    shutil.rmtree(folder)
    print(json.dumps(report))
