#!/usr/bin/env bash
# Ack means durable, short mode in make test: 10 lots under strace
# (tests/reliability/ack_durable.sh; make reliability registers 200).
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/ack_durable.sh
ACK_RECORDS=${ACK_RECORDS:-10} exec bash "$(dirname "$0")/../reliability/ack_durable.sh"
