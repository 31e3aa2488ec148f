#!/usr/bin/env bash
# Runs the central service's test suite against a throwaway PostgreSQL (scripts/with-pg.sh):
# the suite again on PostgreSQL, and central/tests/pg.rs (several nodes, sslmode).
# Usage: scripts/test-pg.sh [cargo test args...]
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/with-pg.sh cargo test -p central "$@"
