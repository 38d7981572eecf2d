#!/usr/bin/env bash
# One command that sets up a fresh machine and runs every test:
#   bash tests/run.sh [pytest args...]
# It installs Debian's gnome-keyring/D-Bus, systemd (for systemd-creds) and the
# screenshot tools when missing, creates .venv with the package and its test extra, then runs pytest
# inside a private D-Bus session with an unlocked gnome-keyring, so the
# Secret Service tier talks to a real keyring and never to the user's own.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v dbus-run-session >/dev/null || need_apt+=(dbus)
command -v gnome-keyring-daemon >/dev/null || need_apt+=(gnome-keyring)
command -v rsvg-convert >/dev/null || need_apt+=(librsvg2-bin)
command -v zbarimg >/dev/null || need_apt+=(zbar-tools)
# systemd-creds for the systemd-credentials store tests (works as root without a running systemd).
command -v systemd-creds >/dev/null || need_apt+=(systemd)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# Reinstall only when pyproject.toml changed since the last install (the package itself is
# installed editable, so code changes need none): a test run costs no resolver time.
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# In CI the real tiers must run: tests that cannot reach the Secret Service,
# start OpenBao or use systemd-creds fail instead of skipping. .ci/run sets
# these itself; CI=true (most CI runners) sets them too.
if [ "${CI:-}" = "true" ]; then export WIZARD_REQUIRE_SECRET_SERVICE=1 WIZARD_REQUIRE_REAL_STORES=1; fi

# gnome-keyring keeps its files under XDG_DATA_HOME: give it a throwaway one so
# the tests never open (or pop an unlock prompt for) the developer's own login
# keyring, and no desktop session is asked for a password.
XDG_DATA_HOME="$(mktemp -d)"
export XDG_DATA_HOME
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
unset DISPLAY WAYLAND_DISPLAY

set +e
# A keyring that fails to start or unlock is reported, never discarded: the
# Secret Service tests would only skip. With WIZARD_REQUIRE_SECRET_SERVICE=1
# (CI, .ci/run) it stops the run with exit 3 before pytest starts.
dbus-run-session -- sh -c '
  log="$XDG_DATA_HOME/gnome-keyring-unlock.log"
  if ! printf "wizard-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>"$log"; then
    echo "tests/run.sh: gnome-keyring-daemon failed to start or unlock the test keyring:" >&2
    sed "s/^/  /" "$log" >&2
    [ "${WIZARD_REQUIRE_SECRET_SERVICE:-}" = 1 ] && exit 3
    echo "tests/run.sh: the Secret Service tests will be SKIPPED" >&2
  elif ! .venv/bin/python tests/keyring_ready.py; then
    [ "${WIZARD_REQUIRE_SECRET_SERVICE:-}" = 1 ] && exit 3
    echo "tests/run.sh: the Secret Service tests will be SKIPPED" >&2
  fi
  exec .venv/bin/python -m pytest "$@"
' pytest-in-dbus "$@" 2> >(grep -vE "Failed to set fd limit|gcr-prompter|SystemPrompter" >&2)
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit $rc
