#!/usr/bin/env bash
# Install Tamas on Debian 12 and start the demo center.
#
#   bash scripts/install.sh [tamas serve options...]
#
# Run as root from the repository root. Installs Python and espeak-ng (text-to-speech prompts) from apt, creates a virtual
# environment in .venv, installs Tamas into it and runs `tamas serve` (demo center on
# 127.0.0.1: SIP 5060 UDP/TCP, TLS 5061, WebSocket 8089). Safe to run again: steps that are
# already done are skipped.
#
# The server is installed compiled: the SIP hot path is built with mypyc (setup.py), which
# takes one to two minutes once and makes calls cost about a third less CPU. If compiling
# fails, pure Python is installed instead. TAMAS_COMPILE=0 installs pure Python (editable,
# as for development) from the start.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(python3 python3-venv python3-pip ca-certificates espeak-ng)
# mypyc's C output needs a compiler and the Python headers.
COMPILE_PACKAGES=(gcc python3-dev)

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

# Hash of everything a compiled (non-editable) install is built from.
source_hash() {
    find src setup.py pyproject.toml -type f -name '*.py' -o -type f -name '*.toml' \
        -o -type f -name '*.yaml' -o -type f -name '*.ini' | LC_ALL=C sort | xargs sha256sum \
        | sha256sum | cut -d' ' -f1
}

# Create (or reuse) the virtual environment DIR and install Tamas with the given extras,
# e.g. "" or "[test]": editable pure Python, or with "compiled" a non-editable install whose
# SIP hot path is compiled by mypyc (falling back to editable pure Python if that fails).
# The install is skipped when nothing it depends on changed since the last one.
venv_install() {
    local dir="$1" extras="$2" mode="${3:-pure}" stamp="$1/.tamas-install" want
    if [[ ! -x "$dir/bin/python" ]]; then
        echo "==> creating $dir"
        python3 -m venv "$dir"
    fi
    want="$(sha256sum pyproject.toml setup.py | sha256sum | cut -d' ' -f1) ${extras} ${mode}"
    if [[ "$mode" == compiled ]]; then
        want+=" $(source_hash)"
    fi
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        echo "==> $dir is up to date"
        return
    fi
    "$dir/bin/python" -m pip install --quiet --upgrade pip
    if [[ "$mode" == compiled ]]; then
        echo "==> TAMAS_COMPILE=1 pip install .${extras} into $dir (mypyc, 1-2 minutes)"
        if ! TAMAS_COMPILE=1 "$dir/bin/python" -m pip install --quiet ".${extras}"; then
            echo "==> compiling failed: installing pure Python instead" >&2
            "$dir/bin/python" -m pip install --quiet -e ".${extras}"
            want="${want/ compiled / pure-fallback }"
        fi
    else
        echo "==> pip install -e .${extras} into $dir"
        "$dir/bin/python" -m pip install --quiet -e ".${extras}"
    fi
    echo "$want" >"$stamp"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    if [[ "${TAMAS_COMPILE:-1}" == 0 ]]; then
        apt_install "${APT_PACKAGES[@]}"
        venv_install .venv "" pure
    else
        apt_install "${APT_PACKAGES[@]}" "${COMPILE_PACKAGES[@]}"
        venv_install .venv "" compiled
    fi
    echo "==> starting the demo center (Ctrl-C stops it)"
    exec .venv/bin/tamas serve "$@"
fi
