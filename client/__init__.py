"""A small, typed, well-behaved client for fal's model API (queue, sync run, storage) on httpx.

>>> from fal_mock.client import FalClient
>>> with FalClient() as fal:                      # key from FAL_KEY; fal's hosts by default
...     handle = fal.submit("fal-ai/minimax-video/image-to-video", {"prompt": "...", "image_url": "..."})
...     fal.status(handle, with_logs=True)       # Queued(position=0) | InProgress(logs) | Completed(...)
...     output = fal.result(handle)               # VideoOutput(video=File(url=..., ...))

Point it at a mock with the base URLs (``queue_url="https://127.0.0.1:8443/queue"``, ...) and
an ``httpx.Client(verify=ssl.create_default_context(cafile=<ca file>))``; pass ``validate=True``
to check every answer against the contracts in ``fal_mock.contracts``.  ``verify_webhook`` checks a webhook delivery's
signature (from :mod:`fal_mock.client.webhooks`).
"""

if __name__ != "fal_mock.client":  # one copy only: see "Working on fal-mock" in README.md
    raise ImportError(
        f"{__name__!r} is the repository's client/ folder imported as a package of its own, beside "
        "'fal_mock.client': two copies whose classes differ (a.Settings is not b.Settings). Import "
        "'fal_mock.client' (the editable install, 'pip install -e .', maps the folder there) and do not "
        "import the repository's folders by their own names."
    )

from ._client import AsyncFalClient, FalClient
from ._core import CDN_URL, QUEUE_URL, REST_URL, RUN_URL
from ._errors import (
    FalConnectionError,
    FalContractError,
    FalError,
    FalHTTPError,
    FalProtocolError,
    FalTimeoutError,
    FalValidationError,
    FieldError,
)
from ._models import (
    Completed,
    File,
    InProgress,
    LogEntry,
    Output,
    Queued,
    RawOutput,
    RequestHandle,
    Status,
    VideoOutput,
)
from ._retry import RetryPolicy
from .webhooks import JWKS_URL, WebhookVerificationError, check_webhook, fetch_jwks, verify_webhook

__all__ = [
    "CDN_URL",
    "JWKS_URL",
    "QUEUE_URL",
    "REST_URL",
    "RUN_URL",
    "AsyncFalClient",
    "Completed",
    "FalClient",
    "FalConnectionError",
    "FalContractError",
    "FalError",
    "FalHTTPError",
    "FalProtocolError",
    "FalTimeoutError",
    "FalValidationError",
    "FieldError",
    "File",
    "InProgress",
    "LogEntry",
    "Output",
    "Queued",
    "RawOutput",
    "RequestHandle",
    "RetryPolicy",
    "Status",
    "VideoOutput",
    "WebhookVerificationError",
    "check_webhook",
    "fetch_jwks",
    "verify_webhook",
]
