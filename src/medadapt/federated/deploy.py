"""Deployment: the same Flower app on a SuperLink (the server) and SuperNodes (one per
hospital), as separate processes talking over TLS (``--insecure`` only when asked).

``medadapt federate server`` starts a SuperLink, writes a small Flower app whose components
are :data:`server_app` and :data:`client_app` (medadapt's, written once for simulation and
deployment) and submits the run with ``flwr run``; the ServerApp writes the adapter and
``federated.json`` into ``--out``. ``medadapt federate client`` runs a SuperNode at a
hospital, naming its site, its local file and its copy of the base. Flower's telemetry and
update check are off; Flower's working files (its copies of the app included) stay in the
run's own folders, removed when it ends.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from medadapt.errors import ConfigError, DataError
from medadapt.evaluate.report.formatting import listed
from medadapt.federated.client import make_client_app
from medadapt.federated.config import FederatedRun
from medadapt.federated.results import OUTCOME, write_deployment_outcome
from medadapt.federated.server import serve
from medadapt.federated.site_events import EVENTS_KEY, JOINED, SiteEvents, server_line, tell

CERTIFICATES = ("ca.crt", "server.pem", "server.key")
LOGS = ("superlink.log", "flwr.log")  # the server's Flower logs, in --out
WORK = ".flower"  # Flower's working files in the server's --out, removed when the run ends
SERVER_EVENTS = f"{WORK}/events.jsonl"  # what the ServerApp tells the server command
#: Flower's telemetry off, and its update check (a request to Flower's servers from each
#: hospital's and the server's machine, at every start) too
ENV = {"FLWR_TELEMETRY_ENABLED": "0", "FLWR_DISABLE_UPDATE_CHECK": "1"}

client_app = make_client_app()  # the run comes with each message's run config
server_app = ServerApp()


@server_app.main()
def _main(grid: Grid, context: Context) -> None:
    run = FederatedRun.from_json(str(context.run_config["run"]))
    out = Path(str(context.run_config["out"]))
    events = out / SERVER_EVENTS

    def say(event: str, **counts: Any) -> None:  # to the server command's terminal
        tell(events, event, **counts)

    try:
        write_deployment_outcome(run, serve(run, grid, say), out)
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


def check_port_free(host: str, port: int) -> None:
    """Refuse a ``--port`` something already listens on (another ``federate server``): the
    SuperLink started there fails, yet the port answers, and the run would go to the other
    server's SuperLink."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed run's port is free
        try:
            probe.bind((host, port))
        except OSError:
            raise ConfigError(f"--port {port} is already in use (another federate server?): "
                              "choose another --port") from None  # fmt: skip


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
    if not directory.is_dir():
        what = "is a file" if directory.exists() else "does not exist"
        raise ConfigError(f"--certificates {directory} {what}: name the folder holding "
                          f"{', '.join(names)}")  # fmt: skip
    missing = [n for n in names if not (directory / n).is_file()]
    if missing:
        raise ConfigError(f"--certificates {directory} lacks {', '.join(missing)}: make them "
                          "with 'medadapt federate certificates --out DIR' (a test CA), or copy "
                          "the hospital's there")  # fmt: skip


def local_address(host: str) -> str:
    """Where the server reaches its own SuperLink (to submit the run): ``host``, or the
    loopback address when it listens on every interface."""
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host


def check_server_names(directory: Path, address: str) -> None:
    """The server submits its run to its own SuperLink at ``address`` over TLS, so its
    certificate (``server.pem``) must name ``address``; refused by flag otherwise (Flower
    would only say, later, that the SuperLink is unavailable)."""
    from cryptography import x509

    pem = directory / "server.pem"
    certificate = _pem_certificate(pem, "--certificates")
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        names = x509.SubjectAlternativeName([])
    try:
        valid = ipaddress.ip_address(address) in names.get_values_for_type(x509.IPAddress)
    except ValueError:  # a host name
        valid = any(_name_matches(name, address)
                    for name in names.get_values_for_type(x509.DNSName))  # fmt: skip
    if not valid:
        raise ConfigError(
            f"--certificates {pem} does not name {address}, where this server submits the "
            f"run to its own SuperLink: make the certificate for {address} too ('medadapt "
            "federate certificates' always names 127.0.0.1 and localhost), or pass --host with "
            "a name it holds"
        )
    _check_chain(directory, certificate)


def _check_chain(directory: Path, certificate: Any) -> None:
    """``ca.crt`` is a certificate that signed ``server.pem``, and ``server.key`` is
    ``server.pem``'s key: Flower would fail on each later, in its own words."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    _pem_certificate(directory / "ca.crt", "--certificates")
    cas = x509.load_pem_x509_certificates((directory / "ca.crt").read_bytes())
    chain = x509.load_pem_x509_certificates((directory / "server.pem").read_bytes())

    def signed(cert: Any, ca: Any) -> bool:
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True

    # server.pem may carry its intermediates, and ca.crt several CAs: one link is enough
    if not any(cert == ca or signed(cert, ca) for cert in chain for ca in cas):
        raise ConfigError(
            f"--certificates {directory / 'server.pem'} was not signed by ca.crt in the same "
            "folder: the sites, who trust ca.crt, would refuse it; give the CA that signed it"
        ) from None
    key_file = directory / "server.key"
    try:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except (ValueError, TypeError):  # not PEM, or encrypted (Flower takes no passphrase)
        raise ConfigError(f"--certificates {key_file} is not a PEM private key") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.PEM, public) != (
        certificate.public_key().public_bytes(serialization.Encoding.PEM, public)
    ):
        raise ConfigError(
            f"--certificates {key_file} is not the key of server.pem: give the key made with "
            "that certificate"
        )


def _pem_certificate(path: Path, flag: str, hint: str = "") -> Any:
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError:
        raise ConfigError(f"{flag} {path} is not a PEM certificate{hint}") from None


def check_root_certificates(path: Path) -> None:
    """A site's ``--root-certificates`` is a PEM certificate (Flower's SuperNode otherwise
    dies with a traceback and the client waits on)."""
    _pem_certificate(Path(path), "--root-certificates", ": pass the federation's ca.crt")


def _name_matches(pattern: str, host: str) -> bool:
    """A certificate's DNS name (``*.example.org`` matches one label) against ``host``."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        return host.partition(".")[2] == pattern[2:] and "." in host
    return pattern == host


def superlink_command(host: str, port: int, certificates: Path | None, insecure: bool):
    command = [_tool("flower-superlink"), "--host", host, "--port", str(port),
               "--disable-runtime-dependency-installation"]  # fmt: skip
    if insecure:
        return [*command, "--insecure"]
    return [*command, "--ssl-ca-certfile", str(certificates / "ca.crt"),
            "--ssl-certfile", str(certificates / "server.pem"),
            "--ssl-keyfile", str(certificates / "server.key")]  # fmt: skip


def supernode_command(server: str, site: str, data: Path, base: Path, *, port: int,
                      keep_in: Path | None, events: Path, wait: float,
                      root_certificates: Path | None, insecure: bool,
                      allow_leak: str | None = None) -> list[str]:  # fmt: skip
    """The SuperNode of a hospital: its site, its file, its copy of the base, the folder
    where it keeps its adapters, the columns it keeps with ``--allow-leak`` and the file its
    node tells the hospital's command what it did (:mod:`~medadapt.federated.site_events`)
    travel as the node's config (never to the server); it gives up after ``wait`` seconds
    without reaching the SuperLink."""
    config = {"site": site, "data": str(data), "base": str(base), EVENTS_KEY: str(events)}
    if keep_in is not None:
        config["out"] = str(keep_in)
    if allow_leak is not None:  # the site's own choice, for its node's leak checks
        config["allow_leak"] = allow_leak
    command = [_tool("flower-supernode"), "--superlink", server, "--port", str(port),
               "--max-wait-time", f"{wait:g}", "--node-config",
               " ".join(f"{key}={json.dumps(value)}" for key, value in config.items())]  # fmt: skip
    if insecure:
        return [*command, "--insecure"]
    return [*command, "--root-certificates", str(root_certificates)]


def submit(app: Path, home: Path, address: str, certificates: Path | None, insecure: bool,
           log: Path, timeout: float, events: SiteEvents | None = None,
           say=None, sites: Sequence[str] = ()) -> None:  # fmt: skip
    """``flwr run`` of ``app`` on the SuperLink at ``address``; returns when the run ends,
    saying each of the ServerApp's ``events`` (sites joining, rounds done) meanwhile; past
    ``timeout``, the run's ``sites`` that had not joined are named."""
    home.mkdir(parents=True, exist_ok=True)
    lines = ["[superlink]", 'default = "medadapt"', "", "[superlink.medadapt]",
             f"address = {json.dumps(address)}"]  # fmt: skip
    if insecure:
        lines.append("insecure = true")
    else:  # Flower reads an absolute path only (``--certificates certs/`` is relative here)
        ca = (certificates / "ca.crt").resolve()
        lines.append(f"root-certificates = {json.dumps(str(ca))}")
    (home / "config.toml").write_text("\n".join(lines) + "\n")
    env = flower_env(FLWR_HOME=str(home))
    deadline = time.monotonic() + timeout
    with open(log, "wb") as out:
        flwr = subprocess.Popen([_tool("flwr"), "run", str(app), "medadapt", "--stream"],
                                cwd=app, env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            while flwr.poll() is None:
                _say_events(events, say)
                if time.monotonic() > deadline:
                    raise DataError(_timed_out(timeout, events, sites))
                time.sleep(0.5)
            _say_events(events, say)
        finally:
            if flwr.poll() is None:
                flwr.kill()
                flwr.wait()


def _timed_out(timeout: float, events: SiteEvents | None, sites: Sequence[str]) -> str:
    """Why the run stopped at ``--timeout``: before any round, the sites that had not joined
    by name (a trial's --timeout 5 named none: the join window, half of it, had not closed
    yet); else how far it got."""
    seen = events.seen if events is not None else []
    joined = [e["site"] for e in seen if e.get("event") == JOINED and "site" in e]
    rounds = [e for e in seen if e.get("event") == "round"]
    missing = [site for site in sites if site not in joined]
    if missing and not rounds:
        present = f" (joined: {', '.join(dict.fromkeys(joined))})" if joined else " (none joined)"
        clients = "its client" if len(missing) == 1 else "their clients"
        return (f"the federated run did not finish within --timeout {timeout:g} s: "
                f"{listed(missing)} had not joined{present}; start {clients}, or raise "
                "--timeout")  # fmt: skip
    last = rounds[-1] if rounds else {}
    done = f" (round {last.get('round')} of {last.get('of')} done)" if rounds else ""
    return (f"the federated run did not finish within --timeout {timeout:g} s{done}: raise "
            "--timeout")  # fmt: skip


def _say_events(events: SiteEvents | None, say) -> None:
    if events is None or say is None:
        return
    for event in events.new():
        line = server_line(event)
        if line is not None:
            say(line)


def read_outcome(out: Path) -> dict[str, Any]:
    path = out / OUTCOME
    if not path.is_file():
        said = flower_error(out / "flwr.log")
        raise DataError("the federated run ended without a result"
                        + (f": Flower said: {said}" if said else ""))  # fmt: skip
    outcome = json.loads(path.read_text())
    path.unlink()  # the server's own note, not part of the run's output
    if "error" in outcome:
        raise DataError(outcome["error"])
    return outcome


_ERROR_BOX = re.compile(r"╭─ Error ─+╮\n(.*?)\n╰─+╯", flags=re.S)


def flower_error(log: Path) -> str | None:
    """The message of the last error box ``flwr`` printed in ``log``, on one line."""
    if not log.is_file():
        return None
    boxes = _ERROR_BOX.findall(ANSI.sub("", log.read_text(errors="replace")))
    if not boxes:
        return None
    lines = (line.strip().strip("│").strip() for line in boxes[-1].splitlines())
    return " ".join(line for line in lines if line)


def keep_logs(out: Path) -> Path | None:
    """A failed run's Flower logs, copied out of ``out`` (which is removed) into a new
    temporary folder; None when there are none."""
    logs = [out / name for name in LOGS if (out / name).is_file()]
    if not logs:
        return None
    kept = Path(tempfile.mkdtemp(prefix="medadapt-federate-logs-"))
    for log in logs:
        shutil.copy2(log, kept / log.name)
    return kept


def plain_logs(out: Path) -> None:
    """The server's Flower logs in ``out`` without their colour codes (Flower colours its
    log lines whatever it writes to)."""
    for name in LOGS:
        path = out / name
        if path.is_file():
            path.write_text(ANSI.sub("", path.read_text(errors="replace")))


def flower_env(**more: str) -> dict[str, str]:
    """The environment Flower's processes run in: this Python's tools first on PATH (the
    SuperLink and SuperNodes start Flower's other processes by name), telemetry off."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, **ENV, "PATH": path, **more}


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def stop_process(process: subprocess.Popen, seconds: float = 20) -> None:
    """Stop one of Flower's processes: asked (SIGTERM), then killed after ``seconds``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tool(name: str) -> str:
    """A Flower command from this Python's environment."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def run_server(run: FederatedRun, out: Path, *, host: str, port: int, certificates: Path | None,
               insecure: bool, timeout: float, say=None) -> dict[str, Any]:  # fmt: skip
    """Start a SuperLink, submit ``run`` and wait for it; the SuperLink stops at the end.
    Returns what the ServerApp wrote (``federated.json``). A run that fails names where its
    Flower logs are kept (``out`` is removed then). Flower's working files (the app, the copy
    of it the SuperLink installs, the ServerApp's events) live in ``out``'s :data:`WORK`
    folder, removed when the run ends, however it ends: none in the user's ``~/.flwr``."""
    say = say or (lambda message: None)
    check_port_free(host, port)
    work = out / WORK
    link_log = open(out / "superlink.log", "wb")  # noqa: SIM115  (kept open for the process)
    command = superlink_command(host, port, certificates, insecure)
    # the SuperLink's ServerApp installs the app it runs in FLWR_HOME/apps (~/.flwr by default)
    env = flower_env(FLWR_HOME=str(work / "superlink"))
    link = subprocess.Popen(command, env=env, stdout=link_log, stderr=subprocess.STDOUT)
    failed = None
    try:
        local = local_address(host)
        wait_for_port(local, port, 60, link)
        time.sleep(0.5)  # a SuperLink that failed to bind exits at once
        if link.poll() is not None:
            raise DataError(f"the Flower SuperLink stopped at start-up (exit {link.returncode})")
        say(f"SuperLink on {host}:{port}; waiting for {len(run.sites)} sites")
        app = write_app(work / "app", run, out)
        address = f"{local}:{port}"
        submit(app, work / "home", address, certificates, insecure, out / "flwr.log", timeout,
               SiteEvents(out / SERVER_EVENTS), say, sites=run.sites)  # fmt: skip
        read_outcome(out)
    except DataError as error:
        failed = error
    finally:
        stop_process(link)
        link_log.close()
        plain_logs(out)
        shutil.rmtree(work, ignore_errors=True)
    if failed is not None:
        kept = keep_logs(out)
        where = f" (Flower's logs: {kept}/)" if kept else ""
        raise DataError(f"{failed}{where}") from None
    return json.loads((out / "federated.json").read_text())
