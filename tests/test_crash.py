"""Crash reports: tracebacks without locals, secrets masked, hooks for every thread."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import SENTINEL_SECRET
from tests.leaks import assert_no_leak
from wizard.crash import MASK, format_exception_without_locals, safe_rich_traceback, scrub
from wizard.secret import Secret

ROOT = Path(__file__).resolve().parents[1]
PEM_BODY = "MC4CAQAwBQYDK2VwBCIEIBx4jaSlZsKJLt9mNvLMMmfU0ojJmqQbSaQTFemQi+5B"
PEM = f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----\n"


def explode_holding_a_secret():
    secret_text = SENTINEL_SECRET  # noqa: F841 - what a verbose crash dump would print
    wrapped = Secret(SENTINEL_SECRET)  # noqa: F841
    raise RuntimeError("storing the key failed")


def captured(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError("no exception")


def test_formatter_keeps_the_traceback_but_not_the_locals():
    exc = captured(explode_holding_a_secret)
    text = format_exception_without_locals(exc)
    assert "explode_holding_a_secret" in text and "RuntimeError: storing the key failed" in text
    assert_no_leak(text)


def test_messages_quoting_a_secret_are_masked_in_the_whole_chain():
    def chained():
        try:
            {}[SENTINEL_SECRET]
        except KeyError as inner:
            raise ValueError(f"bad secret {SENTINEL_SECRET!r}") from inner

    exc = captured(chained)
    if hasattr(exc, "add_note"):  # Python 3.11+
        exc.add_note(f"note: {SENTINEL_SECRET}")
    text = format_exception_without_locals(exc, secrets=[Secret(SENTINEL_SECRET)])
    assert_no_leak(text)
    assert text.count(MASK) >= 2 and "KeyError" in text and "direct cause" in text


def test_rich_traceback_has_no_locals_and_masks_secrets():
    from rich.console import Console

    exc = captured(explode_holding_a_secret)
    exc.args = (f"failed for {SENTINEL_SECRET}",)
    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(
        safe_rich_traceback(exc, secrets=[SENTINEL_SECRET], width=None, show_locals=True))
    text = out.getvalue()
    assert "explode_holding_a_secret" in text
    assert_no_leak(text)
    assert "locals" not in text  # rich titles its locals panel "locals"


def test_rich_traceback_uses_the_exception_being_handled():
    try:
        explode_holding_a_secret()
    except RuntimeError:
        tb = safe_rich_traceback()
    assert all(frame.locals is None for stack in tb.trace.stacks for frame in stack.frames)
    with pytest.raises(ValueError):
        safe_rich_traceback()


def test_scrub_masks_every_form_of_the_secret():
    text = (f"raw {SENTINEL_SECRET} json {json.dumps(PEM)} repr {PEM!r} "
            f"line {PEM_BODY} and again {SENTINEL_SECRET}")
    out = scrub(text, [Secret(SENTINEL_SECRET), PEM, None])
    assert PEM_BODY not in out
    assert_no_leak(out)
    assert out.count(MASK) >= 5
    assert scrub("nothing to see", [Secret(""), ""]) == "nothing to see"  # empty secrets mask nothing


HOOK_SCRIPT = textwrap.dedent(
    """
    import sys, threading
    sys.path.insert(0, {root!r})
    import rich.traceback
    rich.traceback.install(show_locals=True)  # the dangerous hook a dependency might install
    from wizard.crash import install_safe_excepthook
    SECRET = {secret!r}
    install_safe_excepthook(lambda: [SECRET])

    def work():
        local_copy = SECRET
        raise RuntimeError("failed with " + local_copy)

    if sys.argv[1] == "thread":
        t = threading.Thread(target=work, name="keyring-worker")
        t.start(); t.join()
        print("main thread continues")
    else:
        work()
    """
)


@pytest.mark.parametrize("where", ["main", "thread"])
def test_installed_hooks_print_no_locals_and_no_secret(tmp_path, where):
    script = tmp_path / "crash.py"
    script.write_text(HOOK_SCRIPT.format(root=str(ROOT), secret=SENTINEL_SECRET))
    result = subprocess.run([sys.executable, str(script), where], capture_output=True, text=True, timeout=60)
    assert "RuntimeError: failed with ********" in result.stderr
    assert "in work" in result.stderr
    assert_no_leak(result.stderr + result.stdout)
    if where == "thread":
        assert "Exception in thread keyring-worker" in result.stderr and "main thread continues" in result.stdout
    else:
        assert result.returncode == 1


def test_install_returns_a_restore_function():
    import threading

    from wizard.crash import install_safe_excepthook

    before = (sys.excepthook, threading.excepthook, sys.unraisablehook)
    restore = install_safe_excepthook()
    assert sys.excepthook is not before[0]
    restore()
    assert (sys.excepthook, threading.excepthook, sys.unraisablehook) == before
