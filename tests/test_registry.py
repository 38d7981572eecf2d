"""Registry: atomic, locked, corruption-safe, and never a place for a secret."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import SENTINEL_SECRET
from tests.leaks import assert_no_leak
from wizard.registry import KeyRecord, Registry, RegistryError, default_path, fingerprint
from wizard.secret import Secret

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def record(label: str = "tracker", **kw) -> KeyRecord:
    base = dict(purpose="read", env="live", fingerprint=fingerprint(API_KEY), created_at=T0)
    base.update(kw)
    return KeyRecord(label, **base)


@pytest.fixture
def registry(tmp_path) -> Registry:
    return Registry(tmp_path / "cfg" / "keys.json", lock_timeout=2)


def test_fingerprint_never_shows_the_whole_key():
    assert fingerprint(API_KEY) == "vmPU…Eh8A"
    assert fingerprint(f"  {API_KEY}\n") == "vmPU…Eh8A"
    for key in ("abcd", "abcdefgh", "abcdefghijkl"):
        assert fingerprint(key) != key and key not in fingerprint(key)
    with pytest.raises(ValueError):
        fingerprint(" ")


def test_default_path_is_in_the_user_config_dir(isolated_home):
    assert default_path() == Path(isolated_home) / ".config" / "binance-key-wizard" / "keys.json"
    assert default_path("demo-keys.json").name == "demo-keys.json"
    assert Registry().path == default_path()


def test_put_get_all_remove(registry):
    assert registry.get("tracker") is None and registry.all() == []
    registry.put(record("tracker"))
    registry.put(record("bot", purpose="spot"))
    assert [r.label for r in registry.all()] == ["bot", "tracker"]
    assert registry.get("bot").purpose == "spot"
    assert registry.remove("bot") is True and registry.remove("bot") is False
    assert [r.label for r in registry.all()] == ["tracker"]


def test_every_field_round_trips(registry):
    rec = record(
        "bot", purpose="spot", env="sim", base_url="http://127.0.0.1:8123", key_type="ed25519",
        service="binance-key-wizard-demo", last_verified_at=T0 + timedelta(hours=1),
        permissions={"reading": True, "spot_trading": True, "withdrawals": False},
        ip_restricted=True, trading_expires_at=None, rotation_days=30, profile="spot-bot",
        rotations=[{"at": T0.isoformat(), "old_fingerprint": "aaaa…bbbb", "new_fingerprint": "cccc…dddd"}],
    )
    registry.put(rec)
    assert registry.get("bot") == rec
    data = json.loads(registry.path.read_text())
    assert data["version"] == 1 and data["keys"]["bot"]["created_at"] == "2025-03-01T12:00:00+00:00"


def test_naive_times_are_taken_as_utc(registry):
    registry.put(record(created_at=datetime(2025, 1, 1, 8, 0)))
    assert registry.get("tracker").created_at == datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc)


def test_update_and_record_rotation(registry):
    registry.put(record())
    registry.update("tracker", last_verified_at=T0 + timedelta(days=1))
    assert registry.get("tracker").last_verified_at == T0 + timedelta(days=1)
    assert registry.get("tracker").rotation_due_at == T0 + timedelta(days=90)
    at = T0 + timedelta(days=80)
    rotated = registry.record_rotation("tracker", "vmPU…Eh8A", "NEWk…uX9z", at)
    assert rotated.fingerprint == "NEWk…uX9z"
    assert registry.get("tracker").rotations == [
        {"at": at.isoformat(), "old_fingerprint": "vmPU…Eh8A", "new_fingerprint": "NEWk…uX9z"}
    ]
    assert registry.get("tracker").rotation_due_at == at + timedelta(days=90)
    with pytest.raises(RegistryError) as info:
        registry.record_rotation("missing", "a…b", "c…d")
    assert info.value.kind == "unknown_label" and "missing" in str(info.value)


def test_unknown_fields_from_a_newer_version_are_kept(registry):
    registry.path.parent.mkdir(parents=True)
    doc = {"version": 1, "keys": {"tracker": {**record().to_dict(), "future_field": {"x": 1}}}}
    registry.path.write_text(json.dumps(doc))
    registry.update("tracker", purpose="spot")
    assert json.loads(registry.path.read_text())["keys"]["tracker"]["future_field"] == {"x": 1}


def test_file_is_private_and_no_temp_files_remain(registry):
    registry.put(record())
    assert stat.S_IMODE(registry.path.stat().st_mode) == 0o600
    assert sorted(p.name for p in registry.path.parent.iterdir()) == ["keys.json", "keys.json.lock"]


# -- never a secret ----------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"profile": SENTINEL_SECRET},
        {"fingerprint": API_KEY},
        {"permissions": {"note": f"secret={SENTINEL_SECRET}"}},
        {"rotations": [{"old_fingerprint": API_KEY}]},
        {"profile": "-----BEGIN PRIVATE KEY-----"},
        {"permissions": {"secret": Secret(SENTINEL_SECRET)}},
        {"extra": {"api_secret": SENTINEL_SECRET}},
    ],
)
def test_the_registry_refuses_anything_secret_shaped(registry, bad):
    with pytest.raises(RegistryError) as info:
        registry.put(record(**bad))
    assert info.value.kind == "secret"
    assert API_KEY not in str(info.value)
    assert_no_leak(str(info.value))
    assert not registry.path.exists()


def test_a_secret_pasted_as_label_is_refused(registry):
    with pytest.raises(RegistryError):
        registry.put(record(SENTINEL_SECRET))


def test_updates_are_guarded_too(registry):
    registry.put(record())
    with pytest.raises(RegistryError):
        registry.update("tracker", profile=SENTINEL_SECRET)
    assert_no_leak(registry.path.read_text())


# -- atomicity, locking, corruption ------------------------------------------


def test_a_crash_mid_write_leaves_the_old_file(registry, monkeypatch):
    registry.put(record("tracker"))
    before = registry.path.read_bytes()

    def crash(src, dst):
        raise OSError("simulated power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(RegistryError, match="can't write"):  # a sentence, not a raw OSError
        registry.put(record("bot"))
    monkeypatch.undo()
    assert registry.path.read_bytes() == before
    assert [p.name for p in registry.path.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert [r.label for r in registry.all()] == ["tracker"]


def _add_records(path: str, worker: int, count: int) -> None:
    reg = Registry(path, lock_timeout=30)
    for i in range(count):
        reg.put(KeyRecord(f"w{worker}-k{i}", fingerprint="abcd…wxyz"))


def test_overlapping_runs_lose_nothing(registry):
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    procs = [ctx.Process(target=_add_records, args=(str(registry.path), w, 8)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    labels = {r.label for r in registry.all()}
    assert labels == {f"w{w}-k{i}" for w in range(4) for i in range(8)}


def test_a_held_lock_times_out_with_a_clear_message(registry):
    import fcntl

    registry.path.parent.mkdir(parents=True)
    fd = os.open(registry.path.with_name("keys.json.lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        registry.lock_timeout = 0.2
        with pytest.raises(RegistryError) as info:
            registry.put(record())
        assert info.value.kind == "locked" and "another binance-key-wizard" in str(info.value)
    finally:
        os.close(fd)
    registry.put(record())  # free again


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[]", b'{"version": 1, "keys": {"a": 3}}', b'{"version": 1, "keys": {"a": {}}}',
     b'{"version": 1, "keys": {"a": {"label": "a", "created_at": "yesterday"}}}', b"\xff\xfe"],
)
def test_corruption_is_reported_with_a_backup_never_silently_lost(registry, content):
    registry.path.parent.mkdir(parents=True)
    registry.path.write_bytes(content)
    with pytest.raises(RegistryError) as info:
        registry.all()
    err = info.value
    assert err.kind == "corrupt" and str(registry.path) in str(err) and str(err.backup) in str(err)
    assert err.backup.read_bytes() == content and err.backup.name.startswith("keys.json.corrupt-")
    with pytest.raises(RegistryError) as again:
        registry.put(record())  # no write over a damaged file
    assert again.value.backup == err.backup  # the same content is not copied twice
    assert registry.path.read_bytes() == content
    assert len(list(registry.path.parent.glob("keys.json.corrupt-*"))) == 1


def test_a_newer_file_version_is_refused_not_overwritten(registry):
    registry.path.parent.mkdir(parents=True)
    registry.path.write_text('{"version": 7, "keys": {}}')
    with pytest.raises(RegistryError) as info:
        registry.put(record())
    assert info.value.kind == "version" and "upgrade" in str(info.value)
    assert registry.path.read_text() == '{"version": 7, "keys": {}}'
