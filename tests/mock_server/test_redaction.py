"""Redacting queries: a plain query (``logs=false``) is answered without parsing it, exactly as parsing would."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from fal_mock.mock_server import redaction
from fal_mock.mock_server.edge.request_parts import query_value
from fal_mock.mock_server.redaction import plain_pairs, redact_query
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams
from starlette.requests import Request

#: Characters a query may hold, plain ones and the ones that make parsing matter.
QUERY_TEXT = st.text(alphabet="ab_.~-09=&%+;:/?#[]*é ", max_size=40)


@given(QUERY_TEXT)
def test_plain_pairs_are_what_parse_qsl_gives(query: str) -> None:
    pairs = plain_pairs(query)
    if pairs is not None:
        assert pairs == parse_qsl(query, keep_blank_values=True)


@given(st.lists(st.tuples(st.sampled_from(["logs", "fal_webhook", "token", "a", "x-y"]), QUERY_TEXT), max_size=4))
def test_a_redacted_query_of_named_parameters_does_not_depend_on_the_shortcut(pairs: list[tuple[str, str]]) -> None:
    query = "&".join(f"{name}={value}" for name, value in pairs)
    shortcut = redact_query(query)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(redaction, "plain_pairs", lambda _query: None)
        assert redact_query(query) == shortcut


@given(QUERY_TEXT)
def test_a_redacted_query_does_not_depend_on_the_shortcut(query: str) -> None:
    shortcut = redact_query(query)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(redaction, "plain_pairs", lambda _query: None)
        assert redact_query(query) == shortcut


@given(QUERY_TEXT, st.sampled_from(["logs", "a", "token", "b_"]))
def test_query_value_is_what_starlette_answers(query: str, name: str) -> None:
    raw = query.encode("utf-8")
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": raw})
    assert query_value(request, name) == QueryParams(raw.decode("latin-1")).get(name)


def test_plain_queries_keep_their_secrets_out() -> None:
    assert plain_pairs("logs=false") == [("logs", "false")]
    assert redact_query("logs=1&token=abc&api_key=x") == "logs=1&token=***&api_key=***"
    assert plain_pairs("logs") is None  # a name without "=": parsed (it becomes "logs=")
    assert redact_query("logs") == "logs="
    assert redact_query("fal_webhook=hooks.example.com&logs=1") == "fal_webhook=***&logs=1"  # never shown as sent
