"""The Textual wizard: one App, one session, one screen per step.

Only what the first frame needs is imported here (Textual, the session, the
environment). The exchange model, keyring, registry, python-binance, qrcode
and the simulator load on first use, after the first frame is on screen.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from wizard.exchange.environment import Environment
from wizard.screens.flow import STEP_TITLES, StepScreen, screen_class
from wizard.session import Purpose, WizardSession

if TYPE_CHECKING:
    from textual.await_complete import AwaitComplete

    from wizard.exchange.gateway import Gateway
    from wizard.exchange.model import KeyMaterial
    from wizard.messages import SimFailed, SimStarted
    from wizard.profiles import Profile
    from wizard.registry import KeyRecord, Registry
    from wizard.sim import SimExchange
    from wizard.stores import SecretStore

DEFAULT_SERVICE = "binance-key-wizard"
DEMO_SERVICE = "binance-key-wizard-demo"
EXIT_COMPLETED = 0
BACKGROUND_START_DELAY = 0.2  # seconds after the first frame; see WizardApp.on_ready
# Textual lets go of a removed screen a moment after removing it (its refresh timer's task
# ends then; 25-40 ms measured): the wait before collecting it (WizardApp._free_when_replaced).
RELEASE_DELAY = 0.25
EXIT_QUIT = 130


def default_gateway(env: Environment, key: KeyMaterial | None) -> Gateway:
    """The real gateway, imported on first use (python-binance is heavy)."""
    from wizard.exchange.gateway import Gateway

    return Gateway(env, key)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Services:
    """Everything the wizard talks to, injected so tests use the simulator and a memory keyring.

    ``clock`` and ``hostname`` exist so snapshots and label suggestions are
    deterministic in tests; ``call_timeout`` bounds every worker's wait.
    """

    gateway_factory: Callable[[Environment, KeyMaterial | None], Gateway]
    vault: SecretStore  # the keyring store (re-targeted per service); other stores come from their URI
    registry: Registry
    sim: SimExchange | None = None
    clock: Callable[[], datetime] = field(default=_utc_now)
    hostname: str = field(default_factory=socket.gethostname)
    call_timeout: float = 30.0


class WizardApp(App[None]):
    """The key-setup wizard. Holds the one :class:`WizardSession` every screen reads and writes."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "binance-key-wizard"
    BINDINGS = [
        Binding("ctrl+q", "request_quit", "Quit", priority=True),
        # Priority: handled by the app as the key arrives, so the focus has moved before
        # the next key is forwarded. Bubbling up from the focused Input, a Tab was acted
        # on after a key typed right behind it, and that key landed in the old field.
        Binding("tab", "focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "focus_previous", "Previous field", show=False, priority=True),
    ]

    def __init__(self, services: Services | Callable[[], Services], session: WizardSession, *,
                 start_sim: bool = False, old_record: KeyRecord | None = None) -> None:
        super().__init__()
        self._services = services
        self.session = session
        self.old_record = old_record
        self.old_key: KeyMaterial | None = None  # rotation: the key being replaced, memory only
        self.storing = False  # a keyring write is in flight: quitting waits for it
        self.rotation_done = False
        self._start_sim = start_sim
        self.sim_ready = not start_sim
        self._vaults: dict[str, SecretStore] = {}
        from wizard.gc_pause import CollectorPause

        self._collector = CollectorPause(self)  # no GC pauses while keys are arriving

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._collector.key()
        await super().on_event(event)

    def on_unmount(self) -> None:
        self._collector.resume()  # never leave the process without its collector

    # -- what screens ask the app ---------------------------------------------------------
    @property
    def services(self) -> Services:
        """Everything the wizard talks to. A terminal run passes a builder instead, so the
        keyring and registry modules load on first use, after the first frame."""
        if not isinstance(self._services, Services):
            self._services = self._services()
        return self._services

    @property
    def steps(self) -> list[str]:
        """Step names in order (``retire`` only when rotating)."""
        names = list(STEP_TITLES)
        if self.session.rotating_label is None:
            names.remove("retire")
        return names

    @property
    def step_titles(self) -> list[str]:
        """Short titles for the stepper."""
        return [STEP_TITLES[name] for name in self.steps]

    def step_index(self, name: str) -> int:
        """Position of step ``name``."""
        return self.steps.index(name)

    @property
    def is_demo(self) -> bool:
        """True when rehearsing against the simulator."""
        return self.session.env.name == "sim" or self.services.sim is not None

    @property
    def store_uri(self) -> str | None:
        """The store URI this run writes to; None: the keyring service chosen below."""
        if self.old_record is not None:
            return self.old_record.store  # a rotation replaces the key where it is
        profile = self.session.profile
        return self.session.store_uri or getattr(profile, "store_uri", None)

    @property
    def keyring_service(self) -> str:
        """The keyring service this run stores under."""
        if self.old_record is not None and self.old_record.service:
            return self.old_record.service  # a rotation replaces the entry where it is
        uri = self.store_uri
        if uri is not None and uri.startswith("keyring"):
            from wizard.stores import parse_store_uri

            return parse_store_uri(uri).service
        if self.is_demo:
            return DEMO_SERVICE
        profile = self.session.profile
        return (profile.keyring_service if profile and profile.keyring_service else None) or DEFAULT_SERVICE

    def vault(self) -> SecretStore:
        """This run's store: the one its URI names, else the injected keyring vault,
        re-targeted to this run's keyring service when that differs."""
        uri = self.store_uri
        if uri is not None and not uri.startswith("keyring"):
            if uri not in self._vaults:
                from wizard.stores import open_store

                self._vaults[uri] = open_store(uri, timeout=self.services.call_timeout)
            return self._vaults[uri]
        vault, service = self.services.vault, self.keyring_service
        if getattr(vault, "service", service) == service:
            return vault
        if service not in self._vaults:
            self._vaults[service] = vault.with_service(service)
        return self._vaults[service]

    def gateway(self, key: KeyMaterial | None) -> Gateway:
        """A gateway for this run's environment."""
        return self.services.gateway_factory(self.session.env, key)

    def now(self) -> datetime:
        """The current time (injectable for deterministic tests)."""
        return self.services.clock()

    # -- navigation ---------------------------------------------------------------------
    def get_default_screen(self) -> Screen[Any]:
        # The first step is the app's default screen, not pushed over a blank one:
        # that would style and lay out a screen nobody sees before the first frame.
        return self._make(self.steps[0])

    def on_ready(self) -> None:
        # Textual sends Ready once the first frame is on screen. What that frame didn't
        # need starts a moment later: the demo's simulator and python-binance's import.
        # Their imports (in threads) hold the interpreter, and started at once they
        # delayed the frames just after the first by ~70 ms.
        from wizard.gc_pause import end_startup_hold

        end_startup_hold()  # a terminal run held the collector until now (wizard/gc_pause.py)
        self.set_timer(BACKGROUND_START_DELAY, self._start_background_work)

    def _start_background_work(self) -> None:
        """The demo's simulator, and python-binance's import while the user reads the welcome."""
        if self._start_sim:
            self._launch_sim()
        self._warm_up_exchange_client()

    def _make(self, name: str) -> Screen[Any]:
        return screen_class(name)()

    def go_to(self, name: str) -> None:
        """Show step ``name``; the new screen rebuilds itself from the session."""
        if len(self.screen_stack) == 1:
            # The first step is the default screen, which Textual can't switch away
            # from: the next step goes on top of it, and later steps replace that one.
            self.push_screen(self._make(name))
        else:
            self._free_when_replaced(self.switch_screen(self._make(name)))

    @work(group="tidy", exit_on_error=False)
    async def _free_when_replaced(self, switched: AwaitComplete) -> None:
        # A replaced step is a cycle of widgets only a full collection frees, and those
        # come rarely: collect once it is removed, while that is cheap (once the heap is
        # frozen, a pass only visits what was made since), rather than keep every old step.
        await switched
        await asyncio.sleep(RELEASE_DELAY)
        if gc.get_freeze_count():  # 8-26 ms measured; a full pass before the freeze is 50-190
            gc.collect()

    def advance(self) -> None:
        """Move to the next step."""
        current = self._current_step()
        index = self.step_index(current) + 1 if current else 0
        if index < len(self.steps):
            self.go_to(self.steps[index])

    @work(exclusive=True, group="warm-up", exit_on_error=False)
    async def _warm_up_exchange_client(self) -> None:
        """Import python-binance (~0.6 s) in a thread while the user reads the welcome,
        so step 3's validation doesn't pay for it while the user waits on it."""
        from wizard.exchange.transport import load_python_binance

        await load_python_binance()
        from wizard.gc_pause import freeze_long_lived

        # Normally while the welcome is read, a screen that stays alive anyway (the default
        # screen): Textual, python-binance, aiohttp, dateparser... leave later collections.
        freeze_long_lived()

    def go_back(self) -> None:
        """Move to the previous step (entries stay in the session)."""
        current = self._current_step()
        if current and self.step_index(current) > 0:
            self.go_to(self.steps[self.step_index(current) - 1])

    def _current_step(self) -> str | None:
        screen = self.screen
        return screen.STEP if isinstance(screen, StepScreen) else None

    def finish(self) -> None:
        """The flow is complete: exit with status 0."""
        self.exit(return_code=EXIT_COMPLETED)

    # -- quitting -----------------------------------------------------------------------
    def _half_entered(self) -> bool:
        session = self.session
        entered = bool(session.api_key) or session.secret is not None
        return (entered and not session.stored) or (
            session.rotating_label is not None and session.stored and not self.rotation_done)

    def action_request_quit(self) -> None:
        """ctrl+q: quit, asking first when something would be lost."""
        if self.storing:
            self.notify("Storing the key: quit once this finishes (a second or two).", severity="warning")
            return
        from wizard.screens.dialogs import ConfirmDialog  # not needed for the first frame

        if isinstance(self.screen, ConfirmDialog):
            return
        session = self.session
        if session.stored and session.test_passed and (session.rotating_label is None or self.rotation_done):
            self.finish()  # everything is done: quitting now is completing
            return
        if not self._half_entered():
            self.exit(return_code=EXIT_QUIT)
            return
        if session.stored:
            question = ("The new key is stored, but the old key has not been confirmed deleted in Binance. "
                        "Quit anyway? Delete the old key in Binance yourself.")
        else:
            question = ("You have entered a key that is not stored yet. Quit anyway? Nothing will be saved, "
                        "and the key you created in Binance stays there until you delete it.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.session.forget_secret()
                self.exit(return_code=EXIT_QUIT)

        self.push_screen(ConfirmDialog("Quit the wizard?", question, yes="Quit", no="Stay"), answered)

    # -- demo simulator -----------------------------------------------------------------
    @work(exclusive=True, group="sim")
    async def _launch_sim(self) -> None:
        from wizard.messages import SimFailed, SimStarted

        def start() -> tuple[Any, str]:
            from wizard.sim import SimExchange  # aiohttp: imported off the UI thread

            sim = SimExchange()
            if self.old_key is not None and self.old_record is not None:
                from wizard.demo_rotation import adopt_old_key

                adopt_old_key(sim, self.old_key, self.old_record)  # a demo rotation
            return sim, sim.start_in_thread(port=0)

        try:
            sim, base_url = await asyncio.wait_for(asyncio.to_thread(start), self.services.call_timeout)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never fatal
            self.post_message(SimFailed(f"{type(exc).__name__} while starting the simulator"))
            return
        self.services.sim = sim
        self.post_message(SimStarted(Environment.custom(base_url, simulated=True)))

    def on_sim_started(self, message: SimStarted) -> None:
        self.session.env = message.env
        self.sim_ready = True
        self._refresh_screen()

    def on_sim_failed(self, message: SimFailed) -> None:
        self.notify(f"The simulated exchange could not start ({message.reason}).", severity="error",
                    timeout=30)

    def stop_simulator(self) -> None:
        """Stop the demo's simulator, if this run started one."""
        services = self._services
        if isinstance(services, Services) and services.sim is not None:
            services.sim.stop_in_thread()

    def _refresh_screen(self) -> None:
        if isinstance(self.screen, StepScreen):
            self.screen.refresh_state()

    # -- crashes never print locals -------------------------------------------------------
    def _fatal_error(self) -> None:
        """Show the crash without local variables (Textual's default prints them, secrets included)."""
        from rich.segment import Segments

        self.bell()
        secrets = [self.session.secret] if self.session.secret is not None else []
        self.session.forget_secret()
        error = sys.exc_info()[1] or self._exception
        error = getattr(error, "error", error)  # unwrap WorkerFailed
        rendered = self.console.render(_safe_traceback(error, secrets), self.console.options)
        self._exit_renderables.append(Segments(rendered))
        self._close_messages_no_wait()


def _safe_traceback(error: BaseException | None, secrets: list[Any]) -> Any:
    """A traceback renderable with no locals and the session's secret masked in messages."""
    from rich.text import Text

    if error is None:
        return Text("binance-key-wizard stopped after an internal error.")
    try:
        from wizard.crash import safe_rich_traceback
    except ImportError:  # crash module missing: rich, still without locals
        from rich.traceback import Traceback

        return Traceback.from_exception(type(error), error, error.__traceback__, show_locals=False)
    return safe_rich_traceback(error, secrets=secrets, width=None)


def create_app(services: Services | Callable[[], Services], *, env: Environment,
               purpose: Purpose | None = None, profile: Profile | None = None,
               rotate_label: str | None = None, start_sim: bool = False,
               old_key: KeyMaterial | None = None, store_uri: str | None = None) -> WizardApp:
    """Build the wizard around injected collaborators (or a builder for them, called on first use).

    ``rotate_label`` pre-fills the run from the registry record of the key
    being replaced. ``start_sim`` (the CLI's ``--demo``) starts the simulator
    after the first frame and switches ``env`` to it. ``old_key`` is the rotated key as
    loaded from the keyring (memory only): the new key is compared with it in full.
    ``store_uri`` (``--store``, already checked) is where the key goes instead of the
    profile's store or the keyring.
    """
    session = WizardSession(env=env, profile=profile, store_uri=store_uri)
    if profile is not None and getattr(profile, "purpose", None):
        session.purpose = profile.purpose
    if purpose is not None:
        session.purpose = purpose
    app = WizardApp(services, session, start_sim=start_sim)
    if rotate_label is not None:
        record = app.services.registry.get(rotate_label)
        if record is None:
            raise LookupError(f"no managed key is labelled {rotate_label!r}")
        app.old_record = record
        app.old_key = old_key
        session.rotating_label = rotate_label
        session.label = record.label
        session.purpose = purpose or record.purpose
        session.key_type = record.key_type
    return app
