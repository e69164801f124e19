#!/usr/bin/env bash
# Install the test tools and peers on Debian 12, then run every check.
#
#   bash scripts/test.sh [pytest options...]
#
# Run as root from the repository root. Installs the real peers the tests drive (SIPp,
# baresip, Kamailio, sox, espeak-ng) from apt, installs Tamas with its test extras into .venv,
# then runs ruff, mypy, import-linter and pytest. Exits non-zero if any of them fails.
# Safe to run again: installed packages and an up-to-date .venv are skipped.
#
# pytest then runs a second time against the mypyc-compiled build (setup.py) that
# scripts/install.sh gives the server, installed in .venv-compiled: the compiled modules must
# behave exactly as the source does. That adds the build (1-2 minutes) and a second pytest run;
# TAMAS_TEST_COMPILED=0 skips it (a quicker run while developing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/install.sh
source scripts/install.sh

TEST_PACKAGES=(sip-tester baresip kamailio sox espeak-ng rtpengine-daemon rtpengine-utils)
if [[ "${TAMAS_TEST_COMPILED:-1}" == 1 ]]; then
    TEST_PACKAGES+=("${COMPILE_PACKAGES[@]}")
fi
apt_install "${APT_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
venv_install .venv "[test]" pure

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
TAMAS_EXPECT_COMPILED=0 run pytest "$@"

if [[ "${TAMAS_TEST_COMPILED:-1}" == 1 ]]; then
    venv_install .venv-compiled "[test]" compiled
    if grep -q pure-fallback .venv-compiled/.tamas-install; then
        failed+=("mypyc build")
    fi
    echo "==> pytest against the compiled build (.venv-compiled)"
    # PATH keeps .venv/bin first (its b2bua and sipvicious scripts): with .venv-compiled/bin
    # first, tests/integration/test_media_capacity_quick.py saw rtpengine carry no call.
    TAMAS_EXPECT_COMPILED=1 run .venv-compiled/bin/pytest "$@"
fi

if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all checks passed"
