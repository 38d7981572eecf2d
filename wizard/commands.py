"""The non-interactive subcommands: ``add``, ``check``, ``review``, ``rotate``.

``review`` and ``rotate`` live in :mod:`wizard.commands_review`, the collaborators
every command opens in :mod:`wizard.commands_common`; all are importable from here.

Each takes the argparse Namespace from :mod:`wizard.cli` and returns the exit
code documented there. Collaborators come from the environment, never from
patches: the keyring backend is keyring's own choice (``PYTHON_KEYRING_BACKEND``,
keyringrc.cfg, or ``keyring.set_keyring`` in-process) and the registry lives in
the platform config dir (``XDG_CONFIG_HOME`` on Linux).

Secrets arrive on stdin (or from ``--private-key-file``), never in argv, and
never reach stdout or stderr.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from wizard import lifecycle
from wizard.cli_input import UsageError, read_secret
# The collaborators live in wizard/commands_common.py; importable from here as before.
from wizard.commands_common import (  # noqa: F401 - re-exported
    _env_override,
    _install_crash_guard,
    _terminable,
    check_base_url,
    environment_from_args,
    gateway_factory,
    load_profile_arg,
    open_registry,
    open_vault,
    record_profile,
    run,
    store_arg,
)
from wizard.commands_review import review, rotate  # noqa: F401 - re-exported: cli dispatches here
from wizard.exchange.model import Environment
from wizard.review import Printer
from wizard.lifecycle import (
    EXIT_CREDENTIALS,
    EXIT_OK,
    EXIT_USAGE,
    KeyCheck,
    failed_check,
    finding,
)

if TYPE_CHECKING:
    from wizard.profiles import Profile
    from wizard.secret import Secret
    from wizard.stores import SecretStore


# --- add -------------------------------------------------------------------------------------


def add(args: argparse.Namespace) -> int:
    """Validate a key exactly as the wizard does and store it only when the verdict allows."""
    _install_crash_guard()
    out = Printer(json_mode=args.json)
    label = args.label
    from wizard.registry import RegistryError

    try:
        label, api_key, env, profile = _parse_add_args(args)
        purpose = _purpose(args, profile)
        store = store_arg(args, profile)
        # Refusals that need no secret come before asking for it.
        result = _refuse_early(label, profile, store)
        if result is None:
            key_type, secret = read_secret(args)
            result = run(_add(label, api_key, key_type, secret, env, purpose, profile, store=store))
    except UsageError as exc:
        out.usage_error(label, exc)
        return EXIT_USAGE
    except RegistryError as exc:
        result = failed_check(label, EXIT_CREDENTIALS, lifecycle.registry_unusable(exc))
    out.add_result(result, env.title)
    return result.exit_code


def _refuse_early(label: str, profile: Profile | None, store: SecretStore | None = None) -> KeyCheck | None:
    """A taken label (exit 2) or an unusable store (exit 3), before the secret is read."""
    from wizard.adding import is_managed

    if is_managed(open_registry().get(label)):  # a pending record is a dead run's: add takes it over
        return failed_check(label, EXIT_USAGE, _label_taken(label))
    vault = store or open_vault(_service(profile))
    health = vault.check_health()
    if health is not None:
        return failed_check(label, EXIT_CREDENTIALS, lifecycle.keyring_unusable(health))
    if label in (vault.labels() or ()):  # a shared store: another machine uses this label
        return failed_check(label, EXIT_USAGE, _label_taken(label))
    return None


def _service(profile: Profile | None) -> str:
    from wizard.vault import SERVICE

    return getattr(profile, "keyring_service", None) or SERVICE


def _purpose(args: argparse.Namespace, profile: Profile | None) -> str:
    purpose = getattr(args, "purpose", None)
    if profile is not None and purpose and purpose != profile.purpose:
        raise UsageError("purpose_conflict", f"--purpose {purpose} contradicts the profile "
                         f"({profile.product} needs a {profile.purpose!r} key).",
                         "Leave out --purpose: the profile decides.")
    return purpose or (profile.purpose if profile else "read")


def _parse_add_args(args: argparse.Namespace) -> tuple[str, str, Environment, Profile | None]:
    from wizard.parsing import InputError, clean_api_key, validate_label

    try:
        label = validate_label(args.label)
    except InputError as exc:
        raise UsageError("label_invalid", str(exc), "Choose a label that names the tool and machine.") from None
    try:
        api_key = clean_api_key(args.api_key)
    except InputError as exc:
        raise UsageError("api_key_invalid", str(exc), "Pass the API key with --api-key.") from None
    return label, api_key, environment_from_args(args), load_profile_arg(getattr(args, "profile", None))


async def _add(
    label: str, api_key: str, key_type: str, secret: Secret, env: Environment, purpose: str,
    profile: Profile | None, gateways: lifecycle.GatewayFactory | None = None, *,
    store: SecretStore | None = None,
) -> KeyCheck:
    from wizard.exchange.model import KeyMaterial
    from wizard.vault import StoredKey, VaultError

    gateways = gateways or gateway_factory
    vault, registry = store or open_vault(_service(profile)), open_registry()
    service = getattr(vault, "service", _service(profile))  # keyring:SERVICE names the service too
    async with gateways(env, KeyMaterial(api_key, key_type, secret)) as gateway:  # type: ignore[arg-type]
        check = await lifecycle.validate_key(gateway, label=label, purpose=purpose, env=env, profile=profile)
    if check.exit_code != EXIT_OK:
        return check
    stored = StoredKey(api_key=api_key, key_type=key_type, secret=secret, env=env.name, base_url=env.base_url)
    record = lifecycle.new_record(label, purpose, env, api_key, key_type, service, check, profile, store=vault.uri)
    from wizard.adding import LabelBusy, LabelTaken, NewLabel

    try:
        # The label's lock spans "is it free?", the store and the record (wizard/adding.py).
        async with NewLabel(registry, vault, record) as claim:
            await vault.astore(label, stored)
            # The read-back copy's read is judged too, and it is the last word: a key whose
            # withdrawals were switched on since the first read is rolled back (exit 1).
            check = await lifecycle.verify_stored_copy(vault, label, env, gateways, purpose=purpose,  # type: ignore[arg-type]
                                                       profile=profile)
            if check.ok:
                await claim.finish(lifecycle.new_record(label, purpose, env, api_key, key_type, service,
                                                        check, profile, store=vault.uri))
    except LabelTaken:  # another run took the label meanwhile
        return failed_check(label, EXIT_USAGE, _label_taken(label))
    except LabelBusy:
        return failed_check(label, EXIT_USAGE, _label_busy(label))
    except VaultError as exc:
        return failed_check(label, EXIT_CREDENTIALS, lifecycle.keyring_unusable(exc.problem))
    if not check.ok:
        return check
    from wizard.stores.shared import note_where_stored

    return await asyncio.to_thread(note_where_stored, check, vault)


def _label_busy(label: str) -> Any:
    return finding(
        "label_busy", "block", f"Another binance-key-wizard run is adding a key labelled {label!r} right now.",
        "Wait for it to finish, then see `binance-key-wizard review`; or choose another label.",
    )


def _label_taken(label: str) -> Any:
    return finding(
        "label_exists", "block", f"A key labelled {label!r} is already managed.",
        f"Rotate it with `binance-key-wizard rotate {label!r}`, or choose another label.",
    )


# --- check -----------------------------------------------------------------------------------


def check(args: argparse.Namespace) -> int:
    """Re-validate stored keys against the exchange; exit with the worst result."""
    _install_crash_guard()
    out = Printer(json_mode=args.json)
    try:
        env_override = _env_override(args)
        profile = load_profile_arg(getattr(args, "profile", None))
        options = _fleet_options(args)
        store = store_arg(args)
    except UsageError as exc:
        out.usage_error(None, exc)
        return EXIT_USAGE
    from wizard.registry import RegistryError

    try:
        if store is not None:  # every key in that store, including ones this machine never added
            from wizard.stores.shared import check_store

            checks = run(check_store(store, list(args.labels), open_registry(), gateway_factory,
                                     env=env_override, profile=profile, record_profile=record_profile))
        else:
            checks = run(_check_all(list(args.labels), env_override, profile, json_mode=args.json, **options))
    except RegistryError as exc:
        checks = [failed_check(None, EXIT_CREDENTIALS, lifecycle.registry_unusable(exc))]
    worst = out.check_results(checks)
    if getattr(args, "strict", False) and worst == EXIT_OK and urgent_warnings(checks):
        out.error(f"--strict: {', '.join(urgent_warnings(checks))} needs action soon.")
        return EXIT_STRICT
    return worst


# `check --strict` (the daily timer of `systemd-unit --watch`) fails on these warnings too:
# Binance is about to untick trading (within a week), or the rotation date has passed.
URGENT_WARNING_IDS = ("trading_expires_soon", "rotation_due")
EXIT_STRICT = 6


def urgent_warnings(checks: list[KeyCheck]) -> list[str]:
    """``label: finding-id`` for every urgent warning among ``checks``."""
    return [f"{c.label}: {f.id}" for c in checks for f in c.findings
            if f.id in URGENT_WARNING_IDS and f.severity == "warn"]


def _fleet_options(args: argparse.Namespace) -> dict[str, Any]:
    from wizard.fleet import DEFAULT_CONCURRENCY

    concurrency = getattr(args, "concurrency", None) or DEFAULT_CONCURRENCY
    budget = getattr(args, "max_weight", None)
    if not 1 <= concurrency <= 256:
        raise UsageError("concurrency_invalid", f"--concurrency {concurrency} is out of range.",
                         "Give a number from 1 (one key at a time) to 256.")
    if budget is not None and budget < 1:
        raise UsageError("max_weight_invalid", f"--max-weight {budget} is out of range.",
                         "Give the request weight per minute this run may use, at least 1.")
    return {"concurrency": concurrency, "max_weight": budget}


async def _check_all(labels: list[str], env: Environment | None, profile: Profile | None, *,
                     json_mode: bool = True, concurrency: int | None = None,
                     max_weight: int | None = None) -> list[KeyCheck]:
    from wizard.fleet import DEFAULT_CONCURRENCY, FleetRun, check_fleet, profile_cache
    from wizard.progress import progress_bar

    registry = open_registry()
    records = {r.label: r for r in registry.all()}
    wanted = list(dict.fromkeys(labels)) or list(records)
    if not wanted:
        return [failed_check(None, EXIT_CREDENTIALS, _no_keys())]
    fleet_run = FleetRun(open_vault=open_vault, profile_for=profile_cache(profile, record_profile), env_override=env)
    if max_weight is not None:
        fleet_run.set_weight_budget([records[label] for label in wanted if label in records], max_weight)
    bar = progress_bar(len(wanted), what="checking keys", json_mode=json_mode)
    try:
        return await check_fleet(
            wanted, records, registry=registry, gateway_factory=gateway_factory,
            run=fleet_run,
            concurrency=concurrency or DEFAULT_CONCURRENCY, progress=bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()


def _no_keys() -> Any:
    return finding(
        "credentials_missing", "block", "No keys are managed yet.",
        "Run `binance-key-wizard` to set one up, or `binance-key-wizard add LABEL --api-key KEY`.",
    )
