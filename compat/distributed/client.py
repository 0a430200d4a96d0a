"""``distributed.client``: re-exports from rayexec."""

from rayexec import (  # noqa: F401
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    CancelledError,
    Client,
    Executor,
    Future,
    FutureCancelledError,
    TimeoutError,
    as_completed,
    default_client,
    fire_and_forget,
    futures_of,
    get_client,
    get_task_metadata,
    get_task_stream,
    performance_report,
    wait,
)
from rayexec.unsupported import CompatibleExecutor  # noqa: F401
