"""Step 5: the secret goes into the store, is read back, and the stored copy signs a call.

The store is the OS keyring unless a store URI was given (``--store``, the
profile's ``[store] uri``, or the field on this screen, checked by the same
parser): systemd credentials or Vault/OpenBao go through the same protocol.

Only after all of that is the registry written (non-secret facts, atomically)
and the secret dropped from memory. A failure after the keyring write undoes
it (a rotation puts the old key back), so nothing is left half-written.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.widgets import Button, Input, Static

from wizard.exchange.model import KeyPermissions
from wizard.messages import KeyringChecked, KeyStored, StoreFailed
from wizard.screens.base import StepScreen
from wizard.widgets.status import Busy, ProblemBox

FRIENDLY_BACKENDS = {
    "keyring.backends.SecretService": "Secret Service (GNOME Keyring / KWallet)",
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Manager",
    "keyring.backends.kwallet": "KWallet",
    "keyring.backends.libsecret": "Secret Service (libsecret)",
}
STAGES = ("checked", "stored", "signed", "recorded")
STAGE_TEXT = {
    "checked": "The keyring is a real OS keyring",
    "stored": "Stored, read back and compared",
    "signed": "One signed call made with the stored copy",
    "recorded": "Non-secret details recorded (label, fingerprint, permissions, dates)",
}


def checked_text(backend: str) -> str:
    """The health stage's line, honest about the backend: only a known OS keyring is called one."""
    name = backend.rsplit(" (", 1)[-1].rstrip(")") if backend.endswith(")") else backend
    if name.rsplit(".", 1)[0] in FRIENDLY_BACKENDS:
        return STAGE_TEXT["checked"]
    if not backend:
        return "The keyring is checked"
    return (f"The keyring backend ({name}) stored and returned a probe, but it is not an OS keyring "
            "this wizard knows")


def backend_label(vault: Any) -> str:
    """A person-readable name for the store (for the keyring: its backend)."""
    if not hasattr(vault, "backend_name"):
        return vault.describe()
    name = vault.backend_name
    module = name.rsplit(".", 1)[0]
    friendly = FRIENDLY_BACKENDS.get(module)
    return f"{friendly} ({name})" if friendly else name


class StoreScreen(StepScreen):
    """Keyring health, store, read back, signed call with the stored copy, registry."""

    STEP = "store"
    HEADING = "5 · Store the key in the OS keyring"
    BINDINGS = [Binding("s", "store", "Store")]
    AUTO_FOCUS = "#store"  # "s" stores; the store field takes keys only once chosen
    KEY_BUTTONS = {**StepScreen.KEY_BUTTONS, "s": "#store"}

    def __init__(self) -> None:
        super().__init__()
        self._healthy = False
        self._done: set[str] = set()
        self._failed: str | None = None
        self._backend = ""

    def compose_body(self) -> ComposeResult:
        yield Static("The secret goes into your operating system's keyring and nowhere else. The wizard "
                     "then reads it back, compares it, and proves the stored copy works with one signed "
                     "call. Your bot loads it from there.", id="store-intro")
        yield Static(id="where")
        yield Static("[$text-muted]Store (type another URI and press Enter to change it):[/]", id="store-uri-label")
        yield Input(id="store-uri", placeholder="keyring · systemd-creds:/DIR · vault+https://HOST:PORT/MOUNT/PREFIX")
        yield Static(id="progress")
        yield Busy(id="busy")
        yield ProblemBox(id="problem")
        yield Button("Store the key (s)", id="store", variant="primary")

    def setup(self) -> None:
        field = self.query_one("#store-uri", Input)
        field.value = self.wizard.store_uri or self.wizard.vault().uri
        # A rotation replaces the key where it is; a stored key is done.
        field.disabled = self.session.stored or self.session.rotating_label is not None
        if self.session.stored:
            self._done = set(STAGES)
        else:
            self.check_health()
        self._show()

    # -- workers --------------------------------------------------------------------------
    @work(exclusive=True, group="store")
    async def check_health(self) -> None:
        """Is the keyring a real OS keyring? (null, plaintext and missing backends are refused)."""
        self.query_one(Busy).start("Checking the keyring…")
        vault = self.wizard.vault()
        try:
            problem = await vault.acheck_health()
        except Exception as exc:  # noqa: BLE001 - the vault reports problems; anything else too
            from wizard.vault import KeyringProblem, KeyringProblemKind

            problem = KeyringProblem(KeyringProblemKind.UNAVAILABLE, self.problem(exc, "checking the "
                                     "keyring").message, "Check that your desktop keyring is running.")
        self.post_message(KeyringChecked(backend_label(vault), problem))

    @on(Input.Submitted, "#store-uri")
    def _store_chosen(self, event: Input.Submitted) -> None:
        """Another store: checked by the one store-URI parser, then its health."""
        from wizard.stores import StoreURIError, parse_store_uri

        try:
            uri = str(parse_store_uri(event.value))
        except StoreURIError as exc:
            self._healthy, self._failed = False, "checked"
            self.query_one(ProblemBox).show_problem("That is not a store", str(exc),
                                                    "Fix the store URI and press Enter.")
            self._show()
            return
        self.session.store_uri = uri
        event.input.value = uri
        self.check_health()

    def on_keyring_checked(self, message: KeyringChecked) -> None:
        self.query_one(Busy).stop()
        self._backend = message.backend
        self._healthy = message.problem is None
        self._failed = None if self._healthy else "checked"
        box = self.query_one(ProblemBox)
        if message.problem is not None:
            from wizard.stores.advice import with_setup_advice

            # No store works here: every store there is, and how to set it up (never a plaintext file).
            box.show_problem("The keyring cannot hold the key safely" if self._is_keyring() else
                             "The store cannot hold the key", message.problem.message,
                             with_setup_advice(message.problem.fix, message.problem.kind))
        else:
            box.clear()
            self._done = {"checked"}
        self._show()

    def action_store(self) -> None:
        """Store the key (or check the keyring again after fixing it)."""
        if self.session.stored or self.query_one(Busy).active:
            return
        if not self._healthy:
            self.check_health()
            return
        self.query_one(ProblemBox).clear()
        self._failed = None
        self.query_one(Busy).start("Storing, reading back and verifying…")
        self.wizard.storing = True
        self._show()
        self.store_key()

    @on(Button.Pressed, "#store")
    def _store_pressed(self) -> None:
        self.action_store()

    @work(exclusive=True, group="store")
    async def store_key(self) -> None:
        """Store → read back → signed call with the read-back copy → registry. Undo on failure."""
        from wizard.adding import LabelBusy, LabelTaken, NewLabel
        from wizard.policy import evaluate_permissions
        from wizard.vault import StoredKey

        wizard, session = self.wizard, self.session
        vault, label, key = wizard.vault(), session.label, session.key_material()
        written, previous, stage, claim = False, None, "stored", None
        try:
            if key is None:
                raise RuntimeError("no key in memory")
            new = StoredKey.from_material(key, session.env)
            if session.rotating_label is None:
                # The label's lock and a pending record (wizard/adding.py): a second run can't take
                # the label meanwhile, and a run killed from here on is reported by `check`.
                claim = NewLabel(wizard.services.registry, vault, self._record(session.permissions, vault))
                try:
                    await claim.__aenter__()
                except LabelBusy as busy:  # another wizard or `add` is storing this label now
                    claim = None
                    self.post_message(StoreFailed(str(busy), "Wait for it to finish and press Store again, "
                                                  "or Go Back to step 2 and choose another label."))
                    return
                except LabelTaken:
                    claim = None
                    self.post_message(StoreFailed(
                        f"A key labelled {label!r} is already managed by the wizard.",
                        f"Go Back to step 2 and choose another label, or replace that key with "
                        f"`binance-key-wizard rotate {label}`."))
                    return
                await vault.astore(label, new)
            else:  # the old entry stays until the new one is written and verified
                from wizard.lifecycle import same_key_refused

                old = wizard.old_key or (await vault.aload(label)).key_material()
                same = same_key_refused(old.api_key, new.api_key)
                if same is not None:  # the label step refuses it too: defence in depth
                    self.post_message(StoreFailed(f"Not stored: {same.message}", same.fix))
                    return
                previous = await vault.areplace(label, new)
            written, stage = True, "signed"
            back = await vault.aload(label)
            async with wizard.gateway(back.key_material()) as gateway:
                perms = await self.bounded(gateway.read_permissions())
            verdict = evaluate_permissions(perms, session.purpose, env=session.env,
                                           profile=session.profile, now=wizard.now())
            if verdict.blocked:  # changed in Binance since step 3: fail closed
                first = next(f for f in verdict.findings if f.severity == "block")
                raise _Blocked(first.message, first.fix)
            stage = "recorded"
            if claim is not None:
                await claim.finish(self._record(perms, vault))
            else:
                await asyncio.to_thread(wizard.services.registry.put, self._record(perms, vault))
        except Exception as exc:  # noqa: BLE001 - every failure is shown; nothing half-written
            if claim is not None:
                await claim.__aexit__(None, None, None)  # deletes the entry, then the pending record
            else:
                await self._undo(vault, label, written, previous)
            self.post_message(self._failure(exc, stage))
            return
        finally:
            if claim is not None:  # a cancelled worker (the user quit): roll back, release the lock
                await claim.__aexit__(None, None, None)
        if previous is not None:
            wizard.old_key = previous.key_material()
        self.post_message(KeyStored(getattr(vault, "service", vault.uri), label, backend_label(vault), perms,
                                    str(getattr(wizard.services.registry, "path", ""))))

    async def _undo(self, vault: Any, label: str, written: bool, previous: Any) -> None:
        """Put the keyring back as it was: the old key for a rotation, nothing for a new key."""
        if not written:
            return
        try:
            if previous is not None:
                await vault.areplace(label, previous)
            elif self.session.rotating_label is None:
                await vault.adelete(label)
        except Exception:  # noqa: BLE001 - reported by the failure already shown
            pass

    def _failure(self, exc: BaseException, stage: str) -> StoreFailed:
        from wizard.vault import VaultError

        if isinstance(exc, VaultError):
            return StoreFailed(exc.problem.message, exc.problem.fix, stage)
        if isinstance(exc, _Blocked):
            return StoreFailed(f"Not stored: {exc.message}", exc.fix, stage)
        problem = self.problem(exc, "checking the stored copy" if stage == "signed" else "storing the key")
        undone = ("the old key is stored again" if self.session.rotating_label else "it was removed again")
        prefix = f"The stored copy could not be verified, so {undone}. " if stage != "stored" else ""
        return StoreFailed(prefix + problem.message, problem.fix, stage)

    def _record(self, perms: KeyPermissions, vault: Any) -> Any:
        from wizard.registry import DEFAULT_SERVICE, KeyRecord, fingerprint

        service = getattr(vault, "service", DEFAULT_SERVICE)

        wizard, session = self.wizard, self.session
        now, profile, old = wizard.now(), session.profile, wizard.old_record
        return KeyRecord(
            label=session.label, purpose=session.purpose, env=session.env.name,
            base_url=session.env.base_url, key_type=session.key_type,
            fingerprint=fingerprint(session.api_key), service=service, store=vault.uri, created_at=now,
            last_verified_at=now, permissions=perms.as_dict(), ip_restricted=perms.ip_restricted,
            trading_expires_at=perms.trading_expires_at, binance_created_at=perms.created_at,
            last_checked_at=now,
            rotation_days=(profile.rotation_days if profile else None) or (old.rotation_days if old else 90),
            profile=profile.name if profile else (old.profile if old else None),
            rotations=list(old.rotations) if old else [])

    def on_key_stored(self, message: KeyStored) -> None:
        self.wizard.storing = False
        self.query_one(Busy).stop()
        session = self.session
        session.stored = True
        session.permissions = message.permissions
        session.forget_secret()  # the keyring holds it now; memory does not
        self._backend = message.backend
        self._done = set(STAGES)
        self._show()

    def on_store_failed(self, message: StoreFailed) -> None:
        self.wizard.storing = False
        self.query_one(Busy).stop()
        self._failed = message.stage
        self._done = {"checked", *STAGES[1:STAGES.index(message.stage)]}
        self.query_one(ProblemBox).show_problem("Not stored", message.message, message.fix)
        self._show()

    # -- showing ----------------------------------------------------------------------------
    def _show(self) -> None:
        wizard, session = self.wizard, self.session
        backend = escape(self._backend) if self._backend else "checking…"
        if self._is_keyring():
            where = f"Keyring: [b]{backend}[/b]\nService: [b]{escape(wizard.keyring_service)}[/b] · "
        else:
            where = f"Store: [b]{backend}[/b]\n"
        self.query_one("#where", Static).update(f"{where}entry: [b]{escape(session.label)}[/b]")
        lines, texts = [], dict(STAGE_TEXT)
        if where.startswith("Store:"):  # not the keyring: its health check is a probe round trip
            texts["checked"] = "The store answered a probe (written, read back, removed)"
        for stage in STAGES:
            keyring_check = stage == "checked" and texts[stage] == STAGE_TEXT[stage]
            text = escape(checked_text(self._backend)) if keyring_check else texts[stage]
            if keyring_check and stage in self._done and text != STAGE_TEXT[stage]:
                lines.append(f"[$warning]![/] {text}")  # never a ✓ "real OS keyring" for a test backend
            elif stage in self._done:
                lines.append(f"[$success]✓[/] {text}")
            elif stage == self._failed:
                lines.append(f"[$error]✗[/] {text}")
            else:
                lines.append(f"[$text-muted]○ {text}[/]")
        self.query_one("#progress", Static).update("\n".join(lines))
        button = self.query_one("#store", Button)
        button.display = not session.stored
        button.label = "Store the key (s)" if self._healthy else "Check the keyring again (s)"
        self.refresh_state()

    def _is_keyring(self) -> bool:
        return hasattr(self.wizard.vault(), "backend_name")

    def can_go_next(self) -> tuple[bool, str]:
        if self.session.stored:
            return True, ""
        return False, "Store the key to go on." if self._healthy else "The store must be usable first."


class _Blocked(Exception):
    """The read-back copy's permissions no longer pass the policy."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix
