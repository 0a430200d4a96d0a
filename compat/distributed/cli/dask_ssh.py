"""``distributed.cli.dask_ssh``: ``dask ssh`` says what to use on Ray (``ray up``)."""

from rayexec.deploy.commands import dask_ssh as main  # noqa: F401
