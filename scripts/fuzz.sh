#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets) for FUZZ_SECONDS each (default 60) with
# cargo-fuzz and libFuzzer under AddressSanitizer. Seeds come from fuzz/corpus (committed, kept
# current by drivers/tests/fuzz_seeds.rs); new inputs go to target/fuzz-corpus, crashes to
# fuzz/artifacts/TARGET/ (then: cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-... replays).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz (once)"
    cargo install --locked --quiet cargo-fuzz
fi
# cargo-fuzz passes -Z sanitizer flags; the stable toolchain accepts them this way.
export RUSTC_BOOTSTRAP=1
cd fuzz
targets=$(cargo fuzz list)
cargo fuzz build -O
for t in $targets; do
    work=${CARGO_TARGET_DIR:-../target}/fuzz-corpus/$t
    mkdir -p "$work"
    cp -n corpus/"$t"/* "$work"/ 2>/dev/null || true
    echo "fuzz: $t for ${seconds}s"
    cargo fuzz run -O "$t" "$work" -- -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 2>&1 \
        | grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|Done)' || true
    # libFuzzer exits non-zero on a finding; with `|| true` above, look for the artifact instead.
    if ls artifacts/"$t"/crash-* artifacts/"$t"/leak-* artifacts/"$t"/timeout-* artifacts/"$t"/oom-* >/dev/null 2>&1; then
        echo "fuzz: $t found a failing input: fuzz/artifacts/$t/" >&2
        exit 1
    fi
done
echo "fuzz: $(echo "$targets" | wc -w) targets ran ${seconds}s each, no failures"
