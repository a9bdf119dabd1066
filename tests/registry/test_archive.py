"""Export and import: one archive file, every hash checked before anything is registered."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import tarfile
import time

import pytest

from medadapt.adapters import AdapterModel
from medadapt.errors import AdapterFileError
from medadapt.registry import Registry, RegistryError
from tests.registry.helpers import tiny_base


@pytest.fixture
def exported(registry, adapter_dir, tmp_path):
    registry.add(adapter_dir(1), name="heart", notes="Validated by Dr. A on 2025-01 data.")
    registry.add(adapter_dir(2), name="heart")
    return registry.export("heart@2", tmp_path)


@pytest.fixture
def other(tmp_path) -> Registry:
    return Registry(tmp_path / "other-hospital", create=True)


def _members(path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}


def _repack(path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_the_archive_holds_manifest_weights_card_and_checksums(exported, tmp_path):
    assert exported.path == tmp_path / "heart-v2.medadapt.tar.gz"
    members = _members(exported.path)
    assert sorted(members) == [
        "CARD.md",
        "SHA256SUMS",
        "adapter/adapter.json",
        "adapter/adapter.safetensors",
        "medadapt-export.json",
    ]
    sums = members["SHA256SUMS"].decode().splitlines()
    assert len(sums) == 4 and all(len(line.split("  ")[0]) == 64 for line in sums)
    assert members["CARD.md"].decode().startswith("# heart@2\n")


def test_import_round_trip_loads_identical_weights(registry, exported, other):
    result = other.import_(exported.path, expect_sha256=exported.sha256)
    v = result.version
    assert result.new and v.ref == "heart@1"
    src = registry.get("heart@2")
    assert (v.weights_blob, v.manifest_blob, v.config) == (
        src.weights_blob,
        src.manifest_blob,
        src.config,
    )
    assert (v.data_summary, v.metrics) == (src.data_summary, src.metrics)
    assert v.origin == {
        "registry_id": registry.registry_id,
        "name": "heart",
        "version": 2,
        "registered": src.registered,  # no export time: it would change the archive's hash
        "archive_sha256": exported.sha256,
    }
    assert "| imported from | heart@2 of registry" in v.card
    model = AdapterModel(tiny_base())
    model.load_adapter(other.open_adapter("heart@1", base=model.fingerprint), name="heart")
    assert [e.action for e in other.history()] == ["import"]


def test_importing_twice_is_idempotent(exported, other):
    first = other.import_(exported.path)
    again = other.import_(exported.path)
    assert (again.version.ref, again.new) == (first.version.ref, False)
    assert [v.ref for v in other.list()] == ["heart@1"]
    assert other.import_(exported.path, name="heart_site_b").version.ref == "heart_site_b@1"


def test_lineage_survives_export_and_import(registry, exported, other, tmp_path):
    first = registry.export("heart@1", tmp_path / "one.tar.gz")
    second = registry.export("heart@2", tmp_path / "two.tar.gz")
    assert other.import_(first.path).version.notes == "Validated by Dr. A on 2025-01 data."
    assert other.import_(second.path).version.parent == 1
    # without the parent present, no parent is claimed
    third = Registry(tmp_path / "third", create=True)
    assert third.import_(second.path).version.parent is None


def test_an_export_is_the_same_file_after_its_parent_is_removed(
    registry, exported, other, tmp_path
):
    """The archive names its parent by the parent's manifest hash; once the parent was
    removed, the hash was no longer found, so the same version exported again was another
    file (its SHA-256, sent by another channel, no longer matched) and lost its lineage."""
    before = registry.export("heart@2", tmp_path / "before.tar.gz")
    first = registry.export("heart@1", tmp_path / "one.tar.gz")
    registry.remove("heart@1")
    after = registry.export("heart@2", tmp_path / "after.tar.gz")
    assert after.sha256 == before.sha256
    assert after.path.read_bytes() == before.path.read_bytes()
    other.import_(first.path)  # a site that has the parent still sees the lineage
    assert other.import_(after.path).version.parent == 1


def test_an_unexpected_archive_hash_is_refused(exported, other):
    """Both hashes whole: a trial's differed in their last digit, and the two 16-digit
    prefixes it was shown read as the same."""
    wrong = exported.sha256[:-1] + ("0" if exported.sha256[-1] != "0" else "1")
    with pytest.raises(AdapterFileError) as err:
        other.import_(exported.path, expect_sha256=wrong)
    assert str(err.value) == (
        f"{exported.path} has sha256 {exported.sha256}, not the {wrong} you expected: it is "
        "not the file the sender exported; ask for it again"
    )
    assert other.list() == []


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.99])
def test_a_truncated_archive_is_refused(exported, other, fraction):
    data = exported.path.read_bytes()
    exported.path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(AdapterFileError) as err:
        other.import_(exported.path)
    message = str(err.value)
    assert message.startswith(f"{exported.path} is truncated or corrupted (")
    assert message.endswith("; ask the sender to export it again") and "\n" not in message
    assert other.list() == [] and other.objects.digests() == []
    assert list(other.objects.tmp.iterdir()) == []


@pytest.mark.parametrize("where", [0.2, 0.35, 0.5, 0.65, 0.8, 0.95])
def test_a_corrupted_archive_is_refused(exported, other, where):
    data = bytearray(exported.path.read_bytes())
    data[int(len(data) * where)] ^= 0xFF
    exported.path.write_bytes(bytes(data))
    with pytest.raises(AdapterFileError) as err:
        other.import_(exported.path)
    assert str(err.value).startswith(f"{exported.path} is ")
    assert "corrupted" in str(err.value)
    assert other.list() == [] and other.objects.digests() == []


def test_an_edited_member_is_refused(exported, other):
    members = _members(exported.path)
    weights = bytearray(members["adapter/adapter.safetensors"])
    weights[-3] ^= 0xFF
    members["adapter/adapter.safetensors"] = bytes(weights)
    _repack(exported.path, members)
    with pytest.raises(AdapterFileError) as err:
        other.import_(exported.path)
    assert str(err.value) == (
        f"{exported.path} is tampered or corrupted: adapter/adapter.safetensors does not "
        "match its checksum in SHA256SUMS; ask the sender to export it again"
    )
    assert other.list() == [] and other.objects.digests() == []


def test_an_edited_member_with_a_rewritten_checksum_list_is_still_refused(exported, other):
    import hashlib

    members = _members(exported.path)
    weights = bytearray(members["adapter/adapter.safetensors"])
    weights[-3] ^= 0xFF
    members["adapter/adapter.safetensors"] = bytes(weights)
    members["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n"
        for name, data in members.items()
        if name != "SHA256SUMS"
    ).encode()
    _repack(exported.path, members)
    with pytest.raises(AdapterFileError) as err:
        other.import_(exported.path)
    assert str(err.value) == (
        f"{exported.path}:adapter/adapter.safetensors does not match its checksum (tampered or "
        "corrupted); copy the adapter again from its source"
    )
    assert other.list() == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda m: m.update({"../evil.sh": b"rm -rf /"}), "unexpected member '../evil.sh'"),
        (
            lambda m: m.pop("adapter/adapter.json"),
            "is incomplete or corrupted (no adapter/adapter.json)",
        ),
        (lambda m: m.pop("SHA256SUMS"), "is incomplete or corrupted (no SHA256SUMS)"),
        (lambda m: m.update({"adapter/extra.bin": b"x"}), "member not listed in SHA256SUMS"),
    ],
)
def test_a_malformed_archive_is_refused(exported, other, change, problem):
    members = _members(exported.path)
    change(members)
    _repack(exported.path, members)
    with pytest.raises(AdapterFileError) as err:
        other.import_(exported.path)
    assert problem in str(err.value)
    assert other.list() == []


def test_a_file_that_is_not_an_archive_is_refused(tmp_path, other):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(gzip.compress(b"hello"))
    with pytest.raises(AdapterFileError, match="is truncated or corrupted"):
        other.import_(junk)
    with pytest.raises(AdapterFileError) as err:
        other.import_(tmp_path / "missing.tar.gz")
    assert str(err.value) == (
        f"no file {tmp_path / 'missing.tar.gz'}: give the archive written by 'registry export'"
    )


def test_export_is_logged_without_bumping_the_generation(registry, exported, tmp_path):
    generation = registry.generation()
    result = registry.export("heart@1", tmp_path / "x.tar.gz")
    assert registry.generation() == generation
    event = registry.history("heart", limit=1)[0]
    assert (event.action, event.version, event.detail["sha256"]) == ("export", 1, result.sha256)


@pytest.mark.parametrize(
    ("name", "gzipped"),
    [("site.tar", False), ("site.tar.gz", True), ("site.tgz", True), ("SITE.TAR", False)],
)
def test_the_archive_is_compressed_as_its_name_says(registry, adapter_dir, other, tmp_path,
                                                    name, gzipped):  # fmt: skip
    registry.add(adapter_dir(1), name="heart")
    exported = registry.export("heart@1", tmp_path / name)
    head = exported.path.read_bytes()[:512]
    assert head.startswith(b"\x1f\x8b") == gzipped
    assert (head[257:262] == b"ustar") == (not gzipped)  # a plain tar: 'file' says so
    with tarfile.open(exported.path, "r:gz" if gzipped else "r:") as tar:
        assert "adapter/adapter.json" in tar.getnames()
    v = other.import_(exported.path, expect_sha256=exported.sha256).version
    assert v.weights_blob == registry.get("heart@1").weights_blob


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9999])
def test_a_truncated_plain_tar_is_refused(registry, adapter_dir, other, tmp_path, fraction):
    """Cut anywhere before the end of the last member (a plain tar has no checksum of its
    own: the members' sizes and SHA256SUMS catch it; only zero padding can go unnoticed)."""
    registry.add(adapter_dir(1), name="heart")
    path = registry.export("heart@1", tmp_path / "site.tar").path
    with tarfile.open(path, "r:") as tar:
        last = tar.getmembers()[-1]
    data = path.read_bytes()
    path.write_bytes(data[: int((last.offset_data + last.size) * fraction)])
    with pytest.raises(AdapterFileError) as err:
        other.import_(path)
    message = str(err.value)
    assert message.startswith(f"{path} is ") and "\n" not in message
    assert message.endswith("; ask the sender to export it again")
    assert other.list() == []


@pytest.mark.parametrize("name", ["site.zip", "site", "site.gz", "site.tar.bz2"])
def test_a_name_that_does_not_say_tar_is_refused(registry, adapter_dir, tmp_path, name):
    registry.add(adapter_dir(1), name="heart")
    with pytest.raises(RegistryError) as err:
        registry.export("heart@1", tmp_path / name)
    assert str(err.value) == (
        f"-o {tmp_path / name}: end the archive's name in .tar.gz or .tgz (gzip-compressed) or "
        ".tar (uncompressed), or give a directory ending in '/'"
    )
    assert list(tmp_path.glob("site*")) == []


def test_a_text_file_is_not_an_archive(tmp_path, other):
    text = tmp_path / "notes.tar"
    text.write_text("not an archive\n" * 100)
    with pytest.raises(AdapterFileError) as err:
        other.import_(text)
    assert str(err.value) == (
        f"{text} is not an archive written by 'medadapt registry export' (a .tar.gz or .tar "
        "file); check the file name"
    )


def _rewrite_sums(members: dict[str, bytes]) -> None:
    members["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n"
        for name, data in members.items()
        if name != "SHA256SUMS"
    ).encode()


@pytest.mark.parametrize("name", ["a.tar", "a.tar.gz"])
def test_a_version_exported_again_is_the_same_file(registry, exported, other, tmp_path,
                                                   monkeypatch, name):  # fmt: skip
    """A trial: 'export va@2 -o a1.tar' then '-o a2.tar' gave two SHA-256s (an export time
    in medadapt-export.json, the members' times), though export says to send the SHA-256 by
    another channel: a re-sent archive failed the recipient's --sha256 check."""
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = registry.export("heart@2", tmp_path / "first" / name)
    later = time.time() + 3600  # an hour later, whoever runs it
    monkeypatch.setattr(time, "time", lambda: later)
    second = registry.export("heart@2", tmp_path / "second" / name)
    assert (second.sha256, second.path.read_bytes()) == (first.sha256, first.path.read_bytes())
    registered = registry.get("heart@2").registered
    with tarfile.open(second.path) as tar:
        members = tar.getmembers()
        info = json.loads(tar.extractfile("medadapt-export.json").read())
    stamp = int(dt.datetime.fromisoformat(registered).timestamp())
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) for m in members} == {
        (stamp, 0, 0, "", "", 0o644)
    }
    assert [m.name for m in members] == [
        "medadapt-export.json",
        "adapter/adapter.json",
        "adapter/adapter.safetensors",
        "CARD.md",
        "SHA256SUMS",
    ]
    assert "exported" not in info and info["adapter"]["registered"] == registered
    result = other.import_(second.path, expect_sha256=first.sha256)  # the round trip
    assert result.new and result.version.weights_blob == registry.get("heart@2").weights_blob
    assert (
        f"heart@2 of registry `{registry.registry_id[:12]}`, registered there {registered} |"
        in (result.version.card)
    )


def test_an_archive_an_older_medadapt_wrote_still_imports(registry, exported, other, tmp_path):
    """Archives written before exports were reproducible carry an export time and the
    members' own times and owner: they import as before, and the card keeps that time."""
    members = _members(exported.path)
    info = json.loads(members["medadapt-export.json"])
    info = {"format": info.pop("format"), "format_version": info.pop("format_version"),
            "exported": "2026-11-30T08:15:00+00:00", **info}  # fmt: skip
    members["medadapt-export.json"] = json.dumps(info, indent=2).encode()
    _rewrite_sums(members)
    old = tmp_path / "old.tar.gz"
    with tarfile.open(old, "w:gz") as tar:  # as the old writer did: the time of writing
        for name, data in members.items():
            member = tarfile.TarInfo(name)
            member.size, member.mtime, member.uname = len(data), int(time.time()), "sender"
            tar.addfile(member, io.BytesIO(data))
    v = other.import_(old).version
    assert v.origin == {
        "registry_id": registry.registry_id,
        "name": "heart",
        "version": 2,
        "registered": registry.get("heart@2").registered,
        "exported": "2026-11-30T08:15:00+00:00",
        "archive_sha256": hashlib.sha256(old.read_bytes()).hexdigest(),
    }
    assert ", exported 2026-11-30T08:15:00+00:00 |" in v.card
    assert v.weights_blob == registry.get("heart@2").weights_blob
