"""Whether one image, as the model reads it, looks far unlike every one of the model's
training images: an image of noise, a near-blank frame, a photograph sent to a radiograph model.

A base records the 5th and 95th percentiles of its training images' mean intensity, spread and
grain (:func:`~medadapt.data.image_io.look_ranges`); a set of images unlike them on the whole is
said by :func:`~medadapt.data.image_files.look_note`. One image is said here only when it lies
well beyond those ranges (:data:`LEVEL_MARGIN`, :data:`CONTRAST_FACTOR`, :data:`GRAIN_FACTOR`):
a tenth of the training images lie outside their own 5th-95th percentiles, so a narrower margin
would caution ordinary images. A trial's image of pure noise was answered with 0.97 confidence
and no word of it.

>>> from medadapt.data.image_schema import ImageSchema
>>> schema = ImageSchema(classes=("normal", "nodule"), channels=1, image_size=8,
...                      mean_level=(0.19, 0.26), contrast=(0.06, 0.19), grain=(0.06, 0.08))
>>> unlike_look(schema, (0.51, 0.29, 0.33))
['brighter (mean intensity 0.51 against 0.19 to 0.26)', 'grainier, like noise (mean \
difference between neighbouring pixels 0.33 against 0.06 to 0.08, about 4.1 times theirs)']
>>> unlike_look(schema, (0.22, 0.12, 0.07))
[]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from medadapt.data.image_schema import ImageSchema

#: how far one image's mean intensity (in [0, 1]) may lie outside the training images' range
LEVEL_MARGIN = 0.15
#: ... how many times its spread of intensities may lie beyond theirs
CONTRAST_FACTOR = 2.0
#: ... and how many times its grain (mean difference between neighbouring pixels)
GRAIN_FACTOR = 3.0


def unlike_look(
    schema: ImageSchema, look: tuple[float, float, float], *, enlarged: bool = False
) -> list[str]:
    """How an image of ``look`` (mean intensity, spread, grain: ``image_io.image_look``) is far
    unlike the model's training images, a few words each (empty: it is not, or the model
    recorded no such ranges). ``enlarged``: the image was upscaled to the model's size, which
    smooths it (a review's 32 px crops of 64 px films read "as if blurred"): not said
    smoother."""
    level, spread, grain = look
    said = []
    if schema.mean_level is not None:
        low, high = schema.mean_level
        if not low - LEVEL_MARGIN <= level <= high + LEVEL_MARGIN:
            way = "brighter" if level > high else "darker"
            said.append(f"{way} (mean intensity {level:.2f} against {low:.2f} to {high:.2f})")
    if schema.contrast is not None:
        least, most = schema.contrast
        if not least / CONTRAST_FACTOR <= spread <= most * CONTRAST_FACTOR:
            way = "higher" if spread > most else "lower"
            said.append(f"{way} in contrast (spread of intensities {spread:.3f} against "
                        f"{least:.3f} to {most:.3f})")  # fmt: skip
    if schema.grain is not None:
        least, most = schema.grain
        against = f"against {least:.2g} to {most:.2g}"
        if grain > most * GRAIN_FACTOR:
            said.append(f"grainier, like noise (mean difference between neighbouring pixels "
                        f"{grain:.2g} {against}, about {times_text(grain / max(most, 1e-6))} "
                        "times theirs)")  # fmt: skip
        elif grain < least / GRAIN_FACTOR and (grain < FLAT or not enlarged):
            said.append("flat (no difference between neighbouring pixels, " + against + ")"
                        if grain < FLAT else
                        f"smoother, as if blurred (mean difference between neighbouring pixels "
                        f"{grain:.2g} {against}, about {times_text(least / grain)} times "
                        "less)")  # fmt: skip
    return said


#: a grain below this is no difference between neighbouring pixels at all (a blank slice), not
#: a number of times smoother (a review's read "about 61,300 times less")
FLAT = 1e-6


def one_image_note(ways: Sequence[str], subject: str = "it", many: bool = False) -> str | None:
    """Why one image (``subject``: "it", or "slice 5 of it"; ``many``: "slices 2, 5 of it")
    whose look is unlike the training images' in ``ways`` (from :func:`unlike_look`; the
    first's, for several) may be scored unreliably, in a sentence; None where it is not."""
    if not ways:
        return None
    looks, its = ("look", "their predictions") if many else ("looks", "its prediction")
    first = " (the first)" if many else ""
    return (
        f"{subject} {looks} far unlike every training image of the model{first}: "
        f"{'; '.join(ways)}; {its} may be unreliable (noise, a blank frame or another kind of "
        "image is scored as if it were one of them): check it is the right image, prepared as "
        "the training images were"
    )


def looks_note(odd: Sequence[tuple[str, Sequence[str]]], n: int, counted: str) -> str | None:
    """:func:`one_image_note` of several files ``odd`` (``(file, ways)``) of ``n`` ``counted``,
    naming the first; None where there are none."""
    if not odd:
        return None
    path, ways = odd[0]
    if len(odd) == 1:
        return f"{path}: {one_image_note(ways)}"
    return (
        f"{len(odd)} of {n} {counted} look far unlike every training image of the model (first: "
        f"{path}: {'; '.join(ways)}): their predictions may be unreliable; check they are the "
        "right images, prepared as the training images were"
    )


def names_every_file(note: str) -> bool:
    """Whether ``note`` is :func:`looks_note`'s of every file read (``41 of 41 files look
    far unlike every training image ...``): said of the whole set, it says no more."""
    return re.match(r"(\d+) of \1 \w+ look far unlike every training image", note) is not None


def look_words(ways: Sequence[str]) -> str:
    """:func:`unlike_look`'s ways in a predictions file's cell: ``looks unlike training:
    brighter (...)`` (empty where there are none)."""
    return f"looks unlike training: {', '.join(ways)}" if ways else ""


def times_text(times: float) -> str:
    """How many times darker, brighter or grainier: ``6.4``, ``13``, ``1,200`` (never
    ``1.2e+03``)."""
    return f"{times:.2g}" if times < 10 else f"{times:,.0f}"
