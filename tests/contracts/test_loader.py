"""The loader: names, endpoints, caching, error reporting, override directories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fal_mock import contracts
from fal_mock.contracts import Contracts, ContractViolation
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

ENDPOINTS = ["fal-ai/decart/lucy-5b/image-to-video", "fal-ai/minimax-video/image-to-video"]


def test_public_api() -> None:
    assert sorted(contracts.__all__) == [
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
    for name in contracts.__all__:
        assert hasattr(contracts, name), name
    assert callable(contracts.openapi)


def test_names_sorted_and_unique() -> None:
    names = contracts.names()
    assert names == sorted(set(names))
    assert "queue/status" in names


def test_endpoint_ids() -> None:
    assert contracts.endpoint_ids() == ENDPOINTS


@pytest.mark.parametrize("endpoint_id", contracts.endpoint_ids())
def test_every_endpoint_has_both_contracts(endpoint_id: str) -> None:
    for kind in ("input", "output"):
        name = contracts.endpoint_contract(endpoint_id, kind)
        assert name == f"endpoints/{endpoint_id}/{kind}"
        assert name in contracts.names()
        assert contracts.schema(name)["type"] == "object"


def test_unknown_endpoint_and_contract() -> None:
    with pytest.raises(KeyError, match="fal-ai/flux/dev"):
        contracts.endpoint_contract("fal-ai/flux/dev", "input")
    with pytest.raises(KeyError, match="queue/nope"):
        contracts.schema("queue/nope")
    with pytest.raises(KeyError):
        contracts.validator("queue/nope")
    with pytest.raises(ValueError, match="kind"):
        contracts.endpoint_contract(ENDPOINTS[0], "result")  # type: ignore[arg-type]


def test_validator_is_cached_and_2020_12() -> None:
    first = contracts.validator("queue/status")
    assert first is contracts.validator("queue/status")
    assert isinstance(first, Draft202012Validator)
    assert first.format_checker is not None
    assert contracts.default_contracts() is contracts.default_contracts()


def test_schema_returns_a_copy() -> None:
    document = contracts.schema("file")
    document["required"].append("file_data")
    assert contracts.schema("file")["required"] == ["url"]
    contracts.validate("file", {"url": "https://v3.fal.media/files/a/b.mp4"})


def test_violation_names_contract_and_paths() -> None:
    with pytest.raises(ContractViolation) as caught:
        contracts.validate("queue/submit-response", {"request_id": "x", "status_url": "not-a-url"})
    violation = caught.value
    assert violation.contract == "queue/submit-response"
    assert "queue/submit-response" in str(violation)
    assert any(line.startswith("$.status_url:") and "uri" in line for line in violation.errors)
    assert any("'response_url' is a required property" in line for line in violation.errors)


def test_violation_explains_the_matching_one_of_branch() -> None:
    body = {
        "status": "IN_QUEUE",
        "request_id": "019e1951-c778-7120-9c82-16efcf40ec82",
        "response_url": "https://q/r",
        "status_url": "https://q/r/status",
        "cancel_url": "https://q/r/cancel",
        "logs": None,
    }
    with pytest.raises(ContractViolation) as caught:
        contracts.validate("queue/status", body)
    assert caught.value.errors == ["$: 'queue_position' is a required property"]


def test_long_values_are_truncated_in_messages() -> None:
    with pytest.raises(ContractViolation) as caught:
        contracts.validate("file", {"url": "x" * 10_000})
    assert all(len(line) < 1_000 for line in caught.value.errors)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("https://queue.fal.run/fal-ai/decart/requests/1", True),
        ("http://127.0.0.1:8000/queue/x?y=%20", True),
        ("data:video/mp4;base64,AAAA", True),
        ("not-a-url", False),
        ("https://", False),
        ("https://host/pa th", False),
        ("https://host/%zz", False),
        ("https://hóst/", False),
    ],
)
def test_uri_format(value: str, ok: bool) -> None:
    assert contracts.format_checker().conforms(value, "uri") is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2099-01-01T00:00:00+00:00", True),
        ("2099-01-01T00:00:00.5Z", True),
        ("2099-01-01T00:00:00", False),
        ("2099-02-30T00:00:00+00:00", False),
        ("2099-01-01 00:00:00+00:00", False),
    ],
)
def test_date_time_format(value: str, ok: bool) -> None:
    assert contracts.format_checker().conforms(value, "date-time") is ok


# --- override directory ---------------------------------------------------------------------

BASE = "https://example.invalid/c/"


def write(root: Path, name: str, document: dict[str, Any]) -> None:
    path = root / f"{name}.schema.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")


@pytest.fixture
def tiny(tmp_path: Path) -> Contracts:
    write(tmp_path, "thing", {"$id": f"{BASE}thing.schema.json", "type": "object", "required": ["n"]})
    write(
        tmp_path,
        "endpoints/acme/model/input",
        {
            "$id": f"{BASE}endpoints/acme/model/input.schema.json",
            "type": "object",
            "properties": {"thing": {"$ref": "../../../thing.schema.json"}},
        },
    )
    write(tmp_path, "endpoints/acme/model/output", {"$id": f"{BASE}endpoints/acme/model/output.schema.json"})
    (tmp_path / "notes.json").write_text("not a contract", encoding="utf-8")
    return Contracts(tmp_path)


def test_override_directory(tiny: Contracts) -> None:
    assert tiny.names() == ["endpoints/acme/model/input", "endpoints/acme/model/output", "thing"]
    assert tiny.endpoint_ids() == ["acme/model"]
    assert tiny.is_valid("endpoints/acme/model/input", {"thing": {"n": 1}})
    with pytest.raises(ContractViolation, match="'n' is a required property"):
        tiny.validate("endpoints/acme/model/input", {"thing": {}})
    assert tiny.validator("thing") is tiny.validator("thing")
    assert "queue/status" not in tiny.names()
    assert tiny.validator("thing") is not contracts.validator("file")


def test_override_directory_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Contracts(tmp_path).names()
    write(tmp_path, "no-id", {"type": "object"})
    with pytest.raises(ValueError, match="no-id"):
        Contracts(tmp_path).names()


def test_broken_schema_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "broken", {"$id": f"{BASE}broken.schema.json", "type": "objekt"})
    with pytest.raises(SchemaError, match="objekt"):
        Contracts(tmp_path).validator("broken")
