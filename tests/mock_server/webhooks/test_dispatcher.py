"""The webhook dispatcher without the web app: payloads, signing, retries on the clock, policy, journal.

Jobs are built directly and handed to ``job_completed`` (the queue's completion
listener); receivers are small ASGI apps reached through ``dispatcher.route`` or an
``httpx.MockTransport`` — no sockets.  Retries are driven with a ``ManualClock`` and
``deliver_due()``; waits are ``wait_for``/``wait_idle`` (conditions, no sleeps).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fal_mock import contracts
from fal_mock.mock_server.clock import DEFAULT_EPOCH, ManualClock, SystemClock
from fal_mock.mock_server.edge.hosts import Bases
from fal_mock.mock_server.files.store import FileStore
from fal_mock.mock_server.jobs.errors import ModelError, RequestError, entry
from fal_mock.mock_server.jobs.model import Job, JobState, Outcome, OutputFile
from fal_mock.mock_server.jobs.runner import failure_outcome
from fal_mock.mock_server.persistence import StateStore
from fal_mock.mock_server.settings import Settings
from fal_mock.mock_server.webhooks.dispatcher import WebhookDispatcher
from fal_mock.mock_server.webhooks.errors import DeliveryNotFound, DeliveryStateError
from fal_mock.mock_server.webhooks.policy import (
    PAYLOAD_ERROR_TEXT,
    delivery_payload,
    redact_url,
    retry_schedule,
    target_refusal,
)

from tests.mock_server.edge.api._receiver import Recorder
from tests.support import both_stores  # noqa: F401 - every test on both stores

T0 = DEFAULT_EPOCH
MINIMAX = "fal-ai/minimax-video/image-to-video"
HOOK = "http://hooks.test/fal"
KEY = "elephant/AbCdEfGhIjKlMnOpQrStU_output.mp4"


def video_outcome(file_key: str | None = KEY, sha: str = "0" * 64) -> Outcome:
    ref = OutputFile(("video",), sha, 10, "video/mp4", "output.mp4", file_key, {"width": 64, "height": 48})
    body = {"video": {"content_type": "video/mp4", "file_name": "output.mp4", "file_size": 10}}
    return Outcome(status_code=200, body=body, files=(ref,))


def make_job(
    url: str | None = HOOK,
    *,
    rid: str = "019b76da-a800-7bbf-a670-15f9a5ac66de",
    outcome: Outcome | None = None,
    bases: Bases | None = None,
    payload_error: bool = False,
    namespace: str = "",
) -> Job:
    return Job(
        request_id=rid, endpoint_id=MINIMAX, app_id="fal-ai/minimax-video", namespace=namespace, seq=1,
        submitted_at=T0, arguments={}, progression="immediate", origin=(bases or Bases.fal()).origin,
        webhook_url=url, webhook_payload_error=payload_error, state=JobState.COMPLETED,
        outcome=outcome or video_outcome(),
    )  # fmt: skip


def rid(n: int) -> str:
    return f"019b76da-a800-7bbf-a670-{n:012d}"


@pytest.fixture
def files(clock: ManualClock) -> FileStore:
    return FileStore(clock, seed=0, max_file_bytes=10_000_000, max_total_bytes=10_000_000)


Factory = Callable[..., WebhookDispatcher]


@pytest.fixture
def make_dispatcher(clock: ManualClock, files: FileStore, state_store: StateStore) -> Iterator[Factory]:
    made: list[WebhookDispatcher] = []

    def factory(transport: httpx.AsyncBaseTransport | None = None, **overrides: Any) -> WebhookDispatcher:
        settings = Settings.from_mapping({"check_contracts": True, **overrides})
        dispatcher = WebhookDispatcher(settings=settings, clock=clock, files=files, transport=transport,
                                       store=state_store, owner="test/1/runner")  # fmt: skip
        made.append(dispatcher)
        return dispatcher

    yield factory
    for dispatcher in made:
        dispatcher.close()


def verifies(dispatcher: WebhookDispatcher, headers: dict[str, str], body: bytes) -> bool:
    x = dispatcher.jwks()["keys"][0]["x"]
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "="))
    lowered = {name.lower(): value for name, value in headers.items()}
    message = "\n".join([lowered["x-fal-webhook-request-id"], lowered["x-fal-webhook-user-id"],
                         lowered["x-fal-webhook-timestamp"], hashlib.sha256(body).hexdigest()])  # fmt: skip
    try:
        key.verify(bytes.fromhex(lowered["x-fal-webhook-signature"]), message.encode())
    except Exception:
        return False
    return True


# --- payloads -------------------------------------------------------------------------------
def test_ok_payload_is_the_output_rendered_for_the_submit_bases(files: FileStore) -> None:
    job = make_job()
    payload = delivery_payload(job, files)
    assert payload == {
        "request_id": job.request_id,
        "gateway_request_id": job.request_id,
        "status": "OK",
        "payload": {"video": {"url": f"https://v3.fal.media/files/{KEY}", "content_type": "video/mp4",
                              "file_name": "output.mp4", "file_size": 10}},
    }  # fmt: skip
    contracts.validate("webhooks/delivery", payload)
    prefixed = delivery_payload(make_job(bases=Bases.prefixed("http://127.0.0.1:8123")), files)
    assert prefixed["payload"]["video"]["url"] == f"http://127.0.0.1:8123/cdn/files/{KEY}"


def test_inline_video_payload_is_a_data_uri(files: FileStore) -> None:
    sha = files.put_blob(b"\x00\x00\x00\x18ftypmp42")
    payload = delivery_payload(make_job(outcome=video_outcome(None, sha)), files)
    assert (
        payload["payload"]["video"]["url"]
        == "data:video/mp4;base64," + base64.b64encode(b"\x00\x00\x00\x18ftypmp42").decode()
    )


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ModelError([entry(["body", "image_url"], "Field required", "missing")]), 422),
        (ModelError([entry(["body"], "Model crashed", "internal_server_error")], status_code=500), 500),
        (RequestError("request_timeout"), 504),
    ],
)
def test_failed_jobs_post_status_error_with_fals_text(files: FileStore, error: Any, status: int) -> None:
    outcome = failure_outcome(error)
    payload = delivery_payload(make_job(outcome=outcome), files)
    assert payload["status"] == "ERROR"
    assert payload["error"] == f"Invalid status code: {status}"
    assert payload["payload"] == outcome.body
    contracts.validate("webhooks/delivery", payload)


def test_unserialisable_payloads_become_null_with_payload_error(files: FileStore) -> None:
    nan = Outcome(status_code=200, body={"value": float("nan")})
    listed = Outcome(status_code=200, body=["not", "an", "object"])
    cases = [
        delivery_payload(make_job(), files, force_payload_error=True),
        delivery_payload(make_job(outcome=nan), files),
        delivery_payload(make_job(outcome=listed), files),
    ]
    for payload in cases:
        assert payload["payload"] is None
        assert payload["payload_error"] == PAYLOAD_ERROR_TEXT
        assert payload["status"] == "OK"
        contracts.validate("webhooks/delivery", payload)
    failed = delivery_payload(make_job(outcome=failure_outcome(RequestError("internal_error"))), files,
                              force_payload_error=True)  # fmt: skip
    assert (failed["status"], failed["error"], failed["payload"]) == ("ERROR", "Invalid status code: 500", None)


# --- schedule and policy ----------------------------------------------------------------------
def test_default_retry_schedule_is_ten_retries_in_about_two_hours() -> None:
    offsets = retry_schedule(Settings())
    delays = [b - a for a, b in zip([0.0, *offsets], offsets, strict=False)]
    assert len(offsets) == 10
    assert delays == [7, 14, 28, 56, 112, 224, 448, 896, 1792, 3584]
    assert 6600 < offsets[-1] <= 7200
    short = Settings(max_webhook_retries=3, webhook_retry_base_seconds=10, webhook_retry_max_seconds=15)
    custom = retry_schedule(short)
    assert custom == [10, 25, 40]


@pytest.mark.parametrize(
    ("url", "allow", "allowed"),
    [
        ("http://127.0.0.1:9000/hook", (), True),
        ("http://127.3.4.5/hook", (), True),
        ("https://localhost/hook", (), True),
        ("http://[::1]:8080/hook", (), True),
        ("https://example.com/hook", (), False),
        ("http://10.0.0.5/hook", (), False),
        ("http://0.0.0.0:9000/hook", (), False),
        ("https://hooks.example.com/x", ("*.example.com",), True),
        ("https://example.com/x", ("*.example.com",), False),  # sub-domains only, as for fetch_allow_hosts
        ("https://example.com/x", ("example.com", "*.example.com"), True),
        ("https://evil-example.com/x", ("*.example.com",), False),
        ("https://api.partner.io/x", ("api.partner.io",), True),
        ("https://anything.net/x", ("*",), True),
        ("ftp://127.0.0.1/hook", (), False),
        ("not a url", (), False),
        ("http://127.0.0.1:99999/hook", (), False),
    ],
)
def test_target_policy_is_loopback_unless_allow_listed(url: str, allow: tuple[str, ...], allowed: bool) -> None:
    refusal = target_refusal(url, allow)
    assert (refusal is None) == allowed
    if refusal is not None:
        assert refusal.startswith("refused:")


def test_credentials_in_urls_are_masked() -> None:
    masked = redact_url("https://user:pw@127.0.0.1:9000/hook?token=s3cret&job=7&api_key=k&sig=x")
    assert masked == "https://***@127.0.0.1:9000/hook?token=***&job=7&api_key=***&sig=***"
    assert redact_url("http://127.0.0.1/hook?job=7") == "http://127.0.0.1/hook?job=7"


# --- delivery ---------------------------------------------------------------------------------
def test_first_attempt_goes_out_at_once_signed_with_the_clock(make_dispatcher: Factory, clock: ManualClock) -> None:
    dispatcher = make_dispatcher(user_id="team-7")
    receiver = Recorder(200)
    dispatcher.route("http://hooks.test", receiver.app)
    job = make_job()
    dispatcher.job_completed(job)
    delivery = dispatcher.wait_for(job.request_id)
    assert delivery.state == "delivered"
    assert delivery.in_process
    [(path, headers, body)] = receiver.requests
    assert path == "/fal"
    assert body == delivery.body
    assert json.loads(body) == delivery_payload(job, dispatcher.files)
    assert headers["content-type"] == "application/json"
    assert headers["x-fal-webhook-request-id"] == job.request_id
    assert headers["x-fal-webhook-user-id"] == "team-7"
    assert headers["x-fal-webhook-timestamp"] == str(int(clock.now()))
    assert "authorization" not in headers
    assert verifies(dispatcher, headers, body)
    [attempt] = delivery.attempts
    assert (attempt.number, attempt.at, attempt.status_code, attempt.error) == (1, T0, 200, None)
    assert attempt.duration_seconds >= 0


def test_jobs_without_a_webhook_url_get_no_delivery(make_dispatcher: Factory) -> None:
    dispatcher = make_dispatcher()
    dispatcher.job_completed(make_job(None))
    assert dispatcher.deliveries() == []


def test_retries_follow_the_clock_schedule_then_succeed(make_dispatcher: Factory, clock: ManualClock) -> None:
    dispatcher = make_dispatcher(max_webhook_retries=5, webhook_retry_base_seconds=10, webhook_retry_max_seconds=25)
    receiver = Recorder(500, 503, 500, 200)
    dispatcher.route("hooks.test", receiver.app)
    job = make_job()
    dispatcher.job_completed(job)
    first = dispatcher.wait_for(job.request_id)
    assert (first.state, first.next_attempt_at, first.error) == ("pending", T0 + 10, "HTTP 500")

    clock.advance(9.5)
    assert dispatcher.deliver_due() == []  # not due yet
    clock.advance(0.5)
    assert dispatcher.get(first.id).state == "pending"  # moving the clock alone sends nothing
    assert [d.id for d in dispatcher.deliver_due()] == [first.id]
    assert dispatcher.wait_for(job.request_id, attempts=2).next_attempt_at == T0 + 30
    clock.advance(20)
    dispatcher.deliver_due()
    assert dispatcher.wait_for(job.request_id, attempts=3).next_attempt_at == T0 + 55  # capped at 25 s
    clock.advance(25)
    dispatcher.deliver_due()
    done = dispatcher.wait_for(job.request_id, attempts=4)

    assert done.state == "delivered"
    assert done.delivered_at == T0 + 55
    assert [a.at for a in done.attempts] == [T0, T0 + 10, T0 + 30, T0 + 55]
    assert [a.status_code for a in done.attempts] == [500, 503, 500, 200]
    assert [a.error for a in done.attempts] == ["HTTP 500", "HTTP 503", "HTTP 500", None]
    # every attempt is re-signed with its own timestamp, so late retries pass the ±300 s check
    stamps = [headers["x-fal-webhook-timestamp"] for _path, headers, _body in receiver.requests]
    assert stamps == [str(int(T0)), str(int(T0 + 10)), str(int(T0 + 30)), str(int(T0 + 55))]
    assert all(verifies(dispatcher, headers, body) for _path, headers, body in receiver.requests)
    assert len({body for _path, _headers, body in receiver.requests}) == 1


def test_gives_up_after_the_last_retry(make_dispatcher: Factory, clock: ManualClock) -> None:
    dispatcher = make_dispatcher(max_webhook_retries=2, webhook_retry_base_seconds=1)
    dispatcher.route("hooks.test", Recorder(500).app)
    job = make_job()
    dispatcher.job_completed(job)
    for attempt in (2, 3):
        dispatcher.wait_for(job.request_id, attempts=attempt - 1)
        clock.advance(10)
        dispatcher.deliver_due()
    final = dispatcher.wait_for(job.request_id, attempts=3)
    assert (final.state, final.next_attempt_at, final.error) == ("failed", None, "HTTP 500")
    clock.advance(3600)
    assert dispatcher.deliver_due() == []


def test_redirects_are_not_followed_and_count_as_failures(make_dispatcher: Factory) -> None:
    dispatcher = make_dispatcher()
    receiver = Recorder(302)
    dispatcher.route("hooks.test", receiver.app)
    job = make_job()
    dispatcher.job_completed(job)
    delivery = dispatcher.wait_for(job.request_id)
    assert delivery.state == "pending"
    assert delivery.attempts[0].status_code == 302
    assert delivery.error == "HTTP 302: redirect not followed (Location: http://hooks.test/elsewhere)"
    assert [path for path, _h, _b in receiver.requests] == ["/fal"]


def test_connection_failures_are_recorded_and_retried(make_dispatcher: Factory) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed", request=request)

    dispatcher = make_dispatcher(transport=httpx.MockTransport(refuse))
    job = make_job("http://127.0.0.1:9/hook")
    dispatcher.job_completed(job)
    delivery = dispatcher.wait_for(job.request_id)
    assert delivery.state == "pending"
    assert delivery.attempts[0].status_code is None
    assert delivery.error == "ConnectError: All connection attempts failed"


def test_a_receiver_slower_than_the_timeout_fails_the_attempt(make_dispatcher: Factory) -> None:
    gate = threading.Event()
    dispatcher = make_dispatcher(webhook_timeout_seconds=0.05)
    dispatcher.route("hooks.test", Recorder(200, gate=gate).app)
    job = make_job()
    dispatcher.job_completed(job)
    delivery = dispatcher.wait_for(job.request_id)
    gate.set()
    assert delivery.error == "timed out after 0.05 s"
    assert delivery.state == "pending"


def test_refused_targets_fail_without_a_network_attempt(make_dispatcher: Factory) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    dispatcher = make_dispatcher(transport=httpx.MockTransport(record))
    job = make_job("https://hooks.example.com/fal")
    dispatcher.job_completed(job)
    [delivery] = dispatcher.deliveries()
    assert delivery.state == "failed"
    assert delivery.attempts == ()
    assert delivery.error is not None
    assert "not loopback" in delivery.error
    assert "webhook_allow_hosts" in delivery.error
    assert dispatcher.wait_idle(5)
    assert sent == []

    allowing = make_dispatcher(transport=httpx.MockTransport(record), webhook_allow_hosts=("*.example.com",))
    allowed = make_job("https://hooks.example.com/fal", rid=rid(9))
    allowing.job_completed(allowed)
    assert allowing.wait_for(allowed.request_id).state == "delivered"
    assert [str(request.url) for request in sent] == ["https://hooks.example.com/fal"]


def test_a_slow_receiver_does_not_hold_up_other_deliveries(make_dispatcher: Factory) -> None:
    gate = threading.Event()
    dispatcher = make_dispatcher()
    dispatcher.route("http://hooks.test/slow", Recorder(200, gate=gate).app)
    fast = Recorder(200)
    dispatcher.route("http://hooks.test/fast", fast.app)
    dispatcher.job_completed(make_job("http://hooks.test/slow", rid=rid(1)))
    dispatcher.job_completed(make_job("http://hooks.test/fast", rid=rid(2)))
    assert dispatcher.wait_for(rid(2)).state == "delivered"
    assert dispatcher.deliveries(request_id=rid(1))[0].state == "sending"
    assert not dispatcher.idle()
    gate.set()
    assert dispatcher.wait_for(rid(1)).state == "delivered"
    assert dispatcher.wait_idle(5)


# --- operations -------------------------------------------------------------------------------
def test_pause_delay_resume_delivers_out_of_order(make_dispatcher: Factory, clock: ManualClock) -> None:
    dispatcher = make_dispatcher()
    receiver = Recorder(200)
    dispatcher.route("hooks.test", receiver.app)
    dispatcher.pause()
    dispatcher.job_completed(make_job(rid=rid(1)))
    dispatcher.job_completed(make_job(rid=rid(2)))
    first, second = dispatcher.deliveries()
    assert (first.state, second.state) == ("pending", "pending")
    assert dispatcher.deliver_due() == []  # held while paused
    dispatcher.delay(first.id, 5)
    assert [d.id for d in dispatcher.resume()] == [second.id]
    assert dispatcher.wait_for(rid(2)).state == "delivered"
    assert dispatcher.get(first.id).state == "pending"
    clock.advance(5)
    dispatcher.deliver_due()
    assert dispatcher.wait_for(rid(1)).attempts[0].at == T0 + 5
    order = [headers["x-fal-webhook-request-id"] for _path, headers, _body in receiver.requests]
    assert order == [rid(2), rid(1)]


def test_resend_is_a_new_delivery_of_the_same_payload(make_dispatcher: Factory) -> None:
    dispatcher = make_dispatcher()
    receiver = Recorder(200)
    dispatcher.route("hooks.test", receiver.app)
    job = make_job()
    dispatcher.job_completed(job)
    original = dispatcher.wait_for(job.request_id)
    again = dispatcher.resend(original.id)
    assert again.id != original.id
    assert again.resend_of == original.id
    dispatcher.wait_idle(5)
    assert dispatcher.get(again.id).state == "delivered"
    (_p1, headers1, body1), (_p2, headers2, body2) = receiver.requests
    assert body1 == body2
    assert headers1["x-fal-webhook-request-id"] == headers2["x-fal-webhook-request-id"] == job.request_id


def test_drop_stops_the_retries(make_dispatcher: Factory, clock: ManualClock) -> None:
    dispatcher = make_dispatcher()
    receiver = Recorder(500)
    dispatcher.route("hooks.test", receiver.app)
    job = make_job()
    dispatcher.job_completed(job)
    delivery = dispatcher.wait_for(job.request_id)
    assert dispatcher.drop(delivery.id).state == "dropped"
    clock.advance(3600)
    assert dispatcher.deliver_due() == []
    assert len(receiver.requests) == 1
    assert dispatcher.drop(delivery.id).state == "dropped"


def test_trigger_sends_now_whatever_the_schedule(make_dispatcher: Factory) -> None:
    dispatcher = make_dispatcher()
    receiver = Recorder(500, 200)
    dispatcher.route("hooks.test", receiver.app)
    job = make_job()
    dispatcher.job_completed(job)
    delivery = dispatcher.wait_for(job.request_id)
    assert delivery.next_attempt_at == T0 + 7
    dispatcher.trigger(delivery.id)
    done = dispatcher.wait_for(job.request_id, attempts=2)
    assert done.state == "delivered"
    assert [a.at for a in done.attempts] == [T0, T0]
    with pytest.raises(DeliveryStateError, match="resend"):
        dispatcher.trigger(delivery.id)
    with pytest.raises(DeliveryStateError):
        dispatcher.delay(delivery.id, 5)
    with pytest.raises(DeliveryStateError):
        dispatcher.drop(delivery.id)
    with pytest.raises(DeliveryNotFound):
        dispatcher.trigger("whd_nope")
    with pytest.raises(ValueError, match="seconds"):
        dispatcher.delay(delivery.id, -1)


def test_payload_error_can_be_forced_per_request(make_dispatcher: Factory) -> None:
    dispatcher = make_dispatcher()
    dispatcher.route("hooks.test", Recorder(200).app)
    dispatcher.force_payload_error(rid(1))
    dispatcher.job_completed(make_job(rid=rid(1)))
    dispatcher.job_completed(make_job(rid=rid(2), payload_error=True))
    dispatcher.job_completed(make_job(rid=rid(3)))
    bodies = [dispatcher.wait_for(rid(n)).json() for n in (1, 2, 3)]
    assert [body["payload"] is None for body in bodies] == [True, True, False]
    assert bodies[0]["payload_error"] == bodies[1]["payload_error"] == PAYLOAD_ERROR_TEXT
    assert "payload_error" not in bodies[2]


def test_journal_is_bounded_and_never_drops_unfinished_deliveries(make_dispatcher: Factory) -> None:
    dispatcher = make_dispatcher(webhook_journal_size=2)
    dispatcher.route("hooks.test", Recorder(200).app)
    dispatcher.pause()
    for n in (1, 2, 3):
        dispatcher.job_completed(make_job(rid=rid(n)))
    assert len(dispatcher.deliveries()) == 3  # all pending: kept
    dispatcher.resume()
    assert dispatcher.wait_idle(5)
    assert [d.state for d in dispatcher.deliveries()] == ["delivered", "delivered"]
    assert len(dispatcher.deliveries()) == 2


def test_secrets_stay_out_of_the_journal_and_logs(make_dispatcher: Factory, caplog: pytest.LogCaptureFixture) -> None:
    sent: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(500)

    dispatcher = make_dispatcher(transport=httpx.MockTransport(record))
    url = "http://user:hunter2@127.0.0.1:9/hook?token=s3cret&job=7"
    job = make_job(url)
    with caplog.at_level(logging.DEBUG, logger="fal_mock"):
        dispatcher.job_completed(job)
        delivery = dispatcher.wait_for(job.request_id)
    assert sent == [url]  # the receiver gets the URL it asked for
    journal = json.dumps([d.to_json(include_body=True) for d in dispatcher.deliveries()])
    for secret in ("hunter2", "s3cret", "authorization"):
        assert secret not in journal.lower()
        assert secret not in caplog.text.lower()
    assert delivery.url == "http://***@127.0.0.1:9/hook?token=***&job=7"
    assert "127.0.0.1:9/hook" in caplog.text


def test_clear_and_close(make_dispatcher: Factory) -> None:
    dispatcher = make_dispatcher()
    dispatcher.route("hooks.test", Recorder(200).app)
    dispatcher.job_completed(make_job(rid=rid(1), namespace="a"))
    dispatcher.job_completed(make_job(rid=rid(2), namespace="b"))
    dispatcher.wait_idle(5)
    assert dispatcher.clear("a") == 1
    assert [d.request_id for d in dispatcher.deliveries()] == [rid(2)]
    assert dispatcher.clear() == 1
    dispatcher.close()
    dispatcher.close()
    assert not any(thread.name == "fal-mock-webhooks" and thread.is_alive() for thread in threading.enumerate()
                   if thread is getattr(dispatcher, "_thread", None))  # fmt: skip


def test_wait_for_times_out_with_the_journal(make_dispatcher: Factory) -> None:
    dispatcher = make_dispatcher()
    with pytest.raises(TimeoutError, match="no webhook delivery of nope"):
        dispatcher.wait_for("nope", timeout=0.01)


def test_with_the_wall_clock_retries_go_out_by_themselves(files: FileStore, state_store: StateStore) -> None:
    settings = Settings(webhook_retry_base_seconds=0.01, check_contracts=True)
    dispatcher = WebhookDispatcher(settings=settings, clock=SystemClock(), files=files, store=state_store,
                                   owner="test/1/runner")  # fmt: skip
    try:
        receiver = Recorder(500, 200)
        dispatcher.route("hooks.test", receiver.app)
        job = make_job()
        dispatcher.job_completed(job)
        done = dispatcher.wait_for(job.request_id, attempts=2)
    finally:
        dispatcher.close()
    assert done.state == "delivered"
    assert [a.status_code for a in done.attempts] == [500, 200]
    assert done.attempts[1].at >= done.attempts[0].at + 0.01


# --- isolation per target, capped answers (issue 13) ----------------------------------------------------------
class _Answers(http.server.BaseHTTPRequestHandler):
    """A loopback receiver: ``/big`` answers 50 MB, anything else a short 200."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        big = self.path == "/big"
        self.send_response(200)
        self.send_header("content-length", str(50 * 1024 * 1024 if big else 2))
        self.end_headers()
        try:
            if big:
                chunk = b"x" * 65536
                for _ in range(800):
                    self.wfile.write(chunk)
            else:
                self.wfile.write(b"ok")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the dispatcher stopped reading: as it should

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def test_a_receiver_that_never_answers_cannot_delay_another_receivers_delivery(
    make_dispatcher: Factory, receiver: str, black_hole: str
) -> None:
    dispatcher = make_dispatcher(webhook_timeout_seconds=60, webhook_journal_size=1_000)
    for number in range(120):  # more than one shared pool's 100 connections
        dispatcher.job_completed(make_job(black_hole + "/hook", rid=rid(number)))
    healthy = make_job(receiver + "/hook", rid=rid(999))
    dispatcher.job_completed(healthy)
    delivery = dispatcher.wait_for(healthy.request_id, timeout=20)  # a shared pool: 60 s behind the dead receiver
    assert delivery.state == "delivered"
    assert delivery.attempts[0].response_body == "ok"
    assert delivery.attempts[0].response_truncated is False
    assert sum(1 for item in dispatcher.deliveries() if item.state == "sending") == 120


def test_only_the_start_of_a_receivers_answer_is_read_and_kept(make_dispatcher: Factory, receiver: str) -> None:
    dispatcher = make_dispatcher(webhook_response_body_bytes=1024)
    job = make_job(receiver + "/big")
    dispatcher.job_completed(job)
    delivery = dispatcher.wait_for(job.request_id, timeout=20)
    assert delivery.state == "delivered"
    [attempt] = delivery.attempts
    assert attempt.response_body == "x" * 1024
    assert attempt.response_truncated is True
    listed = attempt.to_json()
    assert listed["response_body"] == "x" * 1024
    contracts.validate("webhooks/journal-entry", delivery.to_json())
    # the journal keeps it across a restart of the dispatcher (the same store)
    assert dispatcher.deliveries()[0].attempts[0].response_body == "x" * 1024


def test_an_in_process_receivers_answer_is_kept_too(make_dispatcher: Factory) -> None:
    dispatcher = make_dispatcher(webhook_response_body_bytes=4)
    dispatcher.route("hooks.test", transport=httpx.MockTransport(lambda request: httpx.Response(202, text="accepted")))
    job = make_job()
    dispatcher.job_completed(job)
    [attempt] = dispatcher.wait_for(job.request_id).attempts
    assert (attempt.status_code, attempt.response_body, attempt.response_truncated) == (202, "acce", True)
