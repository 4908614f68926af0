#!/usr/bin/env bash
# api_bounds.sh - the flood of issue 14 at full size: 8 connections each
# pipelining 32 requests of 32 MiB while a long query holds the daemon's
# reader (tests/test_api_bounds.c with LS_BOUNDS_FULL=1): the daemon's peak
# memory stays under its stated bound and the excess is answered busy.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/reliability/api_bounds.sh [--short]
#
# --short does nothing: the same test at 8 MiB is a unit test of make test.
# Writes build/reliability/api_bounds.json.
set -uo pipefail
[ "${1:-}" = "--short" ] && { echo "api_bounds: the short mode is test_api_bounds (unit-test)"; exit 0; }
: "${LODESTONE_BIN:?set LODESTONE_BIN to the directory holding lodestoned}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$ROOT/build/reliability"
LS_BOUNDS_FULL=1 LS_BOUNDS_JSON="$ROOT/build/reliability/api_bounds.json" \
	"$ROOT/build/tests/test_api_bounds"
