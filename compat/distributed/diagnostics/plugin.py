"""``distributed.diagnostics.plugin``: re-exports from rayexec (placeholders: Ray has no
plugin hooks; each says what to use instead)."""

from rayexec import (  # noqa: F401
    CondaInstall,
    Environ,
    InstallPlugin,
    NannyPlugin,
    PipInstall,
    SchedulerPlugin,
    UploadDirectory,
    UploadFile,
    WorkerPlugin,
)
