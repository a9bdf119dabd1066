"""The JSON body of a request, read so that every malformed body is one 4xx naming the problem.

Empty, or not JSON: 422 at the character, saying what is expected (a JSON object with
"adapter" and "instances", sent with ``Content-Type: application/json``). JSON, but not an
object (an array of records, a number), or one patient's record sent bare, without the
``instances`` around it: one 422 saying to wrap the records as ``{"instances": [...]}``
(:func:`unwrapped`); so is ``instances`` holding one record, not an array
(:func:`not_a_list`). Not UTF-8 (or nested too deeply): 400 naming the byte. An integer
longer than Python converts (``sys.get_int_max_str_digits()``, 4300 digits by default): 422
naming each field that holds one, and never a 500 or a traceback. An object that gives one key
twice (``{"age": 61, "age": 16}``, which JSON parsers read as the last, or the first): 422 at
each such key, never a value chosen silently. An image sent as the body itself (``curl
--data-binary @x.png``: an image content type, or PNG, JPEG or DICOM bytes): 415 saying to
upload it as multipart/form-data, not "not valid UTF-8". A body sent as another type
(``text/plain``, curl's default ``application/x-www-form-urlencoded``): 415 saying to send
it as ``application/json``, as the API's description declares (a trial's ``text/plain``
request was answered; a web page may send such a body to a service on loopback without the
browser asking first). A body sent without a Content-Type is read as JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Collection, Iterator
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError

from medadapt.data.dicom_files import has_preamble
from medadapt.registry.records import shown
from medadapt.serve.image_inputs import FORMAT_NAMES, MAGIC

NOT_PARSED = "There was an error parsing the body"
EXPECTED = (
    'send a JSON object such as {"adapter": "NAME", "instances": [{"FEATURE": value, ...}]} '
    "with the header 'Content-Type: application/json' (image bases also take "
    "multipart/form-data uploads)"
)


async def json_body(request: Request) -> Any:
    """The request's body as JSON, or the 4xx that says why it is not."""
    raw = await request.body()
    content_type = request.headers.get("content-type")
    sent_image = raw_image(raw, content_type)
    if sent_image is not None:
        raise HTTPException(415, sent_image)
    other = _not_json_type(content_type)
    if other is not None:
        raise HTTPException(415, other)
    repeated: list[_Repeated] = []
    try:
        body = json.loads(raw, object_pairs_hook=lambda pairs: _object(pairs, repeated))
    except json.JSONDecodeError as exc:
        said = _not_json(raw, exc, content_type)
        error = {"loc": ["body", exc.pos], "msg": said, "type": "json_invalid"}
        raise RequestValidationError([error]) from None
    except UnicodeDecodeError as exc:  # before ValueError, its base class
        raise HTTPException(400, _not_text(exc)) from None
    except RecursionError:  # nesting deeper than the parser's stack
        raise HTTPException(400, f"{NOT_PARSED}: nested too deeply") from None
    except ValueError:  # an integer with more digits than int() converts
        raise RequestValidationError(_long_integer_errors(raw)) from None
    if repeated:
        raise RequestValidationError(_duplicate_key_errors(body))
    return body


WRAP = (
    'wrap the records as {"instances": [...]}, e.g. {"adapter": "NAME", "instances": '
    '[{"FEATURE": value, ...}, ...]} ("adapter" or "group" beside "instances" routes them)'
)
JSON_KINDS = {list: "a JSON array", str: "a JSON string", bool: "JSON true or false",
              int: "a JSON number", float: "a JSON number", type(None): "JSON null",
              dict: "a JSON object"}  # fmt: skip


def not_a_list(field: str, value: Any) -> str:
    """What a request whose ``field`` (``instances``) holds ``value``, not an array, is told:
    one record sent without the list around it, or another value; to wrap the records as a
    body sent bare is told (:data:`WRAP`). The value is never repeated (patient data).

    >>> print(not_a_list("instances", {"age": 60}))  # doctest: +NORMALIZE_WHITESPACE
    "instances" is a JSON object (one record?), not an array: wrap the records as
    {"instances": [...]}, e.g. {"adapter": "NAME", "instances": [{"FEATURE": value, ...},
    ...]} ("adapter" or "group" beside "instances" routes them)
    """
    sent = JSON_KINDS.get(type(value), "JSON")
    one = " (one record?)" if isinstance(value, dict) else ""
    return f'"{field}" is {sent}{one}, not an array: {WRAP}'


def unwrapped(
    body: Any, fields: Collection[str], meant: Callable[[str], str | None], features: set[str]
) -> str | None:
    """Why ``body`` is not a request object although it is JSON: not an object (an array of
    records: wrap them), or an object without ``instances`` whose fields (other than the
    request's ``fields`` and those ``meant`` as one of them, misspelt) are features of a served
    model (``features``; any field where none is known): one patient's record sent bare.
    None when it is an object a request's fields can be judged on.

    >>> print(unwrapped([{"age": 63}], [], lambda key: None, set()))
    ... # doctest: +NORMALIZE_WHITESPACE
    the body is a JSON array, not an object: wrap the records as {"instances": [...]}, e.g.
    {"adapter": "NAME", "instances": [{"FEATURE": value, ...}, ...]} ("adapter" or "group"
    beside "instances" routes them)
    """
    if not isinstance(body, dict):
        return f"the body is {JSON_KINDS.get(type(body), 'JSON')}, not an object: {WRAP}"
    if any(key == "instances" or meant(str(key)) == "instances" for key in body):
        return None
    other = [key for key in body if key not in fields and meant(str(key)) is None]
    if not other or (features and not features & set(other)):
        return None
    named = next((key for key in other if key in features), other[0])  # a feature, if any
    return (
        f'the body has no "instances", and its fields look like one instance\'s (a '
        f"patient's features, such as {shown(named)}): {WRAP}"
    )


#: an image's first bytes, and what it is, as an upload's are read (a DICOM file's are past
#: its 128-byte preamble)
IMAGE_MAGIC = {magic: f"a {FORMAT_NAMES[fmt]} image" for magic, fmt in MAGIC.items()}
#: content types that say the body is an image (a DICOM file: application/dicom)
IMAGE_TYPES = ("image/",)
DICOM_TYPE = "application/dicom"  # not application/dicom+json: that is JSON


def send_images(adapter: str | None = None) -> str:
    """How images are sent (for ``adapter``, named in the examples; None: ``NAME``).

    >>> print(send_images("site_b"))  # doctest: +NORMALIZE_WHITESPACE
    upload images as multipart/form-data, each in a 'file' field (curl -F adapter=site_b -F
    file=@scan.png), or send a JSON DICOMweb reference ({"adapter": "site_b", "dicomweb":
    "dicomweb+http(s)://HOST/dicom-web/studies/UID"})
    """
    name = adapter or "NAME"
    return (
        f"upload images as multipart/form-data, each in a 'file' field (curl -F adapter={name} "
        f'-F file=@scan.png), or send a JSON DICOMweb reference ({{"adapter": "{name}", '
        '"dicomweb": "dicomweb+http(s)://HOST/dicom-web/studies/UID"})'
    )


def media_type(content_type: str | None) -> str:
    """A Content-Type's media type, lower case, without its parameters ("" for none).

    >>> media_type("Application/JSON; charset=utf-8"), media_type(None)
    ('application/json', '')
    """
    return (content_type or "").split(";")[0].strip().lower()


def raw_image(raw: bytes, content_type: str | None) -> str | None:
    """Why a body that is an image itself is refused (its content type says so, or its first
    bytes are an image's), or None: a request's images are multipart uploads (which the
    route reads as a form) and a JSON body cannot hold one. The body is never repeated.

    >>> print(raw_image(next(iter(IMAGE_MAGIC)) + b"...", "image/png"))
    ... # doctest: +NORMALIZE_WHITESPACE
    the body is a PNG image (sent as 'image/png'), not JSON: upload images as
    multipart/form-data, each in a 'file' field (curl -F adapter=NAME -F file=@scan.png), or
    send a JSON DICOMweb reference ({"adapter": "NAME", "dicomweb":
    "dicomweb+http(s)://HOST/dicom-web/studies/UID"})
    >>> raw_image(b'{"adapter": "va"}', "application/json")
    """
    sent = media_type(content_type)
    what = next((name for magic, name in IMAGE_MAGIC.items() if raw.startswith(magic)), None)
    if what is None and has_preamble(raw[:132]):
        what = "a DICOM file"
    if what is None and (sent.startswith(IMAGE_TYPES) or sent == DICOM_TYPE):
        what = "an image"
    if what is None:
        return None
    as_sent = f" (sent as {shown(sent)})" if sent else ""
    return f"the body is {what}{as_sent}, not JSON: {send_images()}"


def _not_json_type(content_type: str | None) -> str | None:
    """Why a body sent as another type than JSON is refused, or None (JSON, ``text/json``,
    ``+json``, or no Content-Type at all).

    >>> print(_not_json_type("application/x-www-form-urlencoded"))  # doctest: +ELLIPSIS
    the body was sent as 'application/x-www-form-urlencoded', not 'application/json': send ...
    >>> _not_json_type("application/json; charset=utf-8") is None
    True
    """
    sent = media_type(content_type)
    if not sent or sent in ("application/json", "text/json") or sent.endswith("+json"):
        return None  # (text/json: JSON's older type, which no browser sends unasked)
    return f"the body was sent as {shown(sent)}, not 'application/json': {EXPECTED}"


def _not_json(raw: bytes, exc: json.JSONDecodeError, content_type: str | None) -> str:
    """Why the body is not JSON (empty, or where it stops being JSON) and what to send; the
    body itself is never repeated (patient data)."""
    if not raw.strip():
        said = "the body is empty"
    else:
        said = f"JSON decode error at character {exc.pos} ({exc.msg.lower()})"
    sent = media_type(content_type)
    if sent != "application/json":
        said += f" (sent as {shown(sent)})" if sent else " (sent without a Content-Type)"
    return f"{said}: {EXPECTED}"


def _not_text(exc: UnicodeDecodeError) -> str:
    byte = exc.object[exc.start]
    return (
        f"{NOT_PARSED}: not valid {exc.encoding.upper()} (byte 0x{byte:02x} at position "
        f"{exc.start}); send JSON encoded as UTF-8"
    )


class _Repeated(dict):
    """A JSON object that gave the keys ``twice`` more than once (its values: the last)."""

    def __init__(self, pairs: list[tuple[str, Any]], twice: list[str]) -> None:
        super().__init__(pairs)
        self.twice = twice


def _object(pairs: list[tuple[str, Any]], repeated: list[_Repeated]) -> dict[str, Any]:
    """A JSON object as a ``dict``; one that gives a key twice is a :class:`_Repeated`, also
    added to ``repeated`` (a dict and a length check per object: a well-formed body pays a
    few microseconds).

    >>> found = []
    >>> _object([("age", 1), ("sex", "M")], found), found
    ({'age': 1, 'sex': 'M'}, [])
    >>> _object([("age", 1), ("age", 2)], found).twice, len(found)
    (['age'], 1)
    """
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    seen: set[str] = set()
    twice = [key for key, _ in pairs if key in seen or seen.add(key)]  # type: ignore[func-returns-value]
    marked = _Repeated(pairs, list(dict.fromkeys(twice)))
    repeated.append(marked)
    return marked


def _duplicate_key_errors(body: Any) -> list[dict[str, Any]]:
    """One 422 error per key given twice in one object of ``body``, at that key's place, in
    the body's order; the values are never repeated (patient data)."""
    errors = []
    stack: list[tuple[list[Any], Any]] = [([], body)]
    while stack:  # without recursion: a body may be nested as deep as the parser allows
        path, value = stack.pop()
        if isinstance(value, _Repeated):
            errors += [
                {
                    "loc": ["body", *path, key],
                    "msg": f"the key {shown(key)} is given more than once in one JSON object; "
                    "send each field once (no value is chosen for you)",
                    "type": "duplicate_key",
                }
                for key in value.twice
            ]
        if isinstance(value, dict):
            stack.extend(([*path, key], item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(([*path, i], item) for i, item in reversed(list(enumerate(value))))
    return errors


class _LongInteger:
    """Stands for an integer the parser met but could not convert."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _integer(text: str) -> int | _LongInteger:
    try:
        return int(text)
    except ValueError:
        return _LongInteger(len(text.lstrip("-")))


def _long_integer_errors(raw: bytes) -> list[dict[str, Any]]:
    """One 422 error per integer too long to convert, at its place in the body (read again,
    only for such a body: well-formed requests pay nothing)."""
    try:
        body = json.loads(raw, parse_int=_integer)
    except (ValueError, RecursionError):
        raise HTTPException(400, NOT_PARSED) from None
    limit = sys.get_int_max_str_digits()
    errors = [
        {
            "loc": ["body", *path],
            "msg": f"an integer of {value.digits} digits, more than the {limit} a number may "
            "have; send a number in ordinary range (or null)",
            "type": "int_parsing_size",
        }
        for path, value in _leaves(body)
        if isinstance(value, _LongInteger)
    ]
    if not errors:  # another ValueError
        raise HTTPException(400, NOT_PARSED)
    return errors


def _leaves(body: Any) -> Iterator[tuple[list[Any], Any]]:
    """Each value of ``body`` that is neither an object nor an array, with its path, in the
    body's order (without recursion: a body may be nested as deep as the parser allows)."""
    stack: list[tuple[list[Any], Any]] = [([], body)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(([*path, key], item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(([*path, i], item) for i, item in reversed(list(enumerate(value))))
        else:
            yield path, value
