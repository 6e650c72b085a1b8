"""One mock of fal without its HTTP edge: the parts, wired together in the one place that shows how.

:func:`build_services` makes a :class:`MockServices` — settings, clock, state store, file store,
endpoint registry, runner, job queue, webhook dispatcher and fault book — and nothing else
holds state: any number of them can live side by side (one per test).  Who talks to whom, all
of it visible here:

* the queue asks the **runner** for outputs and the runner reports back to the queue (the
  queue passes its ``outcome_ready`` with each request);
* the queue asks the **fault book** once per new job (faults queued for jobs);
* the queue announces every completed job to its **completion subscribers**: the webhook
  dispatcher.

The HTTP edge (:mod:`.edge.app`) hangs one of these on ``app.state.mock``; the control plane
(:mod:`.control`) operates on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import Clock
from .faults.book import FaultBook
from .files.store import FileStore
from .jobs.endpoints import EndpointRegistry, load_endpoints
from .jobs.fetch import Fetcher
from .jobs.generators import VideoGenerator
from .jobs.inputs import InputResolver, referenced_files
from .jobs.queue import JobQueue
from .jobs.runner import Runner
from .jobs.schema_generator import SchemaGenerator
from .persistence import store_for
from .persistence.protocol import StateStore
from .settings import Settings
from .webhooks.dispatcher import WebhookDispatcher


@dataclass
class MockServices:
    """Everything one mock of fal owns."""

    settings: Settings
    clock: Clock
    store: StateStore
    files: FileStore
    registry: EndpointRegistry
    runner: Runner
    queue: JobQueue
    #: Webhook deliveries: dispatcher thread, signing key, delivery journal.
    webhooks: WebhookDispatcher
    #: Queued faults (``fail_next``): spent by the edge's fault stage and by the queue for new jobs.
    faults: FaultBook

    def tick(self) -> None:
        """Move ``realistic`` jobs whose moment has come (the server's ticker calls this often)."""
        due = self.store.unfinished_ids(progression="realistic")
        if due:
            self.queue.settle(due)

    def keep_house(self) -> None:
        """Drop expired results, journal entries and files; renew generation claims; adopt orphaned jobs."""
        self.queue.prune()
        self.files.purge_expired()
        self.runner.renew_claims()
        self.queue.recover_orphans()

    def close(self) -> None:
        self.runner.close()
        self.webhooks.close()
        self.store.close()
        self.files.close()


def build_services(
    settings: Settings, clock: Clock, store: StateStore | None = None, registry: EndpointRegistry | None = None
) -> MockServices:
    """Wire one mock's parts together (no web framework involved).

    ``registry``: the endpoints to serve (shareable between mocks: it only caches); by default the
    bundled documents plus ``settings.openapi``.
    """
    if registry is None:  # a broken user document fails here, naming its file and JSON path
        registry = load_endpoints(settings.openapi)
    state = store if store is not None else store_for(settings)
    files = FileStore.from_settings(settings, clock)
    files.set_reference_provider(lambda: referenced_files(state))
    resolver = InputResolver(files=files, policy=settings.image_url_policy, max_size=settings.max_input_file_bytes,
                             fetcher=Fetcher.from_settings(settings))  # fmt: skip
    runner = Runner(settings=settings, clock=clock, store=state, files=files, registry=registry,
                    generator=SchemaGenerator(settings, resolver, VideoGenerator(settings, resolver)))  # fmt: skip
    webhooks = WebhookDispatcher(settings=settings, clock=clock, files=files, store=state, owner=runner.owner)
    faults = FaultBook(settings, clock, state)
    queue = JobQueue(settings=settings, clock=clock, store=state, runner=runner, faults=faults,
                     completion_subscribers=[webhooks])  # fmt: skip
    return MockServices(settings=settings, clock=clock, store=state, files=files, registry=registry,
                        runner=runner, queue=queue, webhooks=webhooks, faults=faults)  # fmt: skip
