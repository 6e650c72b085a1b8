"""The server secret: random per server, shared through the data dir, pinned only on request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import multiprocessing
import stat
from pathlib import Path

import pytest
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.files.secret import (
    SECRET_FILE,
    SecretFileError,
    SecretMac,
    keyed_token,
    pinned_secret,
    server_secret,
)
from fal_mock.mock_server.files.store import FileStore
from fal_mock.mock_server.ids import short_token
from fal_mock.mock_server.settings import Settings

KiB = 1024


def store_for(settings: Settings) -> FileStore:
    return FileStore.from_settings(settings, ManualClock())


def seed_only_signature(seed: int, purpose: str, query_text: str) -> str:
    """How the upload signature was keyed before issue 13 (from the public seed alone): what an attacker can compute."""
    key = hashlib.sha256(f"fal-mock:{seed}:upload-authority".encode()).digest()
    digest = hmac.new(key, (purpose + "?" + query_text).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def test_without_a_data_dir_every_server_has_its_own_random_secret() -> None:
    first, second = store_for(Settings()), store_for(Settings())
    try:
        assert first.new_key("a.png") != second.new_key("a.png")
        token = first.issue_token()
        assert first.authority.check_token(token.token) is None
        assert second.authority.check_token(token.token) == "CDN token signature does not match"
        signed = first.authority.sign("put:lion/x", {"content_type": "image/png"})
        assert second.authority.verify("put:lion/x", signed) == "the upload URL's signature does not match"
    finally:
        first.close()
        second.close()


def test_file_keys_are_not_the_seed_s_keys() -> None:
    """The first key of a seed-0 store used to be the same on every server (short_token(0, 'file', 1))."""
    store = store_for(Settings(seed=0))
    try:
        key = store.new_key("output.mp4")
        assert short_token(0, "file", 1) not in key
    finally:
        store.close()


def test_the_data_dir_keeps_one_secret_for_restarts(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"))
    before = store_for(settings)
    token = before.issue_token()
    signed = before.authority.sign("put:lion/x", {"content_type": "image/png"})
    before.close()
    path = tmp_path / "data" / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(bytes.fromhex(path.read_text().strip())) == 32
    after = store_for(settings)  # a restart (or another worker) on the same data dir
    try:
        assert after.authority.check_token(token.token) is None
        assert after.authority.verify("put:lion/x", signed) is None
    finally:
        after.close()
    other = store_for(Settings(data_dir=str(tmp_path / "elsewhere")))
    try:
        assert other.authority.check_token(token.token) is not None
    finally:
        other.close()


def _secret_of(data_dir: str) -> str:
    return server_secret(None, data_dir).hex()


@pytest.mark.slow
def test_processes_racing_for_a_new_data_dir_agree_on_one_secret(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        secrets = pool.map(_secret_of, [str(tmp_path)] * 8)
    assert len(set(secrets)) == 1
    assert [path.name for path in tmp_path.iterdir()] == [SECRET_FILE]  # no temporary file left behind


def test_a_pinned_signing_secret_reproduces_keys_tokens_and_signatures(tmp_path: Path) -> None:
    settings = Settings(signing_secret="reproducible", data_dir=str(tmp_path))
    first, second = store_for(settings), store_for(Settings(signing_secret="reproducible"))
    try:
        assert [first.new_key("a.png") for _ in range(3)] == [second.new_key("a.png") for _ in range(3)]
        assert first.issue_token() == second.issue_token()
        assert first.authority.sign("put:k", {}) == second.authority.sign("put:k", {})
        assert not (tmp_path / SECRET_FILE).exists()  # a pinned secret is never written down
        other_seed = store_for(settings.replace(seed=1))
        assert other_seed.new_key("a.png") != store_for(settings).new_key("a.png")
        other_seed.close()
    finally:
        first.close()
        second.close()


def test_a_pinned_secret_still_differs_from_the_seed_scheme() -> None:
    store = store_for(Settings(signing_secret="reproducible"))
    try:
        signed = store.authority.sign("put:lion/x", {})
        text = '[["expires","' + signed["expires"] + '"]]'
        assert signed["signature"] != seed_only_signature(0, "put:lion/x", text)
    finally:
        store.close()


def test_the_signing_secret_is_masked_in_the_settings_view() -> None:
    assert Settings(signing_secret="hunter2").to_json()["signing_secret"] == "***"
    assert Settings().to_json()["signing_secret"] is None
    assert Settings.from_env({"FAL_MOCK_SIGNING_SECRET": "abc"}).signing_secret == "abc"


@pytest.mark.parametrize("content", ["", "not hex", "ab" * 31, "ab" * 33])
def test_a_damaged_secret_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    (tmp_path / SECRET_FILE).write_text(content)
    with pytest.raises(SecretFileError, match="delete it"):
        server_secret(None, tmp_path)


def test_keyed_tokens_are_fal_shaped_and_keyed() -> None:
    token = keyed_token(pinned_secret("a"), 0, "file", 1)
    assert len(token) == 21
    assert token == keyed_token(pinned_secret("a"), 0, "file", 1)
    assert token != keyed_token(pinned_secret("b"), 0, "file", 1)
    assert token != keyed_token(pinned_secret("a"), 0, "file", 2)
    with pytest.raises(ValueError, match="1 to 40"):
        keyed_token(b"k", length=0)


@pytest.mark.parametrize("secret", [b"", b"k", bytes(range(32)), bytes(range(64)), bytes(range(65)), b"s" * 200])
def test_a_secret_mac_is_hmac_sha256(secret: bytes) -> None:
    mac = SecretMac(secret)
    for message in (b"", b"0\x1ffile\x1f1", bytes(range(256)) * 3):
        assert mac.digest(message) == hmac.digest(secret, message, "sha256")
    assert mac.token(0, "file", 7) == keyed_token(secret, 0, "file", 7)


def test_keyed_tokens_keep_their_text_across_versions() -> None:
    # file URLs and upload ids under a pinned signing_secret are reproducible: these are 0.1.0's tokens
    assert keyed_token(pinned_secret("a"), 0, "file", 1) == "OjlExPsu8g-OHu6g_1MH7"
    assert keyed_token(pinned_secret("a"), 7, "upload", 123456, length=40) == "kmYvZxH2rsRys_SIANhg-0J7jC-gVt8ylHwUPzHT"
    assert keyed_token(b"k", "x", length=1) == "J"
