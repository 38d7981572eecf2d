"""Shared fixtures: the simulated exchange, keyrings, a throwaway home, the sentinel."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.keyrings import MemoryKeyring

# A secret no real code path would invent: if it shows up anywhere, it leaked.
SENTINEL_SECRET = "SENTINELx" + "q7Zr" * 13 + "Zzz"  # 64 characters, HMAC-shaped


@pytest.fixture
def sim():
    """A fresh simulated exchange on 127.0.0.1, in its own thread."""
    from wizard.sim import SimExchange

    exchange = SimExchange()
    exchange.start_in_thread(port=0)
    try:
        yield exchange
    finally:
        exchange.stop_in_thread()
        # Rate-limit waits are kept per address; a later simulator may reuse this port.
        from wizard.exchange.transport import forget_cool_downs

        forget_cool_downs()


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    """An in-memory keyring backend (fast tier)."""
    return MemoryKeyring()


@pytest.fixture
def isolated_home(tmp_path, monkeypatch) -> Iterator[os.PathLike]:
    """HOME, XDG dirs and TMPDIR inside tmp_path, so tests can scan every file written."""
    home = tmp_path / "home"
    for sub in ("", ".config", ".local/share", ".cache", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("TMPDIR", str(home / "tmp"))
    yield home


def secret_service_required() -> bool:
    """In CI the real keyring tier must run: a missing Secret Service fails, never skips."""
    return os.environ.get("WIZARD_REQUIRE_SECRET_SERVICE") == "1"


@pytest.fixture
def secret_service_keyring():
    """The real Secret Service backend (gnome-keyring in tests/run.sh's private D-Bus session)."""
    try:
        from keyring.backends import SecretService

        backend = SecretService.Keyring()
        backend.priority  # raises when no Secret Service is reachable
        backend.set_password("binance-key-wizard-selftest", "probe", "ok")
        assert backend.get_password("binance-key-wizard-selftest", "probe") == "ok"
        backend.delete_password("binance-key-wizard-selftest", "probe")
    except Exception as exc:  # noqa: BLE001 - any failure means "no usable Secret Service"
        message = f"no usable Secret Service ({type(exc).__name__}); run tests via tests/run.sh"
        if secret_service_required():
            pytest.fail(message)
        pytest.skip(message)
    return backend
