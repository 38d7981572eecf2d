"""Step 2: open API Management, label the key, and bring the key (and its secret) here.

The key pair can be generated here (Ed25519, recommended: the private key
never leaves this machine except into the keyring), read from a PEM file the
user already has (only its path is typed; the key itself is never shown), or
created by Binance (HMAC: the secret is pasted into a masked field that
refuses copy and cut).
Everything typed goes straight into the session, so Back/Next lose nothing.
The form's widgets are laid out in :mod:`wizard.screens.label_form`.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from textual import on, work
from textual.app import ComposeResult
from textual.markup import escape
from textual.timer import Timer
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from wizard.messages import KeyPairGenerated
from wizard.screens.base import StepScreen
from wizard.screens.key_file import KeyPathInput
from wizard.screens.label_checks import label_advice, label_problem, same_as_old_key, suggested_label
from wizard.screens.label_form import compose_label_form
from wizard.screens.label_text import ED25519_STEPS, HMAC_STEPS, restrictions_step
from wizard.secret import Secret
from wizard.widgets.qr import QRCode
from wizard.widgets.secret_input import SecretInput, clean_paste
from wizard.widgets.sim_panel import SimApiPanel
from wizard.widgets.debounce import Debouncer
from wizard.widgets.status import Busy

# What the key-type radio offers: an Ed25519 pair generated here, an Ed25519 key from the
# user's own PEM file (both are session.key_type "ed25519"), or an HMAC key made by Binance.
KeyChoice = Literal["ed25519", "file", "hmac"]
LABEL_SETTLE = 0.25  # seconds without a keystroke before the label is judged and the status updated


class LabelScreen(StepScreen):
    """API Management, a clear label, and the key itself."""

    STEP = "label"
    choice: KeyChoice = "ed25519"  # set from the session in setup()
    _label_timer: Timer | None = None
    HEADING = "2 · Label the key and create it in Binance"
    DEFAULT_CSS = """
    #load-key-file { margin-top: 1; }
    """

    _typing: Debouncer | None = None

    def compose_body(self) -> ComposeResult:
        self._errors: dict[str, str] = {}
        yield from compose_label_form(self.session.env, demo=self.wizard.is_demo)

    # -- filling from the session -------------------------------------------------------------
    def setup(self) -> None:
        session = self.session
        if not session.label:
            session.label = suggested_label(self.wizard)
        label = self.query_one("#label", Input)
        label.value = session.label
        label.disabled = session.rotating_label is not None
        self._show_label_hint()
        loaded_from = session.key_file if session.key_type == "ed25519" else None
        self.choice: KeyChoice = "file" if loaded_from is not None else session.key_type
        self.query_one(f"#kt-{self.choice}", RadioButton).value = True
        self.query_one("#key-file", Input).value = loaded_from or ""
        self.query_one("#api-key", Input).value = session.api_key
        if session.key_type == "hmac" and session.secret is not None:
            self.query_one("#secret", SecretInput).value = session.secret.reveal()
        self._show_key_type()
        self._set_error("#api-key-error", "")
        self._set_error("#secret-error", "")
        self._set_error("#key-file-error", "")
        self._validate_label(quiet=True)
        if self.wizard.is_demo:
            self._sync_sim_panel()

    def _show_key_type(self) -> None:
        session = self.session
        ed25519 = self.choice != "hmac"
        self.query_one("#ed25519-box").display = ed25519
        # Hidden with its box for HMAC, but still pressable there: generating switches to Ed25519.
        self.query_one("#generate").display = self.choice != "file"
        self.query_one("#key-file-box").display = self.choice == "file"
        self.query_one("#hmac-steps").display = not ed25519
        self.query_one("#secret-box").display = not ed25519
        restrictions = restrictions_step(session.purpose)
        self.query_one("#hmac-steps", Static).update(HMAC_STEPS + restrictions)
        self.query_one("#ed25519-steps", Static).update(ED25519_STEPS + restrictions)
        public = session.public_key_pem
        self.query_one("#pubkey", Static).update(escape(public.strip()) if public else "")
        for widget_id in ("#pubkey", "#copy-pub", "#pub-qr", "#ed25519-steps"):
            self.query_one(widget_id).display = bool(public)
        self.query_one("#pub-qr", QRCode).set_data(public.strip() if public else "")
        self.query_one("#generate", Button).label = (
            "Generate a new pair (replaces this one)" if public else "Generate an Ed25519 key pair here")

    def _sync_sim_panel(self) -> None:
        from wizard.policy import intended_permissions

        self.query_one(SimApiPanel).sync(intended_permissions(self.session.purpose, self.session.profile))

    # -- typing goes straight into the session ------------------------------------------------
    def _key_changed(self) -> None:
        """A different key: what was read about the old one no longer applies."""
        session = self.session
        session.permissions = session.verdict = session.account = None

    def _typed(self) -> None:
        """After each key of the API key or secret: the session is already up to date; what
        only informs the user (simulator panel, navigation and key bar) runs at the first key
        and once typing pauses (the label has its own pause: LABEL_SETTLE)."""
        if self._typing is None:
            self._typing = Debouncer(self, self._typing_paused)
        self._typing.poke()

    def _typing_paused(self) -> None:
        if self.wizard.is_demo:
            self._sync_sim_panel()
        self.refresh_state(typing=True)

    @on(Input.Changed, "#label")
    def _label_changed(self, event: Input.Changed) -> None:
        self.session.label = event.value
        # Judged once per pause in typing, not on every keystroke (see LABEL_SETTLE).
        if self._label_timer is not None:
            self._label_timer.stop()
        self._label_timer = self.set_timer(LABEL_SETTLE, self._label_settled)

    def _label_settled(self) -> None:
        self._label_timer = None
        self._validate_label(quiet=not self.session.label)
        self._show_label_hint()
        self.refresh_state()

    def _show_label_hint(self) -> None:
        from wizard.parsing import LABEL_MAX_LENGTH

        session = self.session
        if session.rotating_label is not None:
            hint = f"Kept from the key being rotated, so {escape(session.label)} keeps loading the new key."
        else:
            hint = (f"Binance shows it next to the key. Name the tool, the machine and the date; at most "
                    f"{LABEL_MAX_LENGTH} characters.")
            advice = label_advice(session.label, self.wizard) if session.label.strip() else ""
            hint += f"\n{escape(advice)}" if advice else ""
        self.query_one("#label-hint", Static).update(hint)

    @on(Input.Changed, "#api-key")
    def _api_key_changed(self, event: Input.Changed) -> None:
        if event.value.strip() != self.session.api_key:
            self.session.api_key = event.value.strip()
            self._key_changed()
        self._set_error("#api-key-error", self._same_as_old_key() or "")
        self._typed()

    @on(Input.Changed, "#secret")
    def _secret_changed(self, event: Input.Changed) -> None:
        if self.session.key_type != "hmac":
            return
        cleaned = clean_paste(event.value)
        new = Secret(cleaned) if cleaned else None
        if new != self.session.secret:
            self.session.secret = new
            self._key_changed()
        self._set_error("#secret-error", "")
        self._typed()

    @on(Input.Changed, "#key-file")
    def _key_file_edited(self, event: Input.Changed) -> None:
        if event.value:  # a new path: the old refusal no longer applies
            self._set_error("#key-file-error", "")

    @on(RadioSet.Changed, "#key-type")
    def _key_type_changed(self, event: RadioSet.Changed) -> None:
        chosen: KeyChoice = (event.pressed.id or "").removeprefix("kt-")  # type: ignore[assignment]
        session = self.session
        if chosen == self.choice:
            return
        # The secret belongs to one choice: an HMAC secret is not a private key, and a
        # generated pair is not the one in the user's file.
        self.choice = chosen
        session.key_type = "hmac" if chosen == "hmac" else "ed25519"
        session.secret = None
        session.public_key_pem = None
        session.key_file = None
        self._key_changed()
        self.workers.cancel_group(self, "keygen")  # a pair arriving now would be for the old choice
        self.query_one("#keygen-busy", Busy).stop()
        self.query_one("#key-file-busy", Busy).stop()
        self._set_error("#key-file-error", "")
        self.query_one("#secret", SecretInput).value = ""
        self._show_key_type()
        self.refresh_state()

    # -- buttons ------------------------------------------------------------------------------
    @on(Button.Pressed, "#copy-url")
    def _copy_url(self) -> None:
        self.app.copy_to_clipboard(self.session.env.management_url)
        self.notify("Address copied.")

    @on(Button.Pressed, "#copy-pub")
    def _copy_public(self) -> None:
        if self.session.public_key_pem:
            self.app.copy_to_clipboard(self.session.public_key_pem.strip())
            self.notify("Public key copied (it is not secret).")

    @on(Button.Pressed, "#generate")
    def _generate(self) -> None:
        self.query_one("#keygen-busy", Busy).start("Generating the key pair…")
        self.generate_pair()

    @work(exclusive=True, group="keygen")
    async def generate_pair(self) -> None:
        """Make an Ed25519 pair off the UI thread; the private half goes only into the session."""
        from wizard.keygen import generate_ed25519

        try:
            private, public = await self.bounded(asyncio.to_thread(generate_ed25519))
        except Exception as exc:  # noqa: BLE001 - reported on screen
            self.query_one("#keygen-busy", Busy).stop()
            self.notify(self.problem(exc, "generating the key pair").message, severity="error")
            return
        self._use_pair(private, public, "ed25519")

    @on(Input.Submitted, "#key-file")
    @on(Button.Pressed, "#load-key-file")
    def _load_key_file(self) -> None:
        self._set_error("#key-file-error", "")
        self.query_one("#key-file-busy", Busy).start("Reading the key file…")
        self.load_key_file(self.query_one("#key-file", Input).value)

    @work(exclusive=True, group="keygen")
    async def load_key_file(self, path_text: str) -> None:
        """Read the user's private key file off the UI thread, bounded (it may sit on a dead
        network drive). Only the public key is ever shown; refusals go under the field."""
        from wizard.parsing import InputError
        from wizard.screens.key_file import read_key_file

        try:
            private, public = await self.bounded(asyncio.to_thread(read_key_file, path_text))
        except InputError as exc:  # its message names the problem, never the file's contents
            self._key_file_refused(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - the type only: see problem_from
            timed_out = isinstance(exc, (asyncio.TimeoutError, TimeoutError))
            self._key_file_refused(self.problem(exc, "reading the key file").message + (
                " If the file is on a network drive, copy it to this computer first." if timed_out else ""))
            return
        self._use_pair(private, public, "file")
        self.session.key_file = path_text.strip()
        self.notify("Key file read: its public key is shown below. The private key stays hidden.")

    def on_key_path_input_key_pasted(self, message: KeyPathInput.KeyPasted) -> None:
        self._set_error("#key-file-error", "That was the key itself, not a path, so it was not entered (it would "
                        "show on screen). Save the key in a file, or use the file you have, and type its path.")

    def _key_file_refused(self, text: str) -> None:
        self.query_one("#key-file-busy", Busy).stop()
        self._set_error("#key-file-error", text)

    def _use_pair(self, private: Secret, public: str, choice: KeyChoice) -> None:
        """Put an Ed25519 pair into the session (generated here, or from the user's file)."""
        self.choice = choice
        session = self.session
        if session.api_key and public != session.public_key_pem:
            session.api_key = ""  # that API key was issued for the old public key
        session.secret, session.public_key_pem, session.key_type = private, public, "ed25519"
        session.key_file = None  # set again by the caller when the pair came from a file
        self._key_changed()
        self.post_message(KeyPairGenerated(public))

    def on_key_pair_generated(self, message: KeyPairGenerated) -> None:
        self.query_one(f"#kt-{self.choice}", RadioButton).value = True
        self.query_one("#keygen-busy", Busy).stop()
        self.query_one("#key-file-busy", Busy).stop()
        self.query_one("#api-key", Input).value = self.session.api_key
        self._show_key_type()
        self.refresh_state()

    def on_sim_api_panel_key_issued(self, message: SimApiPanel.KeyIssued) -> None:
        session = self.session
        session.api_key = message.api_key
        if message.secret is not None:
            session.secret = message.secret
            self.query_one("#secret", SecretInput).value = message.secret.reveal()
        self._key_changed()
        self.query_one("#api-key", Input).value = message.api_key
        self._sync_sim_panel()
        self.notify("The simulated Binance created the key and filled in the fields.")

    def on_sim_api_panel_key_edited(self, message: SimApiPanel.KeyEdited) -> None:
        self._key_changed()
        self._sync_sim_panel()
        self.notify(f"Simulated key {message.what}. Press Next to check it again.")

    # -- validation ---------------------------------------------------------------------------
    def _validate_label(self, *, quiet: bool = False) -> str | None:
        from wizard.parsing import InputError, validate_label

        try:
            label = validate_label(self.session.label)
        except InputError as exc:
            self._set_error("#label-error", "" if quiet else str(exc))
            return None
        self._set_error("#label-error", "")
        return label

    def _set_error(self, selector: str, text: str) -> None:
        """Show ``text`` under a field (hidden when empty, so the form does not gap)."""
        if self._errors.get(selector) == text:
            return  # typing clears an error on every key: only the first clear does anything
        self._errors[selector] = text
        error = self.query_one(selector, Static)
        error.update(escape(text))
        error.display = bool(text)

    def can_go_next(self) -> tuple[bool, str]:
        session = self.session
        missing = [name for name, present in (
            ("a label", bool(session.label.strip())),
            ("the API key", bool(session.api_key)),
            ({"ed25519": "the key pair", "file": "the key file"}.get(self.choice, "the secret key"),
             session.secret is not None),
        ) if not present]
        label_problem = self._label_problem()
        if missing:
            return False, " ".join(filter(None, (label_problem, "Still needed: " + ", ".join(missing) + ".")))
        if label_problem:
            return False, label_problem
        same = self._same_as_old_key()
        if same is not None:
            return False, same
        return True, ""

    def _label_problem(self) -> str:
        """The label's problem for the status line, as typed."""
        if self.session.rotating_label is not None:
            return ""
        return label_problem(self.session.label)

    def _same_as_old_key(self) -> str | None:
        """Rotating: the pasted key is the one being replaced."""
        if self.session.rotating_label is None:
            return None
        return same_as_old_key(self.session.api_key, self.wizard.old_key, self.wizard.old_record)

    def before_next(self) -> bool:
        """Check every field's format; show each problem under its field, keep everything."""
        from wizard.parsing import InputError, clean_api_key, clean_hmac_secret

        session = self.session
        ok = self._validate_label() is not None
        if ok:
            session.label = self._validate_label() or session.label
        try:
            session.api_key = clean_api_key(session.api_key)
        except InputError as exc:
            self._set_error("#api-key-error", str(exc))
            ok = False
        same = self._same_as_old_key()
        if same is not None:
            self._set_error("#api-key-error", same)
            ok = False
        if session.key_type == "hmac" and session.secret is not None:
            try:
                session.secret = clean_hmac_secret(session.secret)
            except InputError as exc:
                self._set_error("#secret-error", str(exc))
                ok = False
        if not ok:
            self.notify("Some fields need attention (see the messages in red).", severity="warning")
        return ok
