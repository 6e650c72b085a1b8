"""schemathesis against the OpenAPI documents the mock serves, in-process (ASGI), with a fixed seed.

Documents: ``/queue/openapi.json?endpoint_id=<id>`` for both endpoints (submit, status, cancel,
result) and the control API's ``/_mock/openapi.json``.  Every generated request must get an
answer that is not a 5xx, whose status code is documented, whose content type is declared
and whose body conforms to the documented schema.  Invalid data (schemathesis' negative
mode) is fuzzed too; with ``strict_submit`` on, an invalid submit must be rejected (fal itself
accepts it and fails the job in the runner — the default, where the test instead checks
that the result replays a 422; see test_queue_protocol).

Requests against status, result and cancel use, half of the time, the id of a real job in
a known state (queued, running, completed, failed, cancelled) instead of a random string,
so the 200/202/400 answers are checked too, not only 404s.  Examples per operation are
bounded (``EXAMPLES``) and ``derandomize=True`` fixes the seed: the same cases every run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python import asgi
from starlette.applications import Starlette

from tests.support import AUTH, data_uri, png_bytes

ENDPOINTS = ("fal-ai/minimax-video/image-to-video", "fal-ai/decart/lucy-5b/image-to-video")
#: Examples per operation and generation mode (queue documents; the control API's 29 operations get fewer).
EXAMPLES = 40
CONTROL_EXAMPLES = 25
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def fuzz_app(make_app: Callable[..., Starlette]) -> Iterator[Callable[..., Starlette]]:
    """``make_app``, with schemathesis' ASGI lifespans stopped at the end."""
    yield make_app
    asgi.shutdown_lifespans()


def seed_jobs(app: Starlette, endpoint_id: str, *, strict: bool = False) -> list[str]:
    """Jobs of ``endpoint_id`` in every state, through schemathesis' own ASGI client.

    Queued, running (polls:1, read once), completed, cancelled and — unless ``strict_submit``
    refuses it — completed with a 422 (invalid input).
    """
    good = {"prompt": "seed", "image_url": data_uri(png_bytes())}
    seeds = [(good, "manual"), (good, "polls:1"), (good, "immediate"), (good, "manual")]
    if not strict:
        seeds.append(({"image_url": 1}, "immediate"))
    url = f"http://{asgi.HOST}/queue/{endpoint_id}"
    ids = []
    with asgi.get_client(app) as client:
        for body, progression in seeds:
            response = client.post(url, json=body, headers={**AUTH, "X-Fal-Mock-Progression": progression})
            assert response.status_code == 200, response.text
            ids.append(response.json()["request_id"])
        app_base = f"http://{asgi.HOST}/queue/{'/'.join(endpoint_id.split('/')[:2])}/requests"
        client.get(f"{app_base}/{ids[1]}/status", headers=AUTH)  # polls:1 → IN_PROGRESS
        client.put(f"{app_base}/{ids[3]}/cancel", headers=AUTH)  # cancelled while queued
        for request_id in ids[2::2]:
            client.get(f"{app_base}/{request_id}/status", headers=AUTH)  # immediate → COMPLETED (ok or 422)
    return ids


def run_operation(
    operation: Any,
    mode: GenerationMode,
    checks: list[Any],
    known_ids: list[str],
    headers: dict[str, str],
    examples: int = EXAMPLES,
) -> int:
    """Run up to ``examples`` cases of one operation (fixed seed); returns how many ran (failures raise)."""
    ran = 0

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy(generation_mode=mode), pick=st.sampled_from([None, *known_ids]))
    def check(case: Any, pick: str | None) -> None:
        nonlocal ran
        ran += 1
        if pick is not None and "request_id" in (case.path_parameters or {}):
            case.path_parameters["request_id"] = pick
        response = case.call(headers=headers)
        case.validate_response(response, checks=checks)

    check()
    return ran


@pytest.mark.parametrize("endpoint_id", ENDPOINTS)
@pytest.mark.parametrize(
    ("mode", "strict"),
    [(GenerationMode.POSITIVE, False), (GenerationMode.NEGATIVE, False), (GenerationMode.NEGATIVE, True)],
    ids=["positive", "negative", "negative-strict"],
)
def test_queue_document(
    fuzz_app: Callable[..., Starlette], endpoint_id: str, mode: GenerationMode, strict: bool
) -> None:
    app = fuzz_app(strict_submit=strict)
    schema = schemathesis.openapi.from_asgi(f"/queue/openapi.json?endpoint_id={endpoint_id}", app)
    known = seed_jobs(app, endpoint_id, strict=strict)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.method.upper() for op in operations} == {"POST", "GET", "PUT"}
    total = 0
    for operation in operations:
        checks = list(CONFORMANCE)
        if strict and operation.method.upper() == "POST":
            checks.append(negative_data_rejection)  # invalid input must be refused at submit
        total += run_operation(operation, mode, checks, known, AUTH)
    assert total >= len(operations) * EXAMPLES // 2
    print(f"schemathesis {endpoint_id} {mode.value}{' strict' if strict else ''}: {total} cases")
    # the mock is intact afterwards: a normal job still runs to its result
    with asgi.get_client(app) as client:
        body = {"prompt": "after", "image_url": data_uri(png_bytes())}
        submitted = client.post(f"http://{asgi.HOST}/queue/{endpoint_id}", json=body,
                                headers={**AUTH, "X-Fal-Mock-Progression": "immediate"}).json()  # fmt: skip
        assert client.get(submitted["response_url"], headers=AUTH).status_code == 200


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_control_document(fuzz_app: Callable[..., Starlette], mode: GenerationMode) -> None:
    app = fuzz_app()
    schema = schemathesis.openapi.from_asgi("/_mock/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    known = seed_jobs(app, ENDPOINTS[0])
    total = sum(run_operation(op, mode, list(CONFORMANCE), known, {}, CONTROL_EXAMPLES) for op in operations)
    assert total >= len(operations)
    print(f"schemathesis control API {mode.value}: {total} cases over {len(operations)} operations")
    with asgi.get_client(app) as client:
        assert client.get(f"http://{asgi.HOST}/_mock/health").status_code == 200
