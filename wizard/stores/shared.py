"""``check --store URI`` and ``review --store URI``: every key in a shared store, known here or not.

A fleet shares keys through one Vault/OpenBao prefix (or one systemd-creds
directory): each server's registry knows only the keys it added. These
functions list the store itself, use this machine's record where it has one,
and otherwise build a record from the stored document, saying which facts are
unknown here (:data:`wizard.stores.UNRECORDED_FACTS`). No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable

from typing import TYPE_CHECKING, Any

from wizard import lifecycle
from wizard.lifecycle import EXIT_CREDENTIALS, KeyCheck, failed_check, finding

if TYPE_CHECKING:
    from wizard.exchange.model import Environment
    from wizard.profiles import Profile
    from wizard.registry import KeyRecord, Registry
    from wizard.stores import SecretStore


def records_here(store: SecretStore, registry: Registry) -> dict[str, KeyRecord]:
    """This machine's records of keys in ``store``."""
    from wizard.stores import parse_store_uri

    canonical = str(parse_store_uri(store.uri))
    same = {}
    for record in registry.all():
        try:
            if str(parse_store_uri(record.store_uri)) == canonical:
                same[record.label] = record
        except ValueError:
            continue
    return same


async def store_labels(store: SecretStore, registry: Registry) -> list[str]:
    """Every label in the store; for a store that can't list (the keyring), the recorded ones."""
    listed = await store.alabels()
    if listed is None:
        return sorted(records_here(store, registry))
    return listed


async def check_store(
    store: SecretStore, labels: list[str], registry: Registry, gateway_factory: Any, *,
    env: Environment | None = None, profile: Profile | None = None,
    record_profile: Any = lambda record: None,
) -> list[KeyCheck]:
    """Check ``labels`` (default: every key in ``store``), with the record where this machine has one."""
    from wizard.stores import StoreError

    try:
        wanted = list(dict.fromkeys(labels)) or await store_labels(store, registry)
    except StoreError as exc:
        return [failed_check(None, EXIT_CREDENTIALS, lifecycle.keyring_unusable(exc.problem))]
    if not wanted:
        return [failed_check(None, EXIT_CREDENTIALS, _empty(store))]
    known = records_here(store, registry)
    results = []
    for label in wanted:
        record = known.get(label)
        if record is not None:
            results.append(await lifecycle.check_stored(
                record, store, registry, gateway_factory, env=env, profile=profile or record_profile(record)))
        else:
            results.append(await check_unrecorded(label, store, gateway_factory, env=env, profile=profile))
    return results


async def check_unrecorded(
    label: str, store: SecretStore, gateway_factory: Any, *, env: Environment | None = None,
    profile: Profile | None = None,
) -> KeyCheck:
    """Check a key this machine has no record of: its purpose comes from ``profile``, else from
    what the key may do (spot trading on: judged as a spot key), and a warning says so."""
    from wizard.policy import Verdict, evaluate_permissions
    from wizard.stores import StoreError
    from wizard.vault import KeyringProblemKind

    try:
        stored = await store.aload(label)
    except StoreError as exc:
        missing = exc.problem.kind is KeyringProblemKind.NOT_FOUND
        return failed_check(label, EXIT_CREDENTIALS,
                            lifecycle.credentials_missing(label) if missing else lifecycle.keyring_unusable(exc.problem))
    env = env or stored.environment()
    purpose = profile.purpose if profile else "read"
    async with gateway_factory(env, stored.key_material()) as gateway:
        result = await lifecycle.validate_key(gateway, label=label, purpose=purpose, env=env, profile=profile)
    perms = result.permissions
    if perms is None:
        return result
    verdict = result.verdict
    if profile is None and perms.spot_trading:
        purpose = "spot"
        skew = tuple(f for f in verdict.findings if f.id == "clock_skew")
        verdict = Verdict((*evaluate_permissions(perms, "spot", env=env, profile=None).findings, *skew))
    note = _unrecorded_note(label, purpose, profile is not None)
    verdict = Verdict((*verdict.findings, note))
    code = lifecycle.exit_code_for(verdict)
    return KeyCheck(label, code == lifecycle.EXIT_OK, code, perms, verdict, None, result.clock_offset_ms)


def note_where_stored(check: KeyCheck, store: SecretStore) -> KeyCheck:
    """``add``'s result with an info finding saying where the key went (every store but the
    default keyring, whose result has always looked the same)."""
    from dataclasses import replace

    from wizard.policy import Verdict

    if store.uri.startswith("keyring"):
        return check
    note = finding("stored_in", "info", f"Stored in {store.describe()}.",
                   f"Bots read it with `load_credentials(label, store={store.uri!r})` or "
                   f"`binance-key-wizard check --store {store.uri}`.")
    return replace(check, verdict=Verdict((*check.findings, note)))


def review_records(store: SecretStore, registry: Registry,
                   progress: Callable[[int, int, int], None] | None = None) -> list[KeyRecord]:
    """A record per key in ``store``: this machine's, or one built from the stored document.
    ``progress(done, unreadable, total)`` after each key (each unrecorded one is a store read)."""
    from wizard.registry import KeyRecord
    from wizard.stores import StoreError, UNRECORDED_FACTS, record_from_stored

    known = records_here(store, registry)
    listed = store.labels()
    records = []
    wanted = sorted(known) if listed is None else listed
    unreadable = 0
    for label in wanted:
        if label in known:
            records.append(known[label])
        else:
            try:
                records.append(record_from_stored(label, store.load(label), store.uri))
            except StoreError:
                # Listed but unreadable here (no permission, damaged): still shown, with nothing known.
                unreadable += 1
                records.append(KeyRecord(label=label, purpose="unknown", store=store.uri, rotation_days=None,
                                         extra={"unrecorded": [*UNRECORDED_FACTS, "fingerprint"]}))
        if progress is not None:
            progress(len(records), unreadable, len(wanted))
    return records


def _unrecorded_note(label: str, purpose: str, from_profile: bool) -> Any:
    how = "the profile's purpose" if from_profile else f"what the key may do (judged as a {purpose!r} key)"
    return finding(
        "not_recorded_here", "warn",
        f"This machine has no record of {label!r}: it was checked against {how}; its intended purpose, "
        "creation date and rotation schedule are unknown here.",
        "Check it from the machine that added it, or pass --profile with the bot's profile.",
    )


def _empty(store: SecretStore) -> Any:
    return finding(
        "credentials_missing", "block", f"No keys are stored in {store.describe()}.",
        f"Add one with `binance-key-wizard add LABEL --api-key KEY --store {store.uri}`.",
    )
