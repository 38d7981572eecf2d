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
    from wizard.stores import SecretStore as Vault  # any store; the name stays for the callers
    from wizard.vault import KeyringProblem, StoredKey

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
    """The store cannot hold secrets (null/plaintext keyring, locked, sealed, unreachable, no token).

    When the store can't work on this machine at all, the fix also lists every
    store there is and how to set it up: there is no plaintext fallback.
    """
    from wizard.stores.advice import with_setup_advice

    return finding("keyring_unusable", "block", problem.message, with_setup_advice(problem.fix, problem.kind))


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
    try:
        offset = await gateway.sync_time()
        permissions = await gateway.read_permissions()
    except ExchangeError as exc:
        return problem_check(label, exc.problem)
    return judged(label, permissions, purpose, env=env, profile=profile, now=now,
                  rotation_due_at=rotation_due_at, offset=offset)


def judged(
    label: str, permissions: KeyPermissions, purpose: Purpose, *, env: Environment,
    profile: Profile | None = None, now: datetime | None = None, rotation_due_at: datetime | None = None,
    offset: int | None = None,
) -> KeyCheck:
    """One permission read judged by the policy: every read is, so none can slip past it."""
    from wizard.policy import Verdict, evaluate_permissions

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
    vault: Vault, label: str, env: Environment, gateway_factory: GatewayFactory, *,
    purpose: Purpose, profile: Profile | None = None, now: datetime | None = None,
) -> KeyCheck:
    """Load the keyring's copy back, make one signed read with it, and judge what it read.

    Proves the stored document (key, key type, secret, environment) works, not
    just the copy in memory; and since permissions can change in Binance at any
    moment, this read — the last one before "stored" — is what decides: a key
    that gained withdrawals since it was validated comes back not ok (exit 1).
    """
    stored = await vault.aload(label)
    try:
        async with gateway_factory(env, key_material(stored)) as gateway:
            permissions = await gateway.read_permissions()
    except ExchangeError as exc:
        return problem_check(label, exc.problem)
    return judged(label, permissions, purpose, env=env, profile=profile, now=now)


# --- stored keys -------------------------------------------------------------------------------


def record_changes(perms: KeyPermissions | None) -> dict[str, Any]:
    """The registry fields that come from one permission read (the last read decides them)."""
    if perms is None:
        return {}
    return {"permissions": perms.as_dict(), "ip_restricted": perms.ip_restricted,
            "trading_expires_at": perms.trading_expires_at, "binance_created_at": perms.created_at}


def check_outcome(check: KeyCheck) -> dict[str, Any]:
    """What the registry keeps of a check's outcome, so `review` never calls a failing key verified."""
    return {"last_checked_at": utcnow(), "last_check_failed": not check.ok}


def new_record(
    label: str, purpose: str, env: Environment, api_key: str, key_type: str, service: str,
    check: KeyCheck, profile: Profile | None, store: str | None = None,
) -> KeyRecord:
    """The registry entry for a key that just passed :func:`validate_key` (no secret in it)."""
    from wizard.registry import KeyRecord, fingerprint

    now = utcnow()
    perms = check.permissions
    return KeyRecord(
        label=label, purpose=purpose, env=env.name, base_url=env.base_url, key_type=key_type,
        fingerprint=fingerprint(api_key), service=service, store=store, created_at=now, last_verified_at=now,
        last_checked_at=now, **(record_changes(perms) if perms else {}),
        rotation_days=profile.rotation_days if profile else DEFAULT_ROTATION_DAYS,
        # Only a file `check` can read again; a profile parsed from text has no path.
        profile=profile.source if profile and os.path.isfile(profile.source) else None,
    )


async def check_stored(
    record: KeyRecord, vault: Vault, registry: Registry, gateway_factory: GatewayFactory, *,
    env: Environment | None = None, profile: Profile | None = None,
) -> KeyCheck:
    """Re-validate a stored key with its recorded purpose (``env`` defaults to the recorded one)
    and record what was read (:func:`read_and_judge`, then :func:`registry_changes`)."""
    from wizard.registry import RegistryError

    result = await read_and_judge(record, vault, gateway_factory, env=env, profile=profile)
    changes = registry_changes(result)
    if not changes:
        return result
    try:
        updated = registry.update(record.label, **changes)
        # A best-effort registry (exec's) answers None when it could not write: judge the copy.
        return after_check(result, updated if updated is not None else replace(record, **changes))
    except RegistryError as exc:
        return after_check(result, replace(record, **changes), not_recorded(exc))


async def read_and_judge(
    record: KeyRecord, vault: Vault, gateway_factory: GatewayFactory, *,
    env: Environment | None = None, profile: Profile | None = None,
) -> KeyCheck:
    """Load ``record``'s key from the keyring and validate it; the registry is not touched."""
    stored = await load_stored(vault, record.label)
    if isinstance(stored, KeyCheck):
        return stored
    return await judge_stored(record, stored, gateway_factory, env=env, profile=profile)


async def load_stored(vault: Vault, label: str) -> StoredKey | KeyCheck:
    """The keyring's entry for ``label``, or the exit-3 KeyCheck saying why there is none."""
    from wizard.vault import KeyringProblemKind, VaultError

    try:
        # No write probe: load already refuses null/plaintext backends, and check only reads.
        return await vault.aload(label)
    except VaultError as exc:
        missing = exc.problem.kind is KeyringProblemKind.NOT_FOUND
        return failed_check(label, EXIT_CREDENTIALS,
                            credentials_missing(label) if missing else keyring_unusable(exc.problem))


async def judge_stored(
    record: KeyRecord, stored: StoredKey, gateway_factory: GatewayFactory, *,
    env: Environment | None = None, profile: Profile | None = None,
) -> KeyCheck:
    """Validate a loaded key with its recorded purpose (``env`` defaults to the recorded one)."""
    try:
        env = env or record_environment(record)
    except LifecycleError as exc:
        return failed_check(record.label, exc.exit_code, exc.finding)
    async with gateway_factory(env, key_material(stored)) as gateway:
        return await validate_key(gateway, label=record.label, purpose=record.purpose, env=env,
                                  profile=profile, rotation_due_at=record.rotation_due_at)


def registry_changes(result: KeyCheck) -> dict[str, Any] | None:
    """What the registry keeps of a check: what was read; ``last_verified_at`` only when it passed."""
    perms = result.permissions
    if result.permissions is None and result.problem is None:
        return None  # the store gave no key: nothing was read from the exchange
    changes: dict[str, Any] = record_changes(result.permissions)
    if result.ok:
        changes["last_verified_at"] = utcnow()
    return {**changes, **check_outcome(result)}


def after_check(result: KeyCheck, record: KeyRecord, warning: Any = None) -> KeyCheck:
    """What ``check`` says of a stored key once recorded: act-now wording for a key that became
    dangerous, the earliest date that matters, and ``warning`` (the registry was not updated)."""
    from wizard.stored_check import for_stored_key, with_earliest_date

    result = with_earliest_date(for_stored_key(result, record.label), record)
    return result if warning is None else with_finding(result, warning)


def with_finding(result: KeyCheck, extra: Finding) -> KeyCheck:
    """``result`` with one more finding."""
    from wizard.policy import Verdict

    return replace(result, verdict=Verdict((*result.verdict.findings, extra)))


def not_recorded(exc: Exception) -> Finding:
    """A registry that can't be written (read-only HOME) is a warning: the verdict came from the
    exchange and stands."""
    return finding("registry_not_updated", "warn", f"The result was not recorded: {exc}",
                   "Make the config directory writable so `review` shows when keys were last verified.")


# --- rotation (wizard.rotation; re-exported so callers keep one entry point) ---------------------

from wizard.rotation import (  # noqa: E402 - rotation builds on everything above
    RotationStart as RotationStart,
    begin_rotation as begin_rotation,
    finish_rotation as finish_rotation,
    old_key_is_dead as old_key_is_dead,
    same_key_refused as same_key_refused,
    swap_in_new_key as swap_in_new_key,
)
