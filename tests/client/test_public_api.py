"""The client's public surface is exactly ``__all__``, sorted, and every name resolves."""

from __future__ import annotations

import fal_mock.client as client


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name, value in vars(client).items() if not name.startswith("_") and not _is_module(value)}
    public -= {"annotations"}
    assert len(client.__all__) == len(set(client.__all__))
    assert public == set(client.__all__)
    for name in client.__all__:
        assert getattr(client, name) is not None


def _is_module(value: object) -> bool:
    return type(value).__name__ == "module"


def test_verify_webhook_is_re_exported() -> None:
    from fal_mock.client import webhooks

    assert client.verify_webhook is webhooks.verify_webhook


def test_the_exception_family() -> None:
    assert issubclass(client.FalValidationError, client.FalHTTPError)
    for name in ("FalHTTPError", "FalConnectionError", "FalProtocolError", "FalContractError", "FalTimeoutError"):
        assert issubclass(getattr(client, name), client.FalError)
