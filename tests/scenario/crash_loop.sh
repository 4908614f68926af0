#!/usr/bin/env bash
# The crash loop's short mode in make test: 8 SIGKILLs under 4 writers, a
# reader and a gossip peer (tests/reliability/crash_loop.sh; make reliability
# runs 100).
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/crash_loop.sh
CRASH_ROUNDS=${CRASH_ROUNDS:-8} CRASH_MAX_MS=${CRASH_MAX_MS:-1000} exec bash "$(dirname "$0")/../reliability/crash_loop.sh"
