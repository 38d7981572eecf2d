"""Step 2 with an Ed25519 key the user already has: a PEM file read by path, never shown.

Pilot against the real simulator (which verifies Ed25519 signatures) with an
in-memory keyring; test keys are made with pycryptodome into tmp_path.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.test_app_harness import SIZE, make_app, paste, press_next, settle, text_of, to_label_screen
from wizard.parsing import InputError
from wizard.screens.key_file import MAX_KEY_FILE_BYTES, looks_like_key_material, read_key_file

LABEL = "own-key-tracker-laptop"


def ed25519_pem() -> tuple[str, str]:
    """A fresh Ed25519 private key (PKCS#8 PEM) and its public PEM."""
    from Crypto.PublicKey import ECC

    key = ECC.generate(curve="ed25519")
    return key.export_key(format="PEM"), key.public_key().export_key(format="PEM")


def pem_body(pem: str) -> str:
    """The base64 between the BEGIN and END lines: the key material itself."""
    return "".join(line.strip() for line in pem.splitlines() if line.strip() and "-----" not in line)


def messy(pem: str) -> str:
    """What an editor on another OS leaves behind: CRLF, indentation, trailing spaces, blank lines."""
    return "\r\n".join(f"    {line}  " for line in pem.splitlines()) + "\r\n\r\n"


async def choose_file_and_load(pilot, path_text: str) -> None:
    screen = pilot.app.screen
    screen.query_one("#kt-file").value = True
    await pilot.pause()
    screen.query_one("#key-file").value = path_text
    screen.query_one("#load-key-file").press()
    await settle(pilot)


async def test_messy_pem_file_is_registered_and_validates(sim, memory_keyring, tmp_path, monkeypatch):
    private_pem, public_pem = ed25519_pem()
    home = tmp_path / "home"
    (home / "keys").mkdir(parents=True)
    (home / "keys" / "binance.pem").write_bytes(messy(private_pem).encode())
    monkeypatch.setenv("HOME", str(home))  # "~" must expand to it
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        screen = app.screen
        screen.query_one("#kt-file").value = True
        await pilot.pause()
        assert screen.query_one("#key-file-box").display and not screen.query_one("#generate").display
        assert screen.query_one("#secret-box").display is False
        screen.query_one("#key-file").value = "~/keys/binance.pem"
        screen.query_one("#key-file").focus()
        await pilot.press("enter")  # Enter in the path field loads, like the button
        await settle(pilot)
        session = app.session
        assert text_of(app, "#key-file-error") == ""
        assert session.key_type == "ed25519"
        assert session.secret.reveal() == private_pem  # normalised to the canonical PKCS#8 text
        assert session.public_key_pem == public_pem
        assert "BEGIN PUBLIC KEY" in text_of(app, "#pubkey")
        assert screen.query_one("#pub-qr").data == public_pem.strip()
        assert "Self-generated" in text_of(app, "#ed25519-steps")
        for shown in (screen.query_one("#key-file-box"), screen.query_one("#pubkey")):
            shown.scroll_visible(animate=False, top=True)
            await settle(pilot)
            shot = app.export_screenshot()
            assert pem_body(private_pem) not in shot and pem_body(private_pem)[-20:] not in shot
        assert pem_body(public_pem) in shot  # the check can see a key when one is on screen
        screen.query_one("#copy-pub").press()
        await pilot.pause()
        assert app.clipboard == public_pem.strip()

        # The simulated API Management registers this public key like a generated one.
        screen.query_one("#sim-create").press()
        await settle(pilot)
        simkey = sim.key(session.api_key)
        assert simkey.key_type == "ed25519" and simkey.public_key_pem.strip() == public_pem.strip()
        assert screen.query_one("#api-key").value == simkey.api_key
        await press_next(pilot)
        assert app.screen.STEP == "permissions"
        assert session.permissions is not None and session.permissions.confirmed  # signed calls verified
        assert not session.verdict.blocked

        # Back brings the choice, the path and the public key back; the key is unchanged.
        await pilot.press("escape")
        await settle(pilot)
        screen = app.screen
        assert screen.STEP == "label"
        assert screen.query_one("#kt-file").value is True
        assert screen.query_one("#key-file").value == "~/keys/binance.pem"
        assert "BEGIN PUBLIC KEY" in text_of(app, "#pubkey")
        assert session.api_key == simkey.api_key and session.secret.reveal() == private_pem


def _encrypted(tmp_path):
    from Crypto.PublicKey import ECC

    pem = ECC.generate(curve="ed25519").export_key(
        format="PEM", passphrase="x", protection="PBKDF2WithHMAC-SHA512AndAES256-CBC")
    path = tmp_path / "encrypted.pem"
    path.write_text(pem)
    return path, pem, "encrypted with a passphrase"


def _rsa(tmp_path):
    from Crypto.PublicKey import RSA

    pem = RSA.generate(2048).export_key(format="PEM").decode()
    path = tmp_path / "rsa.pem"
    path.write_text(pem)
    return path, pem, "RSA private keys are not supported"


def _missing(tmp_path):
    return tmp_path / "nowhere" / "key.pem", "", "There is no file at"


@pytest.mark.parametrize("make", [_encrypted, _rsa, _missing], ids=["encrypted", "rsa", "missing"])
async def test_unusable_key_file_is_explained_and_nothing_is_lost(sim, memory_keyring, tmp_path, make):
    path, pem, expected = make(tmp_path)
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        screen = app.screen
        screen.query_one("#label").value = LABEL
        screen.query_one("#api-key").value = "A" * 64
        await pilot.pause()
        await choose_file_and_load(pilot, str(path))
        error = text_of(app, "#key-file-error")
        assert expected in error
        assert screen.query_one("#key-file-error").display
        assert not screen.query_one("#key-file-busy").active
        if pem:
            assert pem_body(pem)[:40] not in error and pem_body(pem)[-40:] not in error
            assert pem_body(pem)[-40:] not in app.export_screenshot()
        assert screen.query_one("#label").value == LABEL and app.session.label == LABEL
        assert screen.query_one("#api-key").value == "A" * 64 and app.session.api_key == "A" * 64
        assert screen.query_one("#key-file").value == str(path)
        assert app.session.secret is None and app.session.public_key_pem is None
        assert "the key file" in text_of(app, "#nav-status")
        await press_next(pilot)
        assert app.screen.STEP == "label"


@pytest.mark.parametrize("part", ["whole", "body"])
async def test_pasting_the_key_into_the_path_field_is_refused(sim, memory_keyring, tmp_path, part):
    private_pem, _ = ed25519_pem()
    pasted = messy(private_pem) if part == "whole" else pem_body(private_pem)
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        app.screen.query_one("#kt-file").value = True
        await pilot.pause()
        await paste(pilot, "#key-file", pasted)
        assert app.screen.query_one("#key-file").value == ""
        assert "was the key itself, not a path" in text_of(app, "#key-file-error")
        assert pem_body(private_pem)[-20:] not in app.export_screenshot()
        await paste(pilot, "#key-file", "~/keys/binance-ed25519.pem")  # a path still pastes
        assert app.screen.query_one("#key-file").value == "~/keys/binance-ed25519.pem"


async def test_sim_panel_asks_for_the_key_file_first(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        app.screen.query_one("#kt-file").value = True
        await pilot.pause()
        app.screen.query_one("#sim-create").press()
        await settle(pilot)
        assert "load your key file" in text_of(app, "#sim-status")
        assert app.session.api_key == ""


async def test_switching_away_drops_the_loaded_key(sim, memory_keyring, tmp_path):
    private_pem, _ = ed25519_pem()
    (tmp_path / "k.pem").write_text(private_pem)
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        await choose_file_and_load(pilot, str(tmp_path / "k.pem"))
        assert app.session.secret is not None
        app.screen.query_one("#kt-ed25519").value = True  # "generate here" instead
        await pilot.pause()
        assert app.session.secret is None and app.session.public_key_pem is None
        assert app.session.key_type == "ed25519"
        assert app.screen.query_one("#generate").display and not app.screen.query_one("#key-file-box").display


# -- the reader on its own (no UI) ------------------------------------------------------------


def test_reader_accepts_quoted_path_and_a_file_with_both_blocks(tmp_path):
    private_pem, public_pem = ed25519_pem()
    path = tmp_path / "pair.pem"
    path.write_text(public_pem + "\n" + private_pem)
    private, public = read_key_file(f'  "{path}"  ')
    assert private.reveal() == private_pem and public == public_pem


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"-----BEGIN PRIVATE KEY-----\n" + b"A" * (MAX_KEY_FILE_BYTES + 1), "larger than 16 KiB"),
        (bytes(range(256)), "not a text (PEM) file"),
        (None, "is a folder"),
    ],
    ids=["empty", "too-big", "binary", "folder"],
)
def test_reader_refuses_unusable_files(tmp_path, content, expected):
    path = tmp_path / "key.pem"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(InputError, match=re.escape(expected)):
        read_key_file(str(path))


def test_reader_refuses_public_key_and_empty_path(tmp_path):
    _, public_pem = ed25519_pem()
    (tmp_path / "pub.pem").write_text(public_pem)
    with pytest.raises(InputError, match="public key") as refused:
        read_key_file(str(tmp_path / "pub.pem"))
    assert pem_body(public_pem) not in str(refused.value)
    with pytest.raises(InputError, match="Type the path"):
        read_key_file("   ")


def test_summary_warns_about_the_key_file_and_spaces_its_markers(tmp_path):
    from datetime import datetime, timezone

    from wizard.exchange.model import Environment
    from wizard.screens.summary import INFO, OK, hygiene
    from wizard.session import WizardSession

    _, public_pem = ed25519_pem()
    session = WizardSession(env=Environment.custom("http://127.0.0.1:1", simulated=True), label=LABEL,
                            key_type="ed25519", public_key_pem=public_pem, key_file="~/keys/binance.pem")
    items = hygiene(session, datetime(2026, 4, 1, tzinfo=timezone.utc))
    assert any("~/keys/binance.pem still holds the private key" in item for item in items)
    assert OK.endswith(" [/]") and INFO == "[$text-muted]• [/]"
    assert all(item.startswith(("[$success]✓ [/]", "[$warning]! [/]", "[$text-muted]• [/]")) for item in items)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=80))
@example(text="~\x00")  # found by hypothesis: the user lookup behind "~name" refuses a NUL
def test_reader_only_ever_raises_input_error(tmp_path, monkeypatch, text):
    monkeypatch.chdir(tmp_path)  # relative paths land in an empty folder
    try:
        read_key_file(text)
    except InputError as exc:
        assert str(exc)
    else:  # only a real key file could be read, and tmp_path holds none
        raise AssertionError("no key file here to read")


@settings(max_examples=20, deadline=None)
@given(indent=st.sampled_from(["", "  ", "\t"]), eol=st.sampled_from(["\n", "\r\n"]))
def test_any_pasted_line_of_a_key_counts_as_key_material(indent, eol):
    private_pem, _ = ed25519_pem()
    lines = private_pem.splitlines()
    assert looks_like_key_material(eol.join(indent + line for line in lines))
    assert all(looks_like_key_material(indent + line) for line in lines)
    assert not looks_like_key_material("~/keys/binance-ed25519.pem")
    assert not looks_like_key_material(r"C:\Users\me\Documents\Binance Keys\bot-2026.pem")
