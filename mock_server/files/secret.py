"""The server secret: the key behind upload signatures, CDN tokens, file keys and upload ids.

Whoever knows it can sign an upload URL, mint a CDN token or predict the key of the next stored
file, so it never derives from the public seed alone (issue 13: the seed-0 signing key let
anyone replace a job's MP4).  Where it comes from (:func:`server_secret`):

``Settings.signing_secret`` set
    derived from that text (SHA-256 of a labelled string): signatures, tokens and file URLs are
    then the same bytes on every run with the same seed — for tests that compare them.  Anyone
    who knows the text can forge uploads: never use it on a server reachable beyond loopback.
a data directory (``Settings.data_dir``)
    32 random bytes (:func:`os.urandom`) kept in ``<data_dir>/server-secret`` (64 hex digits,
    mode 0600), made by the first process that needs it and read by every later one — so a
    restart and every ``--workers N`` process verify each other's signatures.  The file is
    published atomically (written under a temporary name, then hard-linked to its final name,
    which fails if another process won the race: that process's secret is read instead), so no
    process ever reads a half-written secret.  Delete the file (server stopped) to rotate it.
neither
    32 fresh random bytes per store: nothing outlives the process, so nothing needs to agree.

Limits and errors: a secret file that is not exactly 64 hex digits (plus an optional newline)
raises :class:`SecretFileError` naming the file, instead of silently signing with a weak key.

:func:`keyed_token` turns the secret into fal-shaped identifiers (HMAC-SHA256 over the labelled
parts), so under a pinned secret they stay deterministic and otherwise they are unguessable.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
from pathlib import Path

#: Name of the secret file inside the data directory.
SECRET_FILE = "server-secret"
#: Bytes of a random secret.
SECRET_BYTES = 32
#: URL-safe alphabet of fal's file ids (``rIFaCsyWvBxYBKw3cPbOU``).
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
assert len(ALPHABET) == 64  # keyed_token takes 6 bits per character
_HEX = re.compile(r"^[0-9a-f]{64}$")


class SecretFileError(ValueError):
    """The data directory's secret file exists but does not hold a secret."""


def pinned_secret(signing_secret: str) -> bytes:
    """The secret an explicit ``signing_secret`` setting stands for (reproducible; unsafe beyond loopback)."""
    return hashlib.sha256(f"fal-mock:signing-secret:{signing_secret}".encode()).digest()


def server_secret(signing_secret: str | None, data_dir: str | os.PathLike[str] | None) -> bytes:
    """The server's secret: from ``signing_secret`` if given, else kept in ``data_dir``, else fresh random bytes."""
    if signing_secret is not None:
        return pinned_secret(signing_secret)
    if data_dir is None:
        return os.urandom(SECRET_BYTES)
    return persistent_secret(Path(data_dir))


def persistent_secret(directory: Path) -> bytes:
    """The secret kept in ``directory/server-secret``, made (atomically, mode 0600) if there is none yet."""
    path = directory / SECRET_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f".{SECRET_FILE}.{os.getpid()}.{os.urandom(6).hex()}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as out:
                out.write(os.urandom(SECRET_BYTES).hex() + "\n")
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another process published its secret first: use that one
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    text = path.read_text(encoding="ascii", errors="replace").strip()
    if not _HEX.match(text):
        raise SecretFileError(
            f"{path} does not hold a fal-mock server secret (64 hex digits); delete it to make a new one"
        )
    return bytes.fromhex(text)


def keyed_token(secret: bytes, *parts: object, length: int = 21) -> str:
    """A URL-safe token of ``length`` characters from HMAC-SHA256(``secret``, ``parts``): unguessable without it."""
    return SecretMac(secret).token(*parts, length=length)


def keyed_int(secret: bytes, *parts: object) -> int:
    """A 64-bit integer from HMAC-SHA256(``secret``, ``parts``) (for keyed choices such as a bucket)."""
    return SecretMac(secret).integer(*parts)


class SecretMac:
    """HMAC-SHA256 under one secret, keyed once (:func:`hmac.new`, copied for each message): for a caller that
    makes many MACs (a file store: two per stored file)."""

    def __init__(self, secret: bytes) -> None:
        self._keyed = hmac.new(secret, digestmod=hashlib.sha256)

    def digest(self, message: bytes) -> bytes:
        mac = self._keyed.copy()
        mac.update(message)
        return mac.digest()

    @staticmethod
    def _message(parts: tuple[object, ...]) -> bytes:
        return "\x1f".join(map(str, parts)).encode()

    def token(self, *parts: object, length: int = 21) -> str:
        """:func:`keyed_token` under this secret."""
        if not 1 <= length <= 40:
            raise ValueError(f"a keyed token has 1 to 40 characters, not {length}")
        number = int.from_bytes(self.digest(self._message(parts)), "big")
        # the base-64 digits of the MAC, least significant first (what repeated divmod by 64 gives, by shifts)
        return "".join([ALPHABET[(number >> shift) & 63] for shift in range(0, 6 * length, 6)])

    def integer(self, *parts: object) -> int:
        """:func:`keyed_int` under this secret."""
        return int.from_bytes(self.digest(self._message(parts))[:8], "big")
