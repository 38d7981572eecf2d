"""Step 5 with another store: from --store or typed into the store field, checked by the one parser."""

from __future__ import annotations

from tests.conftest import SENTINEL_SECRET
from tests.store_fixtures import bao_env, creds_dir, files_holding_piece, openbao, unique_prefix  # noqa: F401
from tests.test_app_full import text_of, through_ip
from tests.test_app_harness import SIZE, make_services, press_next, settle
from wizard.app import create_app
from wizard.exchange.model import Environment
from wizard.stores import open_store


async def test_the_wizard_stores_into_systemd_creds_given_with_store(sim, memory_keyring, tmp_path, creds_dir):
    key = sim.keys["read_only"]
    key.secret = SENTINEL_SECRET
    uri = f"systemd-creds:{creds_dir}"
    app = create_app(make_services(sim, memory_keyring, tmp_path), env=Environment.custom(sim.base_url, simulated=True),
                     store_uri=uri)
    async with app.run_test(size=SIZE) as pilot:
        await through_ip(pilot, key.api_key, SENTINEL_SECRET, "read")
        await settle(pilot)
        assert "systemd credentials" in text_of(app, "#where")
        assert app.screen.query_one("#store-uri").value == uri
        await pilot.press("s")
        await settle(pilot)
        assert app.session.stored, text_of(app, "#problem")
        await press_next(pilot)  # the test step, then the summary names the store
        await settle(pilot)
        await press_next(pilot)
        await settle(pilot)
        assert app.screen.STEP == "summary", app.screen.STEP
        assert uri in text_of(app, "#stored") and f"store={uri!r}" in text_of(app, "#snippet")
    label = app.session.label
    assert open_store(uri).load(label).secret.reveal() == SENTINEL_SECRET
    assert app.services.registry.get(label).store == uri
    assert memory_keyring.entries == {}  # nothing went to the keyring
    assert files_holding_piece(creds_dir, SENTINEL_SECRET) == []


async def test_a_bad_store_typed_on_step_5_is_refused_there_and_nothing_is_lost(sim, memory_keyring, tmp_path,
                                                                              creds_dir):
    key = sim.keys["read_only"]
    app = create_app(make_services(sim, memory_keyring, tmp_path), env=Environment.custom(sim.base_url, simulated=True))
    async with app.run_test(size=SIZE) as pilot:
        await through_ip(pilot, key.api_key, key.secret, "read")
        await settle(pilot)
        field = app.screen.query_one("#store-uri")
        field.value = "vault+http://vault.example.com/secret/bots"
        field.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "unencrypted" in text_of(app, "#problem")
        assert app.session.secret is not None and app.session.api_key == key.api_key  # everything entered stays
        field.value = f"systemd-creds:{creds_dir}"
        await pilot.press("enter")
        await settle(pilot)
        assert app.session.store_uri == f"systemd-creds:{creds_dir}"
        assert "probe" in text_of(app, "#progress")
        app.screen.query_one("#store").focus()
        await pilot.press("s")
        await settle(pilot)
        assert app.session.stored
    assert (creds_dir / f"{app.session.label}.cred").exists()


async def test_a_wizard_run_into_openbao_leaves_the_sentinel_only_in_openbao(sim, memory_keyring, isolated_home,
                                                                             bao_env, unique_prefix, monkeypatch):
    import tempfile

    from tests.test_leaks import process_tree_texts

    monkeypatch.setattr(tempfile, "tempdir", None)  # temp files land in isolated_home
    key = sim.keys["read_only"]
    key.secret = SENTINEL_SECRET
    uri = bao_env.uri(unique_prefix)
    app = create_app(make_services(sim, memory_keyring, isolated_home / ".config"),
                     env=Environment.custom(sim.base_url, simulated=True), store_uri=uri)
    async with app.run_test(size=SIZE) as pilot:
        await through_ip(pilot, key.api_key, SENTINEL_SECRET, "read")
        await settle(pilot)
        assert "probe" in text_of(app, "#progress")
        await pilot.press("s")
        await settle(pilot)
        assert app.session.stored, text_of(app, "#problem")
        assert not any(SENTINEL_SECRET[i:i + 12] in text for text in process_tree_texts()
                       for i in range(0, len(SENTINEL_SECRET) - 11))
        screen = app.export_screenshot()
    assert SENTINEL_SECRET[:12] not in screen
    assert open_store(uri).load(app.session.label).secret.reveal() == SENTINEL_SECRET
    assert memory_keyring.entries == {}
    assert files_holding_piece(isolated_home, SENTINEL_SECRET) == []
    assert files_holding_piece(bao_env.home, SENTINEL_SECRET) == []
