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


class UsageError(Exception):
    """Malformed input from the command line or stdin (exit 2); the message says what to do."""

    def __init__(self, id: str, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.id, self.message, self.fix = id, message, fix


def environment_from_args(args: argparse.Namespace, record: KeyRecord | None = None) -> Environment:
    """``--base-url`` / ``--env`` if given, else what the record remembers, else live."""
    base_url = getattr(args, "base_url", None)
    if base_url:
        _check_base_url(base_url)
        return Environment.custom(base_url)
    if getattr(args, "env", None):
        return Environment.from_name(args.env)
    if record is not None:
        return lifecycle.environment_for(record.env, record.base_url)
    return Environment.live()


def _check_base_url(url: str) -> None:
    """Refuse URLs that are not http(s), and plain http beyond this machine (signed requests in clear)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("base_url_invalid", f"--base-url {url!r} is not an http(s) URL.",
                         "Give the server's root, e.g. http://127.0.0.1:8080 for the simulator.")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise UsageError("base_url_insecure", f"--base-url {url!r} would send signed requests unencrypted.",
                         "Use https:// (plain http is only accepted for 127.0.0.1 and localhost).")


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
    """Run one command's async body on a fresh event loop."""
    return asyncio.run(coro)


def _install_crash_guard() -> None:
    """Tracebacks without locals or secrets, installed once per process."""
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
        # Refusals that need no secret come before asking for it.
        result = _refuse_early(label, profile)
        if result is None:
            key_type, secret = read_secret(args)
            result = run(_add(label, api_key, key_type, secret, env, purpose, profile))
    except UsageError as exc:
        out.usage_error(label, exc)
        return EXIT_USAGE
    except RegistryError as exc:
        result = failed_check(label, EXIT_CREDENTIALS, lifecycle.registry_unusable(exc))
    out.add_result(result, env.title)
    return result.exit_code


def _refuse_early(label: str, profile: Profile | None) -> KeyCheck | None:
    """A taken label (exit 2) or an unusable keyring (exit 3), before the secret is read."""
    if open_registry().get(label) is not None:
        return failed_check(label, EXIT_USAGE, _label_taken(label))
    health = open_vault(_service(profile)).check_health()
    if health is not None:
        return failed_check(label, EXIT_CREDENTIALS, lifecycle.keyring_unusable(health))
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


def read_secret(args: argparse.Namespace) -> tuple[str, Secret]:
    """The HMAC secret from stdin (hidden prompt on a terminal), or the Ed25519 key file."""
    from wizard.parsing import InputError, clean_hmac_secret, normalize_private_key_pem

    if getattr(args, "private_key_file", None):
        try:
            text = Path(args.private_key_file).read_text(encoding="utf-8")
            return "ed25519", normalize_private_key_pem(text)
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError("private_key_unreadable", f"Cannot read {args.private_key_file}: "
                             f"{exc.strerror or type(exc).__name__}.",
                             "Check the path and that you may read the file.") from None
        except InputError as exc:
            raise UsageError("private_key_invalid", str(exc)) from None
    try:
        return "hmac", clean_hmac_secret(_secret_text())
    except InputError as exc:
        raise UsageError("secret_invalid", str(exc)) from None


def _secret_text() -> str:
    """Read the secret without echo and without it ever touching argv or the environment."""
    stream = sys.stdin
    if stream is None:
        raise UsageError("secret_missing", "No standard input to read the secret from.", _STDIN_FIX)
    if stream.isatty():
        import getpass

        try:
            return getpass.getpass("Secret key (input hidden): ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            raise UsageError("secret_missing", "No secret key was entered.", _STDIN_FIX) from None
    text = stream.read()
    if not text.strip():
        raise UsageError("secret_missing", "No secret key on standard input.", _STDIN_FIX)
    return text


_STDIN_FIX = (
    "Pipe the secret in, e.g. `pass show binance/secret | binance-key-wizard add LABEL --api-key KEY`, "
    "or run the command in a terminal to be prompted. Never put the secret on the command line."
)


async def _add(
    label: str, api_key: str, key_type: str, secret: Secret, env: Environment, purpose: str,
    profile: Profile | None, gateways: lifecycle.GatewayFactory | None = None,
) -> KeyCheck:
    from wizard.exchange.model import KeyMaterial
    from wizard.vault import StoredKey, VaultError

    gateways = gateways or gateway_factory
    service = _service(profile)
    vault, registry = open_vault(service), open_registry()
    async with gateways(env, KeyMaterial(api_key, key_type, secret)) as gateway:  # type: ignore[arg-type]
        check = await lifecycle.validate_key(gateway, label=label, purpose=purpose, env=env, profile=profile)
    if check.exit_code != EXIT_OK:
        return check
    if registry.get(label) is not None:  # another run took the label meanwhile
        return failed_check(label, EXIT_USAGE, _label_taken(label))
    stored = StoredKey(api_key=api_key, key_type=key_type, secret=secret, env=env.name, base_url=env.base_url)
    try:
        await vault.astore(label, stored)
        # The read-back copy's read is judged too, and it is the last word: a key whose
        # withdrawals were switched on since the first read is rolled back (exit 1).
        check = await lifecycle.verify_stored_copy(vault, label, env, gateways, purpose=purpose,  # type: ignore[arg-type]
                                                   profile=profile)
    except VaultError as exc:
        await _forget(vault, label)
        return failed_check(label, EXIT_CREDENTIALS, lifecycle.keyring_unusable(exc.problem))
    if not check.ok:
        await _forget(vault, label)
        return check
    try:
        registry.put(lifecycle.new_record(label, purpose, env, api_key, key_type, service, check, profile))
    except Exception:
        await _forget(vault, label)  # a key the registry doesn't know about would be invisible
        raise
    return check


async def _forget(vault: Vault, label: str) -> None:
    """Roll back a keyring entry that did not prove itself."""
    from wizard.vault import VaultError

    try:
        await vault.adelete(label)
    except VaultError:
        pass


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
    except UsageError as exc:
        out.usage_error(None, exc)
        return EXIT_USAGE
    from wizard.registry import RegistryError

    try:
        checks = run(_check_all(list(args.labels), env_override, profile))
    except RegistryError as exc:
        checks = [failed_check(None, EXIT_CREDENTIALS, lifecycle.registry_unusable(exc))]
    return out.check_results(checks)


def _env_override(args: argparse.Namespace) -> Environment | None:
    if getattr(args, "base_url", None) or getattr(args, "env", None):
        return environment_from_args(args)
    return None


async def _check_all(labels: list[str], env: Environment | None, profile: Profile | None) -> list[KeyCheck]:
    registry = open_registry()
    records = {r.label: r for r in registry.all()}
    wanted = list(dict.fromkeys(labels)) or list(records)
    if not wanted:
        return [failed_check(None, EXIT_CREDENTIALS, _no_keys())]
    results = []
    for label in wanted:
        record = records.get(label)
        if record is None:
            results.append(failed_check(label, EXIT_CREDENTIALS, lifecycle.credentials_missing(label)))
            continue
        vault = open_vault(record.service)
        profile_now = profile or record_profile(record)
        results.append(await lifecycle.check_stored(
            record, vault, registry, gateway_factory, env=env, profile=profile_now))
    return results


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

    try:
        records = open_registry(demo=bool(getattr(args, "demo", False))).all()
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
        vault = open_vault(getattr(record, "service", None))
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
    from wizard.app import EXIT_QUIT, Services, create_app

    services = Services(gateway_factory=gateway_factory, vault=vault, registry=registry)
    # --demo: a fresh simulator, given the old key, so the whole rotation can be rehearsed.
    app = create_app(services, env=start.env, purpose=start.old_record.purpose, profile=profile,
                     rotate_label=args.label, old_key=start.old_key.key_material(), start_sim=demo)
    try:
        app.run()
    finally:
        app.stop_simulator()
    return EXIT_QUIT if app.return_code is None else app.return_code
