#!/usr/bin/env bash
# Regenerates completions/, man/ and schema/ from the clap model (the committed copies are checked by tests).
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRCTL_BLESS=1 cargo test --quiet --test main generated
