"""The ``fal-mock`` command: ``serve`` a mock fal, print the ``env`` that points clients at it.

``fal-mock serve`` defaults: 127.0.0.1, port 8000, plain HTTP, ``realistic``
progression (timings on the wall clock), ``preview`` videos.  Widening ``--host``
beyond loopback prints a warning, and is refused unless the control API has a
``--control-token`` (or ``--insecure-control`` says to serve it open).  ``--tls`` makes
a local CA (needed by the official Python client, which only speaks https).
``--ready-file`` gets ``{"url", "ca_file", ...}`` once the server accepts connections
(``--ready-fd N`` writes the same line to an inherited pipe, for parents that block on it).
``--data-dir DIR`` keeps state on disk (:mod:`.persistence.sqlite`); ``--workers N`` needs it
(:mod:`.edge.workers`).
uvicorn's own options keep uvicorn's spelling: ``--ssl-certfile/--ssl-keyfile``, ``--root-path``,
``--proxy-headers/--forwarded-allow-ips`` (:mod:`.edge.forwarded`: forwarded headers believed only
from allowed proxies), ``--log-level`` (``trace`` included) and ``--access-log/--no-access-log``.

``fal-mock env --ready-file F`` (or ``--url U [--ca-file C]``) prints the shell
exports for the official Python client (DESIGN §2); ``fal-mock run --ready-file F -- CMD``
starts CMD with them (:mod:`.standalone`: an opt-in start-up hook points ``fal_client``'s storage
URLs at the mock too, and ``SSL_CERT_FILE`` is a bundle of the usual roots plus the mock's CA).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import shlex
import socket
import sys
import tempfile
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .settings import Settings, UnknownSetting, describe_settings
from .settings import check_progression as _check_progression

if TYPE_CHECKING:
    from .jobs.endpoints import EndpointRegistry

log = logging.getLogger("fal_mock")


def _progression(value: str) -> str:
    try:
        return _check_progression(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _version() -> str:
    from fal_mock import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fal-mock", description="An offline, faithful stand-in for the fal.ai API.")
    parser.add_argument("--version", action="version", version=f"fal-mock {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve a mock fal on a local socket")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: loopback only)")
    serve.add_argument("--port", type=int, default=8000, help="port (0 picks a free one; default 8000)")
    serve.add_argument("--tls", action="store_true", help="serve https with a fresh local CA (trustme)")
    serve.add_argument("--tls-dir", default=None,
                       help="where to write the CA, certificate and trust bundle (default: a temp dir)")  # fmt: skip
    serve.add_argument("--seed", type=int, default=None, help="seed of ids, keys and videos (default 0)")
    serve.add_argument("--progression", type=_progression, default=None,
                       help="immediate | polls:N | realistic | manual (default realistic)")  # fmt: skip
    serve.add_argument("--video-profile", choices=("preview", "realistic"), default=None,
                       help="preview: small, fast videos (default); realistic: the models' real sizes and lengths")
    serve.add_argument("--auth", choices=("format", "keys", "off"), default=None,
                       help="format: any well-formed key is accepted (default); keys: only the --key values; "
                            "off: no Authorization needed")  # fmt: skip
    serve.add_argument("--key", action="append", default=None, help="an accepted key (with --auth keys); repeatable")
    serve.add_argument("--image-url-policy", choices=("placeholder", "fetch", "error"), default=None,
                       help="an image_url that is neither a data URI nor a file of this mock: placeholder (a frame "
                            "drawn from the URL; default), fetch (download it: --set fetch_allow_hosts=...), or "
                            "error (file_download_error)")  # fmt: skip
    serve.add_argument("--control-token", default=None, help="token the /_mock control API requires")
    serve.add_argument("--insecure-control", action="store_true",
                       help="beyond loopback, serve the control API without a token (refused otherwise)")  # fmt: skip
    serve.add_argument("--data-dir", default=None,
                       help="keep jobs, journals and files in DIR (SQLite + files); they survive restarts")  # fmt: skip
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes sharing one --data-dir (default 1; more need --data-dir)")  # fmt: skip
    serve.add_argument("--ready-file", default=None, help="write {url, ca_file, ...} here once serving")
    serve.add_argument("--ready-fd", type=int, default=None, metavar="N",
                       help="write the same JSON as one line to inherited descriptor N, then close it")  # fmt: skip
    serve.add_argument("--log-level", default="info",
                       choices=("critical", "error", "warning", "info", "debug", "trace"))  # fmt: skip
    serve.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=True,
                       help="a line per request (default on; --no-access-log: none)")  # fmt: skip
    # uvicorn's own options, spelled as uvicorn spells them (see edge/forwarded.py for the proxy headers)
    serve.add_argument("--ssl-certfile", default=None,
                       help="serve https with this certificate (PEM) instead of --tls's local CA")  # fmt: skip
    serve.add_argument("--ssl-keyfile", default=None, help="the key of --ssl-certfile (PEM)")
    serve.add_argument("--proxy-headers", action=argparse.BooleanOptionalAction, default=True,
                       help="believe X-Forwarded-Proto/-Host/-For from --forwarded-allow-ips (default on)")  # fmt: skip
    serve.add_argument("--forwarded-allow-ips", default=None, metavar="IPS",
                       help="comma-separated proxy addresses or networks to believe, or '*' "
                            "(default: $FORWARDED_ALLOW_IPS, else 127.0.0.1)")  # fmt: skip
    serve.add_argument("--root-path", default="", metavar="PATH",
                       help="the path prefix a proxy serves the mock under (and strips), e.g. /fal")  # fmt: skip
    serve.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                       help="any other setting, e.g. --set max_queue_size=100 (repeatable; also FAL_MOCK_<NAME> "
                            "variables); 'fal-mock settings' or --set help lists them all")  # fmt: skip

    serve.add_argument("--openapi", action="append", default=None, metavar="PATH",
                       help="serve the endpoint(s) of this fal OpenAPI document, or of every *.json in this directory, "
                            "besides the bundled ones (repeatable; a later document of the same id wins)")  # fmt: skip

    endpoints = commands.add_parser("endpoints", help="list the endpoints a server would serve (id, category, files)")
    endpoints.add_argument("--openapi", action="append", default=None, metavar="PATH",
                           help="include this document or directory of documents, as serve --openapi does")
    endpoints.add_argument("--json", action="store_true", help="one JSON object per endpoint (JSON Lines)")
    endpoints.add_argument("--example", default=None, metavar="ID", help="print an example input of endpoint ID")

    fetch = commands.add_parser("fetch-openapi", help="download fal's OpenAPI documents of endpoints (needs internet)")
    fetch.add_argument("ids", nargs="+", metavar="ID", help="endpoint ids, e.g. fal-ai/flux/dev")
    fetch.add_argument("--dir", required=True, help="directory to write <id with / as __>.json into")
    fetch.add_argument("--base-url", default=None, help="where fal publishes them (default: fal's public URL)")

    env = commands.add_parser("env", help="print the exports that point the official Python client at a server",
                              description="Print shell exports (eval \"$(fal-mock env --ready-file F)\") that "
                              "point the official Python client at a running server; see 'fal-mock run --help'.")
    env.add_argument("--ready-file", default=None, help="the ready file of a running 'fal-mock serve'")
    env.add_argument("--url", default=None, help="the server's base URL (https://127.0.0.1:PORT)")
    env.add_argument("--ca-file", default=None, help="the CA file of a --tls server")

    run = commands.add_parser(
        "run",
        help="run a command with the environment 'fal-mock env' prints (fal_client in it talks only to the mock)",
        description="Run CMD with FAL_KEY (unless set), FAL_RUN_HOST, FAL_QUEUE_RUN_HOST, FAL_MOCK_URL, "
        "SSL_CERT_FILE (system roots + the mock's CA) and PYTHONPATH starting with fal-mock's start-up hook: a "
        "directory holding only sitecustomize.py, which points the official fal_client's run, queue and storage "
        "URLs at FAL_MOCK_URL when fal_client is imported (and does nothing without FAL_MOCK_URL). "
        "Example: fal-mock run --ready-file /tmp/fal-mock.json -- python app.py",
    )
    run.add_argument("--ready-file", default=None, help="the ready file of a running 'fal-mock serve'")
    run.add_argument("--url", default=None, help="the server's base URL (https://127.0.0.1:PORT)")
    run.add_argument("--ca-file", default=None, help="the CA file of a --tls server")
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARG ...]", help="the command to run")

    listing = commands.add_parser("settings", help="list every setting with its default and meaning",
                                  description="Every setting 'fal-mock serve --set NAME=VALUE', FAL_MOCK_<NAME> "
                                  "and @pytest.mark.fal_mock(name=value) accept, with its default and meaning.")
    listing.add_argument("filter", nargs="?", default="", help="only settings whose name contains this text")
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    values: dict[str, object] = {"progression": "realistic"}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"fal-mock: --set expects NAME=VALUE, got {item!r} ('fal-mock settings' lists the names)")
        values[name.strip()] = value
    for name in ("seed", "progression", "video_profile", "auth", "image_url_policy", "control_token", "data_dir"):
        value = getattr(args, name)
        if value is not None:
            values[name] = value
    if args.key:
        values["keys"] = tuple(args.key)
    if getattr(args, "openapi", None):
        values["openapi"] = tuple(args.openapi)
    try:
        base = Settings.from_env(os.environ)
        return Settings.from_mapping(values, base=base)
    except UnknownSetting as error:
        raise SystemExit(f"fal-mock: {error.short()} in --set; 'fal-mock settings' lists every setting") from None
    except ValueError as error:
        raise SystemExit(f"fal-mock: {error}") from None


def serve_refusal(args: argparse.Namespace, settings: Settings) -> str | None:
    """Why ``serve`` must not start with these options (None: it may)."""
    from .edge.server import is_loopback
    from .edge.workers import WorkersRefused, check_workers

    try:
        check_workers(args.workers, settings)
    except WorkersRefused as error:
        return str(error)
    if args.ssl_certfile and args.tls:
        return "--tls makes its own certificate: give it or --ssl-certfile, not both"
    if args.ssl_keyfile and not args.ssl_certfile:
        return "--ssl-keyfile needs --ssl-certfile"
    if args.root_path and not args.root_path.startswith("/"):
        return f"--root-path must start with '/' (got {args.root_path!r})"
    if not is_loopback(args.host) and not settings.control_token and not args.insecure_control:
        return (
            f"refusing to serve on {args.host} (beyond loopback) with an open control API: give --control-token "
            "TOKEN (clients then send it as X-Fal-Mock-Control-Token), or --insecure-control to serve the control "
            "API without one"
        )
    return None


def load_served_endpoints(settings: Settings) -> tuple[EndpointRegistry | None, str | None]:
    """The endpoints ``serve`` will serve, loaded once (the app reuses them), or why it cannot (a broken
    ``--openapi`` document, named with its JSON path)."""
    from .catalogue import DocumentError
    from .jobs.endpoints import load_endpoints

    try:
        return load_endpoints(settings.openapi), None
    except DocumentError as error:
        return None, str(error)


def uvicorn_options_from_args(args: argparse.Namespace) -> dict[str, object]:
    """The uvicorn options ``serve`` passes on as given: proxy headers, the proxies to believe, the root path."""
    options: dict[str, object] = {"proxy_headers": args.proxy_headers, "root_path": args.root_path}
    if args.forwarded_allow_ips is not None:
        options["forwarded_allow_ips"] = args.forwarded_allow_ips
    return options


def run_serve(args: argparse.Namespace) -> int:
    from uvicorn.config import LOG_LEVELS  # uvicorn's names, "trace" (5) included

    from .edge.app import create_app
    from .edge.server import TLSFiles, is_loopback, make_tls, run_event_loop, serve

    logging.basicConfig(level=LOG_LEVELS[args.log_level], format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = settings_from_args(args)
    endpoints, broken = load_served_endpoints(settings)
    refusal = serve_refusal(args, settings) or broken
    if refusal:
        print(f"fal-mock: {refusal}", file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        log.warning(
            "fal-mock is listening on %s, beyond loopback: anyone who can reach this address can use it%s",
            args.host,
            "" if settings.control_token else " and its control API (--insecure-control: no control token)",
        )
        if settings.signing_secret is not None:
            log.warning("signing_secret is set: upload signatures, CDN tokens and file URLs are reproducible, so "
                        "anyone who knows it can sign uploads to this server — use it on loopback only")  # fmt: skip
    tls = None
    if args.tls:
        tls = make_tls(args.tls_dir or tempfile.mkdtemp(prefix="fal-mock-tls-"))
    elif args.ssl_certfile:
        tls = TLSFiles(None, args.ssl_certfile, args.ssl_keyfile)
    uvicorn_options = uvicorn_options_from_args(args)
    if args.workers > 1:
        from .edge.workers import serve_workers
        from .persistence.sqlite import DataDirInUse, IncompatibleDataDir

        try:
            return serve_workers(settings, workers=args.workers, host=args.host, port=args.port, tls=tls,
                                 ready_file=args.ready_file, ready_fd=args.ready_fd, log_level=args.log_level,
                                 access_log=args.access_log, uvicorn_options=uvicorn_options)  # fmt: skip
        except (DataDirInUse, IncompatibleDataDir) as error:
            print(f"fal-mock: {error}", file=sys.stderr)
            return 2
    try:
        app = create_app(settings, endpoints=endpoints)
    except Exception as error:
        from .catalogue import DocumentError
        from .persistence.sqlite import DataDirInUse, IncompatibleDataDir

        if isinstance(error, DataDirInUse | IncompatibleDataDir | DocumentError):
            print(f"fal-mock: {error}", file=sys.stderr)
            return 2
        raise
    run_event_loop(
        serve(
            app,
            host=args.host,
            port=args.port,
            tls=tls,
            ready_file=args.ready_file,
            ready_fd=args.ready_fd,
            log_level=args.log_level,
            access_log=args.access_log,
            uvicorn_options=uvicorn_options,
        )
    )
    return 0


def env_lines(url: str, ca_file: str | None, ca_bundle: str | None = None) -> list[str]:
    """Shell exports pointing the official Python client (and our own tools) at ``url`` (see :mod:`.standalone`)."""
    from .standalone import DEFAULT_KEY, client_environment

    trust = ca_bundle or (_bundle(ca_file) if ca_file else None)
    environment = client_environment(url, ssl_cert_file=trust, key=None if os.environ.get("FAL_KEY") else DEFAULT_KEY)
    lines = []
    for name, value in environment.items():
        if name == "PYTHONPATH":  # keep what the shell has, after the hook's directory
            python_path = value.split(os.pathsep, 1)[0]
            lines.append(f'export PYTHONPATH={shlex.quote(python_path)}"${{PYTHONPATH:+:$PYTHONPATH}}"')
        else:
            lines.append(f"export {name}={shlex.quote(value)}")
    if urllib.parse.urlsplit(url).scheme != "https":
        lines.append("# note: real fal is https only; start the server with --tls to test TLS too")
    lines.append(
        "# fal_client's storage hosts follow FAL_MOCK_URL through fal-mock's start-up hook (the PYTHONPATH entry, "
        "see 'fal-mock run --help'); SSL_CERT_FILE is the system roots plus the mock's CA"
    )
    return lines


def _bundle(ca_file: str) -> str:
    from .standalone import bundle_for

    return bundle_for(ca_file)


def _server_facts(args: argparse.Namespace, command: str) -> tuple[str, str | None, str | None] | str:
    """``(url, ca_file, ca_bundle)`` from ``--ready-file`` or ``--url``/``--ca-file``; a one-line error otherwise."""
    url, ca_file, ca_bundle = args.url, args.ca_file, None
    if args.ready_file:
        try:
            with open(args.ready_file) as handle:
                info = json.load(handle)
        except FileNotFoundError:
            return (f"fal-mock {command}: no ready file at {args.ready_file}: start the server first "
                    f"(fal-mock serve --tls --ready-file {args.ready_file}) or give --url")  # fmt: skip
        except (OSError, ValueError) as error:
            return f"fal-mock {command}: cannot read the ready file {args.ready_file}: {error}"
        url, ca_file = info["url"], ca_file or info.get("ca_file")
        ca_bundle = None if args.ca_file else info.get("ca_bundle")
    if not url:
        return f"fal-mock {command}: give --ready-file FILE (written by 'fal-mock serve --ready-file') or --url URL"
    return url, ca_file, ca_bundle


def run_env(args: argparse.Namespace) -> int:
    facts = _server_facts(args, "env")
    if isinstance(facts, str):
        print(facts, file=sys.stderr)
        return 2
    try:
        print("\n".join(env_lines(*facts)))
    except (ValueError, OSError) as error:
        print(f"fal-mock env: {error}", file=sys.stderr)
        return 2
    return 0


def run_command(args: argparse.Namespace) -> int:
    """``fal-mock run [--ready-file F | --url U] -- CMD ...``: exec CMD with the client environment."""
    from .standalone import DEFAULT_KEY, client_environment

    command = list(args.cmd)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("fal-mock run: give the command after --, e.g. fal-mock run --ready-file F -- python app.py",
              file=sys.stderr)  # fmt: skip
        return 2
    facts = _server_facts(args, "run")
    if isinstance(facts, str):
        print(facts, file=sys.stderr)
        return 2
    url, ca_file, ca_bundle = facts
    try:
        trust = ca_bundle or (_bundle(ca_file) if ca_file else None)
        extra = client_environment(url, ssl_cert_file=trust, key=None if os.environ.get("FAL_KEY") else DEFAULT_KEY,
                                   existing_python_path=os.environ.get("PYTHONPATH"))  # fmt: skip
    except (ValueError, OSError) as error:
        print(f"fal-mock run: {error}", file=sys.stderr)
        return 2
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(command[0], command, {**os.environ, **extra})
    except OSError as error:
        print(f"fal-mock run: cannot start {command[0]!r}: {error.strerror or error}", file=sys.stderr)
        return 127


def ready_file_problem(path: str | None) -> str | None:
    """Why ``serve`` could not write its ready file at ``path`` (None: it can), checked before serving."""
    if not path:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        return (f"fal-mock: cannot create {folder} for the ready file ({error.strerror}): give --ready-file a path "
                "in a directory you can write, e.g. --ready-file /tmp/fal-mock.json")  # fmt: skip
    if os.path.isdir(path) or not os.access(folder, os.W_OK):
        return (f"fal-mock: cannot write the ready file {path} (a directory, or {folder} is not writable): give "
                "--ready-file a file path in a directory you can write, e.g. --ready-file /tmp/fal-mock.json")
    return None


def os_error_line(error: OSError, args: argparse.Namespace) -> str:
    """One line for an OSError while starting ``serve``: binding the port, or a file it could not write."""
    if error.errno == errno.EADDRINUSE:
        return (f"fal-mock: port {args.port} on {args.host} is already in use (another fal-mock serve?): stop "
                "that process, pick another port with --port N, or let the system choose with --port 0 "
                "--ready-file FILE")  # fmt: skip
    if error.errno == errno.EACCES and error.filename is None:
        return (f"fal-mock: not allowed to listen on port {args.port} (ports below 1024 need privileges): use "
                "--port 8000, or --port 0 for a free one")  # fmt: skip
    if error.errno in (errno.EADDRNOTAVAIL, socket.EAI_NONAME) and error.filename is None:
        return f"fal-mock: cannot listen on {args.host}: not an address of this machine (use --host 127.0.0.1)"
    where = f" ({error.filename})" if error.filename else ""
    return f"fal-mock: {error.strerror or error}{where}"


def run_settings(only: str = "") -> int:
    lines = describe_settings(only)
    if not lines:
        print(f"fal-mock settings: no setting name contains {only!r}", file=sys.stderr)
        return 2
    print("# fal-mock settings: NAME = DEFAULT (fal-mock serve --set NAME=VALUE; env FAL_MOCK_<NAME>; "
          "@pytest.mark.fal_mock(NAME=...)).\n# 'fal-mock serve' starts with progression = realistic.")  # fmt: skip
    print("\n".join(lines))
    return 0


def run_endpoints(args: argparse.Namespace) -> int:
    from .catalogue import Catalogue, DocumentError
    from .jobs.endpoints import EndpointRegistry, output_media

    try:
        from_env = Settings.from_env(os.environ).openapi  # FAL_MOCK_OPENAPI, as serve reads it
        registry = EndpointRegistry(Catalogue([*from_env, *(args.openapi or ())]))
        if args.example:
            endpoint = registry.get(args.example)
            if endpoint is None:
                close = registry.suggestions(args.example)
                hint = f" (did you mean {' or '.join(close)}?)" if close else ""
                print(f"fal-mock: no endpoint {args.example!r}{hint}", file=sys.stderr)
                return 2
            print(json.dumps(endpoint.example_input(), indent=2, ensure_ascii=False))
            return 0
        rows = []
        for endpoint in registry:
            spec = endpoint.spec
            files = [f"{f.name}:{f.media}{'[]' if f.is_list else ''}" for f in spec.file_inputs]
            rows.append({"id": endpoint.endpoint_id, "category": endpoint.category, "input_files": files,
                         "output_media": output_media(endpoint), "source": endpoint.source})  # fmt: skip
    except (DocumentError, ValueError) as error:
        print(f"fal-mock: {error}", file=sys.stderr)
        return 2
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    width = max((len(row["id"]) for row in rows), default=2)
    print(f"{'ID':<{width}}  {'CATEGORY':<16}  {'INPUT FILES':<24}  OUTPUT MEDIA")
    for row in rows:
        print(f"{row['id']:<{width}}  {row['category']:<16}  {', '.join(row['input_files']) or '-':<24}  "
              f"{', '.join(row['output_media']) or '-'}")  # fmt: skip
    print(f"{len(rows)} endpoints")
    return 0


def run_fetch_openapi(args: argparse.Namespace) -> int:
    from .catalogue import DEFAULT_BASE_URL, DownloadError, download_documents

    try:
        written = download_documents(args.ids, args.dir, base_url=args.base_url or DEFAULT_BASE_URL)
    except (DownloadError, ValueError, OSError) as error:
        print(f"fal-mock fetch-openapi: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    print(f"serve them with: fal-mock serve --openapi {shlex.quote(args.dir)}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "settings":
        return run_settings(args.filter)
    if args.command == "serve":
        if any(item.strip() in ("help", "list", "?") for item in args.set):
            return run_settings()
        problem = ready_file_problem(args.ready_file)
        if problem:
            print(problem, file=sys.stderr)
            return 2
        try:
            return run_serve(args)
        except OSError as error:  # one line with the fix, not a traceback
            print(os_error_line(error, args), file=sys.stderr)
            return 2
    if args.command == "run":
        return run_command(args)
    if args.command == "endpoints":
        return run_endpoints(args)
    if args.command == "fetch-openapi":
        return run_fetch_openapi(args)
    return run_env(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
