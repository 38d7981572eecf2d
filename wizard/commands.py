"""The non-interactive subcommands: ``add``, ``check``, ``review``, ``rotate``.

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
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wizard import lifecycle
from wizard.cli_input import UsageError, read_secret
from wizard.exchange.model import Environment
from wizard.review import Printer
from wizard.lifecycle import (
    EXIT_CREDENTIALS,
    EXIT_OK,
    EXIT_USAGE,
    KeyCheck,
    LifecycleError,
    failed_check,
    finding,
)

if TYPE_CHECKING:
    from wizard.profiles import Profile
    from wizard.registry import KeyRecord, Registry
    from wizard.secret import Secret
    from wizard.stores import SecretStore
    from wizard.vault import Vault

# --- collaborators ---------------------------------------------------------------------------


def gateway_factory(env: Environment, key: Any) -> Any:
    """The real gateway (python-binance underneath), imported when first needed."""
    from wizard.exchange.gateway import Gateway

    return Gateway(env, key)


def open_registry(demo: bool = False) -> Registry:
    """The key registry in the platform config dir (``$XDG_CONFIG_HOME`` on Linux); with
    ``demo``, the demo's own (``demo-keys.json``, where ``--demo`` runs record their keys)."""
    from wizard.registry import Registry, default_path

    return Registry(default_path("demo-keys.json")) if demo else Registry()


def open_vault(service: str | None = None) -> Vault:
    """The keyring vault on keyring's configured backend."""
    from wizard.vault import SERVICE, Vault

    return Vault(service=service or SERVICE)


def store_arg(args: argparse.Namespace, profile: Profile | None = None) -> SecretStore | None:
    """``--store URI`` (else the profile's ``[store] uri``) as a store, or None; a bad URI is exit 2."""
    from wizard.stores import StoreURIError, open_store

    uri = getattr(args, "store", None) or getattr(profile, "store_uri", None)
    if not uri:
        return None
    try:
        return open_store(uri)
    except StoreURIError as exc:
        raise UsageError("store_invalid", str(exc), "Fix the store URI (see `binance-key-wizard add --help`).") from None


def environment_from_args(args: argparse.Namespace, record: KeyRecord | None = None) -> Environment:
    """``--base-url`` / ``--env`` if given, else what the record remembers, else live."""
    base_url = getattr(args, "base_url", None)
    if base_url is not None:  # '' is a mistake to report, not a quiet "live"
        return Environment.custom(check_base_url(base_url))
    if getattr(args, "env", None):
        return Environment.from_name(args.env)
    if record is not None:
        return lifecycle.record_environment(record)
    return Environment.live()


def check_base_url(url: str) -> str:
    """``--base-url`` through the one URL rule (:mod:`wizard.urls`); UsageError (exit 2) if it fails."""
    from wizard.urls import UrlError, parse_base_url

    try:
        return parse_base_url(url)
    except UrlError as exc:
        raise UsageError(exc.id, exc.message, exc.fix) from None


def load_profile_arg(path: str | None) -> Profile | None:
    """The ``--profile`` file, or None; a broken file is a usage error naming line and field."""
    if not path:
        return None
    from wizard.profiles import ProfileError, load_profile

    try:
        # Absolute, so `check` finds the file again from any directory.
        return load_profile(Path(path).expanduser().resolve())
    except ProfileError as exc:
        raise UsageError("profile_invalid", str(exc), "Fix the profile file or leave out --profile.") from None


def record_profile(record: KeyRecord) -> Profile | None:
    """The profile recorded at setup, if its file can still be read (else the built-in policy)."""
    ref = getattr(record, "profile", None)
    if not ref or not isinstance(ref, str) or not Path(ref).is_file():
        return None
    try:
        return load_profile_arg(ref)
    except UsageError:
        return None


def run(coro: Any) -> Any:
    """Run one command's async body on a fresh event loop.

    SIGTERM (``timeout``, a CI job cancelled, ``systemctl stop``) is handled like Ctrl+C: the
    body is cancelled, so an ``add`` rolls back, then :class:`wizard.cli.Terminated` (exit 143).
    """
    return asyncio.run(_terminable(coro))


async def _terminable(coro: Any) -> Any:
    import signal

    from wizard.cli import Terminated

    task, terminated = asyncio.current_task(), []
    try:
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGTERM, lambda: (terminated.append(True), task.cancel()))  # type: ignore[union-attr]
    except (NotImplementedError, RuntimeError, ValueError, AttributeError):  # Windows, not the main thread
        pass
    try:
        return await coro
    except asyncio.CancelledError:
        if terminated:
            raise Terminated from None
        raise  # Ctrl+C: asyncio.run turns it into KeyboardInterrupt


def _install_crash_guard() -> None:
    """Tracebacks without locals or secrets, installed once per process; and, since every
    command that calls this holds a secret, no core dumps or same-user ptrace (wizard/hardening.py)."""
    from wizard.hardening import harden_process

    harden_process()
    if getattr(sys.excepthook, "__module__", "") == "wizard.crash":
        return
    from wizard.crash import install_safe_excepthook

    install_safe_excepthook()


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


def _env_override(args: argparse.Namespace) -> Environment | None:
    if getattr(args, "base_url", None) is not None or getattr(args, "env", None):
        return environment_from_args(args)
    return None


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


# --- review ----------------------------------------------------------------------------------


def review(args: argparse.Namespace) -> int:
    """Every managed key and what is due; a Textual screen on a terminal, a table otherwise."""
    from wizard import review as review_mod
    from wizard.registry import RegistryError
    from wizard.stores import StoreError

    try:
        demo = bool(getattr(args, "demo", False))
        store = store_arg(args)
        if store is not None:  # the keys in that store, known here or not
            from wizard.stores.shared import review_records

            from wizard.progress import progress_bar

            # Every key this machine has no record of is read from the store: long for a fleet.
            bar = progress_bar(len(store.labels() or []), what="reading keys", json_mode=args.json)
            try:
                records = review_records(store, open_registry(demo=demo), progress=bar.update if bar else None)
            finally:
                if bar is not None:
                    bar.close()
        else:
            records = open_registry(demo=demo).all()
    except UsageError as exc:
        Printer(json_mode=False).error(exc.message, exc.fix)
        return EXIT_USAGE
    except StoreError as exc:
        Printer(json_mode=False).error(exc.problem.message, lifecycle.keyring_unusable(exc.problem).fix)
        return EXIT_CREDENTIALS
    except RegistryError as exc:
        Printer(json_mode=False).error(str(exc))
        return EXIT_CREDENTIALS
    if args.json:
        review_mod.print_json(records)
        return EXIT_OK
    if sys.stdout.isatty() and sys.stdin.isatty() and records:
        try:
            from wizard.launch import run_review_app

            return int(run_review_app(records) or 0)
        except ImportError:  # a build without the Textual review screen: the table says the same
            pass
    review_mod.print_table(records)
    return EXIT_OK


# --- rotate ----------------------------------------------------------------------------------


def rotate(args: argparse.Namespace) -> int:
    """Launch the wizard pre-filled from the old key; it replaces it and proves the old one dead.

    The label and the keyring are checked first (exit 3), then that this is a
    terminal (exit 2): the old key is never touched here.
    """
    _install_crash_guard()
    out = Printer(json_mode=False)
    from wizard.registry import RegistryError

    demo = bool(getattr(args, "demo", False))
    registry = open_registry(demo=demo)
    try:
        record = registry.get(args.label)
        from wizard.stores import open_store_for

        vault = open_store_for(record) if record is not None else open_vault()
        env = _env_override(args)
        start = run(lifecycle.begin_rotation(vault, registry, args.label, env=env))
        profile = load_profile_arg(getattr(args, "profile", None)) or record_profile(start.old_record)
    except UsageError as exc:
        out.usage_error(args.label, exc)
        return EXIT_USAGE
    except LifecycleError as exc:
        out.error(exc.finding.message, exc.finding.fix)
        return exc.exit_code
    except RegistryError as exc:
        out.error(str(exc))
        return EXIT_CREDENTIALS
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        out.error("rotate needs a terminal: it walks you through creating the new key in Binance.",
                  "Run it in an interactive terminal (not piped or in a script).")
        return EXIT_USAGE
    from wizard.app import Services, create_app

    services = Services(gateway_factory=gateway_factory, vault=vault, registry=registry)
    # --demo: a fresh simulator, given the old key, so the whole rotation can be rehearsed.
    app = create_app(services, env=start.env, purpose=start.old_record.purpose, profile=profile,
                     rotate_label=args.label, old_key=start.old_key.key_material(), start_sim=demo)
    try:
        app.run()
    finally:
        app.stop_simulator()
    from wizard.launch import exit_code_of

    return exit_code_of(app)
