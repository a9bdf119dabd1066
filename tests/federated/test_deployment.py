"""Deployment on loopback: ``medadapt federate server`` (a Flower SuperLink) and three
``medadapt federate client`` processes (SuperNodes), each hospital with only its own file, over
TLS with certificates made here. The adapter equals the simulation's for the same seed (within
float32 summation order: the server adds the sites' updates in the order they arrive)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from medadapt.data.heart import bundled_path
from medadapt.federated.certificates import make_certificates
from medadapt.federated.deploy import free_port
from tests.federated.conftest import SITES
from tests.terminal import sigint_as_in_a_terminal

pytestmark = pytest.mark.xdist_group("flower")


def medadapt(*args, env: dict[str, str] | None = None) -> subprocess.Popen:
    env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "medadapt.cli", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=sigint_as_in_a_terminal)  # fmt: skip


def stop(process: subprocess.Popen) -> str:
    """Stop a medadapt process and everything it started (Flower's own processes too); what
    it printed (stdout)."""
    said = ""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            said, _ = process.communicate(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    return said or ""


def private_places(tmp_path: Path) -> dict[str, str]:
    """A home (Flower installs the apps it runs in ~/.flwr/apps) and a temporary folder of
    the test's own, to see what a run leaves behind."""
    for name in ("home", "scratch"):
        (tmp_path / name).mkdir()
    return {"HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path / "scratch")}


def left_behind(tmp_path: Path) -> list[str]:
    """What the run's processes left in the private home's ~/.flwr/apps and temporary
    folder."""
    apps = tmp_path / "home" / ".flwr" / "apps"
    found = [*apps.glob("*"), *(tmp_path / "scratch").glob("*")]
    return sorted(str(path.relative_to(tmp_path)) for path in found)


def test_server_and_three_hospitals_over_tls_match_the_simulation(
    tmp_path, cleveland_base, one_round
):
    data, base = Path(bundled_path()), cleveland_base
    frame = pd.read_csv(data)
    files = {}
    for site in SITES:  # each hospital holds only its own rows
        files[site] = tmp_path / f"{site.replace(' ', '_')}.csv"
        frame[frame["dataset"] == site].to_csv(files[site], index=False)
    certs = make_certificates(tmp_path / "certs")
    port, out = free_port(), tmp_path / "fed"
    private = private_places(tmp_path)
    server = medadapt("federate", "server", "--base", base, "--groups", ",".join(SITES),
                      "--certificates", certs, "--port", port, "--rounds", 1, "--local-epochs",
                      1, "--n-boot", 50, "--personalise", "recalibrate", "--out", out,
                      "--timeout", 400, env=private)  # fmt: skip
    time.sleep(3)
    kept = tmp_path / "kept_at_hungary"  # only this hospital keeps its adapters
    clients = [medadapt("federate", "client", "--server", f"127.0.0.1:{port}", "--site", site,
                        "--data", files[site], "--base", base, "--root-certificates",
                        certs / "ca.crt", *(["--out", kept] if site == "Hungary" else []),
                        env=private)
               for site in SITES]  # fmt: skip
    try:
        stdout, stderr = server.communicate(timeout=480)
        left = {site: client.communicate(timeout=60)
                for site, client in zip(SITES, clients, strict=True)}  # fmt: skip
    finally:
        for process in (*clients, server):
            stop(process)
    assert server.returncode == 0, stdout + stderr
    for site in SITES:  # the server's terminal: who joined, each round (a service's log too)
        assert f"site {site} joined (" in stdout
    assert "round 1 of 1 done (3 sites scored it)" in stdout
    assert f"wrote{out}(withFlower'slogsoftherun:superlink.log,flwr.log)" in "".join(
        stdout.split()
    )  # kept with the run, and said
    for site, client in zip(SITES, clients, strict=True):  # each left once the run ended
        assert client.returncode == 0, left[site]
        assert "Traceback" not in left[site][1] and "error:" not in left[site][1]
    said = {site: "".join(left[site][0].split()) for site in SITES}  # a path may wrap anywhere
    finished = f"therunfinished;kept{kept}/federated/and{kept}/personalised/;thissiteleft"
    assert finished in said["Hungary"]
    assert "therunfinished;keptnoadapterhere;thissiteleftthefederation" in said["Cleveland"]
    assert "INFO" not in said["Hungary"] and "\x1b[" not in said["Hungary"]  # Flower's log is
    # kept apart (named on failure); the terminal says what the node did, in counts
    results = json.loads((out / "federated.json").read_text())
    labelled = int(re.search(r"siteHungary:(\d+)labelled", said["Hungary"]).group(1))
    n_test = results["sites"]["Hungary"]["n_test"]
    assert f"round1:trainedtheadapteron{labelled - n_test}rows;sentitsweights" in said["Hungary"]
    # the last round's scoring is the final one (one ClientApp process less at each site)
    assert "round1:scored" not in said["Hungary"]
    assert (f"finalround:scoredthefederatedadapter,thebasealoneandthissite'sownadapteron"
            f"{n_test}held-outrows") in said["Hungary"]  # fmt: skip
    assert "Traceback" not in stderr
    flower = (out / "flwr.log").read_text()  # counts, not means of counts and site numbers
    assert "Aggregated MetricRecord: {'sites': 3, 'num-examples': " in flower
    assert "site-index" not in flower and "'n':" not in flower
    # nothing left: Flower's copies of the app (~/.flwr/apps), the nodes' folders, the
    # server's working files
    assert left_behind(tmp_path) == [] and not (out / ".flower").exists()
    assert set(results["sites"]) == set(SITES) and results["bytes"]["dtype"] == "float32"
    assert not (out / "split.json").exists()  # the server never knew which rows trained it
    card = json.loads((out / "adapter.json").read_text())["metadata"]["federated"]
    assert card["sites"] == list(SITES) and card["rounds"] == 1
    simulated = one_round.outcome  # the same base, sites, method, seed and round
    assert (one_round.run.base_dir, one_round.run.sites, one_round.run.rounds) == (base, SITES, 1)
    deployed = load_file(out / "adapter.safetensors")
    assert set(deployed) == set(simulated.weights)
    for key, value in deployed.items():
        assert (value - simulated.weights[key]).abs().max() <= 1e-5, key
    for site in SITES:
        assert results["sites"][site]["n_test"] == next(
            e["num-examples"] for e in simulated.final if e["site"] == site
        )
    _hungary_kept_its_adapters(kept, out, results["sites"]["Hungary"], files["Hungary"], base)


def _hungary_kept_its_adapters(
    kept: Path, out: Path, hungary: dict, data: Path, base: Path
) -> None:
    """The site's --out holds the federated adapter as the server saved it and its own
    recalibrated one (the shared weights but its head's bias), each with the site's split:
    ``evaluate`` at the site reproduces the figures the server was sent."""
    from tests.cli.helpers import run_cli

    shared = load_file(kept / "federated" / "adapter.safetensors")
    server = load_file(out / "adapter.safetensors")
    assert set(shared) == set(server)
    assert all(torch.equal(shared[k], server[k]) for k in server)
    own = load_file(kept / "personalised" / "adapter.safetensors")
    assert {k for k in shared if not torch.equal(shared[k], own[k])} == {"head.linear.bias"}
    uses = {folder: json.loads((kept / folder / "adapter.json").read_text())["metadata"]
            ["intended_use"] for folder in ("federated", "personalised")}  # fmt: skip
    assert "personalised at Hungary" in uses["personalised"]  # its site alone
    assert "personalised" not in uses["federated"]  # a review: the shared copy was said so
    for folder, figures in (("federated", hungary["federated"]),
                            ("personalised", hungary["personalised"])):  # fmt: skip
        result = run_cli("evaluate", "--base", base, "--adapter", kept / folder,
                         "--data", data, "--json", kept.parent / f"{folder}.json")  # fmt: skip
        assert result.code == 0, result.stderr
        evaluated = json.loads((kept.parent / f"{folder}.json").read_text())
        assert evaluated["n"] == hungary["n_test"]
        for key in ("accuracy", "brier"):
            assert evaluated[key] == pytest.approx(figures[key], abs=1e-6), (folder, key)


@pytest.mark.slow  # a further deployment (SuperLink, SuperNodes): make test-slow
def test_sites_unexpected_or_absent_are_named_at_the_server_and_the_hospitals(
    tmp_path, cleveland_base
):
    """A hospital that names a site the server does not federate hears why on its own
    terminal (before, only the server said it); the server notes it and waits on for its own
    sites (before, anyone holding ca.crt who mistyped a site name ended the run). A site that
    never joins is named by the server, with who joined (before: only "did not finish within
    --timeout (are all sites connected?)", and the sites that joined were told "no federation
    server answered"); a site whose server stopped answering leaves after --wait with one
    line, not Flower's retries. Only the logs each side named are left behind."""
    base = cleveland_base
    frame = pd.read_csv(bundled_path())
    files = {site: tmp_path / f"{site}.csv" for site in ("Hungary", "Switzerland")}
    for site, path in files.items():
        frame[frame["dataset"] == site].to_csv(path, index=False)
    port, private = free_port(), private_places(tmp_path)
    server = medadapt("federate", "server", "--base", base, "--groups", "Cleveland,Hungary",
                      "--insecure", "--port", port, "--rounds", 1, "--local-epochs", 1,
                      "--out", tmp_path / "fed", "--timeout", 80, env=private)  # fmt: skip
    # (--timeout 40 on a machine 2.3 times slower: the ServerApp took so long to start that
    # the whole run's --timeout ended before its join window, half of it, closed)
    time.sleep(3)
    clients = {site: medadapt("federate", "client", "--server", f"127.0.0.1:{port}", "--site",
                              site, "--data", path, "--base", base, "--insecure", "--wait", 5,
                              env=private)
               for site, path in files.items()}  # fmt: skip
    try:
        server_out, server_said = server.communicate(timeout=300)
        left = {site: client.communicate(timeout=120) for site, client in clients.items()}
    finally:
        for process in (*clients.values(), server):
            stop(process)
    refusal = ("site Switzerland: --site 'Switzerland' is not one of the run's sites (Cleveland, "
               "Hungary): pass this hospital's name as the server's --groups spell it")  # fmt: skip
    assert server.returncode == 2 and server_said.strip().startswith(
        "error: site Cleveland did not join within 40 s, half of --timeout (joined: Hungary): "
        "start its client (--site as --groups spells it, --server this server's address), or "
        "raise --timeout"
    ), server_said
    assert "site Hungary joined (1 of 2)" in server_out and not (tmp_path / "fed").exists()
    note = f"note: a client was refused and ignored; still waiting for the run's sites: {refusal}"
    assert note in " ".join(server_out.split()), server_out
    gone = (
        f"the server at 127.0.0.1:{port} stopped answering before the run finished (no "
        "answer for --wait 5 s): its operator sees why; this site left the federation"
    )
    for site, expected in (("Switzerland", refusal), ("Hungary", gone)):
        stdout, stderr = left[site]
        assert clients[site].returncode == 2, stderr
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and errors[0].startswith(f"error: {expected} (Flower's log: ")
        log = Path(errors[0].rsplit("(Flower's log: ", 1)[1].rstrip(")"))
        assert log.is_file() and "Receiving: query message" in log.read_text()  # kept, named
        assert "Traceback" not in stderr and "WARNING" not in stdout + stderr
    assert "answered the server as site Hungary" in " ".join(left["Hungary"][0].split())
    assert "round 1" not in left["Hungary"][0]  # refused at joining, before any round
    # only the logs each side named are kept: the server's Flower logs, each client's own
    server_logs = re.search(r"\(Flower's logs: (.+?)/\)", server_said).group(1)
    client_logs = [Path(re.search(r"\(Flower's log: (.+?)\)", stderr).group(1)).parent
                   for _, stderr in left.values()]  # fmt: skip
    assert left_behind(tmp_path) == sorted(
        str(Path(path).relative_to(tmp_path)) for path in (server_logs, *client_logs)
    )
    assert sorted(p.name for p in Path(server_logs).iterdir()) == ["flwr.log", "superlink.log"]
    for folder in client_logs:
        assert [p.name for p in folder.iterdir()] == ["supernode.log"]


@pytest.mark.slow  # a further deployment (SuperLink, SuperNodes): make test-slow
def test_a_server_stopped_with_ctrl_c_says_it_wrote_nothing_and_leaves_nothing(
    tmp_path, cleveland_base
):
    """Ctrl-C on a server waiting for its sites said "files already finished were kept"
    though it wrote nothing; and Flower's copy of the app stayed in ~/.flwr/apps. The copy
    now goes to the run's own working folder, removed with everything else."""
    base = cleveland_base
    private = private_places(tmp_path)
    server = medadapt("federate", "server", "--base", base, "--groups", "Cleveland,Hungary",
                      "--insecure", "--port", free_port(), "--rounds", 1, "--out",
                      tmp_path / "fed", "--timeout", 300, env=private)  # fmt: skip
    try:
        installed = []
        deadline = time.monotonic() + 120
        while not installed and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.5)  # until the ServerApp has installed the app it runs
            installed = list(tmp_path.glob(".fed.tmp-*/.flower/superlink/apps/medadapt.*"))
        assert installed, "the ServerApp never installed its app in the run's own FLWR_HOME"
        os.killpg(server.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
        stdout, stderr = server.communicate(timeout=120)
    finally:
        stop(server)
    assert server.returncode == 130, stdout + stderr
    assert stderr.strip().splitlines()[-1] == (
        "interrupted; nothing was written (--out is written only when the run finishes); re-run "
        "the command"
    )
    assert "Traceback" not in stderr
    assert not (tmp_path / "fed").exists() and not list(tmp_path.glob(".fed*"))
    assert left_behind(tmp_path) == []


@pytest.mark.slow  # a further deployment (SuperLink, SuperNodes): make test-slow
def test_a_site_with_no_server_to_reach_leaves_after_wait(tmp_path, cleveland_base):
    base = cleveland_base
    site = tmp_path / "hungary.csv"
    frame = pd.read_csv(bundled_path())
    frame[frame["dataset"] == "Hungary"].to_csv(site, index=False)
    port = free_port()  # nothing listens there
    client = medadapt("federate", "client", "--server", f"127.0.0.1:{port}", "--site", "Hungary",
                      "--data", site, "--base", base, "--insecure", "--wait", 3)  # fmt: skip
    try:
        stdout, stderr = client.communicate(timeout=120)
    finally:
        stop(client)
    assert client.returncode == 2
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(
        f"error: no federation server answered at 127.0.0.1:{port} within --wait 3 s: check "
        "--server, and that 'medadapt federate server' runs there; then start this client again "
        "(or raise --wait) (Flower's log: "
    )
    assert "Traceback" not in stderr and "Connection attempt failed" not in stdout + stderr
    kept = Path(errors[0].rsplit("(Flower's log: ", 1)[1].removesuffix(")"))
    assert kept.is_file() and kept.parent.name.startswith("medadapt-site-")  # named: it is there
    shutil.rmtree(kept.parent)  # (the test's own: a hospital's stays for its engineer)
