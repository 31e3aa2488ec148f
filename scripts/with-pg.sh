#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL on loopback: a fresh cluster in a temporary
# directory, owned by the `postgres` user, stopped and removed at exit. The command finds its
# admin URL in INFOMAT_TEST_PG. (scripts/test-pg.sh: central's tests; scripts/bench.sh: the
# two-node rows of central's load benchmark.)
# The cluster also speaks TLS with a lab certificate (`central cert self-signed`), so that
# central/tests/pg.rs checks `sslmode=verify-full` (INFOMAT_TEST_PG_CA names the CA).
# Usage: scripts/with-pg.sh COMMAND [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ]; then
    echo "with-pg: PostgreSQL server binaries not found (package postgresql)" >&2
    exit 1
fi
port=${INFOMAT_PG_PORT:-55432}
dir=$(mktemp -d /tmp/infomat-pg.XXXXXX)
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
as_pg "$bin/initdb" -D "$dir/data" -U infomat --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
cargo run -q -p central -- cert self-signed --out "$dir/tls" >/dev/null
[ "$(id -u)" -eq 0 ] && chown -R postgres "$dir/tls"
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c max_connections=300 -c ssl=on -c ssl_cert_file=$dir/tls/cert.pem -c ssl_key_file=$dir/tls/key.pem" start >/dev/null
export INFOMAT_TEST_PG_CA="$dir/tls/ca.pem"
export INFOMAT_TEST_PG="postgres://infomat@127.0.0.1:$port/postgres"
echo "with-pg: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
"$@"
