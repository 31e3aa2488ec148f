#!/usr/bin/env bash
# Checks the systemd units with systemd-analyze where systemd is installed; says so otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "verify-units: systemd-analyze not found here: unit files not verified (they are on a kiosk with systemd)"
    exit 0
fi
# The units name /usr/bin/kiosk and /usr/bin/central: verify against the built binaries.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for u in systemd/*.service; do
    sed -e "s#/usr/bin/kiosk#${CARGO_TARGET_DIR:-$PWD/target}/debug/kiosk#g" -e "s#/usr/bin/central#${CARGO_TARGET_DIR:-$PWD/target}/debug/central#g" "$u" > "$tmp/$(basename "$u")"
done
SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no "$tmp"/*.service
echo "verify-units: $(ls systemd/*.service | wc -l) units verified"
# Exposure as systemd scores it (0 best, 10 worst); the issue asks for under 3.0.
if ! systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
    echo "verify-units: this systemd-analyze cannot score unit files offline: exposure not checked"
    exit 0
fi
fail=0
for u in "$tmp"/*.service; do
    score=$(SYSTEMD_LOG_LEVEL=err systemd-analyze security --offline=yes --man=no "$u" 2>/dev/null \
        | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    echo "verify-units: $(basename "$u"): exposure ${score:-unknown}"
    if [ -z "$score" ] || awk -v s="$score" 'BEGIN { exit !(s >= 3.0) }'; then
        fail=1
    fi
done
if [ "$fail" = 1 ]; then
    echo "verify-units: a unit is exposed 3.0 or more (or could not be scored)" >&2
    exit 1
fi
