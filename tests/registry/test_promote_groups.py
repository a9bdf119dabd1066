"""One promoted adapter per group: ``promote`` refuses a second adapter for a group another
name already serves (a server would answer no request for that group), naming that one."""

from __future__ import annotations

import json

from medadapt.registry import Registry
from tests.registry.helpers import DATA_SUMMARY, metadata


def _for_group(group: str) -> dict:
    return metadata(data_summary={**DATA_SUMMARY, "group_column": "site", "group": group})


def test_promote_refuses_a_second_adapter_for_a_group_another_name_serves(cli, adapter_dir):
    """A trial: 'promote Esat@1' (for group North, which north_lora@1 already served) exited 0
    with no word; every request sent for North then failed with 409."""
    cli("add", str(adapter_dir(1, meta=_for_group("North"))), "--name", "north_lora")
    cli("add", str(adapter_dir(2, meta=_for_group("North"))), "--name", "east")
    cli("add", str(adapter_dir(3, meta=_for_group("South"))), "--name", "south")
    cli("promote", "north_lora@1")
    out, err = cli("promote", "east@1", ok=False)
    assert (out, err) == ("", (
        "error: north_lora@1 already serves group 'North' (column 'site'): with east@1 promoted "
        "too, the server would answer no request sent for that group; stop serving it first "
        f"with 'medadapt registry --root {cli.root} promote north_lora --clear', or pass --force "
        "to serve east@1 in its place\n"
    ))  # fmt: skip
    assert set(Registry(cli.root).promoted_versions()) == {"north_lora"}
    cli("promote", "south@1")  # another group: served beside it
    cli("promote", "north_lora", "--clear")  # the first way on the error gives
    cli("promote", "east@1")
    assert set(Registry(cli.root).promoted_versions()) == {"east", "south"}


def test_promote_force_serves_it_in_the_other_ones_place(cli, adapter_dir):
    cli("add", str(adapter_dir(1, meta=_for_group("North"))), "--name", "north_lora")
    cli("add", str(adapter_dir(2, meta=_for_group("North"))), "--name", "east")
    cli("promote", "north_lora@1")
    out, _ = cli("promote", "east@1", "--force")
    assert out.splitlines()[:2] == [
        "promoted east@1: it is now the version of east to serve",
        "north_lora is no longer served (was north_lora@1): east@1 serves group 'North' in its "
        "place",
    ]
    assert set(Registry(cli.root).promoted_versions()) == {"east"}
    events = json.loads(cli("log", "--json")[0])
    assert [(e["action"], e["name"], e["detail"]) for e in events[:2]] == [
        ("promote", "east", {"previous": None}),
        ("demote", "north_lora", {"replaced_by": "east@1"}),
    ]


def test_adapters_for_no_group_or_another_kind_of_base_do_not_compete(
    cli, adapter_dir, monkeypatch
):
    """An adapter that records no group is served by name only; a table's and an image's
    adapter for one group are routed by the kind of request, so both may be served."""
    from medadapt.registry import groups

    no_group = {k: v for k, v in DATA_SUMMARY.items() if k not in ("group", "group_column")}
    cli("add", str(adapter_dir(1, meta=metadata(data_summary=no_group))), "--name", "one")
    cli("add", str(adapter_dir(2, meta=metadata(data_summary=no_group))), "--name", "two")
    cli("promote", "one@1")
    cli("promote", "two@1")
    cli("add", str(adapter_dir(3, meta=_for_group("North"))), "--name", "table")
    cli("add", str(adapter_dir(4, base_seed=1, meta=_for_group("North"))), "--name", "scan")
    registry = Registry(cli.root)
    kinds = {v.base_fingerprint["weights"]: kind for v, kind in
             ((registry.get("table@1"), "tabular"), (registry.get("scan@1"), "image"))}  # fmt: skip
    monkeypatch.setattr(groups, "base_kind", lambda root, weights: kinds.get(weights))
    cli("promote", "table@1")
    cli("promote", "scan@1")
    assert set(registry.promoted_versions()) == {"one", "two", "table", "scan"}


def test_the_python_api_refuses_as_the_command_line_does(registry, adapter_dir):
    """``Registry.promote`` refuses a second adapter for a group by default, as ``registry
    promote`` does; ``on_group_clash="allow"`` allows the clash (a server test makes a group
    ambiguous on purpose)."""
    import pytest

    from medadapt.registry import RegistryError

    registry.add(adapter_dir(1), name="a")
    registry.add(adapter_dir(2), name="b")
    registry.promote("a@1")
    with pytest.raises(RegistryError, match=r"^a@1 already serves group 'VA Long Beach'"):
        registry.promote("b@1")
    assert registry.group_rivals("b@1") == [registry.get("a@1")]
    promotion = registry.promote("b@1", on_group_clash="allow")
    assert (promotion.version.ref, promotion.previous, promotion.demoted) == ("b@1", None, ())
    assert set(registry.promoted_versions()) == {"a", "b"}
    with pytest.raises(ValueError, match="on_group_clash must be one of refuse, replace, allow"):
        registry.promote("b@1", on_group_clash="force")  # type: ignore[arg-type]


def test_promote_returns_what_it_stopped_serving_in_its_own_transaction(registry, adapter_dir):
    """'promote --force' listed as "no longer served" the rivals it looked up before the
    promotion's transaction (another process may have changed them meanwhile); two booleans
    (``one_per_group``, ``force``) said three ways, ``force`` alone meaning nothing."""
    registry.add(adapter_dir(1), name="a")
    registry.add(adapter_dir(2), name="b")
    registry.add(adapter_dir(3), name="b")
    registry.promote("a@1")
    registry.promote("b@1", on_group_clash="replace")
    assert set(registry.promoted_versions()) == {"b"}
    promotion = registry.promote("b@2", on_group_clash="replace")
    assert [v.ref for v in (promotion.version, promotion.previous)] == ["b@2", "b@1"]
    assert promotion.demoted == ()  # b@1 was its own name's: replaced, not a rival
    registry.promote("a@1", on_group_clash="allow")
    promotion = registry.promote("b@2", on_group_clash="replace")  # b@2 already served
    assert ([v.ref for v in promotion.demoted], promotion.previous.ref) == (["a@1"], "b@2")
    assert set(registry.promoted_versions()) == {"b"}
