"""The server's access log: one line per request with its time, client, method, path,
status, latency, the adapter versions that answered and the count of instances; never a
value sent, the body, the query string or the token. (The server kept none: uvicorn's own
is off at ``log_level="warning"``, and would repeat query strings.)"""

from __future__ import annotations

import json
import logging
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from medadapt.serve.access_log import ACCESS
from medadapt.serve.app import create_app
from tests.cli.helpers import error_line, run_cli, succeeded

pytestmark = pytest.mark.xdist_group("serve")
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LINE = re.compile(
    r"time=(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) client=(?P<client>\S+) "
    r"method=(?P<method>\S+) path=(?P<path>\S+) status=(?P<status>\d{3}) "
    r"latency_ms=(?P<latency_ms>\d+\.\d) adapter=(?P<adapter>\S+) instances=(?P<instances>\S+)"
)


@pytest.fixture
def access_lines():
    """The access log's lines (its logger as it was restored after)."""
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    was = ACCESS.level, ACCESS.propagate, list(ACCESS.handlers)
    ACCESS.setLevel(logging.INFO)
    ACCESS.addHandler(handler)
    yield lines
    ACCESS.removeHandler(handler)
    ACCESS.setLevel(was[0])
    ACCESS.propagate = was[1]


def _fields(line: str) -> dict[str, str]:
    match = LINE.fullmatch(line)
    assert match is not None, line
    return match.groupdict()


def _instances(served_registry, sites: tuple[str, ...], n: int = 2) -> list[dict]:
    frame = pd.read_csv(served_registry["data"])
    rows = frame[frame["site"].isin(sites)].groupby("site").head(n).drop(columns=["outcome"])
    return json.loads(rows.to_json(orient="records"))


def test_each_request_is_one_line_of_counts_and_names_never_a_value(served_registry, access_lines):
    instances = _instances(served_registry, ("A", "B"))  # routed by their group field
    values = {str(v) for row in instances for k, v in row.items() if k != "site"}
    with TestClient(create_app(served_registry["registry"], token=TOKEN)) as client:
        access_lines.clear()  # start-up says nothing here
        answers = [
            client.post("/v1/predict?mrn=8675309&name=Doe", json={"instances": instances},
                        headers=AUTH),
            client.post("/v1/predict", json={"adapter": "site_c", "instances": instances[:1]}),
            client.post("/v1/predict", json={"adapter": "site_c", "instances": [
                {**instances[0], "site": "C", "age": "sixty"}]}, headers=AUTH),
            client.post("/v1/predict", json={"instances": [{k: v for k, v in instances[0].items()
                                                            if k != "site"}]}, headers=AUTH),
            client.get("/patients/Doe-8675309", headers=AUTH),
            client.get("/healthz"),
        ]  # fmt: skip
    assert [a.status_code for a in answers] == [200, 401, 422, 200, 404, 200]
    fields = [_fields(line) for line in access_lines]
    said = [(f["method"], f["path"], f["status"], f["adapter"], f["instances"]) for f in fields]
    assert said == [
        ("POST", "/v1/predict", "200", "site_a@1,site_b@1", "4"),
        ("POST", "/v1/predict", "401", "-", "-"),  # no token: nothing read, nothing named
        ("POST", "/v1/predict", "422", "site_c@1", "1"),
        ("POST", "/v1/predict", "200", "base", "1"),  # the base model alone
        ("GET", "other", "404", "-", "-"),  # a path the service does not have is not written
        ("GET", "/healthz", "200", "-", "-"),
    ]
    assert {f["client"] for f in fields} == {"testclient"}
    text = "\n".join(access_lines)
    for secret in ("8675309", "Doe", "mrn", "sixty", TOKEN, "Bearer"):
        assert secret not in text
    words = set(re.findall(r"[\w.-]+", re.sub(r"(time|latency_ms)=\S+", "", text)))
    assert {"1000", "70.0"} <= values  # ids, ages, markers sent ...
    assert not values & words, values & words  # ... none written


def test_nothing_is_measured_when_the_log_is_off(served_registry, access_lines):
    ACCESS.setLevel(logging.WARNING)  # as `serve --access-log off` sets it
    with TestClient(create_app(served_registry["registry"], token=None)) as client:
        assert client.get("/healthz").status_code == 200
    assert access_lines == []


@pytest.fixture
def restored_access_log():
    was = ACCESS.level, ACCESS.propagate, list(ACCESS.handlers)
    yield
    for handler in list(ACCESS.handlers):
        ACCESS.removeHandler(handler)
        if handler not in was[2]:
            handler.close()
    for handler in was[2]:
        ACCESS.addHandler(handler)
    ACCESS.setLevel(was[0])
    ACCESS.propagate = was[1]


def test_serve_writes_it_to_a_file_or_nowhere_and_turns_uvicorn_s_off(
    served_registry, registry_copy, tmp_path, monkeypatch, restored_access_log
):
    import medadapt.cli.serve as serve_cli

    started = []

    def run(app, **settings):
        started.append(settings)
        with TestClient(app) as client:
            client.get("/healthz?patient=Doe")

    monkeypatch.setattr(serve_cli, "listen", run)
    log = tmp_path / "access.log"
    for target in (str(log), "off"):
        said = succeeded(run_cli("serve", "--registry", registry_copy, "--port", "18996",
                                 "--access-log", target))  # fmt: skip
        assert "time=" not in said.stderr  # neither on stderr
    (line,) = log.read_text().splitlines()  # the second run, off, wrote nothing
    assert _fields(line)["path"] == "/healthz" and "Doe" not in line
    assert [s["access_log"] for s in started] == [False, False]  # uvicorn's own: off
    succeeded(run_cli("serve", "--registry", registry_copy, "--port", "18996"))
    said = succeeded(run_cli("serve", "--registry", registry_copy, "--port", "18996"))
    assert any(LINE.fullmatch(text) for text in said.stderr.splitlines())  # the default
    folder = tmp_path / "no" / "such"
    assert error_line(run_cli("serve", "--registry", registry_copy, "--access-log", folder)) == (
        f"error: --access-log {folder}: cannot write there (No such file or directory); give a "
        "file you can write to, '-' for stderr, or 'off'"
    )
