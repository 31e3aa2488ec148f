#!/usr/bin/env bash
# Builds the Debian package with cargo-deb (installed into ~/.cargo/bin if missing) and lists
# what it holds. PROFILE=dev packages the debug build (what `make test` checks, quickly);
# `make deb` packages the release build. FEATURES=linuxkms builds the kiosk for DRM/KMS without
# a compositor (its build deps: the Makefile's DEPS_KMS).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-release}
if ! cargo deb --version >/dev/null 2>&1; then
    echo "installing cargo-deb (once)" >&2
    cargo install --locked --quiet cargo-deb
fi
features=()
if [ -n "${FEATURES:-}" ]; then
    features=(--features "kiosk/$FEATURES")
fi
if [ "$profile" = release ]; then
    cargo build --release -p kiosk -p central -p drivers --bins "${features[@]}"
else
    cargo build -p kiosk -p central -p drivers --bins "${features[@]}"
fi
out=${CARGO_TARGET_DIR:-target}/debian
mkdir -p "$out"
# --no-build: the binaries of three crates go in, built above.
deb=$(cargo deb -p kiosk --no-build --no-strip --profile "$profile" -o "$out" 2>/dev/null | tail -1)
echo "deb: $deb"
dpkg-deb --info "$deb" | sed -n 's/^ //p' | grep -E '^(Package|Version|Architecture|Depends|Recommends):'
dpkg-deb --contents "$deb" | awk '{print $1, $6}'
