"""Profiles: what a bot product ships so the wizard sets up exactly the key it needs.

A profile is a TOML file (``binance-key-wizard --profile acme.toml``)::

    schema_version = 1                      # optional; only 1 exists

    [product]
    name = "Acme Portfolio"                 # required; shown to the user (1-60 characters)
    id = "acme-portfolio"                   # optional; a-z 0-9 -, default: slug of name
    url = "https://acme.example"            # optional; https only

    [key]
    purpose = "read"                        # required: "read" (reading only) or "spot" (+ spot trading)
    permissions_required = ["fix_read_only"]  # optional; beyond what the purpose implies
    permissions_allowed = []                # optional; tolerated when on, never asked for
    label_template = "{product}-{host}-{date}"  # optional; placeholders: product, host, date, purpose
    rotation_days = 90                      # optional; 1-365, default 90
    keyring_service = "binance-key-wizard"  # optional; the OS keyring service name

    [ip]
    egress = ["203.0.113.10", "2001:db8::/64"]  # optional; the product's public IPs/CIDRs (max 30)
    require_restriction = true              # optional; default false: block keys without an IP allowlist

    [test]
    action = "balance"                      # optional: balance | test_order | place_cancel
    symbol = "BTCUSDT"                      # optional; default BTCUSDT

    [store]
    uri = "systemd-creds:/etc/acme/creds"   # optional; where the key is stored (wizard.stores.uri);
                                            # default: the OS keyring under keyring_service

Permissions are named like :class:`~wizard.exchange.model.KeyPermissions`
attributes (``reading``, ``spot_trading``, ``fix_read_only``, ``fix_trade``) or
like Binance's fields (``enableReading``). Withdrawals and transfers are
rejected whatever the profile says; margin, futures, options and portfolio
margin too (this wizard sets up spot keys). A read profile cannot ask for
trading or an order test. The label template must contain ``{host}`` or
``{date}`` so each machine's key gets its own label.

Every problem in a file is reported at once as a :class:`ProfileError` whose
lines name the file, line and field; unknown keys are errors (typos must not
silently drop a setting).
"""

from __future__ import annotations

import difflib
import re
import string
import sys
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wizard.exchange.model import RESTRICTION_FIELDS
from wizard.parsing import MAX_IPS, InputError, IPNetwork, parse_ip, parse_symbol, slugify
from wizard.policy import FORBIDDEN, HARMLESS
from wizard.profile_model import (
    DEFAULT_ROTATION_DAYS,
    DEFAULT_SERVICE,
    DEFAULT_TEMPLATE,
    PLACEHOLDERS,
    TEST_ACTIONS,
    _render,
)

# The data type lives in wizard.profile_model; re-exported so callers keep importing it from here.
from wizard.profile_model import Profile as Profile
from wizard.profile_model import TestAction as TestAction

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_PROFILE_BYTES = 64 * 1024
_SCHEMA: dict[str, tuple[str, ...]] = {
    "product": ("name", "id", "url"),
    "key": (
        "purpose", "permissions_required", "permissions_allowed", "label_template",
        "rotation_days", "keyring_service",
    ),
    "ip": ("egress", "require_restriction"),
    "test": ("action", "symbol"),
    "store": ("uri",),
}
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
_SERVICE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_LABEL_LITERAL = re.compile(r"[A-Za-z0-9 ._-]*")
_SAMPLE_DAY = date(2026, 1, 31)


class ProfileError(ValueError):
    """A profile that cannot be used; ``errors`` holds one line per problem."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = tuple(errors)
        count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
        super().__init__(f"Profile {source} has {count}:\n" + "\n".join(f"  - {e}" for e in errors))


def _short(name: str) -> str:
    """A key name fit for one line of an error message."""
    shown = repr(name)[1:-1]
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _toml_type(value: object) -> str:
    names = {bool: "boolean", int: "integer", float: "float", str: "string", list: "array", dict: "table"}
    return names.get(type(value), "date/time")


class _Checker:
    """Collects errors with the line of each field, so one run reports them all."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source
        self.found: list[tuple[int, str]] = []

    @property
    def errors(self) -> list[str]:
        """The messages so far, in file order."""
        return [text for _, text in sorted(self.found, key=lambda item: item[0])]

    def line_of(self, table: str | None, key: str | None) -> int | None:
        """The 1-based line of ``key =`` inside ``[table]`` (or of the header when key is None)."""
        current: str | None = None
        header = None
        key_re = re.compile(rf"""\s*(["']?){re.escape(key)}\1\s*=""") if key else None
        dotted = (
            re.compile(rf"""\s*{re.escape(table)}\s*\.\s*{re.escape(key)}\s*=""") if key and table else None
        )
        for number, line in enumerate(self.lines, 1):
            found = re.match(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$", line)
            if found:
                current = found.group(1).strip("\"'")
                if current == table and header is None:
                    header = number
                continue
            if key_re and current == table and key_re.match(line):
                return number
            if dotted and current is None and dotted.match(line):
                return number
        return header

    def add(self, table: str | None, key: str | None, message: str, line: int | None = None) -> None:
        line = line if line is not None else self.line_of(table, key)
        where = f"{self.source}, line {line}" if line else self.source
        name = ".".join(p for p in (f"[{table}]" if table else None, key) if p)
        self.found.append((line or 0, f"{where}: {name}: {message}" if name else f"{where}: {message}"))

    def get(
        self, data: dict, table: str, key: str, kind: type, default: Any = None, required: bool = False
    ) -> Any:
        """The value of ``[table] key`` if it has the right TOML type, else record an error."""
        section = data.get(table)
        if not isinstance(section, dict) or key not in section:
            if required:
                self.add(table, key, f"missing (add {key} = ... under [{table}])")
            return default
        value = section[key]
        if type(value) is not kind and not (kind is list and isinstance(value, list)):
            article = "an" if kind in (int, list) else "a"
            self.add(table, key, f"must be {article} {_toml_type(kind())} (got {_toml_type(value)})")
            return default
        return value


def load_profile(path: str | Path) -> Profile:
    """Read and validate a profile file; every failure is a :class:`ProfileError`."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_PROFILE_BYTES + 1)
    except OSError as exc:
        raise ProfileError(source, [f"{source}: cannot read the file ({exc.strerror or exc})"]) from None
    if len(data) > MAX_PROFILE_BYTES:
        raise ProfileError(source, [f"{source}: larger than {MAX_PROFILE_BYTES // 1024} KiB; not a profile"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProfileError(source, [f"{source}: not UTF-8 text (byte {exc.start})"]) from None
    return parse_profile(text, source)


def parse_profile(text: str, source: str = "<profile>") -> Profile:
    """Validate profile TOML text; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        where = f"{source}, line {found.group(1)}" if found else source
        raise ProfileError(source, [f"{where}: TOML syntax error: {exc}"]) from None
    except (RecursionError, ValueError, TypeError):
        raise ProfileError(source, [f"{source}: the file is not valid TOML"]) from None
    check = _Checker(text, source)
    profile = _build(data, check)
    if check.errors or profile is None:
        raise ProfileError(source, check.errors or [f"{source}: not a usable profile"])
    return profile


def _unknown_keys(data: dict, check: _Checker) -> None:
    for key, value in data.items():
        if key == "schema_version":
            if value != 1 or type(value) is not int:
                check.add(None, key, "only schema_version = 1 exists")
            continue
        if key not in _SCHEMA:
            close = difflib.get_close_matches(key, list(_SCHEMA), n=1)
            hint = f" (did you mean [{close[0]}]?)" if close else f" (known tables: {', '.join(_SCHEMA)})"
            line = check.line_of(key, None) or check.line_of(None, key)
            check.add(None, None, f"unknown table or key '{_short(key)}'{hint}", line)
            continue
        if not isinstance(value, dict):
            check.add(None, key, f"must be a table: write [{key}] on its own line")
            continue
        for inner in value:
            if inner not in _SCHEMA[key]:
                close = difflib.get_close_matches(inner, list(_SCHEMA[key]), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(_SCHEMA[key])})"
                check.add(key, _short(inner), f"unknown key{hint}")


def _permissions(data: dict, check: _Checker, key: str, purpose: str | None) -> tuple[str, ...]:
    raw = check.get(data, "key", key, list, [])
    result: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            check.add("key", key, f"entries must be strings (got {_toml_type(item)})")
            continue
        attr, shown = RESTRICTION_FIELDS.get(item, item), _short(item)
        if attr in FORBIDDEN:
            check.add("key", key, f"'{shown}' is never allowed: the wizard refuses keys that can move funds")
        elif attr not in RESTRICTION_FIELDS.values():
            check.add("key", key, f"unknown permission '{shown}' (use {', '.join(HARMLESS)})")
        elif attr not in HARMLESS:
            check.add("key", key, f"'{shown}' is not supported: this wizard sets up spot keys only")
        elif purpose == "read" and attr in ("spot_trading", "fix_trade"):
            check.add("key", key, f"'{shown}' is trading, but purpose is \"read\" (use purpose = \"spot\")")
        elif attr not in result:
            result.append(attr)
    order = list(RESTRICTION_FIELDS.values())
    return tuple(sorted(result, key=order.index))


def _template(data: dict, check: _Checker, product: str, purpose: str) -> str:
    template = check.get(data, "key", "label_template", str, DEFAULT_TEMPLATE)
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        check.add("key", "label_template", "unbalanced { or }: placeholders look like {host}")
        return DEFAULT_TEMPLATE
    names = set()
    for literal, name, spec, conversion in parts:
        if not _LABEL_LITERAL.fullmatch(literal):
            check.add(
                "key", "label_template", "text outside placeholders may only use letters, digits, spaces and - _ ."
            )
            return DEFAULT_TEMPLATE
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            check.add("key", "label_template", f"unknown placeholder {{{_short(name)}}} (use {known})")
            return DEFAULT_TEMPLATE
        names.add(name)
    if not names & {"host", "date"}:
        check.add("key", "label_template", "include {host} or {date} so each machine's key gets its own label")
        return DEFAULT_TEMPLATE
    try:
        _render(template, product or "product", purpose, "host", _SAMPLE_DAY)
    except InputError as exc:
        check.add("key", "label_template", f"does not give a usable label: {exc}")
    return template


def _egress(data: dict, check: _Checker) -> tuple[IPNetwork, ...]:
    result: list[IPNetwork] = []
    for index, item in enumerate(check.get(data, "ip", "egress", list, [])):
        if not isinstance(item, str):
            check.add("ip", "egress", f"entry {index + 1} must be a string like \"203.0.113.10\"")
            continue
        try:
            network = parse_ip(item)
        except InputError as exc:
            check.add("ip", "egress", f"entry {index + 1}: {exc}")
            continue
        if network not in result:
            result.append(network)
    if len(result) > MAX_IPS:
        check.add("ip", "egress", f"Binance accepts at most {MAX_IPS} IPs per key ({len(result)} listed)")
    return tuple(result)


def _product(data: dict, check: _Checker) -> tuple[str, str, str | None]:
    section = data.get("product")
    product = check.get(data, "product", "name", str, "", required=isinstance(section, dict)).strip()
    if isinstance(section, dict) and isinstance(section.get("name"), str):
        if not product or len(product) > 60 or not product.isprintable():
            check.add("product", "name", "must be 1-60 printable characters")
    ident = check.get(data, "product", "id", str, None)
    if ident is None:
        ident = slugify(product)[:40].strip("-") or "profile"
    elif not _ID.fullmatch(ident):
        check.add("product", "id", "use 1-40 lower-case letters, digits and hyphens, e.g. \"acme-portfolio\"")
    url = check.get(data, "product", "url", str, None)
    if url is not None:
        parts = urlsplit(url) if len(url) <= 300 and not re.search(r"\s", url) else None
        if parts is None or parts.scheme != "https" or not parts.hostname:
            check.add("product", "url", "must be an https:// address, e.g. \"https://acme.example\"")
    return product, ident, url


def _build(data: dict, check: _Checker) -> Profile | None:
    _unknown_keys(data, check)
    if "product" not in data:
        check.add(None, None, "missing [product] table with name = \"...\"", 1)
    if "key" not in data:
        check.add(None, None, "missing [key] table with purpose = \"read\" or \"spot\"", 1)
    product, ident, url = _product(data, check)
    purpose = check.get(data, "key", "purpose", str, None, required=isinstance(data.get("key"), dict))
    if purpose is not None and purpose not in ("read", "spot"):
        check.add("key", "purpose", "must be \"read\" (reading only) or \"spot\" (reading and spot trading)")
        purpose = None
    required = _permissions(data, check, "permissions_required", purpose)
    allowed = _permissions(data, check, "permissions_allowed", purpose)
    template = _template(data, check, ident, purpose or "read")
    rotation = check.get(data, "key", "rotation_days", int, DEFAULT_ROTATION_DAYS)
    if not 1 <= rotation <= 365:
        check.add("key", "rotation_days", f"must be between 1 and 365 days (got {rotation})")
    service = check.get(data, "key", "keyring_service", str, DEFAULT_SERVICE)
    if not _SERVICE.fullmatch(service):
        check.add("key", "keyring_service", "use 1-64 letters, digits and . _ -")
    egress = _egress(data, check)
    require_ip = check.get(data, "ip", "require_restriction", bool, False)
    action = check.get(data, "test", "action", str, "balance" if purpose != "spot" else "test_order")
    if action not in TEST_ACTIONS:
        check.add("test", "action", f"must be one of {', '.join(TEST_ACTIONS)}")
    elif purpose == "read" and action != "balance":
        check.add("test", "action", "a read-only key cannot place orders: use action = \"balance\"")
    symbol = check.get(data, "test", "symbol", str, "BTCUSDT")
    try:
        symbol = parse_symbol(symbol)
    except InputError as exc:
        check.add("test", "symbol", str(exc))
    store_uri = _store_uri(data, check)
    if check.errors or purpose is None:
        return None
    return Profile(
        name=ident, product=product, purpose=purpose, url=url, permissions_required=required,
        permissions_allowed=allowed, egress_ips=egress, require_ip_restriction=require_ip,
        label_template=template, keyring_service=service, test_action=action, test_symbol=symbol,
        rotation_days=rotation, store_uri=store_uri, source=check.source,
    )


def _store_uri(data: dict, check: _Checker) -> str | None:
    """``[store] uri``, canonical, checked by the one store-URI parser."""
    uri = check.get(data, "store", "uri", str, None)
    if uri is None:
        return None
    from wizard.stores.uri import StoreURIError, parse_store_uri
    try:
        return str(parse_store_uri(uri))
    except StoreURIError as exc:
        check.add("store", "uri", str(exc))
        return None
