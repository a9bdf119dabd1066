"""Fixtures: a fresh registry, a factory of distinct tiny adapters, and the registry command
line run in-process."""

from __future__ import annotations

import pytest

from medadapt.cli.main import main
from medadapt.registry import Registry
from tests.registry.helpers import make_adapter


@pytest.fixture
def registry(tmp_path) -> Registry:
    return Registry(tmp_path / "registry", create=True)


@pytest.fixture
def adapter_dir(tmp_path):
    """``adapter_dir(seed, **kw)``: a saved adapter whose weights depend on ``seed``."""
    made = {}

    def make(seed: int = 1, **kwargs):
        key = repr((seed, sorted(kwargs.items())))
        if key not in made:
            made[key] = make_adapter(tmp_path / f"adapter-{len(made)}", seed=seed, **kwargs)
        return made[key]

    return make


@pytest.fixture
def cli(capsys, tmp_path):
    """``cli(*args, ok=True)``: ``medadapt registry --root TMP/reg ARGS`` (``--bare`` first:
    ``medadapt ARGS``), asserting its exit status; returns ``(stdout, stderr)``."""
    root = tmp_path / "reg"

    def run(*args: str, ok: bool = True) -> tuple[str, str]:
        argv = ["registry", "--root", str(root), *args] if args[:1] != ("--bare",) else args[1:]
        try:
            main(list(argv))
            code = 0
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        assert (code == 0) == ok, (code, out, err)
        return out, err

    run.root = root
    return run
