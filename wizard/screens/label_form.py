"""The widgets of step 2 (:class:`~wizard.screens.label.LabelScreen`), in order.

Moved out of :mod:`wizard.screens.label`, which keeps the behaviour: this module
only lays the form out. The ids here are what the screen queries and what the
app stylesheet styles, so renaming one means changing both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalGroup
from textual.markup import escape
from textual.widgets import Button, RadioButton, RadioSet, Static

from wizard.screens.key_file import EXAMPLE_PATH, KeyPathInput
from wizard.widgets.qr import QRCode
from wizard.widgets.secret_input import SecretInput
from wizard.widgets.sim_panel import SimApiPanel
from wizard.widgets.status import Busy
from wizard.widgets.steady_input import SteadyInput

if TYPE_CHECKING:  # wizard.exchange.model waits for first use (not before the first frame)
    from wizard.exchange.model import Environment


def compose_label_form(env: Environment, *, demo: bool) -> ComposeResult:
    """API Management (address and QR code), the label, the key type and the key fields;
    with ``demo``, the simulated exchange's API Management panel too."""
    with Horizontal(id="mgmt"):
        with Vertical(id="mgmt-text"):
            yield Static("Open Binance's API Management: Profile → Account → API Management. "
                         "Scan the code with your phone, or open this address:")
            yield Static(escape(env.management_url), id="mgmt-url", classes="url")
            yield Button("Copy address", id="copy-url", compact=True)
        yield QRCode(env.management_url, id="mgmt-qr")
    yield Static("Label", classes="section")
    yield SteadyInput(id="label", placeholder="e.g. koinly-read-laptop-2026-01-31")
    yield Static(id="label-error", classes="error")
    yield Static(id="label-hint", classes="hint")
    yield Static("Key type", classes="section")
    with RadioSet(id="key-type", compact=True):
        yield RadioButton("Ed25519 pair generated here (recommended)", id="kt-ed25519")
        yield RadioButton("Ed25519 key I already have (PEM file)", id="kt-file")
        yield RadioButton("HMAC, created by Binance (\"System generated\")", id="kt-hmac")
    yield from _ed25519_box()
    yield Static(id="hmac-steps", classes="steps")
    yield Static("API key", classes="section")
    yield SteadyInput(id="api-key", placeholder="paste the 64-character API key")
    yield Static(id="api-key-error", classes="error")
    with Vertical(id="secret-box"):
        yield Static("Secret key", classes="section")
        yield SecretInput(id="secret", placeholder="paste the secret key (masked; it cannot be copied out)")
        yield Static(id="secret-error", classes="error")
    if demo:
        from wizard.policy import SETTING_LABELS

        yield SimApiPanel(SETTING_LABELS, id="sim-panel")


def _ed25519_box() -> ComposeResult:
    """Generate a pair here or load the user's key file; then the public key to paste."""
    with Vertical(id="ed25519-box"):
        yield Button("Generate an Ed25519 key pair here", id="generate", compact=True, variant="primary")
        yield Busy(id="keygen-busy")
        with VerticalGroup(id="key-file-box"):
            yield Static("The private key file (PKCS#8 PEM: -----BEGIN PRIVATE KEY-----). Type its path; "
                         "the wizard reads the file and shows only the public key.", classes="hint")
            yield KeyPathInput(id="key-file", placeholder=f"path, e.g. {EXAMPLE_PATH}")
            yield Static(id="key-file-error", classes="error")
            yield Button("Load the key file", id="load-key-file", compact=True, variant="primary")
            yield Busy(id="key-file-busy")
        yield Static(id="pubkey", classes="pem")
        yield Button("Copy public key", id="copy-pub", compact=True)
        yield QRCode("", id="pub-qr")
        yield Static(id="ed25519-steps", classes="steps")
