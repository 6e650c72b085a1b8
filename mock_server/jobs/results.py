"""A finished job's output as fal answers it: the stored body with its files' URLs filled in.

Outputs are stored without URLs (:class:`~.model.Outcome`): a served file's URL depends on who
asks — ``https://v3.fal.media/files/...`` in-process, the server's own ``/cdn`` origin on a
standalone server, the proxy's origin through ``/proxy`` — so the edge renders it for each
request, and the webhook dispatcher for the origin of the submit.  Inline files (``sync_mode``)
become ``data:`` URIs.
"""

from __future__ import annotations

import base64
from typing import Any

from ..files.store import FileStore
from .model import Outcome, with_urls


def result_body(outcome: Outcome, files_url: str, files: FileStore) -> Any:
    """The output JSON of a successful ``outcome`` with file URLs under ``files_url`` (the CDN's base)."""
    urls: dict[str, str] = {}
    for item in outcome.files:
        if item.key is None:
            data = files.blob(item.sha256) or b""
            urls[item.sha256] = f"data:{item.content_type};base64," + base64.b64encode(data).decode("ascii")
        else:
            urls[item.key] = f"{files_url}/files/{item.key}"
    return with_urls(outcome, urls)
