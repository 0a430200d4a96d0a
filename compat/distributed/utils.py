"""``distributed.utils``: the helpers libraries import from it, re-exported.

Most of them moved to ``dask.utils`` long ago; distributed still serves them here.
"""

from contextlib import suppress as ignoring  # noqa: F401

from dask.utils import (  # noqa: F401
    format_bytes,
    format_time,
    funcname,
    has_keyword,
    import_required,
    key_split,
    parse_bytes,
    parse_timedelta,
    tmpfile,
    typename,
)

from rayexec import CancelledError, TimeoutError, sync  # noqa: F401
from rayexec.utils import LateLoopEvent, get_ip, log_errors, open_port, tmp_text  # noqa: F401
from rayexec.workers.context import thread_state  # noqa: F401
