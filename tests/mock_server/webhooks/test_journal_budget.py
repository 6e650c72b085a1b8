"""The webhook journal is bounded by the bytes of the bodies it keeps, not only by its entry count."""

from __future__ import annotations

from tests.mock_server.edge.api._receiver import Recorder
from tests.mock_server.webhooks.test_dispatcher import (  # noqa: F401 - the dispatcher fixtures
    Factory,
    files,
    make_dispatcher,
    make_job,
    rid,
)
from tests.support import both_stores  # noqa: F401 - every test on both stores


def test_finished_deliveries_go_beyond_the_byte_budget(make_dispatcher: Factory) -> None:  # noqa: F811
    probe = make_dispatcher()
    probe.route("hooks.test", Recorder(200).app)
    probe.job_completed(make_job(rid=rid(99)))
    assert probe.wait_idle(30)
    size = len(probe.deliveries()[0].body or b"")
    assert size > 100
    probe.clear()

    dispatcher = make_dispatcher(max_webhook_journal_bytes=2 * size + size // 2, webhook_journal_size=1000)
    dispatcher.route("hooks.test", Recorder(200).app)
    dispatcher.pause()
    for n in (1, 2, 3, 4):
        dispatcher.job_completed(make_job(rid=rid(n)))
    pending = dispatcher.deliveries()
    assert [d.state for d in pending] == ["pending"] * 4  # over the budget, but unfinished ones are never dropped
    for delivery in pending:  # one at a time, in order (delivered together they may finish in any order)
        dispatcher.trigger(delivery.id)
        assert dispatcher.wait_idle(30)
    kept = dispatcher.deliveries()
    assert [d.state for d in kept] == ["delivered", "delivered"]  # 4 bodies of `size` bytes: 2 fit
    assert [d.request_id for d in kept] == [rid(3), rid(4)]  # the oldest went first
