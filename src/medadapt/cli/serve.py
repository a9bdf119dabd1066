"""``medadapt serve``."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from medadapt.cli.main import app
from medadapt.errors import ConfigError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def read_token(token_file: Path | None) -> str | None:
    """The bearer token from ``token_file`` or ``MEDADAPT_TOKEN`` (None: no auth)."""
    if token_file is not None:
        if not token_file.is_file():
            raise ConfigError(f"--token-file {token_file} does not exist")
        token = token_file.read_text().strip()
        if len(token) < 16:
            raise ConfigError(
                f"--token-file: the token in {token_file} is shorter than 16 characters; use a "
                "long random token (e.g. 'openssl rand -hex 32')"
            )
        return token
    token = os.environ.get("MEDADAPT_TOKEN") or None
    if token is not None and len(token.strip()) < 16:
        raise ConfigError(
            "MEDADAPT_TOKEN is shorter than 16 characters; use a long random token (e.g. "
            "'openssl rand -hex 32'), or --token-file"
        )
    return token.strip() if token else None


def _check_free(host: str, port: int) -> None:
    """One line now if the address is taken (uvicorn would log and exit 1 later)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port "
                "or --host"
            ) from None


@app.command("serve")
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
) -> None:
    """Serve the registry's promoted adapters over HTTP (FastAPI; docs at /docs).

    Example: medadapt serve --registry hospital-registry --port 8000 --token-file token.txt
    """
    from medadapt.checks import at_least
    from medadapt.checks import port as check_port

    check_port(port)
    at_least(max_batch, "--max-batch")
    at_least(threads, "--threads")
    at_least(max_wait_ms, "--max-wait-ms", 0)
    token = read_token(token_file)
    if token is None and host not in LOOPBACK:
        raise ConfigError(
            f"refusing to serve on {host} without a token; pass --token-file or set "
            "MEDADAPT_TOKEN (or listen on 127.0.0.1)"
        )
    import uvicorn

    from medadapt.registry import Registry, RegistryError
    from medadapt.serve.app import create_app

    try:
        served = [v for v in Registry(registry).list() if v.promoted]
    except RegistryError as err:
        raise ConfigError(
            f"--registry: {err}".replace("check --root", "check --registry")
        ) from None
    _check_free(host, port)
    auth = "a bearer token is required" if token else "no token (loopback only)"
    typer.echo(
        f"serving {len(served)} promoted adapter(s) from {registry} at http://{host}:{port} "
        f"(auth: {auth}; API docs at /docs)",
        err=True,
    )
    uvicorn.run(
        create_app(
            registry, token=token, max_batch=max_batch, max_wait_ms=max_wait_ms, threads=threads
        ),
        host=host,
        port=port,
        log_level="warning",
    )
