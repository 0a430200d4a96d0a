"""``distributed.cli.dask_spec``: ``dask spec`` says what to use on Ray."""

from rayexec.deploy.commands import dask_spec as main  # noqa: F401
