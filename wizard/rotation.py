"""Rotation without a UI: keep the old key until the new one is verified, then prove the old dead.

The TUI's rotation screens and the tests use these through :mod:`wizard.lifecycle`,
which re-exports them. A rotation never stores the old key as the new one, never
leaves the label without a working key, and is done only once the exchange
rejects the old key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from wizard.exchange.model import Environment, ExchangeError, KeyMaterial, Problem
from wizard.lifecycle import (
    EXIT_CREDENTIALS,
    EXIT_USAGE,
    GatewayFactory,
    LifecycleError,
    credentials_missing,
    finding,
    key_material,
    keyring_unusable,
    record_changes,
    record_environment,
    utcnow,
    verify_stored_copy,
)

if TYPE_CHECKING:
    from wizard.policy import Finding
    from wizard.profiles import Profile
    from wizard.registry import KeyRecord, Registry
    from wizard.session import Purpose
    from wizard.vault import StoredKey, Vault


def same_key_refused(old_api_key: str, new_api_key: str) -> Finding | None:
    """A rotation's new key must be a new key: the old one is deleted next, and with it the bot's key."""
    from wizard.registry import fingerprint

    if old_api_key.strip() != new_api_key.strip():
        return None
    return finding(
        "same_key", "block",
        f"The new key ({fingerprint(new_api_key)}) is the key being rotated, not a new one: deleting "
        "the old key in Binance would then break the bot.",
        "Create a new key in Binance's API Management and enter that one; delete the old key only "
        "once the new one is stored.",
    )


@dataclass(frozen=True)
class RotationStart:
    """The old key, loaded before anything changes: kept in memory to prove it dead later."""

    label: str
    old_record: KeyRecord
    old_key: StoredKey
    env: Environment


async def begin_rotation(
    vault: Vault, registry: Registry, label: str, *, env: Environment | None = None
) -> RotationStart:
    """Load the record and the old key of ``label``; nothing is changed.

    Raises :class:`LifecycleError` (exit 3) when the label is unknown or the
    keyring is unusable.
    """
    from wizard.vault import KeyringProblemKind, VaultError

    record = registry.get(label)
    if record is None:
        raise LifecycleError(EXIT_CREDENTIALS, credentials_missing(label))
    health = await vault.acheck_health()
    if health is not None:
        raise LifecycleError(EXIT_CREDENTIALS, keyring_unusable(health))
    try:
        old_key = await vault.aload(label)
    except VaultError as exc:
        if exc.problem.kind is KeyringProblemKind.NOT_FOUND:
            raise LifecycleError(EXIT_CREDENTIALS, credentials_missing(label)) from None
        raise LifecycleError(EXIT_CREDENTIALS, keyring_unusable(exc.problem)) from None
    return RotationStart(label, record, old_key, env or record_environment(record))


async def swap_in_new_key(
    vault: Vault,
    registry: Registry,
    label: str,
    new_key: StoredKey,
    new_record: KeyRecord,
    *,
    env: Environment,
    gateway_factory: GatewayFactory,
    old_key: StoredKey | None = None,
    purpose: Purpose | None = None,
    profile: Profile | None = None,
) -> None:
    """Replace the stored key with the verified new one, then record it.

    The new key must differ from the old (:class:`LifecycleError`, exit 2,
    before anything changes). ``Vault.replace`` verifies the new entry before
    the old goes; the read-back copy then makes one signed read, judged by the
    policy for ``purpose`` (default: the new record's). If the read fails or
    the key no longer passes (withdrawals switched on meanwhile), the old key
    is put back and :class:`ExchangeError` or :class:`LifecycleError` is
    raised, so a failed swap never leaves the label without a working key.
    """
    current = old_key or await vault.aload(label)
    same = same_key_refused(current.api_key, new_key.api_key)
    if same is not None:
        raise LifecycleError(EXIT_USAGE, same)
    previous = await vault.areplace(label, new_key)
    check = await verify_stored_copy(vault, label, env, gateway_factory,
                                     purpose=purpose or new_record.purpose, profile=profile)  # type: ignore[arg-type]
    if not check.ok:
        restore = old_key or previous
        if restore is not None:
            await vault.areplace(label, restore)
        if check.problem is not None:
            raise ExchangeError(check.problem)
        raise LifecycleError(check.exit_code, next(f for f in check.findings if f.severity == "block"))
    new_record = replace(new_record, **record_changes(check.permissions))
    old_record = registry.get(label)
    if old_record is not None and not new_record.rotations:
        # The label's history survives the swap; finish_rotation appends the new entry.
        new_record = replace(new_record, rotations=list(old_record.rotations))
    registry.put(new_record)


async def old_key_is_dead(
    gateway_factory: GatewayFactory, env: Environment, old_key: StoredKey | KeyMaterial
) -> Problem | None:
    """Ask the exchange about the old key: its rejection (the proof it is dead), or None.

    None means the old key still works: the user has not deleted it yet.
    Raises :class:`ExchangeError` when the exchange cannot answer — an
    unreachable exchange is never taken as proof.
    """
    material = old_key if isinstance(old_key, KeyMaterial) else key_material(old_key)
    async with gateway_factory(env, material) as gateway:
        return await gateway.confirm_key_dead()


def finish_rotation(
    registry: Registry, label: str, *, old_record: KeyRecord, proof: Problem | None, now: datetime | None = None
) -> KeyRecord:
    """Record the rotation as done; only with ``proof`` from :func:`old_key_is_dead` in hand.

    ``old_record`` is the record as it was before :func:`swap_in_new_key`
    (``RotationStart.old_record``); the registry's current record holds the new
    key's fingerprint.
    """
    if proof is None:
        raise ValueError("a rotation is done only when the exchange rejects the old key")
    current = registry.get(label)
    if current is None:
        raise LifecycleError(EXIT_CREDENTIALS, credentials_missing(label))
    return registry.record_rotation(label, old_record.fingerprint, current.fingerprint, at=now or utcnow())
