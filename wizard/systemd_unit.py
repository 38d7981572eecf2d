"""``binance-key-wizard systemd-unit LABEL --name UNIT -- COMMAND...``: units for a bot on a server.

Prints (or writes with ``--output-dir``) a hardened ``UNIT.service`` that has
systemd decrypt LABEL's credential (``LoadCredentialEncrypted=``: PID 1
decrypts it before the sandbox exists, into a private ``$CREDENTIALS_DIRECTORY``)
and runs ``binance-key-wizard exec LABEL -- COMMAND...``, so the key is checked
and then handed to the bot's environment only. ``--watch`` adds
``UNIT-keycheck.service`` + ``.timer``: ``check --strict LABEL`` once a day,
``OnFailure=`` a unit the user names, so a key that turned dangerous, that
Binance is about to cut off, or that is due for rotation is noticed within a day.

Nothing here reads a secret; the units name the credential file, never its contents.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from wizard.systemd_syntax import command_line, quote_word, specifier_safe, unit_name

if TYPE_CHECKING:
    from wizard.registry import KeyRecord

STORE_SCHEME = "systemd-creds:"  # as wizard.stores.uri spells it

# Sandboxing that leaves credential loading alone (PID 1 decrypts before these apply)
# and leaves the bot the network, its state directory and /tmp (private).
HARDENING = (
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=read-only",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictSUIDSGID=yes",
    "RestrictRealtime=yes",
    "RestrictNamespaces=yes",
    "LockPersonality=yes",
    "ProtectProc=invisible",
    "SystemCallFilter=@system-service",
    "SystemCallErrorNumber=EPERM",
    "SystemCallArchitectures=native",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "CapabilityBoundingSet=",
    "UMask=0077",
)


@dataclass(frozen=True)
class UnitPlan:
    """Everything the units are made of (no secret: the credential is named, not read)."""

    label: str
    name: str  # the bot's unit, with .service
    user: str
    credential: Path  # DIR/LABEL.cred
    wizard: str  # absolute path of the binance-key-wizard executable
    registry_dir: Path  # the user's registry: exec reads the key's purpose there
    command: tuple[str, ...]
    on_failure: str | None = None

    @property
    def stem(self) -> str:
        """The unit name without ``.service``."""
        return self.name.removesuffix(".service")


class UnitError(Exception):
    """The units can't be made (exit 2 or 3); the message says what to do."""

    def __init__(self, exit_code: int, message: str, fix: str) -> None:
        super().__init__(message)
        self.exit_code, self.message, self.fix = exit_code, message, fix


# --- where things are ----------------------------------------------------------------------


def credentials_dir(record: KeyRecord) -> Path | None:
    """DIR of the label's ``systemd-creds:DIR`` store, or None when it lives elsewhere."""
    from wizard.stores import StoreURIError, parse_store_uri

    try:
        where = parse_store_uri(record.store_uri)
    except StoreURIError:
        return None
    return Path(where.directory) if where.kind == "systemd-creds" else None


def wizard_executable() -> str:
    """The absolute path of the ``binance-key-wizard`` console script running (or installed) here."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "binance-key-wizard" and argv0.is_file():
        return str(argv0.resolve())
    beside = Path(sys.executable).parent / "binance-key-wizard"  # same venv as this interpreter
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("binance-key-wizard")
    if found:
        return str(Path(found).resolve())
    raise UnitError(2, "Can't find the binance-key-wizard executable to put in ExecStart=.",
                    "Install the package (pip install binance-key-wizard) so the command exists.")


def _user_and_registry(user: str | None) -> tuple[str, Path]:
    """The unit's User= and the registry directory exec will read under that user."""
    from wizard.registry import default_path

    me = pwd.getpwuid(os.geteuid()).pw_name
    if user is None or user == me:
        return me, default_path().parent
    try:
        home = Path(pwd.getpwnam(user).pw_dir)
    except KeyError:
        raise UnitError(2, f"There is no user {user!r} on this machine.",
                        "Create the user first, or leave out --user to run the bot as yourself.") from None
    return user, home / ".config" / "binance-key-wizard"


def plan(args: argparse.Namespace) -> UnitPlan:
    """Check the arguments and the label's store; everything the units need."""
    from wizard.commands import open_registry
    from wizard.parsing import InputError, validate_label

    try:
        label = validate_label(args.label)
        name = unit_name(args.name)
        on_failure = unit_name(args.on_failure, specifiers=True) if args.on_failure else None
    except (InputError, ValueError) as exc:
        raise UnitError(2, str(exc), "See `binance-key-wizard systemd-unit --help`.") from None
    command = tuple(getattr(args, "bot_command", None) or ())
    if not command:
        raise UnitError(2, "No bot command.", f"Name it after `--`: binance-key-wizard systemd-unit {label} "
                        f"--name {args.name} -- /opt/bot/.venv/bin/freqtrade trade")
    if on_failure and not args.watch:
        raise UnitError(2, "--on-failure only applies to the daily check.", "Add --watch, or leave out --on-failure.")
    record = open_registry().get(label)
    if record is None:
        raise UnitError(3, f"No managed key is labelled {label!r}.",
                        "Run `binance-key-wizard review` to list the labels.")
    directory = credentials_dir(record)
    if directory is None:
        raise UnitError(2, f"{label!r} is not stored in systemd credentials, so a unit can't load it.",
                        f"Store it there first: `binance-key-wizard add {label} --api-key KEY --store "
                        f"{STORE_SCHEME}/etc/credstore.encrypted` (as root), then run this again.")
    if not command[0].startswith("/"):
        resolved = shutil.which(command[0])
        if resolved is None:
            raise UnitError(2, f"Command {command[0]!r} not found on PATH; systemd needs an absolute path.",
                            "Give the program's full path, e.g. /opt/bot/.venv/bin/freqtrade.")
        command = (str(Path(resolved).resolve()), *command[1:])
    user, registry_dir = _user_and_registry(args.user)
    return UnitPlan(label, name, user, directory / f"{label}.cred", wizard_executable(), registry_dir,
                    command, on_failure)


# --- the units -----------------------------------------------------------------------------


def _common(p: UnitPlan) -> list[str]:
    """Lines every unit of the plan shares: who, where the registry is, the credential."""
    return [
        f"User={p.user}",
        f"Environment={quote_word('XDG_CONFIG_HOME=' + str(p.registry_dir.parent), dollar=False)}",
        # The registry is where exec and check find the key's purpose, and record the verdict.
        f"ReadWritePaths={quote_word('-' + str(p.registry_dir), dollar=False)}",
        f"LoadCredentialEncrypted={p.label}:{specifier_safe(str(p.credential))}",
    ]


def service_unit(p: UnitPlan) -> str:
    """The bot's service: the key checked by ``exec``, then in the bot's environment only."""
    exec_start = command_line([p.wizard, "exec", p.label, "--", *p.command])
    lines = [
        "[Unit]",
        f"Description={specifier_safe(p.stem)}: a bot with the Binance key {specifier_safe(p.label)} "
        "(checked before every start)",
        "Wants=network-online.target",
        "After=network-online.target",
        *([f"OnFailure={p.on_failure}"] if p.on_failure else []),
        "",
        "[Service]",
        "Type=exec",
        *_common(p),
        f"ExecStart={exec_start}",
        # A refused key (exit 1, 4, 5) is re-checked at every restart, so a fixed key or a network
        # that is back starts the bot again; a command that can't run (126, 127) never will.
        "Restart=on-failure",
        "RestartSec=30s",
        "RestartPreventExitStatus=126 127",
        f"StateDirectory={p.stem}",
        f"WorkingDirectory=%S/{p.stem}",
        "# The bot may write only to its state directory and a private /tmp: add ReadWritePaths= lines",
        "# for anything else it must write (e.g. freqtrade's user_data).",
        *HARDENING,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(lines) + "\n"


def check_service_unit(p: UnitPlan) -> str:
    """The daily check: fails (so ``OnFailure=`` fires) on a dangerous, dead or expiring key."""
    lines = [
        "[Unit]",
        f"Description=Daily check of the Binance key {specifier_safe(p.label)} used by {p.name}",
        "Wants=network-online.target",
        "After=network-online.target",
    ]
    if p.on_failure:
        lines.append(f"OnFailure={p.on_failure}")
    lines += [
        "",
        "[Service]",
        "Type=oneshot",
        *_common(p),
        f"ExecStart={command_line([p.wizard, 'check', '--strict', p.label])}",
        *HARDENING,
    ]
    return "\n".join(lines) + "\n"


def timer_unit(p: UnitPlan) -> str:
    """Runs the check once a day (catching up after downtime), at a random minute."""
    return "\n".join([
        "[Unit]",
        f"Description=Check the Binance key {specifier_safe(p.label)} daily",
        "",
        "[Timer]",
        "OnCalendar=daily",
        "RandomizedDelaySec=1h",
        "Persistent=true",
        f"Unit={p.stem}-keycheck.service",
        "",
        "[Install]",
        "WantedBy=timers.target",
    ]) + "\n"


def units(p: UnitPlan, watch: bool) -> dict[str, str]:
    """File name -> contents, the bot's service first."""
    files = {p.name: service_unit(p)}
    if watch:
        files[f"{p.stem}-keycheck.service"] = check_service_unit(p)
        files[f"{p.stem}-keycheck.timer"] = timer_unit(p)
    return files


# --- the command ---------------------------------------------------------------------------


def run_systemd_unit(args: argparse.Namespace) -> int:
    """Print (or write) the units; exit 2 for bad input or a label not in systemd credentials."""
    from wizard.registry import RegistryError

    try:
        files = units(plan(args), args.watch)
    except UnitError as exc:
        print(f"error: {exc.message}\n  fix: {exc.fix}", file=sys.stderr)
        return exc.exit_code
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    if args.user and files and args.user != pwd.getpwuid(os.geteuid()).pw_name:
        print(f"note: the bot runs as {args.user}; exec reads {args.user}'s key registry for the key's purpose. "
              f"Add the key as {args.user} too (same --store), or exec judges it by what it may do.",
              file=sys.stderr)
    if getattr(args, "output_dir", None):
        return _write(Path(args.output_dir), files)
    for index, (filename, text) in enumerate(files.items()):
        if len(files) > 1:
            print(("\n" if index else "") + f"# ---- {filename} ----")
        sys.stdout.write(text)
    _next_steps(files, to=sys.stderr)
    return 0


def _write(directory: Path, files: dict[str, str]) -> int:
    """Each unit written atomically (temp file, fsync, rename) into ``directory``; paths on stdout."""
    import tempfile

    try:
        directory.mkdir(parents=True, exist_ok=True)
        for filename, text in files.items():
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{filename}.")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp, 0o644)  # units are world-readable; they hold no secret
                os.replace(tmp, directory / filename)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    except OSError as exc:
        print(f"error: can't write the units into {directory}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for filename in files:
        print(directory / filename)
    _next_steps(files, to=sys.stderr)
    return 0


def _next_steps(files: dict[str, str], *, to: TextIO) -> None:
    names = list(files)
    start = [names[0]] + [n for n in names if n.endswith(".timer")]
    print(f"# Install: save as /etc/systemd/system/{', '.join(names)} (or use --output-dir "
          f"/etc/systemd/system), then `systemctl daemon-reload && systemctl enable --now {' '.join(start)}`",
          file=to)
