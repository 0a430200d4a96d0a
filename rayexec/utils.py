"""What libraries import from ``distributed.utils``, with rayexec's behaviour."""

from __future__ import annotations

import contextlib
import os
import tempfile


def get_ip(host: str = "8.8.8.8", port: int = 80) -> str:
    """This machine's IP address, as Ray sees it (``host``/``port`` kept for distributed's signature).

    >>> import ipaddress
    >>> bool(ipaddress.ip_address(get_ip()))
    True
    """
    from ray.util import get_node_ip_address  # Ray loads only when this is called

    return get_node_ip_address()


@contextlib.contextmanager
def tmp_text(filename: str, text: str):
    """A file ``filename`` in the temporary folder holding ``text``, removed after the block.

    >>> with tmp_text("note.txt", "hello") as path:
    ...     open(path).read()
    'hello'
    """
    path = os.path.join(tempfile.gettempdir(), filename)
    with open(path, "w") as f:
        f.write(text)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def open_port(host: str = "") -> int:
    """A port nothing listens on now (the OS picks it; another program may take it later).

    >>> 0 < open_port() < 65536
    True
    """
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
