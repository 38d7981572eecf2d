"""What every subcommand opens and how it runs: the collaborators of :mod:`wizard.commands`.

The gateway (python-binance underneath, imported lazily), the registry, the keyring
vault or a ``--store`` URI, the ``--profile`` file and the environment; one event
loop per command that SIGTERM cancels like Ctrl+C; and the crash guard every
command holding a secret installs. Collaborators come from the environment, never
from patches (see :mod:`wizard.commands`). Re-exported from :mod:`wizard.commands`,
where callers keep importing them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wizard import lifecycle
from wizard.cli_input import UsageError
from wizard.exchange.model import Environment

if TYPE_CHECKING:
    from wizard.profiles import Profile
    from wizard.registry import KeyRecord, Registry
    from wizard.stores import SecretStore
    from wizard.vault import Vault


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


def _env_override(args: argparse.Namespace) -> Environment | None:
    if getattr(args, "base_url", None) is not None or getattr(args, "env", None):
        return environment_from_args(args)
    return None
