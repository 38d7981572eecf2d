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
