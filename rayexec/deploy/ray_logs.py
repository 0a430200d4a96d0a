"""What Ray prints in a rayexec program: its warnings and errors, not its chatter.

Ray reports, at WARNING or INFO, things it does on its own that the user did
not ask about and cannot act on: that the local cluster it started uses token
authentication, that it rewrote the machine-wide file naming "the" local
cluster, that a client started off the main thread set no SIGTERM handler.  A
distributed user sees none of this from distributed, so rayexec turns these
notices into DEBUG records.  Output of tasks that Ray forwards to the terminal
keeps its ``(task pid=...)`` prefix, without colour codes when it goes to a file
or a pipe.

Ray's log level is the dask config value ``rayexec.ray-log-level`` (default
``"warning"``); ``"debug"`` shows all of Ray's messages, the notices included:

>>> import dask
>>> with dask.config.set({"rayexec.ray-log-level": "debug"}):
...     ray_log_level()
10
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

CONFIG_KEY = "rayexec.ray-log-level"

# (Ray's logger, the start of a message about something Ray did on its own)
NOTICES = (
    ("ray._private.authentication.authentication_token_setup",
     "Token authentication is enabled"),
    ("ray._private.utils", "Overwriting previous Ray address"),
    ("ray._private.worker", "SIGTERM handler is not set"),
)


def ray_log_level() -> int:
    """The level of Ray's loggers in this process, from ``rayexec.ray-log-level``."""
    import dask

    name = str(dask.config.get(CONFIG_KEY, "warning")).upper()
    level = logging.getLevelName(name)
    if not isinstance(level, int):
        raise ValueError(f"{CONFIG_KEY} must be a logging level such as 'debug', "
                         f"'info' or 'warning', got {name.lower()!r}")
    return level


class _Demote(logging.Filter):
    """Turns Ray's notices into DEBUG records, shown only at the debug level."""

    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.getMessage().startswith(self.prefix):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return ray_log_level() <= logging.DEBUG


def quiet_ray() -> dict:
    """Set Ray's output up for a rayexec process; the logging options for ``ray.init``.

    Call it before anything starts Ray in this process (``ray.init``, ``ray start``).
    """
    import ray  # noqa: F401  (importing Ray sets its logger up, at INFO: set it after)

    level = ray_log_level()
    for name, prefix in NOTICES:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Demote) for f in logger.filters):
            logger.addFilter(_Demote(prefix))
    # A local cluster's nodes may start before ray.init applies logging_level.
    logging.getLogger("ray").setLevel(level)
    if level > logging.DEBUG:
        warnings.filterwarnings("ignore", module="ray")
    # A failed task's value is reported on its future; Ray would also log it as
    # "unhandled" when the future is dropped unread, which is noise here.
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")
    # Ray colours the prefix of forwarded task output; escape codes only belong
    # on a terminal.
    if not (_is_terminal(sys.stdout) and _is_terminal(sys.stderr)):
        os.environ.setdefault("RAY_COLOR_PREFIX", "0")
    return {"logging_level": level, "configure_logging": True}


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False
