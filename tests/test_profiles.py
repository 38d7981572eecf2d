"""Profiles: example files, every error naming its line and field, and properties over random files."""

from __future__ import annotations

import ipaddress
import math
import string
from datetime import date
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests import ip_oracle
from wizard.exchange.model import RESTRICTION_FIELDS
from wizard.parsing import InputError, validate_label
from wizard.profiles import Profile, ProfileError, _render, load_profile, parse_profile

EXAMPLES = Path(__file__).resolve().parent.parent / "wizard" / "examples"


def test_portfolio_tracker_example_loads():
    profile = load_profile(EXAMPLES / "portfolio-tracker.toml")
    assert profile.purpose == "read" and profile.test_action == "balance"
    assert profile.product == "Acme Portfolio Tracker" and profile.name == "acme-portfolio"
    assert profile.require_ip_restriction is False and profile.egress_ips == ()
    assert profile.render_label("my-laptop.local", date(2026, 3, 1)).endswith("-2026-03-01")


def test_spot_bot_example_loads():
    profile = load_profile(EXAMPLES / "spot-bot.toml")
    assert profile.purpose == "spot" and profile.require_ip_restriction is True
    assert profile.egress_ips == (
        ipaddress.ip_network("203.0.113.10/32"),
        ipaddress.ip_network("203.0.113.11/32"),
        ipaddress.ip_network("2001:db8:5::/64"),
    )
    assert profile.test_action == "place_cancel" and profile.test_symbol == "BTCUSDT"
    assert profile.render_label("vps1", date(2026, 3, 1)) == "acme-bot-vps1-2026-03-01"


@pytest.mark.parametrize("name", ["portfolio-tracker.toml", "spot-bot.toml"])
def test_examples_round_trip(name):
    profile = load_profile(EXAMPLES / name)
    assert parse_profile(profile.to_toml()) == profile


MINIMAL = '[product]\nname = "Acme"\n\n[key]\npurpose = "read"\n'


def test_minimal_profile_defaults():
    profile = parse_profile(MINIMAL, "m.toml")
    assert profile == Profile(name="acme", product="Acme", purpose="read")
    assert profile.source == "m.toml"
    spot = parse_profile(MINIMAL.replace('"read"', '"spot"'))
    assert spot.test_action == "test_order" and spot.rotation_days == 90


def errors_of(text: str) -> tuple[str, ...]:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, "p.toml")
    assert str(info.value).startswith("Profile p.toml has ")
    return info.value.errors


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("rotaton_days = 30", "p.toml, line 6: [key].rotaton_days: unknown key (did you mean 'rotation_days'?)"),
        ("rotation_days = 0", "p.toml, line 6: [key].rotation_days: must be between 1 and 365 days (got 0)"),
        ("rotation_days = true", "p.toml, line 6: [key].rotation_days: must be an integer (got boolean)"),
        ("rotation_days = 400", "(got 400)"),
        ("purpose2 = 1", "unknown key"),
        ('permissions_allowed = ["withdrawals"]', "line 6: [key].permissions_allowed: 'withdrawals' is never allowed"),
        ('permissions_required = ["enableInternalTransfer"]', "'enableInternalTransfer' is never allowed"),
        ('permissions_allowed = ["universal_transfer"]', "never allowed"),
        ('permissions_allowed = ["futures"]', "not supported: this wizard sets up spot keys only"),
        ('permissions_allowed = ["spot_trading"]', "is trading, but purpose is \"read\""),
        ('permissions_allowed = ["everything"]', "unknown permission 'everything'"),
        ("permissions_allowed = [1]", "entries must be strings"),
        ('label_template = "{product}-{hostname}"', "line 6: [key].label_template: unknown placeholder {hostname}"),
        ('label_template = "{product}"', "include {host} or {date}"),
        ('label_template = "{host!r}"', "unknown placeholder"),
        ('label_template = "{host"', "unbalanced"),
        ('label_template = "a/{host}"', "text outside placeholders"),
        ('label_template = "{date}"', "does not give a usable label"),
        ('keyring_service = "my service!"', "[key].keyring_service: use 1-64 letters"),
    ],
)
def test_key_table_errors_name_line_and_field(extra, expected):
    errors = errors_of(MINIMAL + extra + "\n")
    assert any(expected in e for e in errors), errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "missing [product] table"),
        ('[key]\npurpose = "read"\n', "missing [product] table"),
        ('[product]\nname = "Acme"\n', "missing [key] table"),
        ('[product]\nname = "A"\n[key]\npurpose = "trade"\n', "p.toml, line 4: [key].purpose: must be \"read\""),
        ('[product]\n[key]\npurpose = "read"\n', "p.toml, line 1: [product].name: missing"),
        ('[product]\nname = "  "\n[key]\npurpose = "read"\n', "[product].name: must be 1-60 printable"),
        (MINIMAL.replace("[product]", '[product]\nurl = "http://acme.example"'), "line 2: [product].url: must be an https://"),
        (MINIMAL.replace("[product]", '[product]\nid = "Acme Corp"'), "line 2: [product].id: use 1-40"),
        (MINIMAL + "[ip]\negress = [\"10.0.0.1\"]\n", "line 7: [ip].egress: entry 1: '10.0.0.1' is a private"),
        (MINIMAL + "[ip]\negress = \"203.0.113.1\"\n", "[ip].egress: must be an array (got string)"),
        (MINIMAL + "[ip]\nrequire_restriction = \"yes\"\n", "must be a boolean (got string)"),
        (MINIMAL + '[test]\naction = "place_cancel"\n', "line 7: [test].action: a read-only key cannot place orders"),
        (MINIMAL + '[test]\naction = "sell_everything"\n', "[test].action: must be one of balance, test_order, place_cancel"),
        (MINIMAL + '[test]\nsymbol = "BTC"\n', "line 7: [test].symbol: 'BTC' is not a Binance spot symbol"),
        (MINIMAL + "[tset]\naction = 1\n", "p.toml, line 6: unknown table or key 'tset' (did you mean [test]?)"),
        ("schema_version = 2\n" + MINIMAL, "p.toml, line 1: schema_version: only schema_version = 1"),
        ('product = "Acme"\n[key]\npurpose = "read"\n', "p.toml, line 1: product: must be a table"),
        ("[product]\nname = \n", "p.toml, line 2: TOML syntax error"),
        ("[product]\nname = \"a\"\nname = \"b\"\n", "TOML syntax error"),
    ],
)
def test_file_errors_name_line_and_field(text, expected):
    errors = errors_of(text)
    assert any(expected in e for e in errors), errors


def test_every_problem_is_reported_at_once_in_file_order():
    text = (
        '[product]\nnme = "x"\n[key]\npurpose = "read"\nrotation_days = 999\n'
        'label_template = "{prodct}-{date}"\n[ip]\negress = ["127.0.0.1", 5]\n'
    )
    errors = errors_of(text)
    assert len(errors) >= 5
    lines = [int(e.split("line ")[1].split(":")[0]) for e in errors if "line " in e]
    assert lines == sorted(lines)


def test_load_profile_file_errors(tmp_path):
    with pytest.raises(ProfileError, match="cannot read the file"):
        load_profile(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[product]")
    with pytest.raises(ProfileError, match="not UTF-8"):
        load_profile(binary)
    huge = tmp_path / "huge.toml"
    huge.write_text("# " + "x" * 70_000)
    with pytest.raises(ProfileError, match="larger than"):
        load_profile(huge)
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path)  # a directory


def test_deep_nesting_is_a_profile_error_not_a_crash():
    with pytest.raises(ProfileError):
        parse_profile("a = " + "[" * 5000 + "]" * 5000)


def test_render_label_handles_long_hosts_and_falls_back_when_needed():
    profile = parse_profile(MINIMAL.replace('"read"', '"read"\nlabel_template = "{product}-{purpose}-{host}-{date}"'))
    label = profile.render_label("a-really-long-machine-name-for-a-server.example.com", date(2026, 5, 6))
    assert validate_label(label) == label and label.startswith("acme-read-") and label.endswith("2026-05-06")
    hand_built = Profile(name="acme", product="Acme", purpose="read", label_template="{nope}")
    assert validate_label(hand_built.render_label("h", date(2026, 5, 6)))


# --- properties -------------------------------------------------------------------------------


def _template_ok(template: str, product: str = "p", purpose: str = "read") -> bool:
    try:
        _render(template, product, purpose, "host", date(2026, 1, 31))
    except InputError:
        return False
    return "{host}" in template or "{date}" in template


templates = st.builds(
    lambda parts, sep: sep.join(parts),
    st.lists(st.sampled_from(["{product}", "{host}", "{date}", "{purpose}", "acme", "bot", "x1"]), min_size=1, max_size=4),
    st.sampled_from(["-", "_", ".", " "]),
).filter(_template_ok)


egress = st.lists(ip_oracle.addresses.map(ipaddress.ip_network).filter(ip_oracle.allowlistable), max_size=5,
                  unique=True).map(tuple)
ORDER = list(RESTRICTION_FIELDS.values())


def permission_sets(choices):
    return st.lists(st.sampled_from(choices), unique=True).map(lambda xs: tuple(sorted(xs, key=ORDER.index)))


@st.composite
def profiles(draw) -> Profile:
    purpose = draw(st.sampled_from(["read", "spot"]))
    allowed_names = ["reading", "fix_read_only"] + (["spot_trading", "fix_trade"] if purpose == "spot" else [])
    product = draw(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=60).filter(
            lambda s: s == s.strip() and s.isprintable() and len(s) > 0
        )
    )
    name = draw(st.from_regex(r"[a-z0-9][a-z0-9-]{0,39}", fullmatch=True))
    template = draw(templates)
    assume(_template_ok(template, name, purpose))
    return Profile(
        name=name,
        product=product,
        purpose=purpose,
        url=draw(st.none() | st.from_regex(r"https://[a-z][a-z0-9-]{0,20}\.example(/[a-z0-9]{0,8})?", fullmatch=True)),
        permissions_required=draw(permission_sets(allowed_names)),
        permissions_allowed=draw(permission_sets(allowed_names)),
        egress_ips=draw(egress),
        require_ip_restriction=draw(st.booleans()),
        label_template=template,
        keyring_service=draw(st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True)),
        test_action=draw(st.sampled_from(["balance"] if purpose == "read" else ["balance", "test_order", "place_cancel"])),
        test_symbol=draw(st.from_regex(r"[A-Z0-9]{5,20}", fullmatch=True)),
        rotation_days=draw(st.integers(1, 365)),
    )


@settings(max_examples=60)
@given(profiles())
def test_random_valid_profiles_round_trip(profile):
    parsed = parse_profile(profile.to_toml(), "random.toml")
    assert parsed == profile


@settings(max_examples=60)
@given(profiles(), st.text(max_size=80), st.dates())
def test_rendered_labels_are_always_valid(profile, host, day):
    from wizard.labels import host_slug, slugify, specific_words

    label = profile.render_label(host, day)
    if label:
        assert validate_label(label) == label
    else:  # no suggestion only when neither the product nor the host names anything specific
        assert not specific_words(f"{slugify(profile.name)} {host_slug(host)}")


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + "".join(c if c.isalnum() or c in " -_./{}:" else "" for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + "}"


KNOWN_KEYS = ["name", "id", "url", "purpose", "permissions_required", "permissions_allowed", "label_template",
              "rotation_days", "keyring_service", "egress", "require_restriction", "action", "symbol"]
scalars = (
    st.booleans() | st.integers(-10**20, 10**20) | st.floats() | st.text(max_size=30)
    | st.sampled_from(["read", "spot", "balance", "place_cancel", "BTCUSDT", "203.0.113.9", "withdrawals",
                       "{host}-{date}", "https://x.example"])
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KNOWN_KEYS), inner, max_size=3), max_leaves=8)
tables = st.dictionaries(
    st.sampled_from(["product", "key", "ip", "test", "misc"]),
    st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(string.ascii_lowercase, min_size=1, max_size=8), values, max_size=6),
    max_size=5,
)


@settings(max_examples=150)
@given(tables, st.dictionaries(st.sampled_from(["schema_version", "name", "x"]), scalars, max_size=2))
def test_random_structured_profiles_only_raise_profile_error(tables, top):
    lines = [f"{k} = {toml_value(v)}" for k, v in top.items()]
    for table, content in tables.items():
        lines.append(f"[{table}]")
        lines += [f'"{k}" = {toml_value(v)}' for k, v in content.items()]
    try:
        profile = parse_profile("\n".join(lines), "random.toml")
    except ProfileError as exc:
        assert exc.errors and all(e.startswith("random.toml") for e in exc.errors)
    else:
        assert isinstance(profile, Profile)


@settings(max_examples=150)
@given(st.text(max_size=200))
def test_random_text_only_raises_profile_error(text):
    try:
        parse_profile(text)
    except ProfileError as exc:
        assert exc.errors


@settings(max_examples=100)
@given(st.data())
def test_mutated_example_only_raises_profile_error(data):
    text = (EXAMPLES / "spot-bot.toml").read_text()
    pos = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 20))
    insert = data.draw(st.text(max_size=10))
    try:
        parse_profile(text[:pos] + insert + text[pos + cut :])
    except ProfileError as exc:
        assert exc.errors
