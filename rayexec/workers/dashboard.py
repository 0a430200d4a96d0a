"""The dashboard's link as users of distributed configure it.

distributed builds its link from the template ``distributed.dashboard.link``
(``"{scheme}://{host}:{port}/status"`` by default), filled with the
dashboard's scheme, host and port and with the environment's variables, so
that a notebook behind a proxy (JupyterHub) can point at
``"{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/status"``.  Ray's dashboard has no
``/status`` page, so without a template set -- or with distributed's default,
which importing ``distributed`` registers -- the link is Ray's own address.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import dask.config

# distributed's default template: Ray's dashboard has no /status page.
DISTRIBUTED_DEFAULT = "{scheme}://{host}:{port}/status"


def dashboard_link(url: str | None) -> str | None:
    """The link to show for Ray's dashboard at ``url``; None without a dashboard.

    >>> dashboard_link("127.0.0.1:8265")
    'http://127.0.0.1:8265'
    >>> with dask.config.set({"distributed.dashboard.link": DISTRIBUTED_DEFAULT}):
    ...     dashboard_link("127.0.0.1:8265")
    'http://127.0.0.1:8265'
    >>> with dask.config.set({"distributed.dashboard.link": "{scheme}://proxy/{port}/"}):
    ...     dashboard_link("http://127.0.0.1:8265")
    'http://proxy/8265/'
    """
    if not url:
        return None
    url = url if url.startswith("http") else f"http://{url}"
    template = dask.config.get("distributed.dashboard.link", None)
    if not template or template == DISTRIBUTED_DEFAULT:
        return url
    parts = urlsplit(url)
    return template.format(**{**os.environ, "scheme": parts.scheme, "host": parts.hostname,
                              "port": parts.port})
