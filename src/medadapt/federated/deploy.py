"""Deployment: the same Flower app on a SuperLink (the server) and SuperNodes (one per
hospital), as separate processes talking over TLS (``--insecure`` only when asked).

``medadapt federate server`` starts a SuperLink, writes a small Flower app whose components
are :data:`server_app` and :data:`client_app` (medadapt's, written once for simulation and
deployment) and submits the run with ``flwr run``; the ServerApp writes the adapter and
``federated.json`` into ``--out``. ``medadapt federate client`` runs a SuperNode at a
hospital, naming its site, its local file and its copy of the base. Flower's telemetry is off.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from medadapt.errors import ConfigError, DataError
from medadapt.federated.client import make_client_app
from medadapt.federated.config import FederatedRun
from medadapt.federated.results import OUTCOME, write_deployment_outcome
from medadapt.federated.server import serve

CERTIFICATES = ("ca.crt", "server.pem", "server.key")
ENV = {"FLWR_TELEMETRY_ENABLED": "0"}

client_app = make_client_app()  # the run comes with each message's run config
server_app = ServerApp()


@server_app.main()
def _main(grid: Grid, context: Context) -> None:
    run = FederatedRun.from_json(str(context.run_config["run"]))
    out = Path(str(context.run_config["out"]))
    try:
        write_deployment_outcome(run, serve(run, grid), out)
    except Exception as error:  # the server command reports it, as one line
        (out / OUTCOME).write_text(json.dumps({"error": str(error)}))


APP_PYPROJECT = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "medadapt-federated"
version = "1.0.0"
dependencies = []

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "medadapt"

[tool.flwr.app.components]
serverapp = "medadapt_app:server_app"
clientapp = "medadapt_app:client_app"

[tool.flwr.app.config]
run = {run}
out = {out}
"""


def write_app(directory: Path, run: FederatedRun, out: Path) -> Path:
    """The Flower app ``flwr run`` ships to the SuperLink: medadapt's two components and the
    run (as JSON) in its run config."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "medadapt_app.py").write_text(
        "from medadapt.federated import deploy\n\n"
        "server_app = deploy.server_app\nclient_app = deploy.client_app\n"
    )
    text = APP_PYPROJECT.format(run=json.dumps(run.to_json()), out=json.dumps(str(out)))
    (directory / "pyproject.toml").write_text(text)
    return directory


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(host: str, port: int, seconds: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DataError(f"the Flower SuperLink stopped at start-up (exit {process.returncode})")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise DataError(f"the Flower SuperLink did not listen on {host}:{port} within {seconds:.0f} s")


def check_certificates(directory: Path | None, insecure: bool, names=CERTIFICATES) -> None:
    if insecure:
        return
    if directory is None:
        raise ConfigError(
            "--certificates DIR is required (TLS is on by default): a folder with "
            f"{', '.join(names)}; or pass --insecure (unencrypted, for a trial on one machine)"
        )
    missing = [n for n in names if not (directory / n).is_file()]
    if missing:
        raise ConfigError(f"--certificates {directory} lacks {', '.join(missing)}")


def superlink_command(host: str, port: int, certificates: Path | None, insecure: bool):
    command = [_tool("flower-superlink"), "--host", host, "--port", str(port),
               "--disable-runtime-dependency-installation"]  # fmt: skip
    if insecure:
        return [*command, "--insecure"]
    return [*command, "--ssl-ca-certfile", str(certificates / "ca.crt"),
            "--ssl-certfile", str(certificates / "server.pem"),
            "--ssl-keyfile", str(certificates / "server.key")]  # fmt: skip


def supernode_command(server: str, site: str, data: Path, base: Path, *, port: int,
                      keep_in: Path | None, root_certificates: Path | None,
                      insecure: bool) -> list[str]:  # fmt: skip
    """The SuperNode of a hospital: its site, its file, its copy of the base and the folder
    where it keeps its adapters travel as the node's config (never to the server)."""
    config = f"site={json.dumps(site)} data={json.dumps(str(data))} base={json.dumps(str(base))}"
    if keep_in is not None:
        config += f" out={json.dumps(str(keep_in))}"
    command = [_tool("flower-supernode"), "--superlink", server, "--port", str(port),
               "--node-config", config]  # fmt: skip
    if insecure:
        return [*command, "--insecure"]
    return [*command, "--root-certificates", str(root_certificates)]


def submit(app: Path, home: Path, address: str, certificates: Path | None, insecure: bool,
           log: Path, timeout: float) -> None:  # fmt: skip
    """``flwr run`` of ``app`` on the SuperLink at ``address``; returns when the run ends."""
    home.mkdir(parents=True, exist_ok=True)
    lines = ["[superlink]", 'default = "medadapt"', "", "[superlink.medadapt]",
             f"address = {json.dumps(address)}"]  # fmt: skip
    lines.append("insecure = true" if insecure else
                 f"root-certificates = {json.dumps(str(certificates / 'ca.crt'))}")  # fmt: skip
    (home / "config.toml").write_text("\n".join(lines) + "\n")
    env = flower_env(FLWR_HOME=str(home))
    with open(log, "wb") as out:
        try:
            subprocess.run([_tool("flwr"), "run", str(app), "medadapt", "--stream"], cwd=app,
                           env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout,
                           check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise DataError(
                f"the federated run did not finish within --timeout {timeout:g} s (are all "
                "sites connected? see flwr.log in --out); raise --timeout or start the "
                "missing sites' clients"
            ) from None


def read_outcome(out: Path) -> dict[str, Any]:
    path = out / OUTCOME
    if not path.is_file():
        raise DataError("the federated run ended without a result: see flwr.log in --out")
    outcome = json.loads(path.read_text())
    if "error" in outcome:
        raise DataError(outcome["error"])
    return outcome


def flower_env(**more: str) -> dict[str, str]:
    """The environment Flower's processes run in: this Python's tools first on PATH (the
    SuperLink and SuperNodes start Flower's other processes by name), telemetry off."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, **ENV, "PATH": path, **more}


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def relay(lines: Iterable[str], to: TextIO) -> None:
    """Flower's log lines (``lines``) onto ``to``, without their colour codes when ``to`` is
    not a terminal (a hospital's service log stays readable)."""
    plain = not to.isatty()
    for line in lines:
        to.write(_ANSI.sub("", line) if plain else line)
        to.flush()


def _tool(name: str) -> str:
    """A Flower command from this Python's environment."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def run_server(run: FederatedRun, out: Path, *, host: str, port: int, certificates: Path | None,
               insecure: bool, timeout: float, say=None) -> dict[str, Any]:  # fmt: skip
    """Start a SuperLink, submit ``run`` and wait for it; the SuperLink stops at the end.
    Returns what the ServerApp wrote (``federated.json``)."""
    say = say or (lambda message: None)
    work = out / ".flower"
    link_log = open(out / "superlink.log", "wb")  # noqa: SIM115  (kept open for the process)
    command = superlink_command(host, port, certificates, insecure)
    link = subprocess.Popen(command, env=flower_env(), stdout=link_log, stderr=subprocess.STDOUT)
    try:
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        wait_for_port(local, port, 60, link)
        say(f"SuperLink on {host}:{port}; waiting for {len(run.sites)} sites")
        app = write_app(work / "app", run, out)
        address = f"{local}:{port}"
        submit(app, work / "home", address, certificates, insecure, out / "flwr.log", timeout)
        read_outcome(out)
    finally:
        link.terminate()
        try:
            link.wait(timeout=20)
        except subprocess.TimeoutExpired:
            link.kill()
        link_log.close()
    return json.loads((out / "federated.json").read_text())
