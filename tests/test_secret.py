"""Secret: the one type a secret travels in never shows its value by accident."""

from __future__ import annotations

import copy
import json
import logging
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import SENTINEL_SECRET
from tests.leaks import assert_no_leak
from wizard.secret import REDACTED, Secret


@pytest.fixture
def secret() -> Secret:
    return Secret(SENTINEL_SECRET)


def test_reveal_is_the_only_way_to_the_value(secret):
    assert secret.reveal() == SENTINEL_SECRET
    assert len(secret) == len(SENTINEL_SECRET)
    assert bool(secret) and not bool(Secret(""))


@pytest.mark.parametrize(
    "render",
    [
        repr,
        str,
        lambda s: format(s),
        lambda s: format(s, ">80"),
        lambda s: f"{s}",
        lambda s: f"{s!r}",
        lambda s: f"{s!s}",
        lambda s: f"{s:s}",
        lambda s: "%s" % s,
        lambda s: "%r" % (s,),
        lambda s: "{}".format(s),
        lambda s: "{0!r}".format(s),
        lambda s: str([s]),
        lambda s: repr({"secret": s}),
        lambda s: repr((s,)),
    ],
)
def test_every_rendering_is_masked(secret, render):
    text = render(secret)
    assert_no_leak(text)
    assert "********" in text


def test_logging_masks_it(secret, caplog):
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("wizard.test").info("stored %s / %r", secret, secret)
    assert_no_leak(caplog.text)
    assert REDACTED in caplog.text


def test_pickle_is_refused_without_quoting_the_value(secret):
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError) as info:
            pickle.dumps(secret, protocol=protocol)
        assert_no_leak(str(info.value))
    with pytest.raises(TypeError):
        pickle.dumps({"nested": [secret]})


def test_copy_is_refused(secret):
    # A copy would be a second place holding the value; refusing is the safe answer.
    with pytest.raises(TypeError):
        copy.copy(secret)
    with pytest.raises(TypeError):
        copy.deepcopy({"k": secret})


def test_json_dumps_is_refused(secret):
    with pytest.raises(TypeError) as info:
        json.dumps({"secret": secret})
    assert_no_leak(str(info.value))


def test_equality_is_by_value_and_only_with_secrets(secret):
    assert secret == Secret(SENTINEL_SECRET)
    assert secret != Secret(SENTINEL_SECRET + "x")
    assert secret != Secret("")
    assert secret != SENTINEL_SECRET  # never equal to a plain str: no accidental comparisons
    assert (secret == SENTINEL_SECRET) is False
    assert hash(secret) == id(secret)  # not derived from the value


def test_is_immutable_and_has_no_dict(secret):
    with pytest.raises(AttributeError):
        secret._value = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        secret.extra = 1  # type: ignore[attr-defined]
    assert not hasattr(secret, "__dict__")
    assert secret.reveal() == SENTINEL_SECRET


def test_wrapping_a_secret_keeps_the_value_and_rejects_non_strings(secret):
    assert Secret(secret).reveal() == SENTINEL_SECRET
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Secret(None)  # type: ignore[arg-type]


def test_exception_carrying_a_secret_shows_the_mask(secret):
    err = ValueError("bad", secret)
    assert_no_leak(str(err) + repr(err))


@given(st.text(min_size=1))
def test_no_value_ever_shows(value):
    s = Secret(value)
    for text in (repr(s), str(s), f"{s}", "%s" % s, format(s, "^40")):
        # The mask itself contains a few fixed characters; any value not inside it must be absent.
        if value not in REDACTED and value not in format(REDACTED, "^40"):
            assert value not in text
    assert s == Secret(value)
    assert s.reveal() == value
