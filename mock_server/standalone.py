"""Standalone mode for Python programs: the environment that points an unmodified ``fal_client`` at a server.

One function, :func:`client_environment`, is what ``fal-mock env`` prints, what ``fal-mock run -- CMD``
starts ``CMD`` with, and what the ``fal_mock_server`` fixture's ``env`` holds:

* ``FAL_KEY`` (when given), ``FAL_RUN_HOST``, ``FAL_QUEUE_RUN_HOST`` — the official client's own variables;
* ``FAL_MOCK_URL`` — the mock's base URL, which opts the process into the start-up hook;
* ``PYTHONPATH`` — :data:`BOOT_DIR` first: a directory holding only ``sitecustomize.py``
  (:mod:`fal_mock.mock_server.boot.sitecustomize`, read its docstring), which re-points
  ``fal_client``'s storage constants (``REST_URL``, ``CDN_URL``; the client has no variable for
  them) and its run/queue URLs at ``FAL_MOCK_URL`` when ``fal_client`` is imported, then runs any
  ``sitecustomize`` it shadows.  Nothing else in the child is patched;
* ``SSL_CERT_FILE`` — a *trust bundle*: the roots the process trusted anyway (the file ``SSL_CERT_FILE``
  named before, the system's OpenSSL default file and certifi's, when present) followed by the mock's
  CA, so other HTTPS calls keep working (:func:`write_trust_bundle`).

Choices where the brief is silent: an explicit ``PYTHONPATH`` entry rather than a ``.pth`` file in
site-packages — the hook then reaches a script in another virtualenv that has ``fal_client`` but
not ``fal-mock``, and a process without the entry is untouched.  Limits: only processes that honour
``PYTHONPATH`` and run ``site`` (not ``python -S``/``-I``) get the hook.
"""

from __future__ import annotations

import os
import ssl
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

#: The directory put first on ``PYTHONPATH``: it holds only ``sitecustomize.py``.
BOOT_DIR = str(Path(__file__).resolve().parent / "boot")
#: The key ``fal-mock env``/``run`` export when the caller's environment has none.
DEFAULT_KEY = "fal-mock-key:fal-mock-secret"
#: File name of the trust bundle written next to the mock's CA.
BUNDLE_NAME = "fal-mock-trust-bundle.pem"
#: Largest root file read into a bundle (a real one is ~200 KiB; anything bigger is not a CA file).
MAX_ROOTS_BYTES = 8 * 1024 * 1024


class StandaloneError(ValueError):
    """A URL or file that cannot make a client environment (the message says what to give instead)."""


def python_path(existing: str | None) -> str:
    """``PYTHONPATH`` with :data:`BOOT_DIR` first (once), the existing entries after it."""
    entries = [entry for entry in (existing or "").split(os.pathsep) if entry and entry != BOOT_DIR]
    return os.pathsep.join([BOOT_DIR, *entries])


def client_environment(
    url: str,
    *,
    ssl_cert_file: str | None = None,
    key: str | None = None,
    existing_python_path: str | None = None,
) -> dict[str, str]:
    """The variables (in export order) that point ``fal_client`` in a child process at the mock at ``url``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StandaloneError(f"the mock's URL must look like https://127.0.0.1:8443, not {url!r}")
    hostport = parts.netloc + parts.path.rstrip("/")
    environment: dict[str, str] = {}
    if key:
        environment["FAL_KEY"] = key
    environment["FAL_RUN_HOST"] = hostport + "/run"
    environment["FAL_QUEUE_RUN_HOST"] = hostport + "/queue"
    environment["FAL_MOCK_URL"] = url.rstrip("/")
    if ssl_cert_file:
        environment["SSL_CERT_FILE"] = ssl_cert_file
    environment["PYTHONPATH"] = python_path(existing_python_path)
    return environment


def default_root_files(environ: Mapping[str, str]) -> list[str]:
    """Root CA files a process would trust without the mock: ``$SSL_CERT_FILE``, OpenSSL's default, certifi's."""
    found: list[str] = []
    candidates = [environ.get("SSL_CERT_FILE", ""), ssl.get_default_verify_paths().openssl_cafile]
    try:
        import certifi

        candidates.append(certifi.where())
    except ImportError:  # pragma: no cover - httpx depends on certifi
        pass
    seen: set[str] = set()
    for candidate in candidates:
        if not candidate or not os.path.isfile(candidate) or BUNDLE_NAME in os.path.basename(candidate):
            continue
        real = os.path.realpath(candidate)
        if real not in seen:
            seen.add(real)
            found.append(candidate)
    return found


def write_trust_bundle(ca_file: str, destination: str, roots: list[str] | None = None) -> str:
    """Write ``roots`` (default :func:`default_root_files`) then ``ca_file`` to ``destination``; returns it.

    Raises :class:`StandaloneError` if ``ca_file`` is not a PEM certificate file.  Written to a
    temporary name and renamed, so a reader never sees half a bundle.
    """
    ca_text = Path(ca_file).read_text(encoding="ascii", errors="replace")
    if "-----BEGIN CERTIFICATE-----" not in ca_text:
        raise StandaloneError(f"{ca_file} is not a PEM certificate (the CA file a --tls server writes)")
    parts: list[str] = []
    for root in default_root_files(os.environ) if roots is None else roots:
        path = Path(root)
        if path.stat().st_size > MAX_ROOTS_BYTES:
            continue
        text = path.read_text(encoding="ascii", errors="replace")
        if "-----BEGIN CERTIFICATE-----" in text:
            parts.append(f"# roots from {root}\n{text.rstrip()}\n")
    parts.append(f"# fal-mock's local CA ({ca_file})\n{ca_text.rstrip()}\n")
    target = Path(destination)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text("".join(parts), encoding="ascii")
    os.replace(temporary, target)
    return str(target)


def bundle_for(ca_file: str) -> str:
    """The trust bundle next to ``ca_file`` (written now if missing; in a temp dir if that folder is read-only)."""
    beside = Path(ca_file).resolve().parent / BUNDLE_NAME
    if beside.is_file():
        return str(beside)
    try:
        return write_trust_bundle(ca_file, str(beside))
    except PermissionError:
        import tempfile

        folder = tempfile.mkdtemp(prefix="fal-mock-trust-")
        return write_trust_bundle(ca_file, os.path.join(folder, BUNDLE_NAME))
