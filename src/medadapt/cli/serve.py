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
            raise ConfigError(f"token file {token_file} does not exist")
        token = token_file.read_text().strip()
        if len(token) < 16:
            raise ConfigError(
                f"the token in {token_file} is shorter than 16 characters; use a "
                "long random token (e.g. 'openssl rand -hex 32')"
            )
        return token
    return os.environ.get("MEDADAPT_TOKEN") or None


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
    import uvicorn

    from medadapt.registry import Registry
    from medadapt.serve.app import create_app

    token = read_token(token_file)
    if token is None and host not in LOOPBACK:
        raise ConfigError(
            f"refusing to serve on {host} without a token; pass --token-file or set "
            "MEDADAPT_TOKEN (or listen on 127.0.0.1)"
        )
    Registry(registry)  # one-line error now if it is not a registry
    uvicorn.run(
        create_app(
            registry, token=token, max_batch=max_batch, max_wait_ms=max_wait_ms, threads=threads
        ),
        host=host,
        port=port,
        log_level="warning",
    )
