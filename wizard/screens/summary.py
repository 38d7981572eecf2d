"""Step 7: what was verified, where the key lives, how a bot loads it, and when to rotate."""

from __future__ import annotations

from datetime import datetime, timedelta

from textual.app import ComposeResult
from textual.markup import escape
from textual.widgets import Static

from wizard.screens.base import StepScreen
from wizard.session import WizardSession

# Each marker carries its own trailing space inside the coloured span: SVG renderers such as
# rsvg drop a text span's leading space, which glued the marker to the text in screenshots.
OK, WARN, BAD, INFO = "[$success]✓ [/]", "[$warning]! [/]", "[$error]✗ [/]", "[$text-muted]• [/]"


def rotation_days(app: object) -> int:
    """The rotation period: the profile's, the rotated key's, else 90 days."""
    session = app.session  # type: ignore[attr-defined]
    old = getattr(app, "old_record", None)
    return (getattr(session.profile, "rotation_days", None)
            or getattr(old, "rotation_days", None) or 90)


def load_snippet(label: str, service: str, store: str | None = None) -> str:
    """The Python a bot runs to load the key (service only when not the default; a store
    other than the keyring by its URI, so a bot on another server finds it too)."""
    extra = "" if service == "binance-key-wizard" else f", service={service!r}"
    if store is not None and not store.startswith("keyring"):
        extra = f", store={store!r}"
    return ("from wizard import load_credentials\n"
            f"creds = load_credentials({label!r}{extra})\n"
            "client = creds.client()  # a python-binance Client, ready to use")


def key_file_of(session: WizardSession) -> str | None:
    """The file an Ed25519 key was loaded from (None when generated here or an HMAC key)."""
    return session.key_file if session.key_type == "ed25519" else None


def label_item(session: WizardSession, host: str) -> str:
    """The label's hygiene line, praising only what the label really names."""
    from wizard.labels import label_names

    names = label_names(session.label, host=host, product=session.profile.name if session.profile else "")
    said = f"Clear label: [b]{escape(session.label)}[/b] names {escape(names.described())}"
    if names.names_tool:
        return f"{OK}{said}."
    return (f"{WARN}{said}, but not the tool that uses the key: put the tool's name in the label when "
            "you rotate this key.")


def hygiene(session: WizardSession, rotate_by: datetime, *, host: str = "",
            command: str = "binance-key-wizard") -> list[str]:
    """The guide's hygiene list, each item with its status on this key."""
    perms, verdict = session.permissions, session.verdict
    items = [label_item(session, host)]
    extra = [f for f in (verdict.findings if verdict else ()) if f.id.endswith("_not_needed")]
    if verdict is not None and not verdict.blocked and not extra:
        items.append(f"{OK}Minimum permissions: only what {'a tracker' if session.purpose == 'read' else 'a spot bot'} needs.")
    else:
        items.append(f"{WARN}Minimum permissions: see the warnings from step 3.")
    if perms is not None and perms.withdrawals is False and perms.confirmed:
        items.append(f"{OK}Withdrawals disabled (confirmed by Binance).")
    else:
        items.append(f"{WARN}Withdrawals: not confirmed by this environment — check in API Management.")
    # The demo's simulated exchange stops with the wizard: `check` is for real keys.
    real = "With a real key, r" if command.endswith("--demo") else ""
    if perms is not None and perms.ip_restricted:
        items.append(f"{OK}IP allowlisting: Binance confirms the key works only from its trusted-IP list.")
        ips = getattr(session.profile, "egress_ips", ()) or ()
        whose = (f"{escape(session.profile.product)}'s addresses are" if ips  # type: ignore[union-attr]
                 else "your bot's server is")
        items.append(f"{WARN if ips else INFO}Not proven: that {whose} on that list (Binance never says which "
                     f"IPs a key allows). {real or 'R'}un `binance-key-wizard check {escape(session.label)}` from "
                     "the bot's server: it must say ok.")
    elif perms is not None and perms.ip_restricted is False:
        items.append(f"{WARN}IP allowlisting: not set — a leaked key works from anywhere.")
    else:
        items.append(f"{WARN}IP allowlisting: not confirmed.")
    key_file = key_file_of(session)
    if key_file:
        items.append(f"{WARN}Key file: {escape(key_file)} still holds the private key, unencrypted. The keyring "
                     "has it now: delete the file, or keep it only as an encrypted backup.")
    items.append(f"{INFO}One key per tool: use this key only for the tool in its label; "
                 "give every other tool its own key.")
    items.append(f"{OK}Regular review: rotate by {rotate_by:%Y-%m-%d}; `{command} review` lists "
                 f"what is due, `binance-key-wizard check` re-verifies{' a real key' if real else ''}.")
    if not session.checklist.get("withdraw_allowlist"):
        items.append(f"{WARN}Account: turn on the withdrawal address allowlist in Binance's security settings.")
    return items


def command_prefix(app: object) -> str:
    """How to run the wizard's commands for this key: the demo's keys live in the demo's files."""
    return "binance-key-wizard --demo" if getattr(app, "is_demo", False) else "binance-key-wizard"


def first_date_line(session: WizardSession, born: datetime, rotate_by: datetime, now: datetime) -> str:
    """The earliest date that matters, with why, when it comes before the rotation date."""
    from wizard.key_dates import earliest, key_dates

    perms = session.permissions
    if perms is None:
        return ""
    first = earliest(key_dates(purpose=session.purpose, spot_trading=perms.spot_trading,
                               ip_restricted=perms.ip_restricted, trading_expires_at=perms.trading_expires_at,
                               created_at=born, rotation_due_at=rotate_by), now)
    if first is None or first.at >= rotate_by:
        return ""
    return f"{WARN}[b]First date that matters: {escape(first.sentence(now))}[/b]\n"


def permissions_line(session: WizardSession) -> str:
    """Verified permissions in one line."""
    perms = session.permissions
    if perms is None:
        return f"{BAD}Not verified."
    on = [name for name, value in (("reading", perms.reading), ("spot trading", perms.spot_trading)) if value]
    how = "confirmed by Binance" if perms.confirmed else "probed (this environment cannot confirm)"
    return (f"{OK}Permissions {how}: {', '.join(on) or 'none'}; withdrawals and transfers off; "
            f"IP-restricted: {'yes' if perms.ip_restricted else 'no' if perms.ip_restricted is False else 'unknown'}.")


class SummaryScreen(StepScreen):
    """The verified state, where the key is stored, how to load it, and the hygiene list."""

    STEP = "summary"
    HEADING = "Done — the key is ready"
    NEXT_LABEL = "Finish"

    def compose_body(self) -> ComposeResult:
        yield Static(id="verified")
        yield Static("Where the key is", classes="section")
        yield Static(id="stored")
        yield Static("How a bot loads it", classes="section")
        yield Static(id="snippet", classes="code")
        yield Static("Rotation", classes="section")
        yield Static(id="rotation")
        yield Static("Key hygiene", classes="section")
        yield Static(id="hygiene")

    def setup(self) -> None:
        wizard, session = self.wizard, self.session
        if session.rotating_label:
            self.query_one(".heading", Static).update("New key stored — one step left")
            self.query_one("#next").label = "Retire the old key →"
        days = rotation_days(wizard)
        perms = session.permissions
        # Counted from Binance's createTime when it said, as `review` counts.
        born = (perms.created_at if perms is not None and perms.created_at else None) or wizard.now()
        rotate_by = born + timedelta(days=days)
        tested = "\n".join(session.test_summary)
        self.query_one("#verified", Static).update(
            f"{permissions_line(session)}\n{tested}" if tested else permissions_line(session))
        elsewhere = ("The wizard copied the private key nowhere else (your key file is still there: see "
                     "Key hygiene)." if key_file_of(session) else
                     "The secret is nowhere else: not in a file, not on the clipboard.")
        store = wizard.store_uri
        where = (f"Store [b]{escape(store)}[/b]" if store and not store.startswith("keyring")
                 else f"OS keyring service [b]{escape(wizard.keyring_service)}[/b]")
        self.query_one("#stored", Static).update(
            f"{where}, entry [b]{escape(session.label)}[/b].\n"
            f"{elsewhere} Non-secret details (label, fingerprint, permissions, dates) are in the wizard's "
            "registry.")
        self.query_one("#snippet", Static).update(escape(load_snippet(session.label, wizard.keyring_service, store)))
        self.query_one("#rotation", Static).update(
            first_date_line(session, born, rotate_by, wizard.now())
            + f"Rotate by [b]{rotate_by:%Y-%m-%d}[/b] ({days} days): "
            f"[b]{escape(command_prefix(wizard))} rotate {escape(session.label)}[/b]")
        self.query_one("#hygiene", Static).update("\n".join(hygiene(
            session, rotate_by, host=wizard.services.hostname, command=command_prefix(wizard))))

    def can_go_back(self) -> bool:
        return False  # stored: the steps before cannot be redone with a forgotten secret

    def before_next(self) -> bool:
        if self.session.rotating_label:
            return True
        self.wizard.finish()
        return False
