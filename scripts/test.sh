#!/usr/bin/env bash
# Install the test tools and peers on Debian 12, then run every check.
#
#   bash scripts/test.sh [pytest options...]
#
# Run as root from the repository root. Installs the real peers the tests drive (SIPp,
# baresip, Kamailio, sox, espeak-ng) from apt, installs Tamas with its test extras into .venv,
# then runs ruff, mypy, import-linter and pytest. Exits non-zero if any of them fails.
# Safe to run again: installed packages and an up-to-date .venv are skipped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/install.sh
source scripts/install.sh

apt_install "${APT_PACKAGES[@]}" sip-tester baresip kamailio sox espeak-ng rtpengine-daemon rtpengine-utils
venv_install "[test]"

export PATH="$PWD/.venv/bin:$PATH"
failed=()
run() {
    echo "==> $*"
    if ! "$@"; then
        failed+=("$1")
    fi
}

run ruff check src tests
run mypy
run lint-imports
run pytest "$@"

if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all checks passed"
