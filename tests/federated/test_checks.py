"""A federated run's own checks, before any Flower process: the run's values by flag, and a
site whose copy of the base is not the server's."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from flwr.app import MetricRecord, RecordDict

from medadapt.errors import ConfigError, DataError
from medadapt.federated import deploy
from medadapt.federated.certificates import make_certificates
from medadapt.federated.client import _check_same_base
from medadapt.federated.config import FederatedRun
from medadapt.federated.strategies import counts_only, inner_strategy
from tests.cli.helpers import run_cli


def _run(**changes) -> FederatedRun:
    values = dict(base_dir=Path("base"), data=None, label=None, group_column=None,
                  sites=("A", "B"))  # fmt: skip
    return FederatedRun(**{**values, **changes})


def test_a_site_with_another_base_is_refused_by_its_fingerprint_not_its_path():
    """The refusal reaches the server's terminal and log: it named the hospital's --base
    folder, a path of another hospital's machine; the weights' fingerprints say it."""
    run = _run(base_dir=Path("/hospital/secret/base"), base_fingerprint="a" * 64)
    with pytest.raises(DataError) as error:
        _check_same_base(run, SimpleNamespace(fingerprint=SimpleNamespace(weights="b" * 64)))
    assert str(error.value) == (
        "this site's --base (weights sha256 bbbbbbbbbbbb) is not the base model the server "
        "federates (weights sha256 aaaaaaaaaaaa): use a copy of the server's base"
    )
    assert "/hospital" not in str(error.value)
    _check_same_base(run, SimpleNamespace(fingerprint=SimpleNamespace(weights="a" * 64)))


def test_the_run_round_trips_through_the_apps_run_config():
    run = _run(strategy="fedyogi", sites=("A", "B", "C"), clipping_norm=1.0, noise_multiplier=0.5)
    assert FederatedRun.from_json(run.to_json()) == run


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sites": ("A", "B", "A")}, "--groups names 'A' twice: name each site once"),
        (
            {"sites": ("Site A", "site-a")},
            "--groups names sites 'Site A' and 'site-a', which would share the folder and "
            "adapter name 'site_a': rename one of them in the data",
        ),
        (
            {"personalise": "all"},
            "--personalise must be one of none, head, finetune, recalibrate; got 'all'",
        ),
        (
            {"noise_multiplier": 1.0},
            "differential privacy needs both --dp-clip and --dp-noise (or neither)",
        ),
        ({"clipping_norm": -1.0, "noise_multiplier": 1.0}, "--dp-clip must be positive; got -1"),
        ({"server_lr": 0.0}, "--server-lr must be positive; got 0"),
        ({"proximal_mu": -0.1}, "--proximal-mu must be at least 0; got -0.1"),
        ({"n_boot": -5}, "--n-boot must be at least 1; got -5"),
        ({"lr": -1.0}, "--lr must be positive; got -1"),  # was each site's failure, in round 1
        (  # a review: the noise stayed scaled for every site when one dropped out
            {"clipping_norm": 1.0, "noise_multiplier": 1.0, "on_site_error": "continue"},
            "--dp-noise with --on-site-error continue: Flower scales the noise for every site, "
            "so a site that drops out leaves less privacy than --dp-noise says; use "
            "--on-site-error stop with differential privacy",
        ),
    ],
)
def test_bad_values_name_their_flag(changes, message):
    with pytest.raises(ConfigError) as error:
        _run(**changes).check()
    assert str(error.value) == message


def test_the_server_refuses_a_certificate_that_does_not_name_where_it_submits(tmp_path):
    """The server submits its run to its own SuperLink on loopback: a certificate made only
    for the name the sites use fails there, so it is refused by flag before Flower starts."""
    only = make_certificates(tmp_path / "only", ("fl.example.org",))
    with pytest.raises(ConfigError) as error:
        deploy.check_server_names(only, deploy.local_address("0.0.0.0"))
    assert str(error.value).startswith(f"--certificates {only}/server.pem does not name 127.0.0.1")
    deploy.check_server_names(only, "FL.example.org")  # --host fl.example.org: named
    said = run_cli("federate", "certificates", "--out", tmp_path / "trial", "--host",
                   "fl.example.org")  # fmt: skip
    assert said.code == 0, said.stderr
    # how long they last, said (a trial found "Not After" 30 days on with openssl)
    from cryptography import x509

    pem = (tmp_path / "trial" / "server.pem").read_bytes()
    until = x509.load_pem_x509_certificate(pem).not_valid_after_utc.date().isoformat()
    assert f"valid for 30 days, until {until}: a trial's, not a federation's" in " ".join(
        said.stdout.split()
    )
    deploy.check_server_names(tmp_path / "trial", "127.0.0.1")  # loopback is always named
    deploy.check_server_names(tmp_path / "trial", "fl.example.org")


def test_the_server_refuses_certificates_flower_would_fail_on_later(tmp_path):
    """A ca.crt that is no certificate, a server.key that is not server.pem's, or a server.pem
    another CA signed: refused by flag before Flower starts (they ended the run with Flower's
    words, "cadata does not contain a certificate", "SuperLink stopped at start-up",
    "Connection to the SuperLink is unavailable")."""
    good = make_certificates(tmp_path / "good")
    other = make_certificates(tmp_path / "other")
    deploy.check_server_names(good, "127.0.0.1")
    cases = {
        "ca.crt": (b"garbage\n", f"--certificates {tmp_path}/bad/ca.crt is not a PEM certificate"),
        "server.key": (
            (other / "server.key").read_bytes(),
            f"--certificates {tmp_path}/bad/server.key is not the key of server.pem: give the "
            "key made with that certificate",
        ),
        "server.key ": (
            b"garbage\n",
            f"--certificates {tmp_path}/bad/server.key is not a PEM private key",
        ),
        "ca.crt ": (
            (other / "ca.crt").read_bytes(),
            f"--certificates {tmp_path}/bad/server.pem was not signed by ca.crt in the same "
            "folder: the sites, who trust ca.crt, would refuse it; give the CA that signed it",
        ),
    }
    for name, (content, message) in cases.items():
        bad = tmp_path / "bad"
        shutil.rmtree(bad, ignore_errors=True)
        shutil.copytree(good, bad)
        (bad / name.strip()).write_bytes(content)
        with pytest.raises(ConfigError) as error:
            deploy.check_server_names(bad, "127.0.0.1")
        assert str(error.value) == message


def test_a_site_s_root_certificate_must_be_one(tmp_path):
    good = make_certificates(tmp_path / "good")
    deploy.check_root_certificates(good / "ca.crt")
    table = tmp_path / "heart.csv"
    table.write_text("age\n63\n")
    with pytest.raises(ConfigError) as error:
        deploy.check_root_certificates(table)
    assert str(error.value) == (
        f"--root-certificates {table} is not a PEM certificate: pass the federation's ca.crt"
    )


def test_the_run_is_submitted_with_an_absolute_ca_path(tmp_path, monkeypatch):
    """``--certificates certs/`` as the README writes it: Flower refuses a relative path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(deploy.subprocess, "run", lambda *args, **kwargs: None)
    deploy.submit(tmp_path, tmp_path / "home", "127.0.0.1:9092", Path("certs"), False,
                  tmp_path / "flwr.log", 10)  # fmt: skip
    config = (tmp_path / "home" / "config.toml").read_text()
    assert f'root-certificates = "{tmp_path / "certs" / "ca.crt"}"' in config


def test_flower_s_error_box_is_one_line(tmp_path):
    log = tmp_path / "flwr.log"
    log.write_text(
        "Using SuperLink: medadapt (127.0.0.1:9092)\n"
        "\x1b[91m╭─ Error ──────────────────────────╮\x1b[0m\n"
        "│ Connection to the SuperLink is    │\n"
        "│ unavailable.                      │\n"
        "╰──────────────────────────────────╯\n"
    )
    assert deploy.flower_error(log) == "Connection to the SuperLink is unavailable."
    assert deploy.flower_error(tmp_path / "none.log") is None


def test_a_failed_server_names_where_its_plain_logs_are_kept(tmp_path, monkeypatch):
    """``--out`` is removed after a failure, so the SuperLink's log is kept elsewhere, named
    in the error line, without Flower's colour codes."""
    script = "import sys; print('\\x1b[91mERROR \\x1b[0m:     Address in use'); sys.exit(1)"
    monkeypatch.setattr(deploy, "superlink_command", lambda *args: [sys.executable, "-c", script])
    with pytest.raises(DataError) as error:
        deploy.run_server(_run(), tmp_path, host="127.0.0.1", port=deploy.free_port(),
                          certificates=None, insecure=True, timeout=10)  # fmt: skip
    said = str(error.value)
    assert said.startswith("the Flower SuperLink stopped at start-up (exit 1) (Flower's logs: ")
    kept = Path(said.rsplit("Flower's logs: ", 1)[1].rstrip("/)"))
    assert (kept / "superlink.log").read_text() == "ERROR :     Address in use\n"
    shutil.rmtree(kept)


def test_the_shared_adapter_s_figures_say_they_are_a_mean_over_sites():
    """The federated adapter records the sites' unweighted mean, which has no interval and may
    leave sites out: one note says so for every figure (the card and /v1/adapters show it),
    instead of a bare AUROC 0.795 read as one estimate; a figure fewer sites had names them."""
    from medadapt.federated.records import mean_over_sites

    results = {
        "sites": {
            "Cleveland": {"federated": {"auroc": 0.9, "accuracy": 0.8}},
            "Switzerland": {"federated": {"auroc": float("nan"), "accuracy": 0.85}},
            "Tiny": {"federated": {"auroc": None, "accuracy": None}},
        },
        "average": {"federated": {"auroc": 0.9, "auroc_sites": 1, "accuracy": 0.825,
                                  "accuracy_sites": 2}},
    }  # fmt: skip
    metrics = mean_over_sites(results)
    assert metrics["auroc"] == 0.9 and metrics["accuracy_sites"] == 2
    assert metrics["notes"] == {
        "all": "each figure is the unweighted mean of the sites' own figures, each on that "
        "site's held-out patients (2 of 3 sites, none at Tiny; fewer where said), not one "
        "estimate: each site's figure, with its 95% interval and n, is in federated.json",
        "auroc": "over 1 of 3 sites only (none at Switzerland, Tiny)",
    }
    one = {"sites": {"A": {"federated": {"auroc": 0.7}}},
           "average": {"federated": {"auroc": 0.7, "auroc_sites": 1}}}  # fmt: skip
    every = mean_over_sites(one)
    assert every["notes"] == {
        "all": "each figure is the unweighted mean of the sites' own figures, each on that "
        "site's held-out patients (1 of 1 sites), not one estimate: each site's figure, with "
        "its 95% interval and n, is in federated.json"
    }


def test_sites_whose_accuracy_says_nothing_are_named_with_the_mean():
    """A trial's card showed accuracy 0.820, the mean over four sites, two of which called
    (nearly) every patient positive: no better than the no-information rate there. The
    report said it; the card and registry show now do too, with the accuracy."""
    from medadapt.federated.records import mean_over_sites

    said = "accuracy 0.919 is no better than calling every patient positive (0.946, the "
    said += "no-information rate)"
    results = {
        "sites": {
            "Hungary": {"federated": {"auroc": 0.9, "accuracy": 0.8}},
            "Switzerland": {"federated": {"auroc": 0.7, "accuracy": 0.919,
                                          "notes": {"no_information": said}}},
        },
        "average": {"federated": {"auroc": 0.8, "auroc_sites": 2, "accuracy": 0.86,
                                  "accuracy_sites": 2}},
    }  # fmt: skip
    notes = mean_over_sites(results)["notes"]
    assert set(notes) == {"all", "accuracy"} and notes["accuracy"] == f"at Switzerland, {said}"
    results["sites"]["Hungary"]["federated"]["auroc"] = None  # with a note of its own
    notes = mean_over_sites(results)["notes"]
    assert notes["accuracy"] == f"at Switzerland, {said}"
    assert notes["auroc"].startswith("over 1 of 2 sites only")
    from medadapt.registry.records import other_values

    assert other_values(mean_over_sites(results)) == {}  # the counts of sites: said in notes
    # served answers, /v1/adapters and predict carry it as a caution, by name where there is
    # room (a review: the listing said nothing of it); the DICOM SR's 47 characters, counted
    from medadapt.evaluate.report.formatting import recorded_cautions, spelled_cautions
    from medadapt.serve.state import cautioned

    metrics = mean_over_sites(results)
    assert metrics["no_information_sites"] == ["Switzerland"]
    assert recorded_cautions(metrics) == ["accuracy uninformative at 1 of 2 sites"]
    spelled = ["at Switzerland, accuracy no better than calling every patient the commonest class"]
    assert spelled_cautions(metrics) == spelled
    assert cautioned("adapter fed@1", metrics) == (
        f"caution, adapter fed@1 was recorded with: {spelled[0]}")  # fmt: skip
    results["sites"]["Switzerland"]["federated"]["notes"] = {}
    assert "no_information_sites" not in mean_over_sites(results)
    assert recorded_cautions(mean_over_sites(results)) == []


def test_a_site_trained_on_one_outcome_takes_part_with_a_note_but_not_one_without_both():
    """FLamby's Switzerland trains on 30 of 30 patients with disease (its test set has both):
    it takes part, with a note (a warning before the run, and in the report); a site whose
    every sample has one outcome is refused."""
    import numpy as np

    from medadapt.federated.sites import Site, SiteError, _check_both_classes
    from medadapt.modalities import modality_of

    modality = modality_of("tabular")
    schema = SimpleNamespace(label="disease", task="binary", classes=["0", "1"])
    base = SimpleNamespace(schema=schema)
    samples = SimpleNamespace(labels=np.array([1] * 30 + [1, 0]))
    swiss = Site("Switzerland", np.arange(30), np.array([30, 31]))
    assert _check_both_classes(modality, base, samples, swiss) == [
        "site Switzerland: its 30 training rows have only one class of 'disease' ('1'): it can "
        "only pull the shared adapter toward that answer, and its local-only adapter calls "
        "everyone '1'"
    ]
    with pytest.raises(SiteError, match="all its labelled rows have only one class of 'disease'"):
        _check_both_classes(modality, base, samples, Site("X", np.arange(30), np.array([30])))


def test_a_site_given_every_site_s_file_is_found_by_its_site_column():
    """A client's --data of all four centres was announced as 'site Hungary: 920 labelled
    samples' and trained on all of them: the column naming the site beside others is found
    (preflight warns with it)."""
    import medadapt as ma
    from medadapt.federated.sites import _site_column

    heart = ma.load_heart_disease()
    assert _site_column(heart, "Hungary") == ("dataset", 3)
    assert _site_column(heart[heart["dataset"] == "Hungary"], "Hungary") is None  # its own rows
    assert _site_column(heart, "Tokyo") is None and _site_column(None, "Hungary") is None


def test_a_tuning_value_the_strategy_never_reads_is_recorded_as_none():
    """federated.json said proximal_mu 0.1 for a FedAvg run, as if it had been used."""
    from medadapt.federated.results import _config

    fedavg, fedprox = _config(_run()), _config(_run(strategy="fedprox", proximal_mu=0.3))
    assert fedavg["strategy"] == "fedavg" and fedavg["proximal_mu"] is None
    assert fedavg["server_lr"] is None
    assert (fedprox["proximal_mu"], fedprox["server_lr"]) == (0.3, None)
    assert _config(_run(strategy="fedyogi"))["server_lr"] == 0.05


def test_a_node_gone_before_it_replied_is_said_in_the_servers_words():
    """Flower answers for a node that left (``Node Unavailable — The destination node failed
    to report a heartbeat within 2 × its expected interval.``); the server says what that
    means and how to fix it, and a site's own error keeps its words."""
    from flwr.app import Error
    from flwr.common.constant import ErrorCode

    from medadapt.federated.strategies import failure_message, failure_reason

    gone = failure_reason(Error(ErrorCode.NODE_UNAVAILABLE, "Node Unavailable — heartbeat"))
    assert failure_message([{"round": 2, "error": gone}], rounds=2) == (
        "1 site failed: round 2: a site's client stopped answering before it replied (it "
        "left, or lost its connection to this server); start that site's client again, then "
        "this run, or pass --on-site-error continue to go on without it"
    )
    own = failure_reason(Error(1, "site B: --data b.csv has 3 labelled rows"))
    assert failure_message([{"round": 1, "error": own}], rounds=2) == (
        "1 site failed: round 1: site B: --data b.csv has 3 labelled rows; fix the site's "
        "data or options, or pass --on-site-error continue to go on without it"
    )
    # the last round's scoring counts as round rounds + 1: it read "round 3" in a 2-round run
    assert failure_message([{"round": 3, "error": gone}], rounds=2).startswith(
        "1 site failed: the final round: a site's client stopped answering"
    )


class _GridWithOneNodeGone:
    """Flower's grid as the server sees it when the node of site B leaves mid-round: node 11
    answers, and Flower's SuperLink answers for node 12 (``Node Unavailable``), naming no
    node but the message it answers."""

    def send_and_receive(self, messages, *, timeout=None):
        from uuid import uuid4

        from flwr.app import Message, MetricRecord, RecordDict
        from flwr.server.superlink.linkstate.utils import (
            create_message_error_unavailable_res_message,
        )

        replies = []
        for message in messages:
            message.metadata.__dict__["_message_id"] = str(uuid4())  # as pushing does
            if message.metadata.dst_node_id == 11:
                metrics = MetricRecord({"site-index": 0, "num-examples": 5})
                replies.append(Message(RecordDict({"metrics": metrics}), reply_to=message))
            else:
                replies.append(
                    create_message_error_unavailable_res_message(message.metadata, "node")
                )
        return replies


def test_a_site_gone_mid_round_is_named_by_the_node_it_joined_from(monkeypatch):
    """The server said only "a site's client stopped answering": Flower's SuperLink answers
    for a node that left, so the reply's sender is the SuperLink; the question it answers
    names the node, and the join round named the node's site."""
    from flwr.app import ConfigRecord, Message, MessageType, RecordDict
    from flwr.supercore.task_identity import TaskIdentity

    for name in ("_run_id", "_task_id", "_node_id"):  # as a ServerApp's process has them
        monkeypatch.setattr(TaskIdentity, name, 1)

    from medadapt.federated.strategies import failure_message, make_strategy
    from medadapt.federated.wire import AuditedGrid

    grid = AuditedGrid(_GridWithOneNodeGone())
    strategy = make_strategy(_run(on_site_error="continue"), grid=grid)
    strategy.node_sites.update({11: "A", 12: "B"})
    asked = [Message(RecordDict({"config": ConfigRecord({"x": 1})}), dst_node_id=node,
                     message_type=MessageType.TRAIN) for node in (11, 12)]  # fmt: skip
    replies = grid.send_and_receive(asked)
    assert replies[1].metadata.src_node_id != 12  # Flower's SuperLink, not the node
    kept = strategy.without_failures(2, replies)
    assert kept == replies[:1]
    assert strategy.failures == [{
        "round": 2, "node": 12,
        "error": "site B: its client stopped answering before it replied (it left, or lost "
                 "its connection to this server)",
    }]  # fmt: skip
    assert failure_message(strategy.failures, strategy.run.rounds) == (
        "1 site failed: round 2: site B: its client stopped answering before it replied (it "
        "left, or lost its connection to this server); start that site's client again, then "
        "this run, or pass --on-site-error continue to go on without it"
    )


def test_a_port_another_server_listens_on_is_refused_before_a_superlink_starts(tmp_path):
    """The trial: ``--port 9094`` in use printed "SuperLink on 127.0.0.1:9094; waiting for 2
    sites" and sent its run to the other server's SuperLink (its own said "address already in
    use"). Now refused by flag before anything starts; a port free again is taken."""
    import socket

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        said = []
        with pytest.raises(ConfigError) as error:
            deploy.run_server(_run(), tmp_path, host="127.0.0.1", port=port, certificates=None,
                              insecure=True, timeout=10, say=said.append)  # fmt: skip
    assert str(error.value) == (
        f"--port {port} is already in use (another federate server?): choose another --port"
    )
    assert said == [] and not (tmp_path / "superlink.log").exists()
    deploy.check_port_free("127.0.0.1", port)  # closed: free again


def test_flower_s_log_of_a_round_gets_counts_and_the_pooled_loss_not_means_of_counts():
    """Flower's default logged every value's mean weighted by the samples (a trial's
    ``flwr.log``: ``'n': 51.2268``, ``'site-index': 0.619``): now how many sites replied,
    their samples and, for training, their loss averaged over those samples."""
    trained = [RecordDict({"metrics": MetricRecord({"num-examples": 100, "train-loss": 0.5,
                                                    "site-index": 0, "n": 60.0})}),
               RecordDict({"metrics": MetricRecord({"num-examples": 300, "train-loss": 0.3,
                                                    "site-index": 2, "n": 40.0})})]  # fmt: skip
    assert dict(counts_only(trained, "num-examples")) == {
        "sites": 2, "num-examples": 400, "train-loss": pytest.approx(0.35)}  # fmt: skip
    scored = [RecordDict({"metrics": MetricRecord({"num-examples": 60, "auroc": 0.7,
                                                   "site-index": 1})})]  # fmt: skip
    assert dict(counts_only(scored, "num-examples")) == {"sites": 1, "num-examples": 60}
    for name in ("fedavg", "fedprox", "fedadam", "fedyogi"):  # every strategy logs so
        strategy = inner_strategy(_run(strategy=name))
        assert strategy.train_metrics_aggr_fn is counts_only, name
        assert strategy.evaluate_metrics_aggr_fn is counts_only, name


@pytest.mark.parametrize(("workers", "actors"), [(1, 1), (None, 3)])
def test_workers_are_the_sites_flower_s_simulation_trains_at_once(workers, actors, monkeypatch):
    """``federate simulate --workers N``: Ray gets N CPUs, one per site's actor (each
    imports torch and medadapt); without it, every core this process may use (it read
    ``os.cpu_count()``, the machine's, not the cores a container or ``taskset`` allow)."""
    import flwr.simulation

    from medadapt.federated import simulate as simulation

    given = {}
    monkeypatch.setattr(flwr.simulation, "run_simulation",
                        lambda *args, **kwargs: given.update(kwargs))  # fmt: skip
    monkeypatch.setattr(simulation, "available_cores", lambda: 3)  # not this machine's 2
    with pytest.raises(RuntimeError, match="ended without a result"):
        simulation.simulate(_run(), cpus=workers)
    backend = given["backend_config"]
    assert backend["init_args"]["num_cpus"] == actors
    assert backend["client_resources"]["num_cpus"] == 1
