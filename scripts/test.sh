#!/usr/bin/env bash
# Runs the whole carkey test suite: unit, property, known-answer, adversarial and
# fuzz-corpus replay tests of every crate in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo test --workspace --locked "$@"
