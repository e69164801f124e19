#!/usr/bin/env bash
# Install Tamas on Debian 12 and start the demo center.
#
#   bash scripts/install.sh [tamas serve options...]
#
# Run as root from the repository root. Installs Python and espeak-ng (text-to-speech prompts) from apt, creates a virtual
# environment in .venv, installs Tamas into it and runs `tamas serve` (demo center on
# 127.0.0.1: SIP 5060 UDP/TCP, TLS 5061, WebSocket 8089). Safe to run again: steps that are
# already done are skipped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(python3 python3-venv python3-pip ca-certificates espeak-ng)

apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        echo "==> apt packages already installed"
        return
    fi
    echo "==> apt-get install ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
}

# Create (or reuse) .venv and install Tamas with the given extras, e.g. "" or "[test]".
# The install is skipped when pyproject.toml and the extras are unchanged since the last one.
venv_install() {
    local extras="$1" stamp=".venv/.tamas-install" want
    if [[ ! -x .venv/bin/python ]]; then
        echo "==> creating .venv"
        python3 -m venv .venv
    fi
    want="$(sha256sum pyproject.toml | cut -d' ' -f1) ${extras}"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        echo "==> .venv is up to date"
        return
    fi
    echo "==> pip install -e .${extras}"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".${extras}"
    echo "$want" >"$stamp"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    apt_install "${APT_PACKAGES[@]}"
    venv_install ""
    echo "==> starting the demo center (Ctrl-C stops it)"
    exec .venv/bin/tamas serve "$@"
fi
