"""The hand-off to bots: one call from a label to a configured python-binance client.

::

    from wizard import load_credentials
    creds = load_credentials("portfolio-tracker")
    client = creds.client()              # binance.Client, pointed at the right server

Credentials come only from a store: the one the registry recorded for the label,
the one named with ``store=URI`` (systemd credentials, Vault/OpenBao), the
document systemd hands a unit in ``$CREDENTIALS_DIRECTORY``, or the OS keyring
(without a registry, so a bot works on a machine where only the entry exists). ``repr``/``str``
never show the secret; errors say which label failed and what to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from wizard.exchange.model import Environment, KeyMaterial, KeyType
from wizard.registry import fingerprint
from wizard.secret import Secret
from wizard.vault import SERVICE, KeyringProblem, KeyringProblemKind, StoredKey, Vault

if TYPE_CHECKING:
    from binance import AsyncClient, Client

CredentialsErrorKind = Literal["unknown_label", "keyring_unusable", "unverified"]
# Options that would point the client elsewhere, replace the key, or log signatures.
_FORBIDDEN_OPTIONS = frozenset({"api_key", "api_secret", "private_key", "testnet", "demo", "verbose", "tld"})


class CredentialsError(Exception):
    """No usable credentials for a label. ``kind`` is "unknown_label",
    "keyring_unusable" (also a damaged entry) or "unverified" (an add that never
    finished); ``problem`` is the underlying KeyringProblem, if any; the
    message names the label and says what to do."""

    def __init__(self, kind: CredentialsErrorKind, message: str, problem: KeyringProblem | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.problem = problem

    @property
    def exit_code(self) -> int:
        """CLI exit code: 3."""
        return 3


@dataclass(frozen=True, repr=False, eq=False)
class Credentials:
    """A stored key, ready to use. The secret is a :class:`Secret`; ``repr`` never shows it."""

    label: str
    api_key: str
    key_type: KeyType
    secret: Secret
    env: Environment

    def __repr__(self) -> str:
        return (
            f"Credentials(label={self.label!r}, api_key={fingerprint(self.api_key)!r}, "
            f"key_type={self.key_type!r}, env={self.env.name!r}, secret=<redacted>)"
        )

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    @classmethod
    def from_stored(cls, label: str, stored: StoredKey) -> Credentials:
        """Build from a keyring entry."""
        return cls(label, stored.api_key, stored.key_type, stored.secret, stored.environment())

    def key_material(self) -> KeyMaterial:
        """The key as the wizard's exchange gateway takes it."""
        return KeyMaterial(self.api_key, self.key_type, self.secret)

    def _signing_args(self) -> dict[str, str]:
        if self.key_type == "ed25519":
            # python-binance treats PEM text over 120 characters as RSA: pass it normalised.
            pem = self.secret.reveal().replace("\r\n", "\n").strip() + "\n"
            return {"api_key": self.api_key, "private_key": pem}
        return {"api_key": self.api_key, "api_secret": self.secret.reveal()}

    def _configure(self, client: Any) -> Any:
        # /sapi always uses MARGIN_API_URL: point it at this environment's server too, so a
        # testnet key is never signed against production (which has the only real /sapi).
        client.API_URL = self.env.api_url
        client.MARGIN_API_URL = self.env.sapi_url or self.env.api_url.removesuffix("/api") + "/sapi"
        return client

    @staticmethod
    def _check_options(options: dict[str, Any]) -> None:
        bad = sorted(_FORBIDDEN_OPTIONS & options.keys())
        if bad:
            raise TypeError(f"{', '.join(bad)} can't be overridden: the stored key decides them")
        # Never follow a redirect with the key (requests and aiohttp both follow
        # them by default, re-sending X-MBX-APIKEY and the signed query to the
        # new host); a bot can still say otherwise explicitly.
        params = dict(options.get("requests_params") or {})
        params.setdefault("allow_redirects", False)
        options["requests_params"] = params

    def client(self, **options: Any) -> Client:
        """A python-binance ``Client`` for this key and environment (no network call on creation).

        ``options`` go to ``Client`` (e.g. ``requests_params``); the key, the
        server and ``verbose`` (it logs signatures) can't be overridden, and
        redirects are not followed unless ``requests_params`` says so.
        """
        from binance import Client

        self._check_options(options)
        options.setdefault("ping", False)
        return self._configure(Client(**self._signing_args(), **options))

    def async_client(self, **options: Any) -> AsyncClient:
        """A python-binance ``AsyncClient`` (create it inside a running event loop;
        close it with ``await client.close_connection()``). Makes no network call."""
        from binance import AsyncClient

        self._check_options(options)
        return self._configure(AsyncClient(**self._signing_args(), **options))


def load_credentials(
    label: str, service: str = SERVICE, *, backend: Any = None, timeout: float = 10.0, store: str | None = None
) -> Credentials:
    """The credentials stored under ``label`` by binance-key-wizard.

    Where from: ``store`` (a store URI) when given; the keyring ``service`` on
    ``backend`` when either is given (``backend`` is a keyring backend to use
    instead of the OS default, for tests); else where the registry says the
    label lives, or ``$CREDENTIALS_DIRECTORY/LABEL`` under a systemd unit, or the
    OS keyring (:func:`wizard.stores.resolve`). Raises :class:`CredentialsError`
    ("unknown_label", "keyring_unusable" — also for a bad ``store`` URI — or
    "unverified" when the registry on this machine says the add of ``label``
    never finished: such a key passed the permission check but its stored copy
    was never proven, so it is not handed out). Without a registry (a machine
    where only the store's entry exists) the entry is served.
    """
    from wizard.stores import StoreError, StoreURIError, resolve

    _refuse_unfinished(label)
    try:
        if store is None and (backend is not None or service != SERVICE):
            source: Any = Vault(backend=backend, service=service, timeout=timeout)
        else:
            source, _ = resolve(label, store, timeout=timeout)
        stored = source.load(label)
    except StoreURIError as exc:
        raise CredentialsError("keyring_unusable", f"Can't read the credentials labelled {label!r}: {exc}") from None
    except StoreError as err:
        problem = err.problem
        if problem.kind is KeyringProblemKind.NOT_FOUND:
            where = f"the keyring (service {service!r})" if isinstance(source, Vault) else source.describe()
            message = (
                f"No credentials labelled {label!r} in {where}. "
                f"Run `binance-key-wizard` to set up a key with this label, or "
                f"`binance-key-wizard review` to list the labels you have."
            )
            raise CredentialsError("unknown_label", message, problem) from None
        message = f"Can't read the credentials labelled {label!r}: {problem.message} {problem.fix}"
        raise CredentialsError("keyring_unusable", message, problem) from None
    try:
        return Credentials.from_stored(label, stored)
    except (TypeError, ValueError, AttributeError):
        pass  # raised outside: never chain an exception that saw the entry
    message = (f"The keyring entry for {label!r} is damaged (its environment can't be read). "
               f"Store the key again with `binance-key-wizard` under this label.")
    raise CredentialsError("keyring_unusable", message)


def _refuse_unfinished(label: str) -> None:
    """CredentialsError "unverified" if this machine's registry holds a pending record for ``label``."""
    from wizard.registry import Registry, RegistryError

    try:
        record = Registry().get(label)
    except (RegistryError, OSError):
        return  # no readable registry here: the keyring alone decides (see the docstring above)
    if record is not None and getattr(record, "pending", False):
        raise CredentialsError(
            "unverified",
            f"The key labelled {label!r} was never verified: the run that added it stopped before "
            f"finishing. Run `binance-key-wizard check {label}` to see what is stored, then add it again "
            f"or `binance-key-wizard forget {label}`.",
        )
