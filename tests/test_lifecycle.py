"""The shared validate pipeline and the rotation helpers, against the simulator and a keyring."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.leaks import assert_no_leak
from tests.cli_helpers import LABEL, add_key, cli, store, use_keyring  # noqa: F401 - fixtures
from wizard import lifecycle
from wizard.exchange.gateway import Gateway
from wizard.exchange.model import Environment, ExchangeError, ProblemKind
from wizard.policy import Finding, Verdict
from wizard.registry import KeyRecord, Registry, fingerprint
from wizard.vault import StoredKey, Vault


def block(id: str) -> Finding:
    return Finding(id, "block", "m", "f")


@pytest.mark.parametrize(
    ("ids", "code"),
    [
        ((), 0),
        (("withdrawals_enabled",), 1),
        (("trading_missing",), 4),
        (("reading_missing",), 4),
        (("futures_enabled", "trading_missing"), 1),  # a key that may do too much is the news
    ],
)
def test_exit_code_for_a_verdict(ids, code):
    assert lifecycle.exit_code_for(Verdict(tuple(block(i) for i in ids))) == code


def test_warnings_never_fail():
    verdict = Verdict((Finding("ip_unrestricted", "warn", "m", "f"), Finding("rotation_due", "warn", "m", "f")))
    assert lifecycle.exit_code_for(verdict) == 0


async def test_validate_key_costs_two_requests(sim):
    env = Environment.custom(sim.base_url)
    key = sim.keys["read_only"]
    stored = StoredKey(key.api_key, "hmac", _secret(key.secret), env.name, env.base_url)
    sim.clear_log()
    async with Gateway(env, stored.key_material()) as gateway:
        check = await lifecycle.validate_key(gateway, label=LABEL, purpose="read", env=env)
    assert check.ok and check.exit_code == 0 and check.problem is None
    assert check.permissions.reading is True
    assert len(sim.request_log) == 2 and sum(e.weight for e in sim.request_log) == 2
    data = check.as_json()
    assert data["label"] == LABEL and data["permissions"]["confirmed"] is True


async def test_validate_key_reports_rotation_due(sim):
    env = Environment.custom(sim.base_url)
    key = sim.keys["read_only"]
    async with Gateway(env, StoredKey(key.api_key, "hmac", _secret(key.secret), "custom", sim.base_url)
                       .key_material()) as gateway:
        check = await lifecycle.validate_key(
            gateway, label=LABEL, purpose="read", env=env,
            rotation_due_at=datetime.now(timezone.utc) - timedelta(days=1),
        )
    assert check.exit_code == 0
    assert check.verdict.by_id("rotation_due").severity == "warn"


async def test_unreachable_exchange_is_never_ok():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = Environment.custom(f"http://127.0.0.1:{port}")
    async with Gateway(env, _material()) as gateway:
        check = await lifecycle.validate_key(gateway, label=LABEL, purpose="read", env=env)
    assert not check.ok and check.exit_code == 5
    assert check.permissions is None and check.problem.kind is ProblemKind.UNREACHABLE


# --- rotation ----------------------------------------------------------------------------------


@pytest.fixture
def managed(add_key, store, sim):
    """A read-only key added through the CLI: (vault, registry, env)."""
    assert add_key("read_only").code == 0
    return Vault(store), Registry(), Environment.custom(sim.base_url)


def _new_key(sim, registry_record: KeyRecord):
    """A fresh key created in 'Binance', as the wizard's screens would have verified it."""
    key = sim.create_key(label="replacement", ip_allowlist=["127.0.0.1"])
    stored = StoredKey(key.api_key, "hmac", _secret(key.secret), "custom", sim.base_url)
    record = KeyRecord(label=LABEL, purpose="read", env="custom", base_url=sim.base_url,
                       fingerprint=fingerprint(key.api_key), last_verified_at=datetime.now(timezone.utc))
    return key, stored, record


async def _verify(env, stored) -> lifecycle.KeyCheck:
    async with Gateway(env, stored.key_material()) as gateway:
        return await lifecycle.validate_key(gateway, label=LABEL, purpose="read", env=env)


async def test_rotation_is_done_only_once_the_old_key_is_rejected(managed, sim):
    vault, registry, env = managed
    start = await lifecycle.begin_rotation(vault, registry, LABEL)
    assert start.old_key.api_key == sim.keys["read_only"].api_key and start.env == env
    key, new_stored, new_record = _new_key(sim, start.old_record)
    assert (await _verify(env, new_stored)).ok

    await lifecycle.swap_in_new_key(vault, registry, LABEL, new_stored, new_record, env=env,
                                    gateway_factory=Gateway, old_key=start.old_key)
    assert (await vault.aload(LABEL)).api_key == key.api_key
    assert registry.get(LABEL).fingerprint == fingerprint(key.api_key)

    # The user has not deleted the old key yet: not dead, and the rotation cannot be finished.
    assert await lifecycle.old_key_is_dead(Gateway, env, start.old_key) is None
    with pytest.raises(ValueError):
        lifecycle.finish_rotation(registry, LABEL, old_record=start.old_record, proof=None)

    sim.delete_key(start.old_key.api_key)
    proof = await lifecycle.old_key_is_dead(Gateway, env, start.old_key)
    assert proof is not None and proof.kind is ProblemKind.KEY_INVALID
    record = lifecycle.finish_rotation(registry, LABEL, old_record=start.old_record, proof=proof)
    assert record.rotations[-1]["old_fingerprint"] == start.old_record.fingerprint
    assert record.rotations[-1]["new_fingerprint"] == fingerprint(key.api_key)
    assert record.last_rotated_at > start.old_record.created_at


async def test_old_key_deleted_mid_flow(managed, sim):
    """The user deletes the old key before the new one is in: the swap still works, proof is immediate."""
    vault, registry, env = managed
    start = await lifecycle.begin_rotation(vault, registry, LABEL)
    key, new_stored, new_record = _new_key(sim, start.old_record)
    sim.delete_key(start.old_key.api_key)
    assert (await _verify(env, new_stored)).ok
    await lifecycle.swap_in_new_key(vault, registry, LABEL, new_stored, new_record, env=env,
                                    gateway_factory=Gateway, old_key=start.old_key)
    proof = await lifecycle.old_key_is_dead(Gateway, env, start.old_key)
    assert proof is not None
    lifecycle.finish_rotation(registry, LABEL, old_record=start.old_record, proof=proof)
    assert len(registry.get(LABEL).rotations) == 1


def test_abandoned_rotation_keeps_the_old_key_stored_and_working(managed, sim, cli):
    vault, registry, env = managed
    start = asyncio.run(lifecycle.begin_rotation(vault, registry, LABEL))
    _key, new_stored, _record = _new_key(sim, start.old_record)
    assert asyncio.run(_verify(env, new_stored)).ok
    # ... and the user quits here, before the swap.
    assert vault.load(LABEL).api_key == sim.keys["read_only"].api_key
    assert registry.get(LABEL).rotations == []
    result = cli("check", LABEL, "--json")
    assert result.code == 0, result.out


async def test_a_swap_whose_stored_copy_fails_puts_the_old_key_back(managed, sim):
    vault, registry, env = managed
    start = await lifecycle.begin_rotation(vault, registry, LABEL)
    key, new_stored, new_record = _new_key(sim, start.old_record)
    sim.delete_key(key.api_key)  # the new key vanished between verification and the swap
    with pytest.raises(ExchangeError):
        await lifecycle.swap_in_new_key(vault, registry, LABEL, new_stored, new_record, env=env,
                                        gateway_factory=Gateway, old_key=start.old_key)
    assert (await vault.aload(LABEL)).api_key == start.old_key.api_key
    assert registry.get(LABEL).fingerprint == start.old_record.fingerprint


async def test_an_unreachable_exchange_is_no_proof(managed, sim):
    vault, registry, env = managed
    start = await lifecycle.begin_rotation(vault, registry, LABEL)
    sim.faults.fail_next(50, status=503)
    with pytest.raises(ExchangeError) as exc:
        await lifecycle.old_key_is_dead(Gateway, env, start.old_key)
    assert exc.value.problem.exit_code == 5


async def test_begin_rotation_of_an_unknown_label(isolated_home, store):
    with pytest.raises(lifecycle.LifecycleError) as exc:
        await lifecycle.begin_rotation(Vault(store), Registry(), "no-such-key")
    assert exc.value.exit_code == 3 and exc.value.finding.id == "credentials_missing"


async def test_begin_rotation_with_the_keyring_entry_gone(managed, store):
    vault, registry, _env = managed
    store.entries.clear()
    with pytest.raises(lifecycle.LifecycleError) as exc:
        await lifecycle.begin_rotation(vault, registry, LABEL)
    assert exc.value.finding.id == "credentials_missing"


async def test_begin_rotation_with_an_unusable_keyring(managed):
    from keyring.backends import null

    _vault, registry, _env = managed
    with pytest.raises(lifecycle.LifecycleError) as exc:
        await lifecycle.begin_rotation(Vault(null.Keyring()), registry, LABEL)
    assert exc.value.exit_code == 3 and exc.value.finding.id == "keyring_unusable"


# --- the rotate command ------------------------------------------------------------------------


def test_rotate_unknown_label_exit_3(cli):
    result = cli("rotate", "no-such-key")
    assert result.code == 3 and "no-such-key" in result.err


def test_rotate_needs_a_terminal(managed, cli):
    result = cli("rotate", LABEL)
    assert result.code == 2 and "terminal" in result.err


def test_rotate_with_an_unusable_keyring(managed, cli, use_keyring):
    from keyring.backends import null

    use_keyring(null.Keyring())
    result = cli("rotate", LABEL)
    assert result.code == 3


def _secret(value: str):
    from wizard.secret import Secret

    return Secret(value)


def _material():
    from wizard.exchange.model import KeyMaterial

    return KeyMaterial("A" * 64, "hmac", _secret("B" * 64))


# --- rotate on a real terminal -----------------------------------------------------------------


def run_in_pty(argv: list[str], wait_for: bytes | None, keys: bytes, *, env: dict[str, str] | None = None,
               timeout: float = 30.0) -> tuple[int, bytes]:
    """Run ``argv`` on a pseudo-terminal; once ``wait_for`` (or a first frame) shows, type ``keys``."""
    import os
    import pty
    import select
    import subprocess
    import time

    main_fd, child_fd = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    environ.update(TERM="xterm-256color", COLUMNS="100", LINES="30", **(env or {}))
    proc = subprocess.Popen(argv, stdin=child_fd, stdout=child_fd, stderr=child_fd, env=environ,
                            cwd=Path(__file__).resolve().parent.parent, close_fds=True)
    os.close(child_fd)
    screen, sent, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main_fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(main_fd, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                screen += chunk
            started = wait_for in screen if wait_for else len(screen) > 2000
            if not sent and started:
                time.sleep(0.3)
                os.write(main_fd, keys)
                sent = True
            if proc.poll() is not None and not ready:
                break
        return proc.wait(timeout=5), screen
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main_fd)


def test_add_refuses_an_unusable_keyring_before_asking_for_the_secret(isolated_home, sim):
    import sys

    key = sim.keys["read_only"]
    code, screen = run_in_pty(
        [sys.executable, "-m", "wizard", "add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url],
        None, b"", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}, timeout=20,
    )
    assert code == 3, screen
    assert b"input hidden" not in screen and b"keyring_unusable" in screen
    assert sim.request_log == []


@pytest.mark.secret_service
def test_add_prompts_for_the_secret_without_echo(isolated_home, sim, secret_service_keyring):
    import os
    import sys

    key = sim.keys["read_only"]
    label = f"tracker-prompt-{os.getpid()}"
    try:
        code, screen = run_in_pty(
            [sys.executable, "-m", "wizard", "add", label, "--api-key", key.api_key, "--base-url", sim.base_url],
            b"(input hidden)", key.secret.encode() + b"\r",
        )
        assert b"Secret key (input hidden)" in screen
        assert_no_leak(screen, secret=key.secret)  # typed with echo off
        assert code == 0, screen
        assert Vault(secret_service_keyring).load(label).secret.reveal() == key.secret
    finally:
        Vault(secret_service_keyring).delete(label)


@pytest.mark.secret_service
def test_rotate_opens_the_wizard_and_quitting_keeps_the_old_key(isolated_home, sim, secret_service_keyring):
    import os
    import subprocess
    import sys

    key = sim.keys["read_only"]
    label = f"tracker-rotate-{os.getpid()}"
    added = subprocess.run(
        [sys.executable, "-m", "wizard", "add", label, "--api-key", key.api_key, "--base-url", sim.base_url],
        input=key.secret, capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"},
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert added.returncode == 0, added.stderr
    try:
        code, screen = run_in_pty([sys.executable, "-m", "wizard", "rotate", label], None, b"\x11")
        assert code == 130, screen[-2000:]
        assert_no_leak(screen, secret=key.secret)
        assert Vault(secret_service_keyring).load(label).api_key == key.api_key
        assert Registry().get(label).rotations == []
    finally:
        Vault(secret_service_keyring).delete(label)
