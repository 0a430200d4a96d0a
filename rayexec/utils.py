"""What libraries import from ``distributed.utils``, with rayexec's behaviour."""

from __future__ import annotations


def get_ip(host: str = "8.8.8.8", port: int = 80) -> str:
    """This machine's IP address, as Ray sees it (``host``/``port`` kept for distributed's signature).

    >>> import ipaddress
    >>> bool(ipaddress.ip_address(get_ip()))
    True
    """
    from ray.util import get_node_ip_address  # Ray loads only when this is called

    return get_node_ip_address()
