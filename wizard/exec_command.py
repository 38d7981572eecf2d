"""``binance-key-wizard exec LABEL [--as PRESET] -- COMMAND [ARGS...]``: start a bot with its key.

Like ``op run``: the key goes into the environment of COMMAND and nowhere else.
The order is chosen so that nothing is read that need not be:

1. the label and the command are checked (no secret is touched for a typo);
2. the key is loaded once from its store (:func:`_load_key`);
3. that very copy is re-checked exactly as ``check`` does
   (:func:`wizard.lifecycle.check_stored`: a time sync and ``apiRestrictions``,
   weight 2) and the bot is refused on a policy violation (1), a rejected key
   (4), or an exchange that can't answer (5, unless ``--allow-unverified``);
4. the process replaces itself with COMMAND (``os.execve``: same PID, so
   signals and the exit code are the bot's own).

Everything the wizard says goes to stderr: the bot's stdout stays its own.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from wizard.exchange.model import Environment
from wizard.lifecycle import (
    EXIT_CREDENTIALS, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, KeyCheck, LifecycleError, credentials_missing,
    failed_check, keyring_unusable,
)

if TYPE_CHECKING:
    from wizard.registry import KeyRecord
    from wizard.stored_key import StoredKey

# Like env(1), nohup(1) and timeout(1): the codes a shell uses, so a caller can tell
# "the wizard could not start the bot" from the bot's own exit codes.
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127


class CommandError(Exception):
    """COMMAND can't be started: not found (127) or not executable (126)."""

    def __init__(self, exit_code: int, message: str, fix: str) -> None:
        super().__init__(message)
        self.exit_code, self.message, self.fix = exit_code, message, fix


def resolve_program(name: str, path: str | None) -> str:
    """The file ``execve`` will run for ``name``, searched on ``path`` as a shell would.

    Raises :class:`CommandError`: 127 when there is no such file, 126 when
    there is one but it is not an executable file.
    """
    if not name:
        raise CommandError(EXIT_NOT_FOUND, "The command to run is empty.", _COMMAND_FIX)
    if os.name == "nt":  # PATHEXT and drive letters: shutil.which knows them
        import shutil

        found = shutil.which(name, path=path)
        if found is None:
            raise CommandError(EXIT_NOT_FOUND, f"Command {name!r} not found.", _COMMAND_FIX)
        return found
    if "/" in name:
        candidates = [name]
    else:
        candidates = [os.path.join(d or ".", name) for d in (path if path is not None else os.defpath).split(os.pathsep)]
    not_executable = None
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
        # Like a shell: a directory on PATH is skipped, a named one (or any file) can't be run.
        if not_executable is None and (os.path.isfile(candidate) or (candidate == name and os.path.exists(name))):
            not_executable = candidate
    if not_executable is not None:
        raise CommandError(EXIT_NOT_EXECUTABLE, f"{not_executable!r} is not an executable file.",
                           f"Make it executable (`chmod +x {not_executable}`) or name the right program.")
    where = "" if "/" in name else " on PATH"
    raise CommandError(EXIT_NOT_FOUND, f"Command {name!r} not found{where}.", _COMMAND_FIX)


_COMMAND_FIX = ("Check the spelling, or give the program's full path "
                "(e.g. `binance-key-wizard exec LABEL -- /opt/bot/.venv/bin/freqtrade trade`).")


# --- where the key comes from ----------------------------------------------------------------


def _load_key(label: str, store_uri: str | None) -> tuple[StoredKey, KeyRecord | None]:
    """The stored key of ``label`` and this machine's record of it (None when it has none).

    The one place ``exec`` reads a secret. The store is :func:`wizard.stores.resolve`'s
    answer: ``store_uri`` when given (any store URI), else ``$CREDENTIALS_DIRECTORY/LABEL``
    under a systemd unit, else where the record says the key lives, else the OS keyring.
    The record is returned only when it describes the key in that store.
    Raises :class:`LifecycleError` (exit 3), :class:`Unfinished` (exit 3: the add of ``label``
    never finished, so its key was never verified) or :class:`~wizard.commands.UsageError` (exit 2).
    """
    from wizard.commands import UsageError, open_registry
    from wizard.registry import RegistryError
    from wizard.stores import StoreError, StoreURIError, resolve
    from wizard.vault import KeyringProblemKind

    registry = open_registry()
    try:
        registry.get(label)  # a damaged registry is exit 3 here, as it always was
    except RegistryError as exc:
        raise LifecycleError(EXIT_CREDENTIALS, registry_unusable(exc)) from None
    try:
        store, record = resolve(label, store_uri, registry=registry)
    except StoreURIError as exc:
        raise UsageError("store_invalid", str(exc), "Fix the store URI (see `binance-key-wizard --help`).") from None
    if record is not None and record.pending:  # an add still running, or one that died
        from wizard.commands import run
        from wizard.consistency import unfinished_add_check

        raise Unfinished(run(unfinished_add_check(record, store, registry)))
    try:
        return store.load(label), record
    except StoreError as exc:
        missing = exc.problem.kind is KeyringProblemKind.NOT_FOUND
        found = credentials_missing(label) if missing else keyring_unusable(exc.problem)
        raise LifecycleError(EXIT_CREDENTIALS, found) from None


class Unfinished(Exception):
    """The label's add never finished: ``check`` is the verdict (exit 3) that says how to finish it.
    Its key, if one was written, was never verified, so no bot gets it."""

    def __init__(self, check: KeyCheck) -> None:
        super().__init__(check.label)
        self.check = check


class _Loaded:
    """A store that answers with the copy already loaded: the key checked is the key handed over."""

    def __init__(self, stored: StoredKey) -> None:
        self._stored = stored

    async def aload(self, label: str) -> StoredKey:
        return self._stored


# --- the command -----------------------------------------------------------------------------


def run_exec(args: argparse.Namespace) -> int:
    """Check the key, then replace this process with the bot; returns only when refusing."""
    from wizard.commands import UsageError, _install_crash_guard
    from wizard.review import Printer

    _install_crash_guard()
    out = Printer(json_mode=False, stdout=sys.stderr)  # stdout belongs to the bot
    try:
        label, command = _parse(args)
        program = resolve_program(command[0], os.environ.get("PATH"))
        stored, record = _load_key(label, getattr(args, "store", None))
    except UsageError as exc:
        out.error(exc.message, exc.fix)
        return EXIT_USAGE
    except CommandError as exc:
        out.error(exc.message, exc.fix)
        return exc.exit_code
    except LifecycleError as exc:
        return out.check_results([failed_check(label, exc.exit_code, exc.finding)])
    except Unfinished as exc:
        return out.check_results([exc.check])
    check = _verify(label, stored, record)
    if not _may_start(check, args, out):
        return check.exit_code
    from wizard.handoff import bot_environment

    env = bot_environment(args.preset, stored, os.environ)
    _announce(check, command, args.preset, stored.environment())
    return _replace_process(program, command, env, out)


def _parse(args: argparse.Namespace) -> tuple[str, list[str]]:
    from wizard.commands import UsageError

    # Only looked up, never judged: a label stored under older naming rules must still work.
    label = args.label.strip()
    if not label:
        raise UsageError("label_missing", "No label given.", "Give the label the key was stored under.")
    command = list(getattr(args, "bot_command", None) or [])
    if not command:
        raise UsageError("command_missing", "No command to run.",
                         f"Name it after `--`: binance-key-wizard exec {label} -- freqtrade trade")
    return label, command


def _verify(label: str, stored: StoredKey, record: KeyRecord | None) -> KeyCheck:
    """The ``check`` verdict on the loaded copy (weight 2). A registry that can't be written (a
    sandboxed unit) is a warning in the verdict, never a reason not to start.

    A key from a shared store that this machine never added (a fleet server) has no
    record: it is judged by what it may do (withdrawals, transfers and the rest are
    refused whatever it is for), with a warning that its intended purpose is unknown here.
    """
    from wizard import lifecycle
    from wizard.commands import gateway_factory, open_registry, record_profile, run

    if record is None:
        from wizard.stores.shared import check_unrecorded

        return run(check_unrecorded(label, _Loaded(stored), gateway_factory))  # type: ignore[arg-type]
    return run(lifecycle.check_stored(record, _Loaded(stored), open_registry(), gateway_factory,  # type: ignore[arg-type]
                                      profile=record_profile(record)))


def _may_start(check: KeyCheck, args: argparse.Namespace, out: Any) -> bool:
    """True when the bot may start; otherwise says why (on stderr) and the caller exits."""
    if check.exit_code == EXIT_OK:
        return True
    out.check_results([check])
    if check.exit_code == EXIT_UNREACHABLE and args.allow_unverified:
        print("warning: starting UNVERIFIED (--allow-unverified): the exchange could not be reached, so "
              "this key's permissions were not checked in this run.", file=sys.stderr)
        return True
    if check.exit_code == EXIT_UNREACHABLE:
        out.error(f"Not starting the bot: {check.label!r} could not be verified.",
                  "Fix the connection and retry, or add --allow-unverified to start it anyway.")
    else:
        out.error(f"Not starting the bot with {check.label!r} (exit {check.exit_code}).",
                  "Fix what is listed above; the bot starts once `binance-key-wizard check` passes.")
    return False


def _announce(check: KeyCheck, command: list[str], preset: str, env: Environment) -> None:
    from wizard.handoff import PRESETS
    from wizard.review import describe

    if check.ok:
        print(f"binance-key-wizard: {check.label!r} verified on {env.title} ({describe(check)}).",
              file=sys.stderr)
        for f in check.findings:
            if f.severity != "info":
                print(f"    {f.severity:<5}  {f.id}: {f.message}", file=sys.stderr)
    names = ", ".join(PRESETS[preset])
    print(f"binance-key-wizard: starting {command[0]!r} with {names}.", file=sys.stderr)


def _replace_process(program: str, command: list[str], env: dict[str, str], out: Any) -> int:
    """``execve``: only returns (126/127) if the program vanished or can't be run after all."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()  # buffers are lost on execve
        except (OSError, ValueError):
            pass
    try:
        if os.name == "nt":  # Windows has no exec that keeps the process: wait and pass the code on
            import subprocess

            return subprocess.run([program, *command[1:]], env=env).returncode
        os.execve(program, command, env)
    except OSError as exc:
        env.clear()
        code = EXIT_NOT_FOUND if isinstance(exc, FileNotFoundError) else EXIT_NOT_EXECUTABLE
        out.error(f"Could not start {command[0]!r}: {exc.strerror or type(exc).__name__}.", _COMMAND_FIX)
        return code
    return EXIT_OK  # pragma: no cover - execve does not return on success
