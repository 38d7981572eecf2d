#!/usr/bin/env bash
# One command that sets up a fresh machine and rehearses the wizard on the
# built-in simulated exchange:
#   bash wizard/demo.sh [--purpose read|spot] [--profile FILE]
#
# It installs the package into .venv, then runs `binance-key-wizard --demo`.
# Where no OS keyring answers (a Linux server or container without a desktop)
# it installs Debian's gnome-keyring and D-Bus when missing and runs the demo
# inside a private D-Bus session with a GNOME Keyring of its own, kept under
# ~/.local/share/binance-key-wizard/demo-keyring so the demo credentials are
# still there afterwards; after the wizard it lists what that keyring holds.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e .

has_keyring() {
  .venv/bin/python -c 'from wizard.vault import Vault; raise SystemExit(Vault(timeout=5).check_health() is not None)' 2>/dev/null
}

if has_keyring; then
  exec .venv/bin/binance-key-wizard --demo "$@"
fi

if [ "$(uname -s)" != "Linux" ]; then
  echo "No usable OS keyring was found; run '.venv/bin/binance-key-wizard --demo' to see how to fix it." >&2
  exit 3
fi

need_apt=()
command -v dbus-run-session >/dev/null || need_apt+=(dbus)
command -v gnome-keyring-daemon >/dev/null || need_apt+=(gnome-keyring)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "No OS keyring answers here: installing Debian packages ${need_apt[*]} for a private GNOME Keyring."
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

DEMO_KEYRING_HOME="${XDG_DATA_HOME:-$HOME/.local/share}/binance-key-wizard/demo-keyring"
mkdir -p "$DEMO_KEYRING_HOME"
chmod 700 "$DEMO_KEYRING_HOME"
export DEMO_KEYRING_HOME

# The keyring password only unlocks this throwaway demo keyring, which holds
# keys valid on the simulator alone.
exec dbus-run-session -- sh -c '
  printf "binance-key-wizard-demo" | XDG_DATA_HOME="$DEMO_KEYRING_HOME" \
    gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
  .venv/bin/binance-key-wizard --demo "$@"
  status=$?
  .venv/bin/python -m wizard.demo_report
  exit $status
' demo "$@"
# (No stderr filter here: Textual draws the screen on stderr.)
