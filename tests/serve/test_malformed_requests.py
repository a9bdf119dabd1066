"""Malformed request bodies get one 4xx naming the problem, never a 500 or a logged traceback:
bytes that are not UTF-8, a compressed body, an integer too long for Python to read, a
multipart part whose headers (a file name) are too long; and text that no UTF-8 can carry
back (a lone surrogate, valid in JSON) in what an error repeats."""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi.testclient import TestClient

from medadapt.serve.app import create_app
from medadapt.serve.runner import BackgroundServer

pytestmark = pytest.mark.xdist_group("serve")
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {**AUTH, "Content-Type": "application/json"}
BOUNDARY = "medadapt-test-boundary"
DIGITS = 5000


@dataclass(frozen=True)
class Case:
    """A request body, its headers and the answer it must get."""

    content: bytes
    headers: dict[str, str]
    status: int
    said: tuple[str, ...] = ()  # in the answer's detail
    loc: list | None = None  # a 422's field
    extra: dict = field(default_factory=dict)  # other keys of the answer


def _multipart(filename: str) -> bytes:
    parts = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="adapter"\r\n\r\nsite_c\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'
    )
    return parts.encode() + b"\x89PNG\r\n\x1a\n" + bytes(64) + f"\r\n--{BOUNDARY}--\r\n".encode()


GOOD = b'{"adapter":"site_c","instances":[{"age":61,"marker":0.4,"smoker":"no","sex":"M"}]}'
CASES = {
    "invalid_utf8": Case(
        b'{"adapter":"site_c","instances":[{"age":61,"sex":"M\xe4le"}]}',
        JSON,
        400,
        ("not valid UTF-8", "0xe4 at position 51"),
    ),
    "gzip": Case(
        gzip.compress(GOOD),
        {**JSON, "Content-Encoding": "gzip"},
        415,
        ("Content-Encoding: gzip", "uncompressed"),
        extra={"accept-encoding": "identity"},
    ),
    "long_integer_feature": Case(
        b'{"adapter":"site_c","instances":[{"age":' + b"7" * DIGITS + b',"sex":"M"}]}',
        JSON,
        422,
        (f"{DIGITS} digits",),
        loc=["body", "instances", 0, "age"],
    ),
    "long_integer_adapter": Case(
        b'{"adapter":' + b"7" * DIGITS + b',"instances":[{"age":61}]}',
        JSON,
        422,
        (f"{DIGITS} digits",),
        loc=["body", "adapter"],
    ),
    "lone_surrogate_field": Case(  # valid JSON, but no UTF-8 can carry it back
        b'{"adapter":"site_c","instances":[{"age":61,"\\ud800":1}]}',
        JSON,
        422,
        ("is not a field of this model",),
        loc=["body", "instances", 0, "\ud800"],
    ),
    "duplicate_feature": Case(  # read as the last ("age": 16) and scored without a word
        b'{"adapter":"site_c","instances":[{"age":61,"marker":0.4,"age":16,"sex":"M"}]}',
        JSON,
        422,
        ("the key 'age' is given more than once in one JSON object; send each field once",),
        loc=["body", "instances", 0, "age"],
    ),
    "duplicate_adapter": Case(  # which adapter answered depended on the parser
        b'{"adapter":"site_a","instances":[{"age":61}],"adapter":"site_c"}',
        JSON,
        422,
        ("the key 'adapter' is given more than once in one JSON object",),
        loc=["body", "adapter"],
    ),
    "long_file_name": Case(
        _multipart("a" * DIGITS + ".png"),
        {**AUTH, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        400,
        ("multipart", "header", "file name"),
        extra={"file": None},
    ),
}


@pytest.fixture
def client(served_registry):
    app = create_app(served_registry["registry"], token=TOKEN)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _check(case: Case, reply: httpx.Response) -> None:
    assert reply.status_code == case.status, reply.text
    body = reply.json()
    if case.loc is not None:
        (error,) = body["detail"]
        assert error["loc"] == case.loc
        said = error["msg"]
        assert "7777" not in said  # the value is not sent back
    else:
        assert set(body) == {"detail", *(k for k in case.extra if k != "accept-encoding")}
        said = body["detail"]
    for words in case.said:
        assert words in said, said
    for key, value in case.extra.items():
        if key == "accept-encoding":  # RFC 7694: a 415 for a content coding names the accepted
            assert reply.headers["accept-encoding"] == value
        else:
            assert body[key] == value


def _no_traceback(records: list[logging.LogRecord]) -> None:
    bad = [r for r in records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


@pytest.mark.parametrize("name", list(CASES))
def test_a_malformed_body_is_one_clear_4xx(client, caplog, name):
    caplog.set_level(logging.INFO)
    case = CASES[name]
    _check(case, client.post("/v1/predict", content=case.content, headers=case.headers))
    _no_traceback(caplog.records)


def test_each_key_given_twice_is_named_once_where_it_is_and_no_value_is_sent_back(client):
    body = (b'{"adapter":"site_c","instances":[{"age":61,"sex":"M","sex":"F","age":16},'
            b'{"age":70}],"group":"C","group":"B"}')  # fmt: skip
    reply = client.post("/v1/predict", content=body, headers=JSON)
    assert reply.status_code == 422
    said = "is given more than once in one JSON object; send each field once (no value is chosen"
    assert reply.json() == {"detail": [
        {"loc": ["body", "group"], "type": "duplicate_key",
         "msg": f"the key 'group' {said} for you)"},
        {"loc": ["body", "instances", 0, "sex"], "type": "duplicate_key",
         "msg": f"the key 'sex' {said} for you)"},
        {"loc": ["body", "instances", 0, "age"], "type": "duplicate_key",
         "msg": f"the key 'age' {said} for you)"},
    ]}  # fmt: skip
    assert not {"61", "16", "70", "'M'", "'F'", "'B'"} & set(reply.text.replace('"', " ").split())


def test_the_well_formed_body_they_spoil_is_scored(client):
    reply = client.post("/v1/predict", content=GOOD, headers=JSON)
    assert reply.status_code == 200, reply.text
    assert reply.json()["predictions"][0]["adapter"] == "site_c"


def test_an_identity_content_encoding_is_read(client):
    reply = client.post(
        "/v1/predict", content=GOOD, headers={**JSON, "Content-Encoding": "identity"}
    )
    assert reply.status_code == 200, reply.text


def test_a_served_app_answers_them_without_a_traceback_in_its_log(served_registry, caplog):
    """Through uvicorn, whose log would carry the traceback of a 500."""
    caplog.set_level(logging.INFO)
    server_log = logging.getLogger("uvicorn")  # does not propagate to the root logger
    server = BackgroundServer(create_app(served_registry["registry"], token=TOKEN))
    server_log.addHandler(caplog.handler)  # after uvicorn configured its logging
    try:
        with server as url, httpx.Client(base_url=url, timeout=60) as http:
            for case in CASES.values():
                _check(case, http.post("/v1/predict", content=case.content, headers=case.headers))
    finally:
        server_log.removeHandler(caplog.handler)
    _no_traceback(caplog.records)
