"""Open DICOM files as hospital archives hold them: compressed, or without the preamble.

A DICOM file normally starts with a 128-byte preamble and the marker ``DICM``; older files
(ACR-NEMA exports, some PACS dumps) start straight with the data set, sometimes without the
file meta group that names the transfer syntax. :func:`looks_like_dicom` recognises both by
their first bytes (no heavy import), :func:`open_dicom` reads them with pydicom (``force=True``
only for a file whose start is a DICOM element of group 0002 or 0008, and only a data set with
image attributes counts), so a picture or a random file named ``.dcm`` is refused with a
one-line reason that says what it looks like.

Compressed pixel data is decoded by pydicom's plugins (see :data:`COMPRESSED_SYNTAXES`):
pylibjpeg-openjpeg (JPEG 2000, HTJ2K), pyjpegls (JPEG-LS), pylibjpeg-rle and pydicom itself
(RLE), Pillow (8-bit JPEG) and, with the ``medadapt[dicom-gpl]`` extra, pylibjpeg-libjpeg
(GPLv3: JPEG lossless, 12-bit JPEG). A file that cannot be decoded gets a reason naming the
transfer syntax and what would decode it.

pydicom is imported inside the functions that read a file: :mod:`medadapt.data.image_schema`
imports this module for ``is_image_source``, which the command line calls before it knows
whether the data are images, and that check must not load pydicom.
"""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medadapt.data.read_errors import ReadError, one_line

if TYPE_CHECKING:
    import numpy as np

PREAMBLE = 128
MAGIC = b"DICM"

#: compressed (and deflated) transfer syntaxes medadapt decodes -> the plugins that do it
COMPRESSED_SYNTAXES: dict[str, str] = {
    "1.2.840.10008.1.2.1.99": "pydicom (Deflated Explicit VR Little Endian)",
    "1.2.840.10008.1.2.4.50": "Pillow or pylibjpeg-libjpeg (JPEG Baseline, 8-bit)",
    "1.2.840.10008.1.2.4.51": "pylibjpeg-libjpeg; Pillow for 8-bit (JPEG Extended, 12-bit)",
    "1.2.840.10008.1.2.4.57": "pylibjpeg-libjpeg (JPEG Lossless, Process 14)",
    "1.2.840.10008.1.2.4.70": "pylibjpeg-libjpeg (JPEG Lossless, Selection Value 1)",
    "1.2.840.10008.1.2.4.80": "pyjpegls or pylibjpeg-libjpeg (JPEG-LS Lossless)",
    "1.2.840.10008.1.2.4.81": "pyjpegls or pylibjpeg-libjpeg (JPEG-LS Near-Lossless)",
    "1.2.840.10008.1.2.4.90": "pylibjpeg-openjpeg or Pillow (JPEG 2000 Lossless)",
    "1.2.840.10008.1.2.4.91": "pylibjpeg-openjpeg or Pillow (JPEG 2000)",
    "1.2.840.10008.1.2.4.201": "pylibjpeg-openjpeg (HTJ2K Lossless)",
    "1.2.840.10008.1.2.4.202": "pylibjpeg-openjpeg (HTJ2K Lossless RPCL)",
    "1.2.840.10008.1.2.4.203": "pylibjpeg-openjpeg (HTJ2K)",
    "1.2.840.10008.1.2.5": "pydicom or pylibjpeg-rle (RLE Lossless)",
}
#: JPEG lossless syntaxes only the GPLv3 pylibjpeg-libjpeg decodes (of the plugins medadapt uses)
LIBJPEG_ONLY = ("1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70")
GPL_EXTRA = "pip install 'medadapt[dicom-gpl]'"

# The value representations of DICOM PS3.5 (an explicit-VR element has one after its tag).
_VRS = frozenset(
    vr.encode()
    for vr in [
        "AE",
        "AS",
        "AT",
        "CS",
        "DA",
        "DS",
        "DT",
        "FD",
        "FL",
        "IS",
        "LO",
        "LT",
        "OB",
        "OD",
        "OF",
        "OL",
        "OV",
        "OW",
        "PN",
        "SH",
        "SL",
        "SQ",
        "SS",
        "ST",
        "SV",
        "TM",
        "UC",
        "UI",
        "UL",
        "UN",
        "UR",
        "US",
        "UT",
        "UV",
    ]
)
_OTHER_FORMATS = (
    (b"\x89PNG", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG picture"),
    (b"GIF8", "a GIF picture"),
    (b"II*\x00", "a TIFF picture"),
    (b"MM\x00*", "a TIFF picture"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip file"),
)
_IMAGE_ATTRIBUTES = ("SOPClassUID", "Modality", "Rows", "PixelData")


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(PREAMBLE + len(MAGIC))


def has_preamble(head: bytes) -> bool:
    """Whether a file's first bytes are the 128-byte preamble and ``DICM``."""
    return len(head) >= PREAMBLE + 4 and head[PREAMBLE : PREAMBLE + 4] == MAGIC


def starts_like_dataset(head: bytes) -> bool:
    """Whether a file's first bytes are a DICOM element of the file meta (0002) or
    identifying (0008) group, as in a file written without its preamble: explicit VR little
    endian (always so for the file meta), implicit VR little endian with a short value, or
    explicit VR big endian."""
    if len(head) < 8:
        return False
    group, element = struct.unpack("<HH", head[:4])
    explicit = head[4:6] in _VRS
    if group in (0x0002, 0x0008) and element % 2 == 0 and explicit:
        return True
    if group == 0x0008 and element % 2 == 0 and struct.unpack("<I", head[4:8])[0] < 0x10000:
        return True
    group, element = struct.unpack(">HH", head[:4])
    return group == 0x0008 and element % 2 == 0 and explicit


def looks_like_dicom(path: Path) -> bool:
    """Whether ``path`` starts as a DICOM file does, with or without the preamble (reads at
    most 132 bytes; an unreadable path is not DICOM)."""
    try:
        head = _head(path)
    except OSError:
        return False
    return has_preamble(head) or starts_like_dataset(head)


def what_it_is(head: bytes) -> str:
    """What a non-DICOM file looks like from its first bytes, for a one-line reason."""
    if not head:
        return "the file is empty"
    for magic, name in _OTHER_FORMATS:
        if head.startswith(magic):
            return f"it looks like {name}"
    if all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        return "it looks like text"
    return "unknown binary content"


def open_dicom(path: Path, *, headers_only: bool = False) -> Any:
    """The pydicom data set of ``path``, with or without the preamble, or a
    :class:`ReadError` saying why it is not DICOM. A data set without file meta is given the
    transfer syntax it was read with, so that its pixels can be decoded."""
    import pydicom  # lazy: keeps pydicom off the CLI's is_image_source path (see above)

    head = _head(path)
    if has_preamble(head):
        ds = pydicom.dcmread(path, stop_before_pixels=headers_only)
    elif starts_like_dataset(head):
        ds = pydicom.dcmread(path, stop_before_pixels=headers_only, force=True)
        meta = getattr(ds, "file_meta", None)
        if not any(name in ds for name in _IMAGE_ATTRIBUTES) and not (
            meta is not None and "TransferSyntaxUID" in meta
        ):
            raise ReadError(
                "not a DICOM image: no preamble, and the data set at its start has no SOP "
                "Class UID, Modality, Rows or Pixel Data"
            )
    else:
        raise ReadError(
            f"not a DICOM file: no 'DICM' marker at byte {PREAMBLE} and no DICOM data set at "
            f"its start ({what_it_is(head)})"
        )
    _name_transfer_syntax(ds)
    return ds


def _name_transfer_syntax(ds: Any) -> None:
    """Give a data set read without a transfer syntax the one pydicom read it with."""
    # lazy: keeps pydicom off the CLI's is_image_source path (see the module docstring)
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    meta = getattr(ds, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        return
    if "PixelData" in ds and ds["PixelData"].is_undefined_length:
        raise ReadError(
            "compressed pixel data but no transfer syntax (no file meta) to say how it was "
            "compressed"
        )
    implicit, little = ds.original_encoding
    if implicit:
        syntax = ImplicitVRLittleEndian
    else:
        syntax = ExplicitVRLittleEndian if little else ExplicitVRBigEndian
    if meta is None:
        ds.file_meta = meta = FileMetaDataset()
    meta.TransferSyntaxUID = syntax


def dicom_pixels(ds: Any) -> np.ndarray:
    """``ds.pixel_array`` (decoded by pydicom's plugins), or a :class:`ReadError` naming the
    transfer syntax and the likely cause."""
    if "PixelData" not in ds:
        if "Rows" in ds or _image_class(ds):  # an image's header without its pixels: cut off
            raise ReadError("a DICOM image whose pixel data is missing (a truncated file?)")
        raise ReadError("a DICOM file without pixel data (e.g. a report or DICOMDIR)")
    try:
        return ds.pixel_array
    except Exception as exc:
        raise undecodable(ds, exc) from None


def _image_class(ds: Any) -> bool:
    """Whether ``ds``'s SOP Class is an image's ("Computed Radiography Image Storage"): a file
    of one cut off before its Rows (a trial's first 600 bytes of a CR file) was said to be a
    report or a DICOMDIR."""
    from pydicom.uid import UID

    sop_class = ds.get("SOPClassUID") or getattr(ds.get("file_meta"), "MediaStorageSOPClassUID", "")
    return "Image Storage" in UID(str(sop_class or "")).name


def undecodable(ds: Any, exc: BaseException) -> ReadError:
    """The one-line reason why ``ds``'s pixels could not be decoded (``exc``)."""
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if getattr(syntax, "is_compressed", False):
        why = decoder_advice(ds, syntax)
    else:
        name = getattr(syntax, "name", syntax)
        why = f"the file is truncated or damaged (transfer syntax {name}, uncompressed)"
    return ReadError(f"pixel data cannot be decoded ({one_line(exc)}); {why}")


def has_libjpeg() -> bool:
    """Whether the GPLv3 pylibjpeg-libjpeg plugin (``medadapt[dicom-gpl]``) is installed."""
    return importlib.util.find_spec("libjpeg") is not None


def decoder_advice(ds: Any, syntax: Any) -> str:
    """What would decode ``ds``'s compressed pixel data, or that the data is damaged."""
    # lazy: keeps pydicom off the CLI's is_image_source path (see the module docstring)
    from pydicom.pixels import get_decoder
    from pydicom.uid import JPEGExtended12Bit

    name = syntax.name
    twelve_bit = syntax == JPEGExtended12Bit and int(ds.get("BitsStored", 8) or 8) > 8
    if (syntax in LIBJPEG_ONLY or twelve_bit) and not has_libjpeg():
        return f"{name} needs the GPLv3 decoder pylibjpeg-libjpeg: {GPL_EXTRA}"
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError:
        return f"no DICOM decoder supports transfer syntax {name}"
    if not decoder.is_available:
        return (
            f"no {name} decoder is installed: reinstall medadapt, which brings "
            "pylibjpeg-openjpeg, pylibjpeg-rle and pyjpegls"
        )
    plugins = ", ".join(decoder.available_plugins)
    return f"the {name} data is damaged (every installed decoder failed: {plugins})"
