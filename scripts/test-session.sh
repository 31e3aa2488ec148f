#!/usr/bin/env bash
# `make test`'s check of the kiosk's screen session, run the way a clinic runs it: the kiosk
# unit's own ExecStart (cage -- kiosk run ...) with its EnvironmentFile, as an unprivileged
# user, under headless wlroots; grim captures what is on the screen. Checks:
#   1. the attract screen comes up by itself;
#   2. a policy scanned on the virtual scanner (a pseudo-terminal) brings the patient menu;
#   3. kill -9 of the kiosk: the unit's restart (Restart=always, RestartSec=) brings the
#      attract screen back within 5 s (no systemd here: a loop does what it would).
# The frames are compared with the offscreen renders of the same screens (scripts/png-grid.py).
#
#   scripts/test-session.sh [ROOT]
# ROOT: an extracted package (ROOT/usr/bin/kiosk, ROOT/lib/systemd/system/...; test-deb.sh
# passes one); default: the build tree's debug binaries and systemd/.
# Needs: cage, xwayland, grim, curl, procps (the Makefile's DEPS_SESSION); root (to make the user) or a
# non-root caller (cage refuses to run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-$PWD/target}
root=${1:-}
if [ -n "$root" ]; then
    kiosk="$root/usr/bin/kiosk" units="$root/lib/systemd/system" bin="$root/usr/bin"
else
    kiosk="$target/debug/kiosk" units="$PWD/systemd" bin="$target/debug"
fi
for t in cage grim curl; do
    command -v "$t" >/dev/null || { echo "test-session: $t is missing (make test installs it)" >&2; exit 1; }
done
unit="$units/infomat-kiosk.service"

tmp=$(mktemp -d /tmp/infomat-session.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -n "${loop_pid:-}" ] && kill "$loop_pid" 2>/dev/null || true
    pkill -KILL -f "$tmp/" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "test-session: $*" >&2
    mkdir -p "$target/session" && cp "$tmp"/*.ppm "$target/session/" 2>/dev/null || true
    echo "test-session: frames so far in $target/session/" >&2
    for f in "$tmp"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done
    exit 1
}

# The unprivileged user the unit names (User=), made here as postinst makes it if missing.
as=()
if [ "$(id -u)" = 0 ]; then
    user=$(sed -n 's/^User=//p' "$unit")
    if ! getent passwd "$user" >/dev/null; then
        user=infomat-session
        getent passwd "$user" >/dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    fi
    chown "$user" "$tmp"
    as=(runuser -u "$user" --)
fi
chmod 0700 "$tmp"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The kiosk's peers on loopback: central (demo clinic and tokens), the virtual printer, the
# virtual scanner on a pseudo-terminal (made by the kiosk's user, so it may open it).
central_port=$(free_port) printer_port=$(free_port) health_port=$(free_port)
"$bin/central" serve --listen "127.0.0.1:$central_port" --seed demo --db "$tmp/central.sqlite" \
    >"$tmp/central.log" 2>&1 &
pids+=($!)
disown
"$bin/escpos-sim" serve --tcp "127.0.0.1:$printer_port" --out "$tmp/tickets" >"$tmp/printer.log" 2>&1 &
pids+=($!)
disown
mkfifo "$tmp/scans"
"${as[@]}" "$bin/scanner-sim" --stdin --link "$tmp/scanner" <"$tmp/scans" >"$tmp/scanner.log" 2>&1 &
pids+=($!)
disown
exec 3>"$tmp/scans" # keeps the scanner's stdin open
cat >"$tmp/kiosk.toml" <<TOML
[kiosk]
id = 2
lpu_id = 1
clinic_name = "Городская поликлиника № 1"
timezone = "Europe/Moscow"
[central]
url = "http://127.0.0.1:$central_port"
token = "demo"
[printer]
url = "tcp://127.0.0.1:$printer_port"
[scanner]
url = "serial://$tmp/scanner"
[journal]
dir = "$tmp/journal"
[health]
listen = "127.0.0.1:$health_port"
TOML
# The screen, set in the packaged screen.env as a technician sets it for a landscape panel on
# its side: headless wlroots makes a 1280x720 output; cage -r turns it to 720x1280 portrait; the
# UI (1080 wide) is scaled to fit. (cage 0.1.4 has no output-management protocol, so wlr-randr
# cannot set a mode.)
if [ -n "$root" ]; then screen_env="$root/usr/share/doc/infomat/examples/screen.env"; else screen_env=deploy/screen.env; fi
sed -e 's/^INFOMAT_CAGE_FLAGS=.*/INFOMAT_CAGE_FLAGS="-r"/' -e 's/^# *SLINT_SCALE_FACTOR=.*/SLINT_SCALE_FACTOR=0.6667/' \
    "$screen_env" >"$tmp/screen.env"
grep -q '^INFOMAT_CAGE_FLAGS="-r"' "$tmp/screen.env" && grep -q '^SLINT_SCALE_FACTOR=' "$tmp/screen.env" \
    || fail "$screen_env does not have the keys SESSION.md documents"
chown -R "${user:-$(id -un)}" "$tmp" 2>/dev/null || true

# The unit's command line, paths moved into this sandbox; its EnvironmentFile and Environment
# as systemd would apply them ($VAR unquoted: split into words, as systemd does).
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
case "$exec_start" in
    */usr/bin/cage*) ;;
    *) fail "the unit does not start the kiosk inside cage: $exec_start" ;;
esac
grep -q '^EnvironmentFile=-/etc/infomat/screen.env' "$unit" || fail "the unit does not read /etc/infomat/screen.env"
cmd=${exec_start//\/usr\/bin\/kiosk/$kiosk}
cmd=${cmd//\/etc\/infomat\/kiosk.toml/$tmp/kiosk.toml}
runtime_dir="/run/$(sed -n 's/^RuntimeDirectory=//p' "$unit")"
cmd=${cmd//$runtime_dir/$tmp/xdg}
unit_env=$(sed -n 's/^Environment=//p' "$unit" | tr '\n' ' ')
restart_sec=$(sed -n 's/^RestartSec=//p' "$unit")
mkdir -p "$tmp/xdg"
cat >"$tmp/session.sh" <<SH
#!/usr/bin/env bash
# What systemd does for the unit: Environment=, then EnvironmentFile= (which wins), then
# ExecStart, again on every exit. Headless wlroots instead of a DRM device and a seat.
export $unit_env WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1
set -a; . "$tmp/screen.env"; set +a
while :; do
    $cmd
    echo "session: exited \$?, restarting in ${restart_sec}s" >&2
    sleep $restart_sec
done
SH
chmod 0755 "$tmp/session.sh"
chown -R "${user:-$(id -un)}" "$tmp" 2>/dev/null || true
"${as[@]}" "$tmp/session.sh" >"$tmp/session.log" 2>&1 &
loop_pid=$!
disown

# The references: the same screens rendered offscreen by the same binary.
"$kiosk" screenshot --screen attract --out "$tmp/ref-attract.png" >/dev/null
"$kiosk" screenshot --screen menu --out "$tmp/ref-menu.png" >/dev/null

shoot() { # OUT.png: a frame of the current screen, or nothing yet
    local socket
    socket=$(find "$tmp/xdg" -maxdepth 1 -name 'wayland-*' -type s -printf '%f\n' 2>/dev/null | sort | tail -1)
    [ -n "$socket" ] || return 1
    "${as[@]}" env XDG_RUNTIME_DIR="$tmp/xdg" WAYLAND_DISPLAY="$socket" grim -t ppm "$1" 2>/dev/null
}
# Waits until the screen looks like REF (closer to it than to OTHER): prints the seconds taken.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_for() { # NAME REF OTHER TIMEOUT_S
    local start
    start=$(now_ms)
    while [ $(($(now_ms) - start)) -lt $(($4 * 1000)) ]; do
        if shoot "$tmp/$1.ppm"; then
            read -r d_ref d_other < <(python3 scripts/png-grid.py "$tmp/$1.ppm" "$2" "$3")
            if awk -v a="$d_ref" -v b="$d_other" 'BEGIN { exit !(a < 25 && a < b) }'; then
                local ms=$(($(now_ms) - start))
                echo "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
                return 0
            fi
        fi
        sleep 0.2
    done
    echo "test-session: $1 not on screen within $4 s (distance to it ${d_ref:-?}, to the other ${d_other:-?})" >&2
    return 1
}
health() { curl -s "http://127.0.0.1:$health_port/health" || true; }

t_attract=$(wait_for attract "$tmp/ref-attract.png" "$tmp/ref-menu.png" 60) || fail "no attract screen"
echo "test-session: attract screen on the headless output after ${t_attract}s"
for _ in $(seq 1 50); do
    case "$(health)" in *'"scanner":"connected"'*) break ;; esac
    sleep 0.1
done
echo "demo 3" >&3
t_menu=$(wait_for menu "$tmp/ref-menu.png" "$tmp/ref-attract.png" 10) || fail "a scan did not bring the menu"
echo "test-session: scan -> patient menu on screen in ${t_menu}s"

# kill -9 the kiosk (cage's client): cage ends with it, the restart brings the screen back.
# The kiosk itself, cage's client (cage's own command line names it too, after "--").
kiosk_pid=$(pgrep -f "^$kiosk run --config $tmp/kiosk.toml" | head -1 || true)
[ -n "$kiosk_pid" ] || fail "no kiosk process"
kill -KILL "$kiosk_pid"
t_back=$(wait_for back "$tmp/ref-attract.png" "$tmp/ref-menu.png" 5) || fail "not back within 5 s of kill -9"
echo "test-session: killed; attract screen back after ${t_back}s (RestartSec=$restart_sec)"
mkdir -p "$target/session"
cp "$tmp/attract.ppm" "$tmp/menu.ppm" "$tmp/back.ppm" "$target/session/"
echo "test-session: frames in $target/session/"
