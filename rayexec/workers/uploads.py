"""Uploading local files to the cluster for a Ray runtime environment.

Ray accepts local paths in a ``runtime_env`` only for a whole job (``ray.init``);
a task or actor must name a package already uploaded to the cluster.  Ray's
uploader for each runtime-env field is not public API, hence this one guarded
place, used by ``upload_file`` (``py_modules``) and ``UploadDirectory``
(``working_dir``).
"""

from __future__ import annotations

import importlib
import shutil
import tempfile


def upload(field: str, value, what: str):
    """``value`` (a path, or a list of paths for ``py_modules``) uploaded once for the
    runtime-env ``field``; what that field then holds (package URIs).

    ``what`` names the caller in the message a Ray version without the uploader gives.
    """
    try:
        uploader = getattr(importlib.import_module(f"ray._private.runtime_env.{field}"),
                           f"upload_{field}_if_needed")
    except (ImportError, AttributeError) as exc:
        raise NotImplementedError(
            f"{what} needs Ray's package uploader, which this Ray version lacks; use "
            f"ray.init(runtime_env={{{field!r}: ...}}) before the Client") from exc
    scratch = tempfile.mkdtemp(prefix="rayexec-upload-scratch-")
    try:
        env = uploader({field: value}, include_gitignore=True, scratch_dir=scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return env[field]
