"""Finding a request's routes (which adapter version scores each instance), for tabular and
image requests alike: a registered version not in memory is loaded once, an adapter promoted a
moment ago is looked for in the registry once more, a malformed reference is a 422."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.exceptions import RequestValidationError

from medadapt.errors import ConfigError
from medadapt.serve.batching import MicroBatcher
from medadapt.serve.state import NotFound, NotLoaded, Route, ServingState

Find = Callable[[], list[Route]]


def routes_or_422(find: Find) -> list[Route]:
    """``find()``; a malformed adapter reference (e.g. "va@x"), an adapter of another group
    or kind, or none named where no base model alone answers, is a 422 on ``adapter``; an
    instance whose group field contradicts the request's ``group`` or adapter, at that field
    of that instance (``loc``)."""
    try:
        return find()
    except ConfigError as bad_ref:
        loc = getattr(bad_ref, "loc", None) or ["body", getattr(bad_ref, "field", "adapter")]
        error = {"loc": loc, "msg": str(bad_ref), "type": "value_error"}
        raise RequestValidationError([error]) from None


async def resolve_routes(state: ServingState, batcher: MicroBatcher, find: Find) -> list[Route]:
    """``find()``'s routes, after loading a registered version that is not in memory, or
    looking at the registry once more for an adapter it does not know yet."""
    try:
        return routes_or_422(find)
    except NotLoaded as missing:  # a registered version not in memory: load it once
        name, version = missing.name, missing.version
        await batcher.call_in_worker(lambda: state.load_version(name, version))
        return routes_or_422(find)
    except NotFound:  # promoted a moment ago? look at the registry once more, then decide
        await batcher.call_in_worker(lambda: state.refresh(force=True))
        return routes_or_422(find)
