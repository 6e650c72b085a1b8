"""The fast access log: the lines uvicorn's logging writes, redacted; it steps aside when configured otherwise."""

from __future__ import annotations

import asyncio
import io
import logging
import logging.config
from collections.abc import Iterator

import pytest
from fal_mock.mock_server import redaction
from fal_mock.mock_server.edge.access_log import ACCESS_FORMAT, FastAccessLog, access_log_for, fast_access_log

CALLS = [
    ("127.0.0.1:50123", "GET", "/queue/fal-ai/minimax-video/requests/019b/status", "1.1", 200),
    ("127.0.0.1:50123", "GET", "/queue/fal-ai/minimax-video/requests/019b", "1.1", 202),
    ("[::1]:9", "POST", "/queue/fal-ai/x?fal_webhook=https%3A%2F%2Fu%3Ap%40h.example%2Fsecret&token=abc", "1.1", 200),
    ("10.0.0.2:1", "PUT", "/queue/fal-ai/x/requests/1/cancel", "1.0", 400),
    ("10.0.0.2:1", "GET", "/100%25/done", "1.1", 404),
    ("", "GET", "/x", "1.1", 599),
]


@pytest.fixture
def access_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """``uvicorn.access`` configured as ``fal-mock serve`` configures it, writing to a string."""
    logger = logging.getLogger("uvicorn.access")
    saved = logger.handlers[:], logger.level, logger.propagate
    config = redaction.log_config()
    config["loggers"] = {"uvicorn.access": config["loggers"]["uvicorn.access"]}
    config["handlers"] = {"access": config["handlers"]["access"]}
    logging.config.dictConfig(config)
    stream = io.StringIO()
    handler = logger.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield logger, stream
    logger.handlers[:], logger.level, logger.propagate = saved


def own_handler_only(logger: logging.Logger) -> None:
    """Drop the capture handlers pytest's logging plugin adds during a test (they make the log fall back)."""
    logger.handlers[:] = [handler for handler in logger.handlers if type(handler) is logging.StreamHandler]


def fast_log_of(logger: logging.Logger) -> FastAccessLog:
    """The fast access log of ``logger`` as ``serve`` configures it (pytest's capture handlers dropped)."""
    own_handler_only(logger)
    fast = fast_access_log(logger)
    assert fast is not None
    return fast


@pytest.mark.parametrize("colours", [False, True])
def test_lines_are_those_uvicorn_would_write(access_logger: tuple[logging.Logger, io.StringIO], colours: bool) -> None:
    logger, stream = access_logger
    own_handler_only(logger)
    handler = logger.handlers[0]
    assert handler.formatter is not None
    handler.formatter.use_colors = colours  # type: ignore[attr-defined]
    for call in CALLS:
        logger.info(ACCESS_FORMAT, *call)
    expected = stream.getvalue()
    stream.seek(0)
    stream.truncate()
    fast = fast_access_log(logger)
    assert isinstance(fast, FastAccessLog)
    for call in CALLS:
        fast.info(ACCESS_FORMAT, *call)
    assert stream.getvalue() == expected
    assert "token=***" in expected
    assert "secret" not in expected
    assert "h.example/***" in expected
    assert ('"GET /queue/fal-ai/minimax-video/requests/019b/status HTTP/1.1" 200 OK' in expected) is not colours


def test_other_calls_and_levels_go_through_logging(access_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = access_logger
    fast = fast_log_of(logger)
    passed: list[tuple[object, ...]] = []
    logger.info = lambda msg, *args: passed.append((msg, *args))  # type: ignore[method-assign]
    fast.info("%s says %s", "someone", "hello")
    assert passed == [("%s says %s", "someone", "hello")]
    assert stream.getvalue() == ""
    del logger.info
    assert fast.name == logger.name  # anything else is the logger's
    logger.setLevel(logging.WARNING)
    assert fast_access_log(logger) is None


def test_any_other_configuration_keeps_logging(access_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, _ = access_logger
    own_handler_only(logger)
    logger.addHandler(logging.NullHandler())  # e.g. a test capturing the access log
    assert fast_access_log(logger) is None
    logger.handlers.pop()
    logger.handlers[0].addFilter(logging.Filter("elsewhere"))
    assert fast_access_log(logger) is None
    logger.handlers[0].filters.pop()
    logger.handlers[0].setFormatter(logging.Formatter("%(message)s"))
    assert fast_access_log(logger) is None


def test_a_format_without_the_placeholders_falls_back_per_status(
    access_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = access_logger
    fast = fast_log_of(logger)
    assert fast.formatter is not None
    fast.formatter._style._fmt = "%(levelprefix)s %(status_code)s"  # a custom format: no request line
    fast.info(ACCESS_FORMAT, *CALLS[0])
    assert fast.frames[200] is None
    assert stream.getvalue() == "INFO:     200 OK\n"


def test_one_log_per_server(access_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, _ = access_logger
    own_handler_only(logger)

    class State:
        pass

    first, second = State(), State()
    shared = access_log_for(first, logger)
    assert shared is not None
    assert access_log_for(first, logger) is shared
    assert access_log_for(second, logger) is not shared


async def test_the_lines_of_one_loop_turn_share_one_write_and_one_flush(
    access_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = access_logger
    own_handler_only(logger)
    flushes: list[str] = []
    writes: list[str] = []
    stream.flush = lambda: flushes.append(stream.getvalue())  # type: ignore[method-assign]
    write = stream.write
    stream.write = lambda text: writes.append(text) or write(text)  # type: ignore[method-assign,func-returns-value]
    fast = fast_access_log(logger)
    assert fast is not None
    for call in CALLS[:3]:
        fast.info(ACCESS_FORMAT, *call)
    assert flushes == []
    assert writes == []  # an unbuffered stream (PYTHONUNBUFFERED=1) would make each write a system call
    await asyncio.sleep(0)  # the turn ends
    assert len(flushes) == 1
    assert flushes[0].count("\n") == 3
    assert len(writes) == 1
    fast.info(ACCESS_FORMAT, *CALLS[3])
    await asyncio.sleep(0)
    assert len(flushes) == 2


def test_a_loop_that_stopped_before_its_flush_does_not_hold_later_lines(
    access_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = access_logger
    fast = fast_log_of(logger)
    stopped = asyncio.new_event_loop()
    fast.flush_scheduled, fast.flush_loop = True, stopped  # as a loop that stopped with the flush still due
    stopped.close()

    async def one_line() -> None:
        fast.info(ACCESS_FORMAT, *CALLS[0])
        await asyncio.sleep(0)

    asyncio.run(one_line())
    assert stream.getvalue().count("\n") == 1
