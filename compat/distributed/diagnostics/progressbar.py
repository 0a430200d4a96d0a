"""``distributed.diagnostics.progressbar``: re-exports from rayexec."""

from rayexec import progress  # noqa: F401
from rayexec.diagnostics.progress_widgets import MultiProgressWidget, ProgressWidget  # noqa: F401
from rayexec.diagnostics.progressbar import TextProgressBar  # noqa: F401
