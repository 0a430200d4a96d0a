"""``distributed.cli.dask_worker``: ``dask worker ADDRESS`` starts a Ray node joined to it."""

from rayexec.deploy.commands import dask_worker as main  # noqa: F401
