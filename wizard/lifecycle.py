"""The key lifecycle without a UI: validate a key, re-check a stored one, rotate.

One implementation of "is this key fit to keep?" shared by the command line
(``add``/``check``) and the wizard's screens: :func:`validate_key` costs a time
sync and one ``apiRestrictions`` read (2 requests, weight 2) and turns what it
reads into a :class:`KeyCheck` — an exit code plus findings with stable ids.

Rotation helpers (used by the TUI's rotation screens) keep the old key stored
until the new one is verified, and call a rotation done only once the exchange
rejects the old key. No Textual here; ``import binance`` only happens inside the
gateway, lazily.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from wizard.exchange.model import Environment, ExchangeError, KeyMaterial, KeyPermissions, Problem
# Where a recorded key works (commands use it from here); stored_key needs no keyring.
from wizard.stored_key import environment_for as environment_for

if TYPE_CHECKING:
    from wizard.exchange.gateway import Gateway
    from wizard.policy import Finding, Verdict
    from wizard.profiles import Profile
    from wizard.registry import KeyRecord, Registry
    from wizard.session import Purpose
    from wizard.vault import KeyringProblem, StoredKey, Vault

GatewayFactory = Callable[[Environment, "KeyMaterial | None"], "Gateway"]

# A clock this far off still works for the wizard (it syncs), but a bot that
# doesn't sync gets -1021 once its clock runs 1 s ahead of Binance's, or
# further behind than its recvWindow (5 s by default).
CLOCK_WARN_MS = 1000
DEFAULT_ROTATION_DAYS = 90

# Block findings that mean "the key cannot do its job" rather than "the key may
# do too much": alone they are a rejection (exit 4); with a violation, exit 1.
MISSING_PERMISSION_IDS = frozenset({"trading_missing", "reading_missing", "required_permission_missing"})

EXIT_OK, EXIT_POLICY, EXIT_USAGE, EXIT_CREDENTIALS, EXIT_REJECTED, EXIT_UNREACHABLE = range(6)


class LifecycleError(Exception):
    """A step that cannot go on; carries the exit code and one finding."""

    def __init__(self, exit_code: int, finding: Finding) -> None:
        super().__init__(finding.message)
        self.exit_code = exit_code
        self.finding = finding


@dataclass(frozen=True)
class KeyCheck:
    """The verdict on one key: what the exchange said and what the policy made of it."""

    label: str | None  # None for a result about no key in particular (e.g. no keys managed)
    ok: bool
    exit_code: int
    permissions: KeyPermissions | None
    verdict: Verdict
    problem: Problem | None = None
    clock_offset_ms: int | None = None

    def as_json(self) -> dict[str, Any]:
        """``{label, ok, exit_code, permissions, findings}`` — the CLI's --json shape."""
        return {
            "label": self.label,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "permissions": self.permissions.as_dict() if self.permissions else None,
            "findings": findings_json(self.verdict.findings),
        }

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The verdict's findings, blocking ones first."""
        return self.verdict.findings


def findings_json(findings: tuple[Finding, ...] | list[Finding]) -> list[dict[str, str]]:
    """Findings as plain dicts with exactly the public keys."""
    return [{"id": f.id, "severity": f.severity, "message": f.message, "fix": f.fix} for f in findings]


def finding(id: str, severity: str, message: str, fix: str) -> Finding:
    """A :class:`wizard.policy.Finding` built here (ids the policy has no rule for)."""
    from wizard.policy import Finding

    return Finding(id=id, severity=severity, message=message, fix=fix)  # type: ignore[arg-type]


def exit_code_for(verdict: Verdict, problem: Problem | None = None) -> int:
    """One key's exit code: 4/5 from an exchange problem; else 1 for a policy violation, which
    outranks 4 for a missing permission (a key that may do too much is the urgent news)."""
    if problem is not None:
        return problem.exit_code
    blocking = {f.id for f in verdict.findings if f.severity == "block"}
    if blocking - MISSING_PERMISSION_IDS:
        return EXIT_POLICY
    return EXIT_REJECTED if blocking else EXIT_OK


def failed_check(label: str | None, exit_code: int, found: Finding) -> KeyCheck:
    """A check that never reached the exchange (no credentials, keyring unusable)."""
    from wizard.policy import Verdict

    return KeyCheck(label, False, exit_code, None, Verdict((found,)))


def problem_check(label: str, problem: Problem, permissions: KeyPermissions | None = None) -> KeyCheck:
    """A check the exchange answered with a failure (or never answered)."""
    from wizard.policy import Verdict, finding_for_problem

    verdict = Verdict((finding_for_problem(problem),))
    return KeyCheck(label, False, exit_code_for(verdict, problem), permissions, verdict, problem)


def credentials_missing(label: str) -> Finding:
    """No keyring entry (or no registry record) for this label."""
    return finding(
        "credentials_missing",
        "block",
        f"No stored key is labelled {label!r}.",
        "Run `binance-key-wizard review` to see the managed labels, or add the key with "
        "`binance-key-wizard add` (or the wizard).",
    )


def keyring_unusable(problem: KeyringProblem) -> Finding:
    """The OS keyring cannot hold secrets (null/plaintext backend, locked, unreachable)."""
    return finding("keyring_unusable", "block", problem.message, problem.fix)


def registry_unusable(exc: Exception) -> Finding:
    """The key registry file cannot be read or written (damaged, locked by another run, I/O)."""
    return finding(
        "registry_unusable",
        "block",
        str(exc),
        "Fix or move the registry file as the message says; keys in the keyring are not affected.",
    )


def record_environment(record: KeyRecord) -> Environment:
    """Where a registry record says its key works; LifecycleError (exit 3) if the
    stored env/base_url is damaged or breaks the URL rule (e.g. an edited plain-http URL)."""
    try:
        return environment_for(record.env, record.base_url)
    except ValueError as exc:
        reason = str(exc)
    raise LifecycleError(EXIT_CREDENTIALS, finding(
        "stored_environment_invalid", "block",
        f"The registry record of {record.label!r} names an exchange address the wizard won't use: {reason}",
        f"Pass --base-url (or --env) to say where the key works, or set it up again with "
        f"`binance-key-wizard rotate {record.label}`.",
    ))


def clock_skew_warning(offset_ms: int) -> Finding:
    """The local clock is off: fine for the wizard (it syncs), a trap for a bot that doesn't."""
    return finding(
        "clock_skew",
        "warn",
        f"This computer's clock is {abs(offset_ms) / 1000:.1f} s "
        f"{'behind' if offset_ms > 0 else 'ahead of'} Binance. The wizard compensated, but a bot "
        "that does not sync its time will get 'Timestamp for this request is outside of the recvWindow'.",
        "Turn on automatic time sync (NTP): `timedatectl set-ntp true` on Linux, "
        "Settings > Date & Time > Set automatically on Windows and macOS.",
    )


async def validate_key(
    gateway: Gateway,
    *,
    label: str,
    purpose: Purpose,
    env: Environment,
    profile: Profile | None = None,
    now: datetime | None = None,
    rotation_due_at: datetime | None = None,
) -> KeyCheck:
    """Read the key's permissions and judge them for ``purpose``.

    Costs a time sync and one signed ``apiRestrictions`` read (2 requests,
    weight 2) where ``/sapi`` exists. Never raises for exchange failures: they
    come back as ``KeyCheck.problem`` with exit code 4 or 5.
    """
    from wizard.policy import Verdict, evaluate_permissions

    try:
        offset = await gateway.sync_time()
        permissions = await gateway.read_permissions()
    except ExchangeError as exc:
        return problem_check(label, exc.problem)
    verdict = evaluate_permissions(
        permissions, purpose, env=env, profile=profile, now=now, rotation_due_at=rotation_due_at
    )
    if offset is not None and abs(offset) >= CLOCK_WARN_MS and verdict.by_id("clock_skew") is None:
        verdict = Verdict((*verdict.findings, clock_skew_warning(offset)))
    code = exit_code_for(verdict)
    return KeyCheck(label, code == EXIT_OK, code, permissions, verdict, None, offset)


def key_material(stored: StoredKey) -> KeyMaterial:
    """What the gateway signs with, from a keyring entry."""
    return stored.key_material()


def utcnow() -> datetime:
    """Aware UTC now (one place, so tests can pass ``now`` instead)."""
    return datetime.now(timezone.utc)


async def verify_stored_copy(
    vault: Vault, label: str, env: Environment, gateway_factory: GatewayFactory
) -> Problem | None:
    """Load the keyring's copy back and make one signed call with it.

    Proves the stored document (key, key type, secret, environment) works, not
    just the copy in memory. Returns the exchange's problem, or None when fine.
    """
    stored = await vault.aload(label)
    try:
        async with gateway_factory(env, key_material(stored)) as gateway:
            await gateway.read_permissions()
    except ExchangeError as exc:
        return exc.problem
    return None


# --- stored keys -------------------------------------------------------------------------------


def new_record(
    label: str, purpose: str, env: Environment, api_key: str, key_type: str, service: str,
    check: KeyCheck, profile: Profile | None,
) -> KeyRecord:
    """The registry entry for a key that just passed :func:`validate_key` (no secret in it)."""
    from wizard.registry import KeyRecord, fingerprint

    now = utcnow()
    perms = check.permissions
    return KeyRecord(
        label=label, purpose=purpose, env=env.name, base_url=env.base_url, key_type=key_type,
        fingerprint=fingerprint(api_key), service=service, created_at=now, last_verified_at=now,
        permissions=perms.as_dict() if perms else {},
        ip_restricted=perms.ip_restricted if perms else None,
        trading_expires_at=perms.trading_expires_at if perms else None,
        rotation_days=profile.rotation_days if profile else DEFAULT_ROTATION_DAYS,
        # Only a file `check` can read again; a profile parsed from text has no path.
        profile=profile.source if profile and os.path.isfile(profile.source) else None,
    )


async def check_stored(
    record: KeyRecord, vault: Vault, registry: Registry, gateway_factory: GatewayFactory, *,
    env: Environment | None = None, profile: Profile | None = None,
) -> KeyCheck:
    """Re-validate a stored key with its recorded purpose (``env`` defaults to the recorded one).

    Exit 3 when the keyring is unusable or holds no entry for the label. The
    registry keeps what was read; ``last_verified_at`` moves only when the key passed.
    """
    from wizard.vault import KeyringProblemKind, VaultError

    label = record.label
    try:
        # No write probe: load already refuses null/plaintext backends, and check only reads.
        stored = await vault.aload(label)
    except VaultError as exc:
        missing = exc.problem.kind is KeyringProblemKind.NOT_FOUND
        return failed_check(label, EXIT_CREDENTIALS,
                            credentials_missing(label) if missing else keyring_unusable(exc.problem))
    try:
        env = env or record_environment(record)
    except LifecycleError as exc:
        return failed_check(label, exc.exit_code, exc.finding)
    async with gateway_factory(env, key_material(stored)) as gateway:
        result = await validate_key(gateway, label=label, purpose=record.purpose, env=env, profile=profile,
                                    rotation_due_at=record.rotation_due_at)
    perms = result.permissions
    if perms is not None:
        changes: dict[str, Any] = {"permissions": perms.as_dict(), "ip_restricted": perms.ip_restricted,
                                   "trading_expires_at": perms.trading_expires_at}
        if result.ok:
            changes["last_verified_at"] = utcnow()
        registry.update(label, **changes)
    return result


# --- rotation --------------------------------------------------------------------------------


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
) -> None:
    """Replace the stored key with the verified new one, then record it.

    ``Vault.replace`` verifies the new entry before the old goes; the read-back
    copy then makes one signed call. If that call fails and ``old_key`` is
    given, the old key is put back and :class:`ExchangeError` is raised, so a
    failed swap never leaves the label without a working key.
    """
    previous = await vault.areplace(label, new_key)
    problem = await verify_stored_copy(vault, label, env, gateway_factory)
    if problem is not None:
        restore = old_key or previous
        if restore is not None:
            await vault.areplace(label, restore)
        raise ExchangeError(problem)
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
