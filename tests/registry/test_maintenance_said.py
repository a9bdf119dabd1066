"""What ``verify``, ``gc`` and a repeated ``add`` say of a registry's upkeep: the leftovers
``gc`` keeps for being young, the damaged base copy ``add-base`` set aside, a stray file when
verification fails, fixes runnable as printed, and a stored copy repaired by adding again."""

from __future__ import annotations

import os
import re
import shlex
import time

import pytest

from medadapt.registry import Registry
from tests.registry.helpers import make_adapter_on_base, make_base


def _gc(cli) -> str:
    return f"medadapt registry --root {cli.root} gc"


def test_gc_says_which_leftovers_it_kept_for_being_young_and_verify_does_not_promise_them(
    cli, adapter_dir
):
    """A trial: verify said "1 leftover ... 'gc' removes them", then gc said "removed ... 0
    leftovers", keeping (unsaid) one younger than its --min-age of an hour."""
    cli("add", str(adapter_dir(1)), "--name", "east")
    tmp = cli.root / "tmp"
    (tmp / "1-young.part").write_bytes(b"a write that may still be running")
    out = _verified(cli)
    assert out.splitlines()[1:] == [
        "0 unreferenced files and 1 leftover of interrupted writes (harmless; it is younger "
        f"than gc's --min-age of 3600 s, so '{_gc(cli)}' keeps it in case a write is still "
        f"running; once none is, '{_gc(cli)} --min-age 0' removes it now)"
    ]
    old = tmp / "2-old.part"
    old.write_bytes(b"left by a write killed yesterday")
    os.utime(old, (time.time() - 86400,) * 2)
    out = _verified(cli)
    assert out.splitlines()[1:] == [
        f"0 unreferenced files and 2 leftovers of interrupted writes (harmless; '{_gc(cli)}' "
        "removes them but for 1 leftover younger than its --min-age of 3600 s, kept in case a "
        f"write is still running; once none is, '{_gc(cli)} --min-age 0' removes it too)"
    ]
    out, _ = cli("gc")
    assert out == (
        "removed 0 unreferenced files (0 B), 1 leftover and 0 stale checkouts\n"
        "kept 1 leftover younger than --min-age (3600 s) in case a write is still running; "
        f"once none is, '{_gc(cli)} --min-age 0' removes it now\n"
    )
    assert not old.exists()
    out, _ = cli("gc", "--min-age", "0")
    assert out == "removed 0 unreferenced files (0 B), 1 leftover and 0 stale checkouts\n"
    assert _verified(cli) == "ok: 1 version verified\n"


def test_the_damaged_base_copy_add_base_replaced_is_named_as_such_and_gc_removes_it(cli, tmp_path):
    """A trial: after 'add-base' replaced a damaged base copy, verify called the copy it set
    aside in tmp/ "1 leftover of interrupted writes", which gc then kept for an hour."""
    base = make_base(tmp_path / "base")
    cli("add", str(make_adapter_on_base(tmp_path / "adapter", base)), "--name", "east")
    (key,) = (p.name for p in (cli.root / "bases").iterdir())
    damaged = cli.root / "bases" / key / "model.json"
    os.chmod(damaged, 0o644)
    damaged.write_text("{")
    cli("verify", ok=False)
    assert cli("add-base", str(base))[0] == (
        f"already registered: {cli.root / 'bases' / key}; repaired its stored copy (the base "
        "model files were damaged)\n"
    )
    (aside,) = (p.name for p in (cli.root / "tmp").iterdir())
    assert re.fullmatch(f"damaged-base-{key}-[0-9a-f]{{8}}", aside)
    out = _verified(cli)
    assert out == (
        "ok: 1 version and 1 base model verified\n"
        f"1 damaged base copy set aside by add-base in {cli.root / 'tmp'} ({aside}), replaced "
        f"by an intact copy: harmless; '{_gc(cli)}' removes it\n"
    )
    out, _ = cli("gc")  # at any age: nothing reads it again
    assert out == (
        "removed 0 unreferenced files (0 B), 0 leftovers, 1 damaged base copy set aside by "
        "add-base and 0 stale checkouts\n"
    )
    assert list((cli.root / "tmp").iterdir()) == []


def test_verify_names_a_stray_file_also_when_verification_fails(cli, adapter_dir):
    """A trial: with a damaged version, verify named none of the files in objects/ the
    registry did not write, which the README says it names."""
    cli("add", str(adapter_dir(1)), "--name", "east")
    objects = cli.root / "objects"
    (objects / "notes.txt").write_text("mine")
    weights = Registry(cli.root).objects.path(Registry(cli.root).get("east@1").weights_blob)
    os.chmod(weights, 0o644)
    weights.write_bytes(b"damaged")
    out, err = cli("verify", ok=False)
    assert out == (
        f"1 file in {objects} the registry did not write (notes.txt): gc leaves it; move it "
        "out of the registry\n"
    )
    assert err.splitlines()[-1].startswith("error: 1 of 1 version failed verification")


def _suggested(message: str, before: str) -> list[str]:
    """The arguments of the command ``message`` quotes after ``before``, without 'medadapt'."""
    found = re.search(f"{re.escape(before)} ?'(medadapt registry .+?)'(?:[,;) ]|$)", message)
    assert found, message
    return shlex.split(found.group(1))[1:]


def test_a_damaged_version_s_fixes_run_as_printed(cli, adapter_dir):
    """A trial: verify suggested 'medadapt registry rm hu@2', without --root and, for the
    served version, without the --force that rm then asks for; 're-import it from its source'
    named no command, though adding the adapter again repairs it."""
    source = adapter_dir(1)
    cli("add", str(source), "--name", "hu")
    cli("promote", "hu@1")
    reg = Registry(cli.root)
    weights = reg.objects.path(reg.get("hu@1").weights_blob)
    os.chmod(weights, 0o644)
    weights.write_bytes(b"damaged")
    _, err = cli("verify", ok=False)
    root = cli.root
    assert err.splitlines()[0] == (
        f"adapter hu@1: registry file {weights} is truncated or altered (7 bytes, expected "
        f"{reg.get('hu@1').weights_bytes}); repair it by adding it again ('medadapt registry "
        f"--root {root} add ADAPTER_DIR --name hu'), or remove it with 'medadapt registry --root "
        f"{root} rm hu@1 --force' (it is served: --force stops serving hu)"
    )
    add = _suggested(err, "by adding it again (")
    cli("--bare", *[str(source) if a == "ADAPTER_DIR" else a for a in add])
    assert _verified(cli) == "ok: 1 version verified\n"
    weights.unlink()
    _, err = cli("verify", ok=False)
    cli("--bare", *_suggested(err, "remove it with"))
    assert Registry(cli.root).list() == []


def test_the_fix_for_an_imported_version_is_to_import_it_again(cli, adapter_dir, tmp_path):
    cli("add", str(adapter_dir(1)), "--name", "east")
    archive = tmp_path / "east.tar.gz"
    cli("export", "east@1", "-o", str(archive))
    other = Registry(tmp_path / "other", create=True)
    v = other.import_(archive, name="west").version
    os.remove(other.objects.path(v.weights_blob))
    with pytest.raises(Exception) as err:
        other.check_files(v)
    assert str(err.value).endswith(
        f"repair it by importing its archive again ('medadapt registry --root {other.root} "
        f"import ARCHIVE --name west'), or remove it with 'medadapt registry --root "
        f"{other.root} rm west@1'"
    )
    again = ["--bare", "registry", "--root", str(other.root), "import", str(archive)]
    out, _ = cli(*again, "--name", "west")
    assert out.splitlines()[0] == (
        "already imported as west@1: repaired its stored copy (the weights file was missing); "
        "nothing else added"
    )


def test_a_suggested_command_quotes_a_root_a_shell_would_split(tmp_path, adapter_dir):
    root = tmp_path / "my registry"
    reg = Registry(root, create=True)
    reg.add(adapter_dir(1), name="east")
    with pytest.raises(Exception) as err:
        reg.get("west")
    assert str(err.value).endswith(f"see the names with 'medadapt registry --root '{root}' list'")


@pytest.mark.parametrize(
    ("blob", "how", "said"),
    [
        ("weights_blob", "tamper", "the weights file was damaged"),
        ("weights_blob", "delete", "the weights file was missing"),
        ("manifest_blob", "delete", "the manifest was missing"),  # read to compare questions
    ],
)
def test_adding_again_says_it_repaired_the_stored_copy(cli, adapter_dir, blob, how, said):
    """A trial: adding again an adapter whose stored file was missing or tampered with
    repaired it, and said "nothing added"."""
    source = adapter_dir(1)
    cli("add", str(source), "--name", "east")
    reg = Registry(cli.root)
    path = reg.objects.path(getattr(reg.get("east@1"), blob))
    if how == "delete":
        path.unlink()
    else:
        os.chmod(path, 0o644)
        path.write_bytes(path.read_bytes()[:-1] + b"\0")
    cli("verify", ok=False)
    out, _ = cli("add", str(source), "--name", "east")
    assert out.splitlines()[0] == (
        f"east@1 already holds this exact adapter: repaired its stored copy ({said}); nothing "
        "else added"
    )
    assert _verified(cli) == "ok: 1 version verified\n"
    out, _ = cli("add", str(source), "--name", "east")  # intact now: nothing to repair
    assert out.splitlines()[0] == "east@1 already holds this exact adapter; nothing added"


def _verified(cli) -> str:
    """``verify``'s output without its note that a version's base model is not registered
    (these tests register none)."""
    out, _ = cli("verify")
    return "".join(line for line in out.splitlines(keepends=True)
                   if not (line.startswith("note: ") and "cannot be served" in line))  # fmt: skip
