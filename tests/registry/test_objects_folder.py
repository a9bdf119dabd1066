"""The registry's folders hold only what it writes: ``export`` refuses to write inside
``--root``, and ``verify`` counts as unreferenced exactly what ``gc`` removes."""

from __future__ import annotations

from medadapt.registry import Registry


def test_export_refuses_to_write_inside_the_registry(cli, adapter_dir):
    """A trial: 'export ... -o reg/objects/x.tar' wrote into the registry's store."""
    cli("add", str(adapter_dir(1)), "--name", "east")
    before = sorted(p.name for p in (cli.root / "objects").iterdir())
    for given in (cli.root / "objects" / "x.tar", cli.root / "outbox" / "x.tar"):
        out, err = cli("export", "east@1", "-o", str(given), ok=False)
        assert (out, err) == ("", (
            f"error: -o {given} is inside the registry {cli.root}, whose folders hold only what "
            "the registry writes; give -o a file or directory outside --root (e.g. -o outbox/)\n"
        ))  # fmt: skip
    _, err = cli("export", "east@1", "-o", f"{cli.root}/", ok=False)  # its default name there
    assert err.startswith(f"error: -o {cli.root / 'east-v1.medadapt.tar.gz'} is inside the ")
    assert sorted(p.name for p in (cli.root / "objects").iterdir()) == before
    assert not (cli.root / "outbox").exists()


def test_verify_counts_as_unreferenced_only_what_gc_removes(cli, adapter_dir):
    """A trial: a file put in objects/ was "1 unreferenced file ('registry gc' removes them)"
    in verify, and gc (even --min-age 0) removed none, for ever. gc deletes only blobs (files
    named by their SHA-256): a file it cannot tell is its own is named, for its owner to
    move, by both."""
    cli("add", str(adapter_dir(1)), "--name", "east")
    objects = cli.root / "objects"
    (objects / "x.tar").write_bytes(b"an archive someone put here")
    out = _verified(cli)
    said = (
        f"1 file in {objects} the registry did not write (x.tar): gc leaves it; move it out of "
        "the registry"
    )
    assert out == f"ok: 1 version verified\n{said}\n"
    out, _ = cli("gc", "--min-age", "0")
    assert out == (
        f"removed 0 unreferenced files (0 B), 0 leftovers and 0 stale checkouts\n{said}\n"
    )
    assert (objects / "x.tar").is_file()
    orphan, _ = Registry(cli.root).objects.put_bytes(b"left by a killed add")
    out = _verified(cli)
    assert out.splitlines()[1] == (
        "1 unreferenced file and 0 leftovers of interrupted writes (harmless; 'medadapt "
        f"registry --root {cli.root} gc' removes them)"
    )
    out, _ = cli("gc")
    assert out.startswith("removed 1 unreferenced file (20 B), ")
    assert not (objects / orphan).exists()
    (objects / "x.tar").unlink()
    assert _verified(cli) == "ok: 1 version verified\n"  # nothing left to report


def _verified(cli) -> str:
    """``verify``'s output without its note that a version's base model is not registered
    (these tests register none)."""
    out, _ = cli("verify")
    return "".join(line for line in out.splitlines(keepends=True)
                   if not (line.startswith("note: ") and "cannot be served" in line))  # fmt: skip
