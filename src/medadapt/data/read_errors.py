"""Why one file cannot be used: the errors every image reader raises (see ``image_io``)."""

from __future__ import annotations

from dataclasses import dataclass

#: how every reason a blank image is left out begins (training data, or images to score)
BLANK = "a blank image: every pixel has the same value"
#: why a blank file or array image is left out of training data (``--on-error skip``): not
#: an error, but a reason counted apart from unreadable files (here, torch-free, for the CLI)
BLANK_REASON = f"{BLANK} (nothing to learn from)"


#: how the reason a file of no image type is left out begins (``notes.txt`` among images)
UNKNOWN_TYPE = "unknown file type"


def is_blank_reason(reason: str) -> bool:
    """Whether a skipped file's ``reason`` says it is blank (:data:`BLANK_REASON`, or a blank
    image to score: "... after the intensity window (nothing to score)"); else: unreadable."""
    return reason.startswith(BLANK)


def skipped_kind(reason: str) -> str:
    """What a skipped file was, from its ``reason``: "blank", "not an image" (a file of no
    image type, :data:`UNKNOWN_TYPE`) or "unreadable" (an image file that failed to read)."""
    if is_blank_reason(reason):
        return "blank"
    return "not an image" if reason.startswith(UNKNOWN_TYPE) else "unreadable"


@dataclass(frozen=True)
class SkippedKind:
    """How one kind of skipped file (:func:`skipped_kind`) is said: ``tallied`` after its
    count in the CLI's one-line tally ("2 blank (every pixel one value)"), ``named`` as the
    count's noun before the first such file ("2 blank images, first: a.png"; ``{s}``: the
    plural's s), with its reason where ``with_reason`` (a blank one's reason is its kind)."""

    kind: str
    tallied: str
    named: str
    with_reason: bool

    def counted(self, n: int) -> str:
        """``"2 blank images"``: ``n`` and the noun, singular or plural."""
        return f"{n} {self.named.format(s='s' * (n != 1))}"


#: every kind of file left out, in the order each is said (the CLI's tally and the refusal
#: of a class left without images both read it)
SKIPPED_KINDS = (
    SkippedKind("not an image", "not an image (unknown file type)", "file{s} of no image type",
                with_reason=True),
    SkippedKind("unreadable", "unreadable", "unreadable file{s}", with_reason=True),
    SkippedKind("blank", "blank (every pixel one value)", "blank image{s}", with_reason=False),
)  # fmt: skip


class ReadError(Exception):
    """A file cannot be used; ``str(err)`` is a one-line reason (no path)."""


class BeyondBitsStored(ReadError):
    """A 16-bit picture read whole, whose values exceed the bits stored the model takes
    (``--bits-stored``): refused for its values, not unreadable."""


class OptionError(ReadError):
    """A loader option does not fit this file (e.g. a slice index beyond its depth)."""


def one_line(exc: BaseException, *, limit: int = 400) -> str:
    """``"Type: message"`` on one line: a multi-line message (pydicom lists each decoder's
    failure on its own line) is joined with "; " and cut at ``limit`` characters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    head, *rest = lines
    if rest:
        head += (" " if head.endswith(":") else "; ") + "; ".join(rest)
    text = f"{type(exc).__name__}: {head}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decoder_said(exc: BaseException) -> str:
    """A decoding library's message on one line, without its exception class.

    >>> decoder_said(OSError("image file is truncated")), decoder_said(ValueError())
    ('image file is truncated', 'no reason given')
    """
    said = one_line(exc).removeprefix(f"{type(exc).__name__}: ")
    return "no reason given" if said == type(exc).__name__ else said
