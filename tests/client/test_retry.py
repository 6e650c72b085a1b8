"""Retries follow fal's semantics: what is retried, what never is, how long the client waits."""

from __future__ import annotations

import httpx
import pytest
from fal_mock.client import FalClient, FalConnectionError, FalHTTPError, RetryPolicy, VideoOutput

from tests.client.fakes import KEY, MINIMAX, RID, VIDEO, FakeFal, json_response

NGINX_502 = httpx.Response(502, text="<html><center>nginx</center></html>")
NO_JITTER = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=1.5, jitter=0)


def make(fake: FakeFal, sleeps: list[float], policy: RetryPolicy = NO_JITTER) -> FalClient:
    return FalClient(KEY, http=httpx.Client(transport=fake.transport()), retry=policy, sleep=sleeps.append)


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(json_response(429, {"detail": "Too many concurrent requests"}), id="429"),
        pytest.param(NGINX_502, id="ingress-502"),
        pytest.param(httpx.Response(503, text="Service Unavailable"), id="ingress-503"),
        pytest.param(httpx.Response(504, text="Gateway Time-out"), id="ingress-504"),
        pytest.param(httpx.ConnectError("refused"), id="connect-error"),
    ],
)
def test_retried_then_succeeds(first: httpx.Response | Exception) -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", first, json_response(200, VIDEO))
    sleeps: list[float] = []
    assert isinstance(make(fake, sleeps).run(MINIMAX, {}), VideoOutput)
    assert len(fake.requests) == 2
    assert sleeps == [0.5]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(
            json_response(504, {"detail": "Request timed out", "error_type": "request_timeout"},
                          **{"X-Fal-Request-Timeout-Type": "user"}),
            id="user-start-timeout-504",
        ),
        pytest.param(
            httpx.Response(504, json={"detail": "timeout"}, headers={"X-Fal-Request-Timeout-Type": "user"}),
            id="user-504-without-request-id",
        ),
        pytest.param(json_response(503, {"detail": "Runner disconnected", "error_type": "runner_disconnected"}),
                     id="503-from-fal"),
        pytest.param(json_response(500, {"detail": "Internal Server Error"}), id="500"),
        pytest.param(httpx.Response(500, text="oops"), id="500-without-request-id"),
        pytest.param(json_response(422, {"detail": "bad"}), id="422"),
        pytest.param(json_response(401, {"detail": "No user found for Key ID and Secret"}), id="401"),
        pytest.param(json_response(408, {"detail": "timeout"}), id="408"),
        pytest.param(json_response(404, {"detail": "nope"}), id="404"),
    ],
)
def test_never_retried(answer: httpx.Response) -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", answer)
    sleeps: list[float] = []
    with pytest.raises(FalHTTPError) as raised:
        make(fake, sleeps).run(MINIMAX, {})
    assert raised.value.status_code == answer.status_code
    assert len(fake.requests) == 1
    assert sleeps == []


def test_attempts_are_bounded_with_exponential_backoff() -> None:
    fake = FakeFal().add("GET /status", json_response(429, {"detail": "slow down"}))
    sleeps: list[float] = []
    fal = make(fake, sleeps)
    with pytest.raises(FalHTTPError) as raised:
        fal.status(fal.get_handle(MINIMAX, RID))
    assert raised.value.status_code == 429
    assert len(fake.requests) == 4
    assert sleeps == [0.5, 1.0, 1.5]  # doubled, capped at max_delay


def test_connection_errors_are_raised_in_the_family_after_the_last_attempt() -> None:
    fake = FakeFal().add("GET /status", httpx.ConnectError("refused"))
    sleeps: list[float] = []
    fal = make(fake, sleeps)
    with pytest.raises(FalConnectionError) as raised:
        fal.status(fal.get_handle(MINIMAX, RID))
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert len(fake.requests) == 4


def test_a_post_that_may_have_been_sent_is_not_repeated() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", httpx.ReadTimeout("slow"), json_response(200, VIDEO))
    sleeps: list[float] = []
    with pytest.raises(FalConnectionError):
        make(fake, sleeps).submit(MINIMAX, {})
    assert len(fake.requests) == 1


def test_a_get_is_repeated_after_a_read_error() -> None:
    fake = FakeFal().add(f"GET /requests/{RID}", httpx.ReadError("reset"), json_response(200, VIDEO))
    sleeps: list[float] = []
    fal = make(fake, sleeps)
    assert isinstance(fal.result(fal.get_handle(MINIMAX, RID)), VideoOutput)
    assert len(fake.requests) == 2


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    fake = FakeFal().add(
        f"POST /{MINIMAX}",
        json_response(429, {"detail": "later"}, **{"Retry-After": "1.25"}),
        json_response(429, {"detail": "later"}, **{"Retry-After": "99"}),
        json_response(200, VIDEO),
    )
    sleeps: list[float] = []
    make(fake, sleeps).run(MINIMAX, {})
    assert sleeps == [1.25, 1.5]


def test_jitter_stays_within_its_band() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=100.0, jitter=0.5)
    assert policy.delay(3, 0.0) == 2.0
    assert policy.delay(3, 0.999999) == pytest.approx(6.0, rel=1e-5)
    assert policy.delay(1, 0.5) == 1.0


def test_one_attempt_turns_retries_off() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(429, {"detail": "later"}))
    sleeps: list[float] = []
    with pytest.raises(FalHTTPError):
        make(fake, sleeps, RetryPolicy(max_attempts=1)).run(MINIMAX, {})
    assert len(fake.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize("bad", [{"max_attempts": 0}, {"jitter": 1.0}, {"base_delay": -1}])
def test_nonsense_policies_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        RetryPolicy(**bad)  # type: ignore[arg-type]
