#!/usr/bin/env bash
# Interop with tools no one here wrote: renders every python-escpos and receiptline fixture
# with the virtual printer (the escpos_interop test writes one PNG per receipt) and decodes
# every code on them with zxing-cpp, an independent decoder, against
# drivers/tests/fixtures/interop-codes.json. zxing-cpp and Pillow live in a venv under the
# cargo target directory, installed once and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
venv="$target/interop-venv"
if ! "$venv/bin/python" -c 'import zxingcpp, PIL' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'zxing-cpp==3.1.1' 'pillow==11.3.0'
fi
mkdir -p "$target"
# Absolute: the test runs in the drivers crate's directory.
pngs="$(cd "$target" && pwd)/interop-png"
rm -rf "$pngs"
mkdir -p "$pngs"
# --workspace: the same features as `make test`'s build, so nothing is compiled again.
INFOMAT_INTEROP_PNG="$pngs" "${CARGO:-cargo}" test --quiet --workspace --test escpos_interop
"$venv/bin/python" drivers/tests/fixtures/check_codes.py "$pngs"
