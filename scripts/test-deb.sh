#!/usr/bin/env bash
# `make test`'s check of the Debian package: builds it from the debug binaries (the release
# package differs only in the binaries' build profile), then checks its fields, every file it
# must install with its mode, the maintainer scripts, that the packaged program accepts the
# packaged example configurations, that the packaged central starts as its unit runs it, and
# that the packaged kiosk unit brings its screen up (scripts/test-session.sh).
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
for f in kiosk.example.toml display.example.toml kiosk.token display.token kiosk-tokens.example central-tokens.example screen.env; do
    need -rw-r--r-- "usr/share/doc/infomat/examples/$f"
done
for f in README.md OPERATIONS.md CONFIG.md SECURITY.md RELIABILITY.md SESSION.md copyright; do need -rw-r--r-- "usr/share/doc/infomat/$f"; done
depends=$(echo "$listing" | sed -n 's/^Depends: //p')
for d in libusb-1.0-0 cage xwayland libwayland-client0 libxkbcommon0 adduser; do
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

# The packaged central starts from its unit's ExecStart on a fresh machine. There is no systemd
# as PID 1 here, so do what it would: make the credentials directory (LoadCredential=, owned by
# the service's user, read-only), the state directory (StateDirectory=), and run the ExecStart
# line as an unprivileged user (DynamicUser=: nobody stands in) with CREDENTIALS_DIRECTORY and
# STATE_DIRECTORY set. The files it loads are made as postinst makes them.
central_starts() {
    local bin="$tmp/root/usr/bin/central" unit="$tmp/root/lib/systemd/system/infomat-central.service"
    local etc="$tmp/etc-central" creds="$tmp/credentials" state="$tmp/state" port
    grep -q '^DynamicUser=yes' "$unit" || { echo "test-deb: infomat-central is not DynamicUser" >&2; return 1; }
    grep -q '^StateDirectory=infomat-central' "$unit" || { echo "test-deb: no StateDirectory" >&2; return 1; }
    mkdir -p "$etc" "$creds" "$state"
    echo "sqlite://$state/central.sqlite?mode=rwc" > "$etc/db-url"
    "$bin" cert self-signed --out "$etc" --name central.test >/dev/null
    local board
    board=$("$bin" token add --role board --lpu 1 --device 50 --tokens-file "$etc/tokens" 2>/dev/null)
    # LoadCredential=ID:PATH, as systemd copies them.
    sed -n 's/^LoadCredential=\([^:]*\):\(.*\)$/\1 \2/p' "$unit" | while read -r id path; do
        cp "${path/\/etc\/infomat\/central/$etc}" "$creds/$id"
    done
    chown -R nobody "$creds" "$state"
    chmod 0400 "$creds"/*
    chmod 0500 "$creds"
    chmod 0755 "$tmp" "$etc"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    local cmd
    cmd=$(sed -n 's/^ExecStart=//p' "$unit" | sed -e "s#/usr/bin/central#$bin#" \
        -e "s#/etc/infomat/central#$etc#g" -e "s#0.0.0.0:8443#127.0.0.1:$port#")
    # shellcheck disable=SC2086
    runuser -u nobody -- env CREDENTIALS_DIRECTORY="$creds" STATE_DIRECTORY="$state" $cmd 2>"$tmp/central.log" &
    local pid=$! health=""
    for _ in $(seq 1 100); do
        health=$(curl -s --cacert "$etc/ca.pem" "https://localhost:$port/health" || true)
        [ -n "$health" ] && break
        sleep 0.2
    done
    local state_reply
    state_reply=$(curl -s --cacert "$etc/ca.pem" -H "Authorization: Bearer $board" \
        -d '{"jsonrpc":"2.0","id":1,"method":"getQueueState","params":{"lpuId":1}}' "https://localhost:$port/api/queue/v1/" || true)
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    case "$health" in *'"status":"ok"'*) ;; *) echo "test-deb: packaged central did not answer /health: $health" >&2; cat "$tmp/central.log" >&2; return 1 ;; esac
    case "$state_reply" in *'"waiting"'*) ;; *) echo "test-deb: the board token was not served: $state_reply" >&2; return 1 ;; esac
    [ -e "$state/central.sqlite" ] || { echo "test-deb: no database in the state directory" >&2; return 1; }
    # Logs and check-config never show a token or its hash.
    local hash
    hash=$(printf %s "$board" | sha256sum | cut -d' ' -f1)
    "$bin" check-config --tokens-file "$etc/tokens" > "$tmp/check.out"
    if grep -qe "$board" -e "$hash" "$tmp/central.log" "$tmp/check.out"; then
        echo "test-deb: a token or its hash was printed" >&2
        return 1
    fi
    echo "test-deb: packaged central served https /health and the queue as its unit runs it"
}
central_starts || fail=1

# The packaged kiosk unit brings the screen up by itself: its ExecStart (cage -- kiosk run) with
# the packaged binaries, under headless wlroots, as an unprivileged user.
chmod 0755 "$tmp"
scripts/test-session.sh "$tmp/root" || fail=1

if [ "$fail" = 1 ]; then
    exit 1
fi
echo "test-deb: $(basename "$deb"): $(echo "$listing" | grep -c '^-') files, fields, scripts and examples checked"
