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
    sed -e "s#/usr/bin/kiosk#$PWD/target/debug/kiosk#g" -e "s#/usr/bin/central#$PWD/target/debug/central#g" "$u" > "$tmp/$(basename "$u")"
done
SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no "$tmp"/*.service
echo "verify-units: $(ls systemd/*.service | wc -l) units verified"
