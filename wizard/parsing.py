"""Every parser of user input, each failing with an :class:`InputError` that says what to do.

Rules that hold for every function here:

* A message never echoes input that might be a secret (API key, HMAC secret,
  private key): a secret pasted into the wrong field must not end up on screen
  or in a log. Labels, IPs and symbols are not secret and are quoted back.
* Parsers are forgiving about what copy-and-paste adds (spaces, line breaks,
  CRLF, indentation, surrounding quotes) and strict about everything else.
* Exceptions raised here never chain the library exception that triggered
  them (``from None``), so no traceback can carry a secret's context.
"""

from __future__ import annotations

import base64
import ipaddress
import re

from wizard.ip_ranges import NOT_PUBLIC
from wizard.secret import Secret

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

API_KEY_LENGTH = 64
# Binance does not publish a limit for API key labels, and the API Management
# form's maxlength could not be confirmed from public sources (the only
# documented Binance "label ... must not exceed 20 characters" is for
# withdrawal addresses). 32 is a conservative choice: short enough for any
# label form we know of, long enough for "<tool>-<purpose>-<host>-<date>".
LABEL_MAX_LENGTH = 32
LABEL_MIN_LENGTH = 4
# Labels have their own module (rules, suggestions, what a label names); re-exported at the end.
# Binance documents "Max 30" trusted IPs per API key (API key creation docs).
MAX_IPS = 30
SYMBOL_PATTERN = re.compile(r"[A-Z0-9]{5,20}")

# Characters a paste picks up from web pages and chat apps that are not whitespace.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


class InputError(ValueError):
    """User input that cannot be used; the message says what to do instead."""


def _strip_paste(text: str) -> str:
    """Remove every whitespace and invisible character and one pair of surrounding quotes."""
    cleaned = "".join(text.translate(_INVISIBLE).split())
    if len(cleaned) >= 2 and cleaned[0] == cleaned[-1] and cleaned[0] in "'\"`":
        cleaned = cleaned[1:-1]
    return cleaned


def _check_64_alnum(cleaned: str, what: str, where: str) -> None:
    """Raise an InputError describing how ``cleaned`` differs from 64 letters/digits."""
    if not cleaned:
        raise InputError(f"Paste the {what}: {where}.")
    if "-----BEGIN" in cleaned:
        raise InputError(
            f"That looks like a PEM key, not the {what}. Paste the {what} here: {where}."
        )
    bad = sum(1 for ch in cleaned if not (ch.isascii() and ch.isalnum()))
    if bad:
        first = next(i for i, ch in enumerate(cleaned) if not (ch.isascii() and ch.isalnum())) + 1
        raise InputError(
            f"The {what} should contain only letters and digits, but {bad} unexpected "
            f"character{'s' if bad > 1 else ''} (first at position {first}) came with the paste. "
            f"Copy just the {what} again: {where}."
        )
    if len(cleaned) != API_KEY_LENGTH:
        hint = "part of it is missing" if len(cleaned) < API_KEY_LENGTH else "something extra was copied"
        raise InputError(
            f"The {what} has {len(cleaned)} characters instead of {API_KEY_LENGTH}: {hint}. "
            f"Copy it again in full: {where}."
        )


def clean_api_key(text: str) -> str:
    """Return the 64-character API key from a paste (whitespace and line breaks removed)."""
    cleaned = _strip_paste(text)
    _check_64_alnum(cleaned, "API key", "it is shown as 'API Key' in Binance's API Management")
    return cleaned


def clean_hmac_secret(text: str | Secret) -> Secret:
    """Return the 64-character HMAC secret key from a paste, wrapped in a :class:`Secret`."""
    raw = text.reveal() if isinstance(text, Secret) else text
    cleaned = _strip_paste(raw)
    _check_64_alnum(
        cleaned,
        "secret key",
        "Binance showed it once, when the key was created; if it is lost, delete the key and create a new one",
    )
    return Secret(cleaned)


_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END ([A-Z0-9 ]+)-----", re.S)
_ED25519_OID = bytes.fromhex("06032b6570")
_RSA_OID = bytes.fromhex("06092a864886f70d010101")
_GENERATE_HINT = "Let the wizard generate an Ed25519 key pair, or run: openssl genpkey -algorithm ed25519"
_RSA_MESSAGE = (
    "RSA private keys are not supported: too large for Windows Credential Manager. "
    f"Generate an Ed25519 key instead. {_GENERATE_HINT}."
)
_NOT_ED25519_MESSAGE = f"Only Ed25519 private keys are supported. {_GENERATE_HINT}."


def normalize_private_key_pem(text: str | Secret) -> Secret:
    """Return a canonical unencrypted PKCS#8 Ed25519 private key PEM as a :class:`Secret`.

    Accepts CRLF line ends, indentation, blank lines and trailing spaces, and
    re-exports the key so python-binance treats it as Ed25519: it assumes RSA
    for PEM text longer than 120 characters, and the canonical form is 118.
    """
    raw = text.reveal() if isinstance(text, Secret) else text
    lines = [line.strip() for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    compact = "\n".join(line for line in lines if line)
    if not compact:
        raise InputError("Paste the private key, starting with -----BEGIN PRIVATE KEY-----.")
    blocks = list(_PEM_BLOCK.finditer(compact))
    if not blocks:
        raise InputError(
            "This is not a PEM private key: it must start with -----BEGIN PRIVATE KEY----- and end "
            "with -----END PRIVATE KEY-----. Copy the whole file, including those two lines."
        )
    # A paste of a whole key-pair file holds the public block too: the private one is wanted.
    match = next((m for m in blocks if "PRIVATE" in m.group(1)), blocks[0])
    kind, body, end_kind = match.group(1), match.group(2), match.group(3)
    _reject_wrong_kind(kind, body)
    if end_kind != kind:
        raise InputError("The key's BEGIN and END lines do not match: copy the whole key file again.")
    der = _decode_body(body)
    _reject_wrong_algorithm(der)
    return Secret(_reexport_ed25519(der))


def _reject_wrong_kind(kind: str, body: str) -> None:
    if "ENCRYPTED" in kind or "Proc-Type: 4,ENCRYPTED" in body:
        raise InputError(
            "This private key is encrypted with a passphrase, and python-binance cannot use encrypted "
            "Ed25519 keys. Export it unencrypted (openssl pkey -in key.pem -out plain.pem) — the OS "
            "keyring will protect it instead."
        )
    if "PUBLIC KEY" in kind:
        raise InputError(
            "This is a public key. Paste the PRIVATE key here (-----BEGIN PRIVATE KEY-----); the public "
            "key is what you register in Binance's API Management."
        )
    if kind == "RSA PRIVATE KEY":
        raise InputError(_RSA_MESSAGE)
    if kind == "OPENSSH PRIVATE KEY":
        raise InputError(
            "This is an OpenSSH key. Don't reuse an SSH key for Binance: use a dedicated Ed25519 key in "
            f"PKCS#8 form (-----BEGIN PRIVATE KEY-----). {_GENERATE_HINT}."
        )
    if kind == "EC PRIVATE KEY":
        raise InputError(_NOT_ED25519_MESSAGE)
    if kind != "PRIVATE KEY":
        raise InputError(
            "This PEM block is not a private key (-----BEGIN PRIVATE KEY-----). "
            f"Paste the Ed25519 private key. {_GENERATE_HINT}."
        )


def _decode_body(body: str) -> bytes:
    joined = "".join(body.split())
    try:
        der = base64.b64decode(joined, validate=True)
    except ValueError:
        der = b""
    if not der:
        raise InputError(
            "The key text between the BEGIN and END lines is damaged (not valid base64). "
            "Copy the whole key file again, without editing it."
        )
    return der


def _reject_wrong_algorithm(der: bytes) -> None:
    # The algorithm OID sits in the first few dozen bytes of a PKCS#8 structure.
    head = der[:32]
    if _RSA_OID in head:
        raise InputError(_RSA_MESSAGE)
    if _ED25519_OID not in head:  # EC (P-256 ...) and anything else
        raise InputError(_NOT_ED25519_MESSAGE)


def _reexport_ed25519(der: bytes) -> str:
    from Crypto.PublicKey import ECC  # lazy: pycryptodome is only needed here

    try:
        key = ECC.import_key(der)
    except Exception:  # noqa: BLE001 - any import failure means the same thing to the user
        key = None
    if key is None or key.curve != "Ed25519" or not key.has_private():
        raise InputError(
            "This Ed25519 private key could not be read (the file is damaged or incomplete). "
            "Copy the whole key file again."
        )
    canonical = key.export_key(format="PEM")
    if len(canonical) > 120:  # python-binance would take it for RSA
        raise InputError("This key could not be converted to the form python-binance needs.")
    return canonical


# Addresses Binance can never see a request come from (wizard/ip_ranges.py).
_NOT_PUBLIC = NOT_PUBLIC
_MIN_PREFIX = {4: 16, 6: 32}  # broader ranges restrict next to nothing
_IP_CHARS = frozenset("0123456789abcdefABCDEF.:/[]%")


def _shown(entry: str, limit: int = 45) -> str:
    """Quote an entry back only when it cannot be a secret pasted into the wrong field."""
    if len(entry) <= limit and (set(entry) <= _IP_CHARS or len(entry) <= 16):
        return f"'{entry}'"
    return f"That {len(entry)}-character entry"


def parse_ip(entry: str, *, allow_private: bool = False) -> IPNetwork:
    """Parse one public IPv4/IPv6 address or CIDR range; a bare address becomes a /32 or /128.

    ``allow_private`` accepts loopback/LAN addresses too: only for the
    simulated exchange in demo mode, which sees its callers as 127.0.0.1.
    """
    text = entry.strip().strip("[]")
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise InputError(
                f"{_shown(entry)} is not an IPv4 or IPv6 address (or a range like 203.0.113.0/24). "
                "Enter the public IP your bot connects from, e.g. 203.0.113.10."
            ) from None
        raise InputError(f"{_shown(entry)} has host bits set: did you mean {loose}?") from None
    advice = (
        "Binance sees your public egress IP: list the address your server or router shows the "
        "internet (e.g. from 'curl https://ifconfig.me')."
    )
    for blocked, why in () if allow_private else _NOT_PUBLIC:
        if network.version == blocked.version and network.subnet_of(blocked):  # type: ignore[arg-type]
            raise InputError(f"{_shown(entry)} is {why}. {advice}")
    if network.prefixlen < _MIN_PREFIX[network.version]:
        raise InputError(
            f"{_shown(entry)} is too broad to protect the key (shorter than "
            f"/{_MIN_PREFIX[network.version]}). List your server's addresses or a narrower range."
        )
    for blocked, why in () if allow_private else _NOT_PUBLIC:
        if network.version == blocked.version and network.overlaps(blocked):
            raise InputError(f"{_shown(entry)} includes addresses that are not public ({why}). {advice}")
    return network


def parse_ip_list(text: str, *, allow_private: bool = False) -> list[IPNetwork]:
    """Parse IPs and CIDR ranges separated by commas, semicolons, spaces or newlines.

    Duplicates are dropped, keeping the first occurrence's position. An empty
    text gives an empty list (no restriction); the caller decides if that's allowed.
    ``allow_private`` is for the simulated exchange only (see :func:`parse_ip`).
    """
    result: list[IPNetwork] = []
    for entry in re.split(r"[,;\s]+", text):
        if not entry:
            continue
        network = parse_ip(entry, allow_private=allow_private)
        if network not in result:
            result.append(network)
    if len(result) > MAX_IPS:
        raise InputError(f"Binance accepts at most {MAX_IPS} IPs per key; {len(result)} were entered.")
    return result


def format_ip(network: IPNetwork) -> str:
    """An address for display and for Binance's form: single hosts without the /32 or /128."""
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def format_ip_list(networks: list[IPNetwork] | tuple[IPNetwork, ...]) -> str:
    """The inverse of :func:`parse_ip_list`: addresses joined by ", "."""
    return ", ".join(format_ip(net) for net in networks)


def parse_symbol(text: str) -> str:
    """Return an upper-case trading symbol such as BTCUSDT (5-20 letters and digits)."""
    symbol = text.strip().upper().replace("/", "").replace("-", "")
    if not SYMBOL_PATTERN.fullmatch(symbol):
        raise InputError(
            f"{_shown(text.strip(), 20)} is not a Binance spot symbol: use 5-20 letters and digits "
            "with no separator, base then quote asset, e.g. BTCUSDT."
        )
    return symbol



# Labels (the rules, the suggestions, what a label names) live in wizard.labels, which builds
# on InputError and the limits above; they are served from here too, loaded on first use.
_LABEL_NAMES = frozenset({"validate_label", "suggest_label", "slugify", "host_slug"})


def __getattr__(name: str) -> object:
    if name in _LABEL_NAMES:
        from wizard import labels

        return getattr(labels, name)
    raise AttributeError(f"module 'wizard.parsing' has no attribute {name!r}")
