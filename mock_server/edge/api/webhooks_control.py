"""Control API for webhook deliveries (``/_mock/webhooks``): the journal and what tests do to deliveries.

fal has nothing like it; it is the HTTP face of
:class:`~...webhooks.dispatcher.WebhookDispatcher` for a standalone server (the pytest
fixture calls the dispatcher directly).  Scoped by ``X-Fal-Mock-Namespace`` when
sent.  Answers are ``webhooks/journal`` (``{"paused", "idle", "deliveries"}``) or
``webhooks/journal-entry`` (one delivery, with its body):

``GET    /webhooks``                 the journal (``?request_id=``, ``?state=``, ``?include_body=1``)
``DELETE /webhooks``                 forget the deliveries (``cleared`` says how many)
``POST   /webhooks/deliver-due``     start what is due on the clock (the started ones)
``POST   /webhooks/pause|resume``    hold / release attempts
``GET    /webhooks/idle?timeout=S``  wait (≤ 60 s) until no attempt is in flight
``GET    /webhooks/{id}``            one delivery
``POST   /webhooks/{id}/trigger``    attempt now; ``/resend`` a new delivery of the same payload;
                                     ``/drop`` stop; ``/delay`` with ``{"seconds": N}`` (``webhooks/delay-request``)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from fal_mock import contracts
from starlette.requests import Request
from starlette.responses import Response

from ...jobs.errors import PlainError
from ...services import MockServices
from ...webhooks.errors import DeliveryNotFound, DeliveryStateError
from ...webhooks.records import STATES, Delivery
from ..render import fal_json
from ..request_parts import loads_json, namespace, read_body, services

MAX_IDLE_WAIT_SECONDS = 60.0
MAX_CONTROL_BODY_BYTES = 64 * 1024
DELAY_CONTRACT = "webhooks/delay-request"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _journal(mock: MockServices, deliveries: list[Delivery], include_body: bool = False, **extra: Any) -> Response:
    body = {
        "paused": mock.webhooks.paused,
        "idle": mock.webhooks.idle(),
        "deliveries": [delivery.to_json(include_body=include_body) for delivery in deliveries],
        **extra,
    }
    return fal_json(body, contract="webhooks/journal", check=mock.settings.check_contracts)


def _entry(mock: MockServices, delivery: Delivery) -> Response:
    return fal_json(delivery.to_json(include_body=True), contract="webhooks/journal-entry",
                    check=mock.settings.check_contracts)  # fmt: skip


def _scoped(request: Request, mock: MockServices) -> Delivery:
    """The delivery named in the path, 404 when unknown or in another namespace."""
    delivery_id = request.path_params["delivery_id"]
    space = namespace(request)
    try:
        delivery = mock.webhooks.get(delivery_id)
    except DeliveryNotFound:
        delivery = None
    if delivery is None or (space and delivery.namespace != space):
        raise PlainError(404, f"Webhook delivery {delivery_id} not found")
    return delivery


async def list_deliveries(request: Request) -> Response:
    mock = services(request)
    state = request.query_params.get("state") or None
    if state is not None and state not in STATES:
        raise PlainError(400, f"Invalid state {state!r}: use one of {', '.join(STATES)}")
    deliveries = mock.webhooks.deliveries(
        request_id=request.query_params.get("request_id") or None, namespace=namespace(request) or None, state=state
    )
    return _journal(mock, deliveries, _flag(request.query_params.get("include_body")))


async def clear(request: Request) -> Response:
    mock = services(request)
    cleared = mock.webhooks.clear(namespace(request) or None)
    return _journal(mock, [], cleared=cleared)


async def deliver_due(request: Request) -> Response:
    mock = services(request)
    return _journal(mock, _in_namespace(request, mock.webhooks.deliver_due()))


async def pause(request: Request) -> Response:
    mock = services(request)
    mock.webhooks.pause()
    return _journal(mock, [])


async def resume(request: Request) -> Response:
    mock = services(request)
    return _journal(mock, _in_namespace(request, mock.webhooks.resume()))


async def idle(request: Request) -> Response:
    mock = services(request)
    raw = request.query_params.get("timeout", "10")
    try:
        timeout = float(raw)
    except ValueError:
        raise PlainError(400, f"Invalid timeout {raw!r}: give seconds as a number") from None
    if not math.isfinite(timeout) or timeout < 0:
        raise PlainError(400, f"Invalid timeout {raw!r}: give seconds >= 0")
    await mock.webhooks.wait_idle_async(min(timeout, MAX_IDLE_WAIT_SECONDS))
    return _journal(mock, mock.webhooks.deliveries(namespace=namespace(request) or None))


async def get_delivery(request: Request) -> Response:
    mock = services(request)
    return _entry(mock, _scoped(request, mock))


async def trigger(request: Request) -> Response:
    mock = services(request)
    delivery = _scoped(request, mock)
    return _entry(mock, _act(lambda: mock.webhooks.trigger(delivery.id)))


async def resend(request: Request) -> Response:
    mock = services(request)
    delivery = _scoped(request, mock)
    return _entry(mock, _act(lambda: mock.webhooks.resend(delivery.id)))


async def drop(request: Request) -> Response:
    mock = services(request)
    delivery = _scoped(request, mock)
    return _entry(mock, _act(lambda: mock.webhooks.drop(delivery.id)))


async def delay(request: Request) -> Response:
    mock = services(request)
    delivery = _scoped(request, mock)
    raw = await read_body(request, MAX_CONTROL_BODY_BYTES)
    try:
        data = loads_json(raw or b"{}")
    except ValueError:
        raise PlainError(400, 'The body must be JSON: {"seconds": <number >= 0>}') from None
    try:
        contracts.validate(DELAY_CONTRACT, data)
    except contracts.ContractViolation as violation:
        raise PlainError(422, f"Invalid delay request: {'; '.join(violation.errors)}") from None
    seconds = float(data["seconds"])
    return _entry(mock, _act(lambda: mock.webhooks.delay(delivery.id, seconds)))


def _act(operation: Callable[[], Delivery]) -> Delivery:
    try:
        result: Delivery = operation()
    except DeliveryNotFound as error:
        raise PlainError(404, str(error)) from None
    except DeliveryStateError as error:
        raise PlainError(409, str(error)) from None
    return result


def _in_namespace(request: Request, deliveries: list[Delivery]) -> list[Delivery]:
    space = namespace(request)
    return [delivery for delivery in deliveries if not space or delivery.namespace == space]
