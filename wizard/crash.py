"""Crash reports that cannot leak a secret.

Textual's crash screen and ``rich.traceback.install(show_locals=True)`` print
every local variable of every frame, so a secret held in any local ends up on
stderr. This module formats tracebacks without locals, masks known secret
values in exception messages (belt and braces for library errors that quote
their input), and installs hooks so plain-Python crashes in any thread go
through the same formatter. No Textual imports; ``rich`` only inside
:func:`safe_rich_traceback`.
"""

from __future__ import annotations

import json
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from wizard.secret import Secret

MASK = "********"
MIN_SECRET_LENGTH = 6  # masking shorter strings would garble ordinary text
SecretLike = Secret | str | None
SecretsProvider = Callable[[], Iterable[SecretLike]]


def _needles(secrets: Iterable[SecretLike]) -> list[str]:
    """Every form a secret may take in text: as is, JSON- or repr-escaped, line by line."""
    found: set[str] = set()
    for item in secrets:
        if item is None:
            continue
        value = item.reveal() if isinstance(item, Secret) else str(item)
        forms = {value, json.dumps(value)[1:-1], repr(value)[1:-1]}
        # A PEM's base64 lines are the key material: mask them even when split apart.
        forms.update(line.strip() for line in value.splitlines() if "-----" not in line)
        found.update(f for f in forms if len(f) >= MIN_SECRET_LENGTH)
    return sorted(found, key=len, reverse=True)  # longest first, so no partial leftovers


def scrub(text: str, secrets: Iterable[SecretLike]) -> str:
    """Replace every occurrence of the given secret values in ``text`` with ``********``."""
    for needle in _needles(secrets):
        text = text.replace(needle, MASK)
    return text


def format_exception_without_locals(exc: BaseException, *, secrets: Iterable[SecretLike] = ()) -> str:
    """A standard Python traceback (chained causes included) with no local variables,
    and with ``secrets`` masked wherever an exception message or note quotes them."""
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__, capture_locals=False)
    return scrub("".join(te.format()), list(secrets))


def _scrub_trace(trace: Any, needles: list[str]) -> None:
    def clean(text: str) -> str:
        for needle in needles:
            text = text.replace(needle, MASK)
        return text

    for stack in trace.stacks:
        stack.exc_value = clean(stack.exc_value)
        stack.notes = [clean(note) for note in getattr(stack, "notes", [])]
        if stack.syntax_error is not None:
            stack.syntax_error.line = clean(stack.syntax_error.line)
            stack.syntax_error.msg = clean(stack.syntax_error.msg)
        for frame in stack.frames:
            frame.locals = None
        for group_trace in getattr(stack, "exceptions", []):
            _scrub_trace(group_trace, needles)


def safe_rich_traceback(
    exc: BaseException | None = None, *, secrets: Iterable[SecretLike] = (), **options: Any
) -> Any:
    """A ``rich.traceback.Traceback`` of ``exc`` (default: the one being handled)
    that never shows locals and masks ``secrets``. ``options`` go to Traceback
    (width, suppress, ...); ``show_locals`` is always False."""
    from rich.traceback import Traceback

    if exc is None:
        exc_type, exc, tb = sys.exc_info()
    else:
        exc_type, tb = type(exc), exc.__traceback__
    if exc is None or exc_type is None:
        raise ValueError("no exception to format")
    trace = Traceback.extract(exc_type, exc, tb, show_locals=False)
    _scrub_trace(trace, _needles(secrets))
    options["show_locals"] = False
    return Traceback(trace, **options)


def _collect(provider: SecretsProvider | None) -> list[SecretLike]:
    if provider is None:
        return []
    try:
        return list(provider())
    except Exception:  # noqa: BLE001 - a broken provider must not hide the crash itself
        return []


def install_safe_excepthook(secrets: SecretsProvider | None = None) -> Callable[[], None]:
    """Route uncaught exceptions (main thread, other threads, unraisable ones)
    through :func:`format_exception_without_locals`.

    Replaces any hook that prints locals (``rich.traceback.install(show_locals=True)``
    included). ``secrets`` is called at crash time and returns the values to mask
    (e.g. ``lambda: [session.secret]``). Returns a function that puts the
    previous hooks back.
    """
    previous = (sys.excepthook, threading.excepthook, sys.unraisablehook)

    def excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        sys.stderr.write(format_exception_without_locals(exc, secrets=_collect(secrets)))
        sys.stderr.flush()

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "unknown"
        sys.stderr.write(f"Exception in thread {name}:\n")
        excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def unraisable_hook(args: Any) -> None:
        # The default prints repr(obj), which may be anything: name the type only.
        where = type(args.object).__name__ if args.object is not None else "unknown"
        sys.stderr.write(f"{args.err_msg or 'Exception ignored in'}: <{where}>\n")
        if args.exc_value is not None:
            excepthook(type(args.exc_value), args.exc_value, args.exc_traceback)

    sys.excepthook = excepthook
    threading.excepthook = thread_hook
    sys.unraisablehook = unraisable_hook

    def restore() -> None:
        sys.excepthook, threading.excepthook, sys.unraisablehook = previous

    return restore


# --- truly unexpected errors: exit 70, one line, a report that cannot hold a secret ----------

EXIT_SOFTWARE = 70  # sysexits.h EX_SOFTWARE: never one of the documented verdict codes 0-5


def secret_free_report(exc: BaseException) -> str:
    """Exception types and the frames they passed through (file, line, function, source line).

    No exception messages and no locals: a message can quote anything the failing
    call saw (a keyring document, a response), so the report leaves them out by
    construction instead of trusting a scrubber.
    """
    from wizard import __version__

    lines = [f"binance-key-wizard {__version__} on Python {sys.version.split()[0]} ({sys.platform})"]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        lines.append(f"{type(current).__module__}.{type(current).__qualname__} (message omitted)")
        for frame in traceback.extract_tb(current.__traceback__):
            lines.append(f"  {frame.filename}:{frame.lineno} in {frame.name}")
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
        current = current.__cause__ or current.__context__
    return "\n".join(lines) + "\n"


def report_unexpected(exc: BaseException, *, debug: bool = False, stream: Any = None) -> int:
    """One line on stderr naming what failed and where the report is; returns :data:`EXIT_SOFTWARE`.

    The report goes to a file (0600) in the user state dir, or to stderr with
    ``debug`` or when no file can be written.
    """
    stream = stream or sys.stderr
    report = secret_free_report(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {_short(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    path = None if debug else _write_report(report)
    tail = f"report (no secrets in it): {path}" if path else "report follows (no secrets in it)"
    stream.write(f"binance-key-wizard: unexpected internal error ({type(exc).__name__}{where}); this is a "
                 f"bug, not a verdict on your key; {tail}\n")
    if path is None:
        stream.write(report)
    stream.flush()
    return EXIT_SOFTWARE


def _short(filename: str) -> str:
    marker = filename.replace("\\", "/").rfind("/wizard/")
    return filename[marker + 1:] if marker >= 0 else filename


def _write_report(report: str) -> str | None:
    import os
    import time

    try:
        from platformdirs import user_state_path

        directory = user_state_path("binance-key-wizard", appauthor=False)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / f"crash-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(report)
    except Exception:  # noqa: BLE001 - read-only HOME: the report goes to stderr instead
        return None
    return str(path)
