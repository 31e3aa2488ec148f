#!/usr/bin/env bash
# `make test`'s check of the Debian package: builds it from the debug binaries (the release
# package differs only in the binaries' build profile), then checks its fields, every file it
# must install with its mode, the maintainer scripts, and that the packaged program accepts the
# packaged example configurations.
set -euo pipefail
cd "$(dirname "$0")/.."
listing=$(PROFILE=dev scripts/deb.sh)
deb=$(echo "$listing" | sed -n 's/^deb: //p')
fail=0
need() { # MODE PATH
    if ! echo "$listing" | grep -qxF -- "$1 ./$2"; then
        echo "test-deb: missing or wrong mode: $1 $2" >&2
        fail=1
    fi
}
for b in kiosk central escpos-sim scanner-sim; do need -rwxr-xr-x "usr/bin/$b"; done
for u in kiosk display selftest central; do need -rw-r--r-- "lib/systemd/system/infomat-$u.service"; done
need -rw-r--r-- lib/udev/rules.d/99-infomat.rules
for f in kiosk.example.toml display.example.toml kiosk.token display.token kiosk-tokens.example; do
    need -rw-r--r-- "usr/share/doc/infomat/examples/$f"
done
for f in README.md OPERATIONS.md CONFIG.md SECURITY.md RELIABILITY.md copyright; do need -rw-r--r-- "usr/share/doc/infomat/$f"; done
depends=$(echo "$listing" | sed -n 's/^Depends: //p')
for d in libusb-1.0-0 libx11-6 libxkbcommon-x11-0 adduser; do
    case "$depends" in *"$d"*) ;; *) echo "test-deb: Depends lacks $d: $depends" >&2; fail=1 ;; esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --control "$deb" "$tmp/control"
grep -q 'adduser --system' "$tmp/control/postinst" || { echo "test-deb: postinst does not create the user" >&2; fail=1; }
dpkg-deb -x "$deb" "$tmp/root"
for c in kiosk display; do
    if ! "$tmp/root/usr/bin/kiosk" check-config --config "$tmp/root/usr/share/doc/infomat/examples/$c.example.toml" >/dev/null; then
        echo "test-deb: the packaged kiosk rejects the packaged $c example" >&2
        fail=1
    fi
done
if [ "$fail" = 1 ]; then
    exit 1
fi
echo "test-deb: $(basename "$deb"): $(echo "$listing" | grep -c '^-') files, fields, scripts and examples checked"
