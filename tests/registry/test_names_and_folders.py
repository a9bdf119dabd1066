"""A new name spelt like a registered one is refused (did you mean ...?), and a folder given as
``--root`` that is a base model or an adapter is named as such."""

from __future__ import annotations

import json

import pytest

from medadapt.registry import Registry, RegistryError


def _names(cli) -> list[str]:
    return sorted({v["name"] for v in json.loads(cli("list", "--json")[0])})


def test_a_new_name_spelt_like_a_registered_one_is_refused_unless_forced(cli, adapter_dir):
    """A trial: 'add north1 --name Esat' beside 'east' said "added Esat@1", and '--name VA'
    beside 'va' "added VA@1": each a name of its own, silently."""
    cli("add", str(adapter_dir(1)), "--name", "east")
    cli("add", str(adapter_dir(2)), "--name", "va")
    out, err = cli("add", str(adapter_dir(3)), "--name", "Esat", ok=False)
    assert (out, err) == ("", (
        "error: 'Esat' would be a new name, spelt almost like the registered 'east'; did you "
        "mean 'east'? Give --name east to add this as east's next version, or pass "
        "--force to add it under the new name 'Esat'\n"
    ))  # fmt: skip
    _, err = cli("add", str(adapter_dir(3)), "--name", "VA", ok=False)
    assert err.startswith(
        "error: 'VA' would be a new name, spelt like the registered 'va' but for case; did you "
        "mean 'va'? Give --name va to add this as va's next version, or pass --force"
    )
    assert _names(cli) == ["east", "va"]
    out, _ = cli("add", str(adapter_dir(3)), "--name", "Esat", "--force")
    assert out.startswith("added Esat@1 ")
    out, _ = cli("add", str(adapter_dir(4)), "--name", "east")  # the name it meant: fine
    assert out.startswith("added east@2 ")


def test_a_name_spelt_like_an_adapter_of_another_base_is_not_called_its_next_version(
    cli, adapter_dir
):
    """A trial: 'site_b' beside 'siteb', a LoRA adapter of another base, was told "Give
    --name siteb to add this as siteb's next version", which adding would refuse."""
    cli("add", str(adapter_dir(1, base_seed=7)), "--name", "siteb")
    _, err = cli("add", str(adapter_dir(2)), "--name", "site_b", ok=False)
    assert err == (
        "error: 'site_b' would be a new name, spelt almost like the registered 'siteb', whose "
        "versions adapt another base model (so this is not its next version); pass --force to "
        "add it under the new name 'site_b', or choose another name with --name\n"
    )
    out, _ = cli("add", str(adapter_dir(2)), "--name", "site_b", "--force")
    assert out.startswith("added site_b@1 ")


def test_names_of_a_series_or_two_letters_apart_are_not_misspellings(cli, adapter_dir):
    for seed, name in enumerate(("site_a", "site_b", "site2", "site3", "north", "south"), 1):
        out, _ = cli("add", str(adapter_dir(seed)), "--name", name)
        assert out.startswith(f"added {name}@1 ")


def test_an_import_under_a_name_spelt_like_a_registered_one_is_refused(cli, adapter_dir, tmp_path):
    cli("add", str(adapter_dir(1)), "--name", "east")
    cli("export", "east@1", "-o", str(tmp_path / "east.tar"))
    other = ["--bare", "registry", "--root", str(tmp_path / "other")]
    cli(*other, "add", str(adapter_dir(2)), "--name", "East")
    _, err = cli(*other, "import", str(tmp_path / "east.tar"), ok=False)
    assert err.startswith(
        "error: 'east' would be a new name, spelt like the registered 'East' but for case; did "
        "you mean 'East'?"
    )
    out, _ = cli(*other, "import", str(tmp_path / "east.tar"), "--name", "East")
    assert out.startswith("imported East@2 ")


def test_a_base_model_or_an_adapter_as_root_is_named_as_such(cli, adapter_dir, tmp_path):
    """A trial: 'registry --root base_copy list' offered to create a registry there, which
    'add' then refused ("base_copy exists and is not a registry")."""
    from tests.registry.helpers import make_adapter, make_base

    base = make_base(tmp_path / "base_copy")
    on = ["--bare", "registry", "--root"]
    _, err = cli(*on, str(base), "list", ok=False)
    assert err == (
        f"error: {base} is a base model (written by 'medadapt train-base'), not a registry; "
        "check --root (to keep this base in a registry: 'medadapt registry --root REGISTRY "
        f"add-base {base}')\n"
    )
    _, err = cli(*on, str(base), "add", str(adapter_dir(1)), ok=False)
    assert err == (
        f"error: {base} is a base model (written by 'medadapt train-base'), not a registry; "
        "choose a new or empty directory for the registry\n"
    )
    adapter = make_adapter(tmp_path / "run" / "adapter")
    for given in (adapter, adapter.parent):  # the adapter's folder, or the 'adapt' output
        _, err = cli(*on, str(given), "show", "x", ok=False)
        assert err == (
            f"error: {given} is an adapter (written by 'medadapt adapt'), not a registry; "
            "check --root (to register this adapter: 'medadapt registry --root REGISTRY add "
            f"{given}')\n"
        )
    assert sorted(p.name for p in base.iterdir()) == ["model.json", "model.safetensors"]


def test_creating_a_registry_is_offered_only_where_it_can_be_made(tmp_path):
    with pytest.raises(RegistryError) as missing:
        Registry(tmp_path / "new")
    assert str(missing.value).endswith(  # said to Python: the argument (the CLI's: its flag)
        f"check the path, or create one with Registry({str(tmp_path / 'new')!r}, create=True)"
    )
    (tmp_path / "empty").mkdir()
    with pytest.raises(RegistryError, match=r"not a medadapt registry yet; .* create one"):
        Registry(tmp_path / "empty")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("x")
    with pytest.raises(RegistryError) as other:
        Registry(tmp_path / "notes")
    assert str(other.value) == (
        f"{tmp_path / 'notes'} is not a medadapt registry (no registry.sqlite); check the path"
    )


def test_a_first_add_beside_a_registry_of_a_close_name_says_it_made_another(
    cli, adapter_dir, tmp_path
):
    """A trial's ``--root Reg add`` (its registry was ``reg``) made a second, empty registry
    without a word; ``list`` there would then show one adapter, the rest gone."""
    first, _ = cli("add", str(adapter_dir(1)), "--name", "va")  # a first registry: unsaid
    again, _ = cli("add", str(adapter_dir(2)), "--name", "va")
    assert "held no registry" not in first + again
    out, _ = cli("--bare", "registry", "--root", str(tmp_path / "Reg"), "add", str(adapter_dir(1)))
    assert out.splitlines()[0] == (
        f"note: {tmp_path / 'Reg'} held no registry, so a new one was made there; did you mean "
        f"--root {tmp_path / 'reg'}?"
    )
    # a slip of a registry's name is asked about; a name of its own beside one is not (a
    # trial's new registry regva, beside reg, was asked "did you mean --root reg?")
    made = {}
    for name in ("registry_va", "reg1"):
        cli("--bare", "registry", "--root", str(tmp_path / name), "add", str(adapter_dir(1)))
    for name in ("regsitry_va", "reg2", "regva"):
        made[name], _ = cli("--bare", "registry", "--root", str(tmp_path / name), "add",
                            str(adapter_dir(1)))  # fmt: skip
    said = made["regsitry_va"].splitlines()[0]
    assert said.endswith(f"did you mean --root {tmp_path / 'registry_va'}?")
    assert "held no registry" not in made["reg2"] + made["regva"]
