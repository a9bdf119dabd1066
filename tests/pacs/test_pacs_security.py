"""A PACS as hospitals expose it: over HTTPS with a certificate from the hospital's own CA, and
behind a bearer token. A proxy (:mod:`tests.pacs.proxy`) in front of the test Orthanc plays
the hospital's gateway; ``predict`` fetches a study through it and stores its SR back, with
``--dicomweb-ca-bundle`` and ``--dicomweb-token-file``; an untrusted certificate or a wrong
token is one ``error:`` line naming the flag that fixes it, and the token is never printed."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from medadapt.data.dicom_sr import read_prediction_report
from medadapt.data.dicomweb import DicomwebReference, DicomwebSource, parse_reference
from medadapt.errors import DataError
from medadapt.federated.certificates import make_certificates
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.pacs.proxy import PacsProxy
from tests.pacs.studies import radiograph, save

CREDENTIALS = (  # the fix a 401 names, in a file or the URL
    "pass a valid bearer token, or USER:PASSWORD for basic auth, in a file with "
    "--dicomweb-token-file, or user:password@ in the --data URL"
)
ARCHIVE_CREDENTIALS = CREDENTIALS.replace("--data", "--dicomweb-archive")

pytestmark = pytest.mark.xdist_group("orthanc")  # one PACS per worker
TINY = ["--image-size", "16", "--backbone-options", "depth=1,embed_dim=16,num_heads=2"]
TOKEN = "pacs-" + "k" * 27


@pytest.fixture(scope="module")
def hospital(pacs, tmp_path_factory):
    """Three radiograph studies in the PACS, a tiny base trained on local files, the hospital's
    CA (and its server certificate) and another CA that did not sign it."""
    root = tmp_path_factory.mktemp("pacs_security")
    for i in range(3):
        save([radiograph("bright", f"SB{i}", seed=200 + i)], root / "local" / "bright")
        save([radiograph("dark", f"SD{i}", seed=250 + i)], root / "local" / "dark")
    succeeded(run_cli("train-base", "--data", root / "local", *TINY, "--epochs", "1",
                "--out", root / "base"))  # fmt: skip
    studies = [radiograph("bright", f"SS{i}", seed=300 + i) for i in range(3)]
    DicomwebSource(pacs.root, auth=(pacs.user, pacs.password)).store(studies)
    (root / "token.txt").write_text(TOKEN + "\n")
    (root / "token.txt").chmod(0o600)  # a token others may read is warned of
    return {
        "root": root,
        "base": root / "base",
        "studies": [str(ds.StudyInstanceUID) for ds in studies],
        "certificates": make_certificates(root / "hospital_ca", hosts=("127.0.0.1",)),
        "other_ca": make_certificates(root / "other_ca") / "ca.crt",
        "token": root / "token.txt",
    }


def _reports(pacs, study: str) -> list:
    """The SRs stored in ``study``, read straight from Orthanc."""
    source = DicomwebSource(pacs.root, auth=(pacs.user, pacs.password))
    series = [s.series_uid for s in source.series(study) if s.modality == "SR"]
    return [ds for uid in series
            for ds in source.instances(DicomwebReference(source.url, study, uid),
                                       images_only=False)]  # fmt: skip


def test_https_with_the_hospitals_ca_and_a_bearer_token_predicts_and_stores_the_sr(
    pacs, hospital, tmp_path, monkeypatch
):
    certificates, study = hospital["certificates"], hospital["studies"][0]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(hospital["other_ca"]))  # the flag wins
    with PacsProxy(pacs, token=TOKEN, certificates=certificates) as gateway:
        out = tmp_path / "pred.csv"
        result = succeeded(run_cli(
            "predict", "--base", hospital["base"], "--data", gateway.reference("studies", study),
            "--dicomweb-ca-bundle", certificates / "ca.crt",
            "--dicomweb-token-file", hospital["token"], "--store-sr", "--out", out,
        ))  # fmt: skip
        assert gateway.root.startswith("https://")
        assert f"fetched 1 image (1 series, 1 study) from dicomweb+{gateway.root}" in (
            result.stdout
        )
        seen = gateway.authorizations
    assert TOKEN not in result.stdout + result.stderr
    assert len(seen) >= 3 and set(seen) == {f"Bearer {TOKEN}"}  # QIDO, WADO and STOW alike
    [row] = pd.read_csv(out).to_dict("records")
    [report] = _reports(pacs, study)
    [finding] = read_prediction_report(report)
    assert finding.probabilities == {"bright": row["p_bright"], "dark": row["p_dark"]}
    assert result.stdout.count("stored SR ") == 1 and report.SOPInstanceUID in result.stdout


def test_an_untrusted_certificate_is_one_line_naming_the_ca_flag_and_is_not_retried(
    pacs, hospital, tmp_path, monkeypatch
):
    certificates, study = hospital["certificates"], hospital["studies"][1]
    predict = ("predict", "--base", hospital["base"], "--out", tmp_path / "p.csv", "--data")
    with PacsProxy(pacs, certificates=certificates) as gateway:
        reference = gateway.reference("studies", study)
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        assert error_line(run_cli(*predict, reference)) == (
            f"error: the DICOMweb server {gateway.root} has a TLS certificate this machine does "
            "not trust (unable to get local issuer certificate): pass the certificate (PEM) of "
            "the CA that signed it with --dicomweb-ca-bundle (ask the PACS administrator for "
            "the hospital's CA)"
        )
        other = hospital["other_ca"]  # a CA of the same name: its signature does not match
        assert error_line(run_cli(*predict, reference, "--dicomweb-ca-bundle", other)) == (
            f"error: the DICOMweb server {gateway.root} has a TLS certificate this machine does "
            "not trust (certificate signature failure): check that the --dicomweb-ca-bundle "
            "file holds the CA that signed it"
        )
        by_name = reference.replace("127.0.0.1", "localhost")  # the certificate is for the IP
        mismatch = run_cli(*predict, by_name, "--dicomweb-ca-bundle", certificates / "ca.crt")
        assert error_line(mismatch) == (
            f"error: the DICOMweb server {gateway.root.replace('127.0.0.1', 'localhost')} has a "
            "TLS certificate this machine does not trust (Hostname mismatch, certificate is not "
            "valid for 'localhost'.): write the host name the certificate was issued for in "
            "--data"
        )
        sleeps: list[float] = []
        monkeypatch.setattr(time, "sleep", sleeps.append)
        source = DicomwebSource(gateway.root, retries=3)
        with pytest.raises(DataError, match="does not trust"):
            source.series(study)
        assert sleeps == []  # the same certificate fails every time: no back-off
        # http:// to the TLS port: its TLS stack resets the connection, and that is said (a
        # trial was told only to check that the server is running)
        as_http = DicomwebSource(gateway.root.replace("https://", "http://"), retries=0)
        with pytest.raises(DataError) as reset:
            as_http.series(study)
        assert str(reset.value).endswith(
            "(it closed the connection without an HTTP answer, as a port that speaks TLS does: "
            "if it does, write dicomweb+https:// in --data)"
        ), str(reset.value)
    with PacsProxy(pacs) as plain:  # https:// to a port that speaks plain http
        wrong = plain.reference("studies", study).replace("http://", "https://")
        source = DicomwebSource(wrong.removeprefix("dicomweb+").split("/studies/")[0], retries=1)
        with pytest.raises(DataError) as refused:
            source.series(study)
    assert str(refused.value) == (
        f"the TLS handshake with the DICOMweb server {source.url} failed (2 tries): check that "
        "--data says https:// only for a server that speaks TLS (http:// for a plain port)"
    )
    assert sleeps == [0.5]  # a failed handshake may be passing: retried
    assert not (tmp_path / "p.csv").exists()


def test_bad_ca_bundles_are_one_line_before_anything_is_fetched(pacs, hospital, tmp_path):
    study = hospital["studies"][0]
    predict = ("predict", "--base", hospital["base"], "--out", tmp_path / "p.csv", "--data")
    https = f"dicomweb+https://127.0.0.1:9/dicom-web/studies/{study}"
    missing, garbage = tmp_path / "none.pem", tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    assert error_line(run_cli(*predict, https, "--dicomweb-ca-bundle", tmp_path)) == (
        f"error: --dicomweb-ca-bundle {tmp_path} is not a file: give the CA certificate file (PEM)"
    )
    assert error_line(run_cli(*predict, https, "--dicomweb-ca-bundle", missing)) == (
        f"error: --dicomweb-ca-bundle {missing} does not exist: give the CA certificate file (PEM)"
    )
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = tmp_path / "ca.der"
    pem = (hospital["certificates"] / "ca.crt").read_bytes()
    der.write_bytes(x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER))
    assert error_line(run_cli(*predict, https, "--dicomweb-ca-bundle", der)) == (
        f"error: --dicomweb-ca-bundle {der} is a DER (binary) certificate: convert it to PEM "
        f"with 'openssl x509 -inform der -in {der} -out ca.pem' and pass ca.pem"
    )
    assert error_line(run_cli(*predict, https, "--dicomweb-ca-bundle", garbage)) == (
        f"error: --dicomweb-ca-bundle {garbage} holds no CA certificate TLS can read: give the "
        "PEM file (-----BEGIN CERTIFICATE-----) of the CA that signed the PACS's certificate"
    )
    plain = pacs.reference("studies", study)
    shown = parse_reference(plain)
    assert error_line(run_cli(*predict, plain, "--dicomweb-ca-bundle", hospital["other_ca"])) == (
        f"error: --dicomweb-ca-bundle applies to an https PACS, but --data {shown} is plain "
        "http: drop the option or use dicomweb+https://"
    )
    local = hospital["root"] / "local"
    assert error_line(run_cli(*predict, local, "--dicomweb-ca-bundle", hospital["other_ca"])) == (
        "error: --dicomweb-ca-bundle applies to --data dicomweb+http(s)://HOST[:PORT]/dicom-web"
        f"[/studies/UID[/series/UID]], but --data {local} is a local path: drop the option"
    )
    assert not (tmp_path / "p.csv").exists()


def test_a_missing_or_wrong_bearer_token_is_one_line_naming_the_token_flag(
    pacs, hospital, tmp_path
):
    study = hospital["studies"][2]
    predict = ("predict", "--base", hospital["base"], "--out", tmp_path / "p.csv", "--data")
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("x" * 32)
    wrong.chmod(0o600)
    with PacsProxy(pacs, token=TOKEN) as gateway:
        reference = gateway.reference("studies", study)
        assert error_line(run_cli(*predict, reference)) == (
            f"error: the DICOMweb server {gateway.root} asks for credentials (HTTP 401): "
            f"{CREDENTIALS}"
        )
        result = run_cli(*predict, reference, "--dicomweb-token-file", wrong)
        assert error_line(result) == (
            f"error: the DICOMweb server {gateway.root} refused the credentials (HTTP 401): "
            f"{CREDENTIALS}"
        )
        assert "x" * 32 not in result.stdout + result.stderr
        succeeded(run_cli(*predict, reference, "--dicomweb-token-file", hospital["token"]))
    assert pd.read_csv(tmp_path / "p.csv").shape[0] == 1


def test_serve_checks_its_ca_bundle_at_start(hospital, tmp_path):
    registry = tmp_path / "registry"
    serve = ("serve", "--registry", registry, "--dicomweb-ca-bundle")
    plain = run_cli(*serve, hospital["other_ca"], "--dicomweb-archive", "http://127.0.0.1:9/d")
    assert error_line(plain) == (
        "error: --dicomweb-ca-bundle applies to https archives, but no --dicomweb-archive is "
        "https: drop the option or give the archive's https:// root"
    )
    missing: Path = tmp_path / "none.pem"
    https = run_cli(*serve, missing, "--dicomweb-archive", "https://127.0.0.1:9/dicom-web")
    assert error_line(https) == (
        f"error: --dicomweb-ca-bundle {missing} does not exist: give the CA certificate file (PEM)"
    )
    assert not registry.exists()


def test_serve_refuses_a_dicomweb_token_for_no_archive(hospital, tmp_path):
    """``serve --dicomweb-token-file`` without ``--dicomweb-archive`` started silently, its
    token sent nowhere (``predict`` refuses the like)."""
    registry = tmp_path / "registry"
    result = run_cli("serve", "--registry", registry, "--dicomweb-token-file", hospital["token"])
    assert error_line(result) == (
        "error: --dicomweb-token-file applies to the archives of --dicomweb-archive, but none is "
        "given: pass --dicomweb-archive URL, or drop --dicomweb-token-file"
    )
    assert TOKEN not in result.stdout + result.stderr and not registry.exists()


@pytest.fixture
def served(tmp_path, monkeypatch) -> dict:
    """``serve``'s uvicorn replaced by starting the app (its lifespan loads the adapters, then
    says ready) and stopping it: ``ports`` lists each start."""
    from fastapi.testclient import TestClient

    import medadapt.cli.serve as serve_cli
    from medadapt.registry import Registry

    Registry(tmp_path / "registry", create=True)
    started: list[int] = []

    def run(app, **kw):
        started.append(kw["port"])
        with TestClient(app):
            pass

    monkeypatch.setattr(serve_cli, "listen", run)
    return {"registry": tmp_path / "registry", "ports": started,
            "serve": ("serve", "--registry", tmp_path / "registry", "--port", "18999")}  # fmt: skip


def test_serve_says_which_archives_it_reads_and_how_it_trusts_them(pacs, hospital, served):
    ca = hospital["certificates"] / "ca.crt"
    with PacsProxy(pacs, token=TOKEN, certificates=hospital["certificates"]) as gateway:
        result = succeeded(run_cli(*served["serve"], "--dicomweb-archive", gateway.root,
                                   "--dicomweb-ca-bundle", ca, "--dicomweb-token-file",
                                   hospital["token"], "--store-sr"))  # fmt: skip
        asked = gateway.authorizations
    assert served["ports"] == [18999]
    assert asked == [f"Bearer {TOKEN}"]  # asked once at start, with the server's own token
    assert result.stderr.splitlines()[-4:-2] == [
        "loading 0 promoted adapters ...",
        f"serving 0 promoted adapters from {served['registry']} at http://127.0.0.1:18999 "
        "(auth: no token (loopback only); API docs at /docs)",
    ]
    assert result.stderr.splitlines()[-2:] == [
        f"DICOMweb references read from {gateway.root} (TLS verified against {ca}); results "
        "may be stored there as DICOM SR",
        "warning: nothing is promoted: promote an adapter to serve it, with 'medadapt "
        f"registry --root {served['registry']} promote NAME@N'",
    ]
    archive = f"http://{pacs.user}:{pacs.password}@{pacs.host}:{pacs.port}/dicom-web"
    with_password = succeeded(run_cli(*served["serve"], "--dicomweb-archive", archive))
    assert with_password.stderr.splitlines()[-2] == f"DICOMweb references read from {pacs.root}"
    assert pacs.password not in with_password.stdout + with_password.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_serve_asks_its_archives_at_start_not_at_the_first_request(pacs, hospital, served):
    """Wrong credentials, or Orthanc's REST root in place of its DICOMweb root, were found by
    the first client, as a 502 naming the operator's flags: refused at start now. An archive
    that is down only is a warning: it may come up while the server runs."""
    at = f"{pacs.host}:{pacs.port}"
    wrong = run_cli(
        *served["serve"], "--dicomweb-archive", f"http://{pacs.user}:nope@{at}/dicom-web"
    )
    assert error_line(wrong) == (
        f"error: the DICOMweb server {pacs.root} refused the credentials (HTTP 401): "
        f"{ARCHIVE_CREDENTIALS}"
    )
    none = run_cli(*served["serve"], "--dicomweb-archive", pacs.root)
    assert error_line(none) == (
        f"error: the DICOMweb server {pacs.root} asks for credentials (HTTP 401): "
        f"{ARCHIVE_CREDENTIALS}"
    )
    rest = run_cli(
        *served["serve"], "--dicomweb-archive", f"http://{pacs.user}:{pacs.password}@{at}"
    )
    assert error_line(rest) == (
        f"error: http://{at} is not a DICOMweb root (QIDO-RS answered 400 at http://{at}/studies):"
        f" check the path in --dicomweb-archive, e.g. dicomweb+http://{at}/dicom-web"
    )
    assert pacs.password not in rest.stdout + rest.stderr
    assert served["ports"] == []
    down = succeeded(
        run_cli(*served["serve"], "--dicomweb-archive", "http://127.0.0.1:9/dicom-web")
    )
    assert down.stderr.splitlines()[0] == (
        "warning: cannot reach the DICOMweb server http://127.0.0.1:9/dicom-web (ConnectionError, "
        "1 try): check --dicomweb-archive and that the server is running; requests naming it are "
        "answered 502 until it answers"
    )
    assert served["ports"] == [18999]


def test_predict_waits_on_a_silent_pacs_as_long_as_dicomweb_timeout_says(hospital, tmp_path):
    """A PACS that stopped answering kept predict silent for about 4 minutes (4 tries at 60 s)
    and no flag shortened it: --dicomweb-timeout sets the wait, and it is asked once more."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections are taken, never answered
    root = f"http://127.0.0.1:{silent.getsockname()[1]}/dicom-web"
    started = time.monotonic()
    try:
        result = run_cli("predict", "--base", hospital["base"], "--data",
                         f"dicomweb+{root}/studies/1.2.3", "--dicomweb-timeout", "0.3",
                         "--out", tmp_path / "p.csv")  # fmt: skip
    finally:
        silent.close()
    assert time.monotonic() - started < 30
    assert result.code == 2 and "Traceback" not in result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"note: the DICOMweb server {root} did not answer within 0.3 s; asking once more "
        "(--dicomweb-timeout sets the wait)",
        f"error: the DICOMweb server {root} did not answer within 0.3 s (2 tries): check that it "
        "is running, or give a slow server longer with --dicomweb-timeout",
    ]
    assert not (tmp_path / "p.csv").exists()
