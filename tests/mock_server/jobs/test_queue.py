"""The queue core on its own: a ``JobQueue`` built directly (no app, no HTTP) on a manual clock with a fake generator.

What a user of the queue sees — states over polls and clock time, outputs, cancels, refusals as domain
errors, completions announced once — on memory and on SQLite (``both_stores``).  The fake generator
answers ``{"echo": <prompt>}`` and counts its calls; it says its outputs are cached, so the runner
generates urgent ones inline (no thread to wait for) and only ``realistic`` jobs, wanted ahead of their
end, go to the runner's threads (the tests then wait on the runner, never on time).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.files.store import FileStore
from fal_mock.mock_server.jobs.endpoints import Endpoint, EndpointRegistry
from fal_mock.mock_server.jobs.errors import JobAlreadyCompleted, JobNotFound, QueueFull, QueueLengthReached
from fal_mock.mock_server.jobs.generators import Generated, NotCached
from fal_mock.mock_server.jobs.model import Job, JobState, Origin, Outcome
from fal_mock.mock_server.jobs.queue import CancelResult, JobQueue, Submission
from fal_mock.mock_server.jobs.runner import Runner
from fal_mock.mock_server.persistence import StateStore
from fal_mock.mock_server.settings import Settings

from tests.support import CountingStore, both_stores, count_validations  # noqa: F401 - every test on both stores

MINIMAX = "fal-ai/minimax-video/image-to-video"
APP = "fal-ai/minimax-video"
GOOD = {"prompt": "a cat", "image_url": "https://example.com/cat.png"}
ORIGIN = Origin("https://v3.fal.media")


class FakeGenerator:
    """Echoes the prompt; counts its calls; claims a cached output (so urgent jobs are generated inline)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def generate(self, endpoint: Endpoint, inputs: Mapping[str, Any], *, own_hosts: set[str]) -> Generated:
        self.calls.append(str(inputs["prompt"]))
        return Generated(body={"echo": inputs["prompt"]}, files=(), log_lines=(("fake generator ran", "INFO"),))

    def cached(self, endpoint: Endpoint, inputs: Mapping[str, Any]) -> bool:
        return True

    def cached_output(self, endpoint: Endpoint, inputs: Mapping[str, Any]) -> Generated:
        return self.generate(endpoint, inputs, own_hosts=set())


class NoFaults:
    def __init__(self, forced: tuple[Outcome, str] | None = None) -> None:
        self.forced = forced

    def outcome_for_new_job(self, job: Job) -> tuple[Outcome, str] | None:
        return self.forced


@dataclass
class Core:
    queue: JobQueue
    runner: Runner
    generator: FakeGenerator
    clock: ManualClock
    store: CountingStore
    endpoint: Endpoint
    completed: list[str] = field(default_factory=list)

    def job_completed(self, job: Job) -> None:
        self.completed.append(job.request_id)

    def submit(self, progression: str, arguments: Any = None, **extra: Any) -> Job:
        arguments = GOOD if arguments is None else arguments
        return self.queue.submit(Submission(self.endpoint, arguments, ORIGIN, progression=progression, **extra))

    def poll(self, job: Job, namespace: str = "") -> Job:
        return self.queue.read(job.request_id, app_id=APP, namespace=namespace, status_read=True)

    def fetch(self, job: Job) -> Job:
        return self.queue.read(job.request_id, app_id=APP, namespace="", status_read=False)


@pytest.fixture
def make_core(state_store: StateStore, clock: ManualClock) -> Iterator[Callable[..., Core]]:
    made: list[tuple[Runner, FileStore]] = []

    def factory(faults: NoFaults | None = None, **settings: Any) -> Core:
        config = Settings.from_mapping(settings)
        files = FileStore.from_settings(config, clock)
        registry = EndpointRegistry()
        endpoint = registry.get(MINIMAX)
        assert endpoint is not None
        generator = FakeGenerator()
        store = CountingStore(state_store)
        typed: StateStore = store  # type: ignore[assignment]  # passes every call through
        runner = Runner(settings=config, clock=clock, store=typed, files=files, registry=registry, generator=generator)
        made.append((runner, files))
        core = Core(queue=None, runner=runner, generator=generator, clock=clock, store=store,  # type: ignore[arg-type]
                    endpoint=endpoint)  # fmt: skip
        core.queue = JobQueue(settings=config, clock=clock, store=typed, runner=runner, faults=faults or NoFaults(),
                              completion_subscribers=[core])  # fmt: skip
        return core

    yield factory
    for runner, files in made:
        runner.close()
        files.close()


@pytest.fixture
def core(make_core: Callable[..., Core]) -> Core:
    return make_core()


# --- progressions --------------------------------------------------------------------------------
def test_immediate_is_done_at_submit_with_the_generators_output(core: Core) -> None:
    job = core.submit("immediate")
    assert job.state is JobState.COMPLETED
    assert core.generator.calls == ["a cat"]
    seen = core.poll(job)
    assert seen.state is JobState.COMPLETED
    outcome = core.fetch(job).final_outcome()
    assert outcome is not None
    assert outcome.ok
    assert outcome.body == {"echo": "a cat"}
    assert ("fake generator ran", "INFO") in outcome.log_lines
    assert core.completed == [job.request_id]  # announced once, however often it is read
    assert core.queue.logs(seen)[-1]["message"] == outcome.log_lines[-1][0]


def test_an_immediate_job_with_a_cached_output_is_stored_completed_without_the_runner(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its output is bookkeeping: it is stored COMPLETED, with the same moments a runner-made one gets."""
    asked: list[str] = []
    monkeypatch.setattr(core.runner, "request", lambda job, **_: asked.append(job.request_id))
    job = core.submit("immediate")
    assert asked == []
    assert core.runner.pending() == []
    stored = core.fetch(job)
    assert stored.state is JobState.COMPLETED
    assert stored.started_at == stored.completed_at == stored.submitted_at
    assert stored.rendered_at == core.clock.now()
    assert stored.check_at is None
    assert stored.inputs is None  # final: nothing reads them any more
    assert stored.result_expires_at == stored.completed_at + core.queue.settings.result_ttl_seconds
    outcome = stored.final_outcome()
    assert outcome is not None
    assert outcome.body == {"echo": "a cat"}
    assert core.completed == [job.request_id]  # announced once


def test_an_output_that_is_not_cached_still_goes_to_the_runner(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    def not_cached(endpoint: Endpoint, inputs: Mapping[str, Any]) -> Generated:
        raise NotCached(endpoint.endpoint_id)

    monkeypatch.setattr(core.generator, "cached_output", not_cached)
    monkeypatch.setattr(core.generator, "cached", lambda endpoint, inputs: False)
    asked: list[str] = []
    request = core.runner.request

    def spy(job: Job, **options: Any) -> None:
        asked.append(job.request_id)
        request(job, **options)

    monkeypatch.setattr(core.runner, "request", spy)
    job = core.submit("immediate")
    assert asked == [job.request_id]
    assert core.runner.wait_blocking(job.request_id, 30)  # generated on a runner thread
    assert core.poll(job).state is JobState.COMPLETED
    assert core.generator.calls == ["a cat"]
    assert core.completed == [job.request_id]


def test_a_polls_job_gets_its_cached_output_at_submit_and_still_moves_with_reads(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core.runner, "request", lambda job, **_: pytest.fail("the runner was asked"))
    job = core.submit("polls:1")
    assert job.state is JobState.IN_QUEUE
    assert core.fetch(job).outcome is not None
    assert [core.poll(job).state for _ in range(3)] == [JobState.IN_QUEUE, JobState.IN_PROGRESS, JobState.COMPLETED]
    assert core.completed == [job.request_id]


@pytest.mark.parametrize("budget", [4 << 20, 0])
def test_a_repeated_input_is_validated_once(make_core: Callable[..., Core], monkeypatch: pytest.MonkeyPatch,
                                            budget: int) -> None:  # fmt: skip
    runs = count_validations(monkeypatch)
    core = make_core(validated_input_cache_bytes=budget)
    body = json.dumps(GOOD).encode()
    jobs = [core.submit("immediate", json.loads(body), arguments_json=body) for _ in range(3)]
    assert len(runs) == (1 if budget else 3)
    core.submit("immediate")  # arguments without their text (an in-process caller's): validated every time
    assert len(runs) == (2 if budget else 4)
    assert all(core.fetch(job).final_outcome().body == {"echo": "a cat"} for job in jobs)  # type: ignore[union-attr]


def test_a_failing_completion_subscriber_fails_neither_the_submit_nor_the_others(
    make_core: Callable[..., Core], caplog: pytest.LogCaptureFixture
) -> None:
    core = make_core(max_finished_jobs=1)

    class Broken:
        def job_completed(self, job: Job) -> None:
            raise RuntimeError("a bug in a listener")

    core.queue.completion_subscribers = (Broken(), core)
    jobs = [core.submit("immediate") for _ in range(2)]  # the second from the output cache
    assert all(job.state is JobState.COMPLETED for job in jobs)
    assert core.completed == [job.request_id for job in jobs]  # the next subscriber still heard
    assert [job.request_id for job in core.queue.store.jobs()] == [jobs[1].request_id]  # pruned to the cap
    failures = [record for record in caplog.records if record.exc_info and "completed failed" in record.getMessage()]
    assert len(failures) == 2  # each logged


def test_a_realistic_job_refused_at_submit_keeps_its_422_even_past_its_start_deadline(
    make_core: Callable[..., Core], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock moving while the job is created does not make its 422 a 504: its planned start decides."""
    core = make_core(realistic_time_scale=0.01)
    create = core.queue.create

    def slow_create(submission: Submission, **options: Any) -> Job:
        job = create(submission, **options)
        core.clock.advance(0.3)  # a busy host: creating took longer than the start deadline
        return job

    monkeypatch.setattr(core.queue, "create", slow_create)
    job = core.submit("realistic", {"prompt": "no image"}, start_timeout=0.2)
    core.clock.advance(60)
    core.queue.settle()
    outcome = core.fetch(job).final_outcome()
    assert outcome is not None
    assert outcome.status_code == 422


def test_polls_n_moves_with_status_reads_only(core: Core) -> None:
    job = core.submit("polls:2")
    assert core.generator.calls == ["a cat"]  # generated at submit: what a client sees depends on its reads alone
    seen = [core.poll(job).state for _ in range(5)]
    assert seen == [JobState.IN_QUEUE, JobState.IN_QUEUE, JobState.IN_PROGRESS, JobState.IN_PROGRESS,
                    JobState.COMPLETED]  # fmt: skip
    assert core.completed == [job.request_id]


def test_result_fetches_do_not_count_as_polls(core: Core) -> None:
    job = core.submit("polls:1")
    for _ in range(3):
        assert core.fetch(job).state is JobState.IN_QUEUE
    assert core.poll(job).state is JobState.IN_QUEUE
    assert core.poll(job).state is JobState.IN_PROGRESS


def test_manual_moves_only_when_pushed(core: Core) -> None:
    job = core.submit("manual")
    core.clock.advance(3600)
    assert core.poll(job).state is JobState.IN_QUEUE
    assert core.queue.push(job.request_id, JobState.IN_PROGRESS).state is JobState.IN_PROGRESS
    core.queue.push(job.request_id, JobState.COMPLETED)
    # its output was wanted (ahead) when it started: it completes once the runner has stored it, not before
    assert core.runner.wait_blocking(job.request_id, 30)
    done = core.poll(job)
    assert done.state is JobState.COMPLETED
    assert core.fetch(job).final_outcome() is not None
    assert core.completed == [job.request_id]
    with pytest.raises(JobAlreadyCompleted):
        core.queue.push(job.request_id, JobState.COMPLETED)


def test_realistic_follows_the_clock(core: Core) -> None:
    job = core.submit("realistic")
    queue_wait, inference = job.planned_queue_seconds, job.planned_inference_seconds
    assert queue_wait > 0
    assert inference > 0
    assert core.poll(job).state is JobState.IN_QUEUE
    core.clock.advance(queue_wait + 0.001)
    assert core.poll(job).state is JobState.IN_PROGRESS
    assert core.runner.wait_blocking(job.request_id, 30)  # wanted ahead of its end: generated on a runner thread
    assert core.poll(job).state is JobState.IN_PROGRESS  # its end has not come
    core.clock.advance(inference)
    done = core.poll(job)
    assert done.state is JobState.COMPLETED
    assert done.completed_at == pytest.approx(job.submitted_at + queue_wait + inference, abs=0.01)
    assert core.completed == [job.request_id]


def test_realistic_settles_without_polls(core: Core) -> None:
    """The server's ticker settles due jobs: one whose end has come gets its output urgently and completes."""
    job = core.submit("realistic")
    core.clock.advance(job.planned_queue_seconds + job.planned_inference_seconds + 1)
    core.queue.settle()
    assert core.completed == [job.request_id]
    assert core.fetch(job).state is JobState.COMPLETED
    assert core.generator.calls == ["a cat"]


# --- input the model refuses -------------------------------------------------------------------------
def test_invalid_input_completes_with_the_422_without_generating(core: Core) -> None:
    job = core.submit("immediate", {"prompt": "no image"})
    assert job.state is JobState.COMPLETED
    outcome = core.fetch(job).final_outcome()
    assert outcome is not None
    assert not outcome.ok
    assert outcome.status_code == 422
    assert core.generator.calls == []


def test_a_queued_fault_forces_the_outcome(make_core: Callable[..., Core]) -> None:
    forced = Outcome(status_code=500, body={"detail": "boom"})
    core = make_core(faults=NoFaults((forced, "fault-1")))
    job = core.submit("immediate")
    assert job.fault_id == "fault-1"
    assert core.fetch(job).final_outcome() == forced


# --- cancel ------------------------------------------------------------------------------------------
def test_cancel_a_queued_job_completes_it_as_cancelled(core: Core) -> None:
    job = core.submit("manual")
    assert core.queue.cancel(job.request_id, app_id=APP, namespace="") is CancelResult.REQUESTED
    seen = core.poll(job)
    assert seen.state is JobState.COMPLETED
    outcome = seen.final_outcome()
    assert outcome is not None
    assert not outcome.ok
    assert core.completed == [job.request_id]
    assert core.queue.cancel(job.request_id, app_id=APP, namespace="") is CancelResult.ALREADY_COMPLETED


def test_cancel_a_running_job_lets_it_run(core: Core) -> None:
    job = core.submit("manual")
    core.queue.push(job.request_id, JobState.IN_PROGRESS)
    assert core.queue.cancel(job.request_id, app_id=APP, namespace="") is CancelResult.REQUESTED
    seen = core.poll(job)
    assert seen.state is JobState.IN_PROGRESS
    assert seen.cancel_requested
    assert core.completed == []


def test_cancel_unknown_or_foreign_jobs_is_not_found(core: Core) -> None:
    job = core.submit("manual")
    for request_id, app_id, namespace in (("nope", APP, ""), (job.request_id, "fal-ai/other", ""),
                                          (job.request_id, APP, "team-b")):  # fmt: skip
        with pytest.raises(JobNotFound):
            core.queue.cancel(request_id, app_id=app_id, namespace=namespace)


# --- reading ------------------------------------------------------------------------------------------
def test_reads_see_only_their_app_and_namespace(core: Core) -> None:
    job = core.queue.submit(Submission(core.endpoint, GOOD, ORIGIN, progression="immediate", namespace="team-a"))
    assert core.poll(job, namespace="team-a").request_id == job.request_id
    with pytest.raises(JobNotFound):
        core.poll(job)
    with pytest.raises(JobNotFound):
        core.queue.read(job.request_id, app_id="fal-ai/other", namespace="team-a", status_read=True)
    with pytest.raises(JobNotFound):
        core.queue.read("019b0000-0000-7000-8000-000000000000", app_id=APP, namespace="", status_read=False)


def test_a_result_past_its_retention_is_gone(make_core: Callable[..., Core]) -> None:
    core = make_core(result_ttl_seconds=60)
    job = core.submit("immediate")
    core.clock.advance(59)
    assert core.fetch(job).state is JobState.COMPLETED
    core.clock.advance(2)
    with pytest.raises(JobNotFound):
        core.fetch(job)


@pytest.mark.parametrize("progression", ["manual", "polls:3", "realistic"])
def test_a_status_poll_of_an_unfinished_job_is_one_store_read(core: Core, progression: str) -> None:
    job = core.submit(progression)
    for _ in range(2):
        core.store.reads.clear()
        assert not core.poll(job).finished
        assert core.store.reads == ["update_job"]


def test_a_result_fetch_of_a_finished_job_is_one_store_read(core: Core) -> None:
    job = core.submit("immediate")
    core.store.reads.clear()
    assert core.fetch(job).finished
    assert core.store.reads == ["get_job"]


# --- limits -------------------------------------------------------------------------------------------
def test_a_full_queue_refuses_new_jobs(make_core: Callable[..., Core]) -> None:
    core = make_core(max_queue_size=2)
    core.submit("manual")
    core.submit("manual")
    with pytest.raises(QueueFull):
        core.submit("manual")
    core.queue.push(core.queue.store.jobs()[0].request_id, JobState.COMPLETED)
    assert core.submit("manual").state is JobState.IN_QUEUE  # a finished job frees its place


def test_fal_max_queue_length_refuses_when_that_many_wait(core: Core) -> None:
    core.submit("manual", max_queue_length=1)
    with pytest.raises(QueueLengthReached):
        core.submit("manual", max_queue_length=1)
    assert core.submit("manual", max_queue_length=2).state is JobState.IN_QUEUE


def test_a_job_stays_pending_while_its_completion_is_announced(core: Core) -> None:
    """A waiter arriving while the queue hears of the outcome waits for it (it must not find the outcome stored
    and the job not yet moved on: a result fetch then answered 'still in progress')."""
    seen: list[tuple[bool, bool]] = []
    runner = core.runner

    def announced(request_id: str) -> None:
        seen.append((request_id in runner.pending(), runner.wait_blocking(request_id, 0.0)))

    job = core.submit("manual")
    assert job.inputs is not None
    runner.request(job, urgent=True, on_ready=announced)
    assert seen == [(True, False)]  # still pending: a waiter would wait, not read a half-finished job
    assert runner.pending() == []
    assert runner.wait_blocking(job.request_id, 5.0)  # done: returns at once
