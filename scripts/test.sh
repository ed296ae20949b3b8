#!/usr/bin/env bash
# Set up (Debian packages), build and run the whole test suite. This is the README's test command
# and what CI runs. Usage: scripts/test.sh [preset]   (release by default; `asan` for ASan+UBSan)
# Developers can skip the slow twin-experiment tests locally with: ctest --preset release -LE slow
# The PostgreSQL storage tests skip without PLUMETRACE_TEST_PG (run them locally with
# `source scripts/pg-test-cluster.sh` first) and fail when CI=true leaves it unset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
preset="${1:-release}"
bash scripts/build.sh "$preset"
# a throw-away PostgreSQL + PostGIS cluster for the storage tests (PLUMETRACE_TEST_PG; removed on exit)
source scripts/pg-test-cluster.sh
ctest --preset "$preset" -j "${JOBS:-2}" --timeout 1500
