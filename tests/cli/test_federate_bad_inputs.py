"""``medadapt federate`` bad inputs a new user made: each is one ``error:`` line naming the
problem and its flag, refused before Flower starts, with nothing written (the same contract
and workspace as :mod:`tests.cli.test_bad_inputs`)."""

from __future__ import annotations

import pytest

from tests.cli.test_bad_inputs import FEDERATE, FEW_ROWS, TABLE, Case, case, refused

#: ``federate simulate`` on the workspace's base, its ``--groups`` to follow
ON_A_BASE_WITH_SITES = (
    "federate",
    "simulate",
    "--data",
    "{heart}",
    "--label",
    "num",
    "--base",
    "{base}",
    "--out",
    "{tmp}/f",
    "--group-column",
    "dataset",
    "--groups",
)

pytestmark = pytest.mark.xdist_group("bad_inputs")  # one workspace, built once


def _one_class_site() -> str:
    """The bundled file's VA Long Beach, and Switzerland's patients with disease as a site of
    their own: every training row of that site has the same outcome."""
    import pandas as pd

    import medadapt as ma

    heart = ma.load_heart_disease()
    swiss = heart[(heart["dataset"] == "Switzerland") & (heart["num"] > 0)]
    return pd.concat([heart[heart["dataset"] == "VA Long Beach"],
                      swiss.assign(dataset="OneClass")]).to_csv(index=False)  # fmt: skip


def _few_rows_beside_hungary() -> str:
    """Three patients of VA Long Beach (too few to split) beside the bundled file's Hungary."""
    import medadapt as ma

    heart = ma.load_heart_disease()
    return FEW_ROWS + heart[heart["dataset"] == "Hungary"].to_csv(index=False, header=False)


def _one_outcome_file() -> str:
    """Switzerland's patients with disease alone: a hospital file with one outcome."""
    import medadapt as ma

    heart = ma.load_heart_disease()
    return heart[(heart["dataset"] == "Switzerland") & (heart["num"] > 0)].to_csv(index=False)


CLIENT = ("federate", "client", "--site", "A", "--data", "{va}", "--base", "{base}")
SERVER = ("federate", "server", "--base", "{base}", "--groups", "A,B", "--out", "{tmp}/f")

CASES = [
    case("simulate: --groups without --group-column", "federate", "simulate", *TABLE,
         "--groups", "Cleveland,Hungary", "--base", "{base}", "--out", "{tmp}/f",
         flag="--group-column", says="the column naming each row's site"),
    case("simulate: --base-groups without --label", "federate", "simulate", "--data", "{heart}",
         "--group-column", "dataset", "--groups", "Cleveland,Hungary", "--base-groups",
         "Cleveland", "--out", "{tmp}/f", flag="--label", says="is required to train the base"),
    case("simulate: a --base-groups name not in the data", *FEDERATE, "--base-groups",
         "Clevland", "--out", "{tmp}/f", flag="--base-groups", says="'Clevland' not found"),
    case("simulate: --lr is the sites', on a table too", "federate", "simulate", *TABLE,
         "--group-column", "dataset", "--groups", "Hungary,Basel", "--base", "{base}", "--lr",
         "0.001", "--out", "{tmp}/f", flag="--groups", says="'Basel' not found"),
    case("simulate: --groups ',' (a required option: not offered to be left out)", "federate",
         "simulate", "--data", "{heart}", "--label", "num", "--group-column", "dataset",
         "--groups", ",", "--base", "{base}", "--out", "{tmp}/f", flag="--groups",
         says="is empty; name at least one (comma-separated)"),
    case("simulate: --n-boot 0", *FEDERATE, "--base", "{base}", "--n-boot", "0", "--out",
         "{tmp}/f", flag="--n-boot", says="at least 10"),
    case("simulate: --proximal-mu with fedavg (it was ignored, and recorded as used)",
         *FEDERATE, "--base", "{base}", "--proximal-mu", "0.5", "--out", "{tmp}/f",
         flag="--proximal-mu", says="applies to --strategy fedprox, not fedavg: drop "
         "--proximal-mu, or pass --strategy fedprox"),
    case("simulate: --server-lr with fedprox", *FEDERATE, "--base", "{base}", "--strategy",
         "fedprox", "--server-lr", "0.1", "--out", "{tmp}/f", flag="--server-lr",
         says="applies to --strategy fedadam or fedyogi, not fedprox"),
    case("simulate: --server-lr 0", *FEDERATE, "--base", "{base}", "--strategy", "fedadam",
         "--server-lr", "0", "--out", "{tmp}/f", flag="--server-lr", says="must be positive"),
    case("simulate: a negative --proximal-mu", *FEDERATE, "--base", "{base}", "--strategy",
         "fedprox", "--proximal-mu", "-1", "--out", "{tmp}/f", flag="--proximal-mu",
         says="at least 0"),
    case("simulate: a negative --lr (it failed every site in round 1, naming 'lr')", *FEDERATE,
         "--base", "{base}", "--lr", "-1", "--out", "{tmp}/f", flag="--lr",
         says="must be positive; got -1"),
    case("simulate: a site whose training rows all have one outcome (adapt refuses it)",
         "federate", "simulate", "--data", "{tmp}/oc.csv", "--label", "num",
         "--positive-above", "0", "--id-column", "id", "--group-column", "dataset", "--groups",
         "VA Long Beach,OneClass", "--base", "{base}", "--out", "{tmp}/f", flag="--groups",
         says="site OneClass: all its labelled rows have only one class of 'num' ('1')",
         existing={"oc.csv": _one_class_site()}),
    case("simulate: a site too small to split", "federate", "simulate", "--data",
         "{tmp}/few.csv", "--label", "num", "--group-column", "dataset", "--groups",
         "VA Long Beach,Hungary", "--base", "{base}", "--out", "{tmp}/f", flag="--groups",
         says="site VA Long Beach: only 3 labelled rows",
         existing={"few.csv": _few_rows_beside_hungary()}),
    case("simulate: two sites misspelt, each its hint", "federate", "simulate", *TABLE,
         "--group-column", "dataset", "--groups", "Clevland,Hungry,Switzerland",
         "--base-groups", "Cleveland", "--out", "{tmp}/f", flag="--groups",
         says="groups 'Clevland' (did you mean 'Cleveland'?), 'Hungry' (did you mean "
         "'Hungary'?) not found in column 'dataset'"),  # a trial's: the first one only
    case("simulate --base: two sites misspelt, each its hint", *ON_A_BASE_WITH_SITES,
         "Clevland,Hungry,Switzerland", flag="--groups",
         says="groups 'Clevland' (did you mean 'Cleveland'?), 'Hungry' (did you mean "
         "'Hungary'?) not found in column 'dataset'"),
    case("simulate: a site not in the data", "federate", "simulate", "--data",
         "{tmp}/few.csv", "--label", "num", "--group-column", "dataset", "--groups",
         "VA Long Beach,Hungary", "--base", "{base}", "--out", "{tmp}/f", flag="--groups",
         says="group 'Hungary' not found in column 'dataset' (it has: VA Long Beach)",
         existing={"few.csv": FEW_ROWS}),
    case("server: --timeout 0", *SERVER, "--insecure", "--timeout", "0", flag="--timeout",
         says="must be positive"),
    case("server: --certificates is a file", *SERVER, "--certificates", "{tmp}/ca.crt",
         flag="--certificates", says="is a file", existing={"ca.crt": "mine"}),
    case("client: --server with an out-of-range port", *CLIENT, "--server",
         "fl.example.org:99999", "--insecure", flag="--server", says="not a TCP port number"),
    case("client: --server with a scheme", *CLIENT, "--server", "https://fl.example.org:9092",
         "--insecure", flag="--server", says="without a scheme"),
    case("client: --insecure and --root-certificates", *CLIENT, "--server", "127.0.0.1:9092",
         "--insecure", "--root-certificates", "{tmp}/ca.crt", flag="--root-certificates",
         says="contradict each other", existing={"ca.crt": "mine"}),
    case("client: a --root-certificates that is no certificate (the SuperNode died, the client "
         "waited)", *CLIENT, "--server", "127.0.0.1:9092", "--root-certificates", "{va}",
         flag="--root-certificates", says="is not a PEM certificate: pass the federation's "
         "ca.crt"),
    case("client: a file whose every patient has one outcome (it joined, then failed)",
         "federate", "client", "--site", "A", "--data", "{tmp}/one.csv", "--base", "{base}",
         "--server", "127.0.0.1:9092", "--insecure", flag="--data",
         says="has the same outcome ('1'): this site can neither train the adapter nor test it",
         existing={"one.csv": _one_outcome_file()}),
    case("client: an empty --site", "federate", "client", "--site", " ", "--data", "{va}",
         "--base", "{base}", "--server", "127.0.0.1:9092", "--insecure", flag="--site",
         says="is empty"),
    case("client: --local-port out of range", *CLIENT, "--server", "127.0.0.1:9092",
         "--insecure", "--local-port", "70000", flag="--local-port", says="1-65535"),
]  # fmt: skip


@pytest.mark.parametrize("bad", CASES)
def test_a_bad_federate_input_is_one_error_line_and_changes_nothing(bad: Case, workspace, tmp_path):
    result = refused(bad, workspace, tmp_path)
    assert "warning:" not in result.stdout + result.stderr  # nothing said before the refusal


def test_a_server_name_that_does_not_resolve_is_refused_at_once(workspace, tmp_path, monkeypatch):
    """The README's client example (``fl.example.org``) waited its whole --wait (600 s by
    default) before saying no server answered: a name that does not exist is said now. The
    name server's answer is faked here (a test never depends on the network)."""
    import socket

    from tests.cli.helpers import error_line, run_cli

    asked = []

    def no_such_name(host, port, *args, **kwargs):
        asked.append((host, port))
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    _, paths = workspace
    result = run_cli("federate", "client", "--site", "A", "--data", paths["va"], "--base",
                     paths["base"], "--server", "fl.example.org:9092", "--insecure")  # fmt: skip
    assert error_line(result) == (
        "error: --server 'fl.example.org:9092': the host name 'fl.example.org' does not resolve "
        "(no such name): check it, or pass the server's IP address"
    )
    assert asked == [("fl.example.org", 9092)]

    def down(host, port, *args, **kwargs):  # a name server not answering: left to the retries
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    from medadapt.cli.federate import _check_host_resolves

    monkeypatch.setattr(socket, "getaddrinfo", down)
    _check_host_resolves("fl.example.org:9092", "fl.example.org", 9092)  # no refusal


def test_an_insecure_server_on_every_interface_is_warned_as_such():
    """A trial's ``--insecure --host 0.0.0.0`` got the loopback's mild line."""
    from medadapt.cli.federate import _insecure_server_words

    assert _insecure_server_words("0.0.0.0") == (
        "--insecure: the sites' adapter weights and metrics travel unencrypted, and the server "
        "listens on every interface (--host 0.0.0.0): anyone on that network can read them, or "
        "join as a site; use TLS (--certificates, made by 'medadapt federate certificates') "
        "beyond a trial on one machine"
    )
    assert _insecure_server_words("localhost") == _insecure_server_words("::1")
    assert "10.1.2.3 (--host 10.1.2.3)" in _insecure_server_words("10.1.2.3")


def test_an_allow_leak_the_base_did_not_need_but_the_sites_did_is_said_so():
    """A trial's simulate refused without --allow-leak (the columns predicted the label at
    two sites), then, given it, said of the base "the flag was not needed", and next that
    the sites kept the columns because of it."""
    from medadapt.cli.federate import _not_said_of_a_site

    unneeded = ("--allow-leak 'worst_radius': it does not alone predict 'target' on these "
                "training rows (the leak check did not flag it), so the model uses it as any "
                "other feature: the flag was not needed")  # fmt: skip
    kept = ("site Royal North: column 'worst_radius' (AUROC 0.985) alone predicts 'target' "
            "almost perfectly; kept because of --allow-leak: results that rely on it will not "
            "hold where it is unknown")  # fmt: skip
    assert _not_said_of_a_site([unneeded], [kept]) == [
        unneeded + " for the base's training rows; the sites named below keep the columns "
        "because of it"
    ]
    assert _not_said_of_a_site([unneeded], []) == [unneeded]  # needed nowhere: as it was
    # the terminal names whose rows a base warning counts (a trial read "4 of 303 rows" beside
    # a base "trained on 242 rows"), and one a site's note repeats is said once
    restecg = "4 of 303 rows have a 'restecg' value the model never learned"
    base = [
        f"base model, on Cleveland's rows: {restecg}",
        f"base model, on Cleveland's rows: {unneeded}",
    ]
    assert _not_said_of_a_site(base, [f"site Cleveland: {restecg}"]) == [base[1]]
