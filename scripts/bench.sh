#!/usr/bin/env bash
# Runs every benchmark of the workspace and prints one table. Each bench binary prints its own
# rows as `| figure | target | median | p99 | pass/FAIL |`; everything else it prints is dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(cargo bench --workspace 2>/dev/null | grep -E '^\| ' || true)
{
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -m), with: make bench"
    echo
    echo "| figure | target | median | p99 | result |"
    echo "|---|---|---|---|---|"
    echo "$out"
} | tee target/bench-table.md
if echo "$out" | grep -q '| FAIL |'; then
    echo "bench: some figures miss their target" >&2
    exit 1
fi
