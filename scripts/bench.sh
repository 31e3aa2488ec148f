#!/usr/bin/env bash
# Runs every benchmark of the workspace and prints one table. Each bench binary prints its own
# rows as `| figure | target | median | p99 | pass/FAIL |`; everything else it prints is dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
# Central's two-node rows need PostgreSQL: the benches run beside a throwaway server.
out=$(scripts/with-pg.sh bash -c 'INFOMAT_BENCH_PG=$INFOMAT_TEST_PG cargo bench --workspace' 2>/dev/null | grep -E '^\| ' || true)
{
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -m), with: make bench"
    echo
    echo "| figure | target | median | p99 | result |"
    echo "|---|---|---|---|---|"
    echo "$out"
} | tee "${CARGO_TARGET_DIR:-target}/bench-table.md"
if echo "$out" | grep -q '| FAIL |'; then
    echo "bench: some figures miss their target" >&2
    exit 1
fi
