"""``medadapt serve``."""

from __future__ import annotations

import contextlib
import os
import re
import socket
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from medadapt.cli.main import app
from medadapt.errors import ConfigError
from medadapt.fileio import others_may_read, read_secret
from medadapt.serve import defaults
from medadapt.wording import noun_for, plural

if TYPE_CHECKING:
    from medadapt.serve.image_inputs import ImageServing

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
UVICORN_STARTUP_FAILURE = 3  # the exit status uvicorn.run gives a server that did not start
BACKLOG = 2048  # connections waiting to be accepted (uvicorn's default), the models loading


def read_token(token_file: Path | None) -> str | None:
    """The bearer token from ``token_file`` or ``MEDADAPT_TOKEN`` (None: no auth)."""
    if token_file is not None:
        token = read_secret(token_file, "--token-file", what="bearer token", min_length=16)
        if os.environ.get("MEDADAPT_TOKEN"):  # a trial's clients sent it and got 401s
            typer.echo("note: MEDADAPT_TOKEN is set but not used: the token of --token-file "
                       "is the one clients must send", err=True)  # fmt: skip
        return token
    token = os.environ.get("MEDADAPT_TOKEN") or None
    if token is not None and len(token.strip()) < 16:
        raise ConfigError(
            "MEDADAPT_TOKEN is shorter than 16 characters; use a long random token (e.g. "
            "'openssl rand -hex 32'), or --token-file"
        )
    return token.strip() if token else None


def _check_host(host: str) -> None:
    """Refuse a ``--host`` written as an IP address that is none (``999.1.1.1``, ``::g``) now,
    in one line; a name is left to the listening socket (it may resolve on this machine)."""
    import ipaddress

    if not (":" in host or re.fullmatch(r"[\d.]+", host)):
        return
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(
            f"--host {host} is not an IP address (IPv4: four numbers 0-255, as 127.0.0.1); give "
            "this machine's address to listen on, 0.0.0.0 for every interface, or 127.0.0.1"
        ) from None


def _bound(host: str, port: int) -> socket.socket:
    """The address, bound and listening from now on (one line if it is taken): a probe let
    it go, and a second server started while the first loaded its adapters said "serving
    ..." and then failed with uvicorn's own ERROR line. A request arriving while the adapters
    load waits in the queue, answered once they are."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)  # listening: no other socket binds it now (bound, one could)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port "
            "or --host"
        ) from None
    return sock


MAX_QUEUE = typer.Option(4096, help="Most instances waiting for the model; more: 503 (retry).")
# the JSON request limits (their defaults are create_app's: medadapt.serve.defaults)
MAX_BODY_MB = typer.Option(
    defaults.MAX_BODY_MB,
    help="Largest JSON request body, in MiB; more: 413 (uploads: --max-upload-mb).",
)
MAX_INSTANCES = typer.Option(
    defaults.MAX_INSTANCES,
    help="Most instances in one JSON request; more: 422 (at most --max-queue).",
)
SERVE_HELP = f"""Serve the registry's promoted adapters over HTTP (FastAPI; docs at /docs): JSON
instances for tabular models, uploaded images or DICOMweb references for image models.

Limits per request: a JSON body of at most {defaults.MAX_BODY_MB:g} MiB by default (413 above;
--max-body-mb) holding at most {defaults.MAX_INSTANCES} instances by default (422 above;
--max-instances); uploads: --max-upload-mb, --max-images, --max-image-mb.

Each request is written to an access log on stderr (--access-log FILE, or off): its time,
client, path, status, latency, the adapter that answered and how many instances it carried,
never a value sent.

Example: medadapt serve --registry hospital-registry --port 8000 --token-file token.txt
"""
# the image options (their defaults are ImageServing's)
MAX_IMAGES = typer.Option(64, help="Images (files, slices) per request.")
MAX_IMAGE_MB = typer.Option(32.0, help="Largest uploaded image file, in MiB.")
MAX_UPLOAD_MB = typer.Option(128.0, help="Largest multipart request, in MiB.")
DECODE_WORKERS = typer.Option(2, help="Threads (or processes) that read and preprocess images.")
DECODE_PROCESSES = typer.Option(False, help="Read images in worker processes, not threads.")
DICOMWEB_ARCHIVE = typer.Option(
    [],
    help="DICOMweb root a request may reference, e.g. http://pacs:8042/dicom-web (repeat for "
    "several; none: DICOMweb references are refused).",
)
DICOMWEB_TOKEN_FILE = typer.Option(
    None,
    help="File holding the bearer token (or USER:PASSWORD, basic auth) for the "
    "--dicomweb-archive servers.",
)
DICOMWEB_TIMEOUT = typer.Option(
    60.0,
    help="Seconds a --dicomweb-archive may take to answer a request; one silent that long is "
    "asked once more, then the request is answered 502.",
)
DICOMWEB_CA_BUNDLE = typer.Option(
    None,
    help="CA certificate (PEM) that signed an https --dicomweb-archive's TLS certificate, when "
    "it is not one this machine trusts (a hospital's own CA).",
)
SCORE_SPARSE = typer.Option(
    False,
    help="Also answer a table instance lacking more than half of the model's features (by "
    "default its prediction is withheld: predicted null, the note saying why).",
)
ANY_VERSION = typer.Option(
    False,
    "--any-version",
    help="Also answer a request naming a registered version that is not promoted (NAME@N, "
    "NAME@latest), e.g. for a silent trial. By default only promoted versions answer, so a "
    "version replaced or withdrawn with 'registry promote' stops answering at once.",
)
ACCESS_LOG = typer.Option(
    "-",
    "--access-log",
    help="Where to write one line per request (time, client, method, path, status, latency, "
    "adapter, instance count; never a value sent, the body, the query string or the token): "
    "'-' for stderr, a FILE to append to (reopened when logrotate moves it), or 'off'.",
)
STORE_SR = typer.Option(
    False,
    "--store-sr",
    help='Let DICOMweb requests ask ("store_sr": true) for their results to be stored in the '
    "archive the images came from, as DICOM SRs (STOW-RS). Off: the archives are only read.",
)


@app.command("serve", help=SERVE_HELP)
def serve_command(
    registry: Path = typer.Option(..., "--registry", help="Registry directory."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
    token_file: Path | None = typer.Option(
        None, help="File holding the bearer token (or set MEDADAPT_TOKEN)."
    ),
    max_batch: int = typer.Option(64, help="Largest micro-batch."),
    max_wait_ms: float = typer.Option(
        1.0,
        help="Longest extra wait to fill a micro-batch (batches also fill while the model runs).",
    ),
    threads: int = typer.Option(1, help="Torch threads for the forward pass."),
    device: str = typer.Option("cpu", help="Where the models run: cpu, cuda or cuda:N."),
    max_queue: int = MAX_QUEUE,
    max_body_mb: float = MAX_BODY_MB,
    max_instances: int = MAX_INSTANCES,
    max_images: int = MAX_IMAGES,
    max_image_mb: float = MAX_IMAGE_MB,
    max_upload_mb: float = MAX_UPLOAD_MB,
    decode_workers: int = DECODE_WORKERS,
    decode_processes: bool = DECODE_PROCESSES,
    dicomweb_archive: list[str] = DICOMWEB_ARCHIVE,
    dicomweb_token_file: Path | None = DICOMWEB_TOKEN_FILE,
    dicomweb_ca_bundle: Path | None = DICOMWEB_CA_BUNDLE,
    dicomweb_timeout: float = DICOMWEB_TIMEOUT,
    store_sr: bool = STORE_SR,
    score_sparse: bool = SCORE_SPARSE,
    any_version: bool = ANY_VERSION,
    access_log: str = ACCESS_LOG,
) -> None:
    """``medadapt serve`` (its help, with the default limits: :data:`SERVE_HELP`)."""
    from medadapt.checks import at_least, cores, finite, positive
    from medadapt.checks import port as check_port

    check_port(port)
    for value, flag in ((max_wait_ms, "--max-wait-ms"), (max_image_mb, "--max-image-mb"),
                        (max_upload_mb, "--max-upload-mb"),
                        (max_body_mb, "--max-body-mb"),
                        (dicomweb_timeout, "--dicomweb-timeout")):  # fmt: skip
        finite(value, flag)  # nan passes every comparison; inf never stops waiting
    at_least(max_batch, "--max-batch")
    cores(threads, "--threads")
    at_least(max_wait_ms, "--max-wait-ms", 0)
    at_least(max_queue, "--max-queue")
    max_body_bytes = _json_limits(max_body_mb, max_instances, max_queue)
    _check_device(device)
    images = _image_serving(max_images, max_image_mb, max_upload_mb, decode_workers,
                            dicomweb_archive, dicomweb_token_file,
                            dicomweb_ca_bundle)  # fmt: skip
    positive(dicomweb_timeout, "--dicomweb-timeout")
    images = replace(images, decode_processes=decode_processes, store_sr=store_sr,
                     dicomweb_timeout=dicomweb_timeout)  # fmt: skip
    if store_sr and not dicomweb_archive:
        raise ConfigError(
            "--store-sr stores results in the archives a request references: pass "
            "--dicomweb-archive URL, or drop --store-sr"
        )
    _check_host(host)  # before the token's checks: a trial's 999.1.1.1 was told of its token
    who = None if token_file is None or not token_file.is_file() else others_may_read(token_file)
    if who is not None and host not in LOOPBACK:  # beyond loopback the token is the only guard
        raise ConfigError(
            f"refusing to serve on {host} with --token-file {token_file} readable by {who}: "
            f"restrict it with 'chmod 600 {token_file}' (or listen on 127.0.0.1)"
        )
    token = read_token(token_file)
    if token is None and host not in LOOPBACK:
        raise ConfigError(
            f"refusing to serve on {host} without a token; pass --token-file or set "
            "MEDADAPT_TOKEN (or listen on 127.0.0.1)"
        )
    log_access(access_log)
    _serve(registry, host, port, token=token, max_batch=max_batch, max_wait_ms=max_wait_ms,
           threads=threads, max_queue=max_queue, images=images, device=device,
           score_sparse=score_sparse, any_version=any_version, max_body_bytes=max_body_bytes,
           max_instances=max_instances)  # fmt: skip


def log_access(target: str) -> None:
    """Send the access log (:mod:`medadapt.serve.access_log`) to ``target``: ``-`` stderr, a
    file appended to (reopened when logrotate moves it), or ``off``; a file that cannot be
    written is one line naming ``--access-log``, before anything is loaded."""
    import logging
    import logging.handlers
    import sys

    from medadapt.serve.access_log import ACCESS

    ACCESS.propagate = False  # its own lines, not the command's "warning:"/"error:" ones
    for old in list(ACCESS.handlers):
        ACCESS.removeHandler(old)
        old.close()
    if target.strip().lower() == "off":
        ACCESS.setLevel(logging.WARNING)  # the middleware then writes nothing
        return
    handler: logging.Handler
    if target == "-":
        handler = logging.StreamHandler(sys.stderr)
    else:
        path = Path(target).expanduser()
        try:
            handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"--access-log {target}: cannot write there ({exc.strerror or exc}); give a "
                "file you can write to, '-' for stderr, or 'off'"
            ) from None
    handler.setFormatter(logging.Formatter("%(message)s"))
    ACCESS.addHandler(handler)
    ACCESS.setLevel(logging.INFO)


def _json_limits(max_body_mb: float, max_instances: int, max_queue: int) -> int:
    """``--max-body-mb`` in bytes, after checking it and ``--max-instances`` (one line naming
    the flag when out of range)."""
    from medadapt.checks import at_least, positive
    from medadapt.serve.image_inputs import MiB

    positive(max_body_mb, "--max-body-mb")
    at_least(max_instances, "--max-instances")
    if max_instances > max_queue:
        raise ConfigError(
            f"--max-instances {max_instances} is over --max-queue {max_queue}: such a request "
            "would be refused whenever others wait; lower --max-instances or raise --max-queue"
        )
    return max(1, int(max_body_mb * MiB))


def _serve(registry: Path, host: str, port: int, **settings: Any) -> None:
    """Check the registry and the address, say what is served, and run the app."""

    from medadapt.registry import Registry, RegistryError

    try:
        served = [v for v in Registry(registry).list() if v.promoted]
    except RegistryError as err:
        raise ConfigError(
            f"--registry: {err}".replace("check --root", "check --registry")
        ) from None
    sock = _bound(host, port)
    try:  # held from here, and closed however the command ends (a refused archive, a failure)
        _serve_on(sock, registry, served, host, port, **settings)
    finally:
        sock.close()


def _serve_on(
    sock: socket.socket, registry: Path, served: list[Any], host: str, port: int, **settings: Any
) -> None:
    """Say what is served, load it and serve it on ``sock`` (bound and listening)."""
    from medadapt.registry.records import command_line

    images = settings.get("images")
    if images is not None and images.dicomweb_archives:
        from medadapt.serve.image_dicomweb import check_archives

        for line in check_archives(images):  # wrong credentials or path: refused here
            _warn(line)
    auth = "a bearer token is required" if settings["token"] else "no token (loopback only)"
    where = f"from {registry} at http://{host}:{port} (auth: {auth}; API docs at /docs)"
    lines: list[str] = []
    if images is not None and images.dicomweb_archives:
        ca = images.dicomweb_ca_bundle
        lines.append(
            f"DICOMweb references read from {', '.join(map(_shown, images.dicomweb_archives))}"
            + (f" (TLS verified against {ca})" if ca else "")
            + ("; results may be stored there as DICOM SR" if images.store_sr else "")
        )
    typer.echo(f"loading {plural(len(served), 'promoted adapter')} ...", err=True)

    def ready(state: Any) -> None:  # the adapters are loaded: the URL answers from now on
        loaded, failed = len(state.tables.promoted), state.tables.failed
        count = f"{loaded} of {len(served)}" if failed else str(loaded)
        adapters = noun_for(len(served), "promoted adapter")
        typer.echo(f"serving {count} {adapters} {where}", err=True)
        for line in lines:
            typer.echo(line, err=True)
        for (column, group), names in sorted(state.tables.conflicts.items()):
            _warn(f"group {group!r} (column {column!r}) is claimed by {len(names)} promoted "
                  f"adapters ({', '.join(names)}): requests routed by it get 409; demote all "
                  f"but one, with '{command_line(registry, 'promote --clear NAME')}'")  # fmt: skip
        if not served:
            alone = _answering_alone(state)
            _warn(f"nothing is promoted: {alone}promote an adapter to serve it, with "
                 f"'{command_line(registry, 'promote NAME@N')}'")  # fmt: skip

    from medadapt.serve.app import create_app  # torch and the models: seconds, said above

    app = create_app(registry, on_ready=ready, **settings)
    # uvicorn's own access line would repeat query strings: medadapt's replaces it
    listen(app, sock=sock, host=host, port=port, log_level="warning", access_log=False)


def listen(app: Any, *, sock: socket.socket, **settings: Any) -> None:
    """Serve ``app`` with uvicorn (``settings``: its ``Config``'s) on ``sock``, the address
    held since the command started, until stopped; exit as ``uvicorn.run`` does where it
    could not start (said in its log). The tests replace it to start the app alone."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, **settings))
    # Ctrl-C: uvicorn stops cleanly, then raises it again; a stop asked for, as uvicorn.run
    # takes it (exit 0, no "interrupted" line)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    if not server.started:
        raise typer.Exit(UVICORN_STARTUP_FAILURE)


def _answering_alone(state: Any) -> str:
    """What answers while nothing is promoted: a kind's base alone where it is its kind's
    only resident base; with several of one kind, a request must send its group (a review:
    "2 base models answer alone" where neither answered a request naming no group)."""
    from collections import Counter

    kinds = Counter(state.bases[key].kind for key in state.tables.resident)
    if not kinds:
        return ""
    if max(kinds.values()) > 1:
        return ("its base models answer requests that send a group they were trained on "
                "meanwhile; ")  # fmt: skip
    if len(kinds) == 1:
        return "the base model answers alone meanwhile; "
    return f"each of its {len(kinds)} base models (one per kind) answers alone meanwhile; "


def _warn(message: str) -> None:
    """A ``warning:`` line on stderr, beside what the server says while it runs."""
    typer.echo(f"warning: {message}", err=True)


def _image_serving(
    max_images: int,
    max_image_mb: float,
    max_upload_mb: float,
    decode_workers: int,
    archives: list[str],
    token_file: Path | None,
    ca_bundle: Path | None = None,
) -> ImageServing:
    """The image options, checked (one line naming the flag when one is out of range)."""
    from medadapt.checks import at_least, cores
    from medadapt.cli.dicomweb import read_token as read_dicomweb_token
    from medadapt.data.dicomweb import CA_FLAG, check_ca_bundle, parse_reference
    from medadapt.errors import DataError
    from medadapt.serve.image_inputs import ImageServing, MiB

    at_least(max_images, "--max-images")
    cores(decode_workers, "--decode-workers", default=ImageServing.decode_workers)
    for value, flag in ((max_image_mb, "--max-image-mb"), (max_upload_mb, "--max-upload-mb")):
        if not value > 0:
            raise ConfigError(f"{flag} must be positive; got {value:g}")
    for url in archives:
        try:
            root = parse_reference(url if url.startswith("dicomweb+") else f"dicomweb+{url}")
        except DataError:
            root = None
        if root is None or root.study_uid is not None:
            raise ConfigError(
                f"--dicomweb-archive {_shown(url)} is not a DICOMweb root: write "
                "http(s)://HOST[:PORT]/dicom-web (no study)"
            )
        if root.auth and token_file is not None:
            raise ConfigError(
                f"--dicomweb-archive {root.base_url} carries user:password@ and "
                "--dicomweb-token-file is given: pass one of them, not both"
            )
    if ca_bundle is not None:
        if not any(url.lower().removeprefix("dicomweb+").startswith("https://")
                   for url in archives):  # fmt: skip
            raise ConfigError(
                f"{CA_FLAG} applies to https archives, but no --dicomweb-archive is https: "
                "drop the option or give the archive's https:// root"
            )
        check_ca_bundle(ca_bundle)
    return ImageServing(
        max_images=max_images,
        max_image_bytes=int(max_image_mb * MiB),
        max_upload_bytes=int(max_upload_mb * MiB),
        decode_workers=decode_workers,
        dicomweb_archives=tuple(archives),
        dicomweb_token=read_dicomweb_token(token_file),
        dicomweb_ca_bundle=ca_bundle,
    )


def _shown(url: str) -> str:
    """An archive URL as it may be printed: without ``user:password@``."""
    return re.sub(r"(?<=://)[^/@]*@", "", url)


def _check_device(device: str) -> None:
    """``cpu``, or a CUDA device this machine has (one line naming ``--device`` otherwise)."""
    if device == "cpu":
        return
    import torch

    try:
        wanted = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"--device must be cpu, cuda or cuda:N; got {device!r}") from None
    if wanted.type != "cuda" or not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: no CUDA device here; use --device cpu")
    if wanted.index is not None and wanted.index >= torch.cuda.device_count():
        raise ConfigError(
            f"--device {device}: this machine has "
            f"{plural(torch.cuda.device_count(), 'CUDA device')}"
        )
