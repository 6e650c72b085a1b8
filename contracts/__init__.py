"""JSON Schema contracts of the fal API (both endpoints' inputs and outputs, queue, errors, storage,
webhooks), a cached validator per contract, and fal-shaped per-endpoint OpenAPI documents.

>>> from fal_mock import contracts
>>> contracts.validate("queue/cancel-response", {"status": "CANCELLATION_REQUESTED"})
>>> contracts.endpoint_contract("fal-ai/minimax-video/image-to-video", "input")
'endpoints/fal-ai/minimax-video/image-to-video/input'

The module-level functions use the shipped schemas; ``Contracts(directory)`` loads another set.
"""

from __future__ import annotations

if __name__ != "fal_mock.contracts":  # one copy only: see "Working on fal-mock" in README.md
    raise ImportError(
        f"{__name__!r} is the repository's contracts/ folder imported as a package of its own, beside "
        "'fal_mock.contracts': two copies whose classes differ (a.Settings is not b.Settings). Import "
        "'fal_mock.contracts' (the editable install, 'pip install -e .', maps the folder there) and do not "
        "import the repository's folders by their own names."
    )

from typing import Any, Literal

from jsonschema.protocols import Validator

from ._loader import BASE_URI, Contracts, ContractViolation, default_contracts, format_checker
from .openapi import openapi

__all__ = [
    "BASE_URI",
    "ContractViolation",
    "Contracts",
    "default_contracts",
    "endpoint_contract",
    "endpoint_ids",
    "format_checker",
    "is_valid",
    "names",
    "openapi",
    "schema",
    "validate",
    "validator",
]


def names() -> list[str]:
    """Every contract name, sorted (e.g. ``queue/status``)."""
    return default_contracts().names()


def schema(name: str) -> dict[str, Any]:
    """A copy of the parsed document of contract ``name``."""
    return default_contracts().schema(name)


def validator(name: str) -> Validator:
    """The cached Draft 2020-12 validator of ``name`` (all contracts resolvable, formats checked)."""
    return default_contracts().validator(name)


def validate(name: str, instance: Any) -> None:
    """Raise :class:`ContractViolation` if ``instance`` violates contract ``name``."""
    default_contracts().validate(name, instance)


def is_valid(name: str, instance: Any) -> bool:
    return default_contracts().is_valid(name, instance)


def endpoint_ids() -> list[str]:
    """The endpoint ids that have contracts, sorted."""
    return default_contracts().endpoint_ids()


def endpoint_contract(endpoint_id: str, kind: Literal["input", "output"]) -> str:
    """The contract name of an endpoint's input or output (KeyError if unknown)."""
    return default_contracts().endpoint_contract(endpoint_id, kind)
