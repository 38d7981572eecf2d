"""The real-keyring tier can't be skipped quietly: tests/run.sh and .ci/run with a broken keyring.

A ``gnome-keyring-daemon`` that fails (first on PATH, the way a broken install
or a missing D-Bus would behave) must be reported by tests/run.sh; in required
mode (``WIZARD_REQUIRE_SECRET_SERVICE=1``, which .ci/run sets itself, whatever
the runner exports) the run fails instead of skipping the Secret Service tests.
These run tests/run.sh itself in a child, on one small test file.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(300)
ONE_TEST = ["-q", "-p", "no:cacheprovider", "tests/test_secret_service.py", "-k", "round_trip", "-x"]


@pytest.fixture
def broken_keyring_env(tmp_path) -> dict[str, str]:
    """The environment of a machine whose gnome-keyring-daemon fails to start."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "gnome-keyring-daemon"
    fake.write_text("#!/bin/sh\necho 'gnome-keyring-daemon: cannot create control directory' >&2\nexit 1\n")
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "WIZARD_REQUIRE_SECRET_SERVICE")}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    return env


def test_run_sh_says_the_tier_is_skipped_when_not_required(broken_keyring_env):
    done = subprocess.run(["bash", "tests/run.sh", *ONE_TEST], cwd=ROOT, env=broken_keyring_env,
                          capture_output=True, text=True, timeout=280)
    assert "failed to start or unlock" in done.stderr
    assert "Secret Service tests will be SKIPPED" in done.stderr
    assert "skipped" in done.stdout


def test_ci_run_makes_the_keyring_tier_mandatory_itself(broken_keyring_env):
    """No CI=true from the runner: .ci/run must still fail (before running the suite)."""
    done = subprocess.run(["bash", ".ci/run"], cwd=ROOT, env=broken_keyring_env, capture_output=True,
                          text=True, timeout=280)
    assert done.returncode == 3, done.stdout[-2000:]
    assert "failed to start or unlock" in done.stderr
    assert "cannot create control directory" in done.stderr  # the daemon's own words, not discarded
    assert "passed" not in done.stdout  # it stopped before pytest
