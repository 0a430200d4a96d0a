"""``distributed.cli.dask_scheduler``: ``dask scheduler`` starts a Ray head node."""

from rayexec.deploy.commands import dask_scheduler as main  # noqa: F401
