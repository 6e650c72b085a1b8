"""The pure webhook rules of issue 13: which URLs reach the server's own control API, which hosts are loopback."""

from __future__ import annotations

import pytest
from fal_mock.mock_server.webhooks.policy import is_loopback_alias, targets_own_control

OWN = [("127.0.0.1", 8000)]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/_mock/reset",
        "http://localhost:8000/_mock/reset",
        "http://LOCALHOST:8000/_mock/reset",
        "http://app.localhost:8000/_mock/reset",
        "http://127.1.2.3:8000/_mock/faults",
        "http://[::1]:8000/_mock/reset",
        "http://[::ffff:127.0.0.1]:8000/_mock/reset",
        "http://[::127.0.0.1]:8000/_mock/reset",
        "http://0.0.0.0:8000/_mock/reset",
        "http://[::]:8000/_mock/reset",
        "http://127.0.0.1:8000/%5Fmock/reset",
        "http://127.0.0.1:8000/%255Fmock/reset",
        "http://127.0.0.1:8000/x/..//_mock/reset",
        "http://127.0.0.1:8000/\\_mock\\reset",
        "http://user:pw@127.0.0.1:8000/_mock/reset",
    ],
)
def test_urls_that_reach_the_own_control_api(url: str) -> None:
    assert targets_own_control(url, OWN)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/_mock/reset",  # another server
        "http://127.0.0.1:8000/hooks/fal",  # not the control API
        "http://127.0.0.1:8000/hooks/_mockingbird",
        "https://127.0.0.1/_mock/reset",  # port 443
        "http://hooks.example.com:8000/_mock/reset",  # a name that is not this server's
        "not a url",
        "http://[::1/_mock",
        "http://127.0.0.1:8000\\_mock\\reset",  # no URL at all for httpx ("Invalid port"): never sent
    ],
)
def test_urls_that_do_not(url: str) -> None:
    assert not targets_own_control(url, OWN)


def test_the_servers_own_name_counts_too() -> None:
    own = [("10.0.0.5", 8000), ("mock.internal", 8000)]
    assert targets_own_control("http://mock.internal:8000/_mock/reset", own)
    assert targets_own_control("http://10.0.0.5:8000/_mock/reset", own)
    assert not targets_own_control("http://other.internal:8000/_mock/reset", own)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("a.localhost.", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("64:ff9b::7f00:1", True),
        ("2002:7f00:1::", True),
        ("0.0.0.0", True),
        ("10.0.0.1", False),
        ("localhost.example.com", False),
        ("8.8.8.8", False),
    ],
)
def test_loopback_aliases(host: str, loopback: bool) -> None:
    assert is_loopback_alias(host) is loopback
