#!/usr/bin/env bash
# The published formats, proven independently: lib/tlog.c and lib/note.c
# (through build/tests/tlog_tool) and tests/interop/c2sp.py, a Python
# implementation written from RFC 9162 and the C2SP specs alone, make the same
# files for trees of N synthetic leaves (signed and cosigned checkpoints,
# tlog-proof files, add-checkpoint bodies with consistency proofs, vkeys),
# byte for byte from the same keys, and each checks what the other made from
# other keys. Tampered files are refused by both. Any mismatch fails.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/interop.sh
#
# TLOG_TOOL names the tool (valgrind.sh points it at a memcheck wrapper);
# else the build's, LODESTONE_BUILD/tests/tlog_tool (see helpers.bash).
source "$(dirname "$0")/helpers.bash"

TOOL=${TLOG_TOOL:-$LODESTONE_BUILD/tests/tlog_tool}
C2SP="$(cd "$(dirname "$0")/../interop" && pwd)/c2sp.py"
[ -x "$TOOL" ] || { not_ok "no $TOOL (make BUILD/tests/tlog_tool, or set TLOG_TOOL)"; finish; }

# A python3 that has PyNaCl (python3-nacl, which `make deps` installs).
PY=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import nacl.signing' 2>/dev/null; then
		PY=$p
		break
	fi
done
if [ -z "$PY" ]; then
	not_ok "no python3 with PyNaCl: install python3-nacl (make deps)"
	finish
fi
ok "python with PyNaCl: $PY"

seed() { printf '%s' "$1" | sha256sum | cut -c1-64; }
KEYS_A=(--log-seed "$(seed log-a)" --wit-seed "$(seed wit-a)" --wit2-seed "$(seed wit2-a)"
	--origin lodestone/1122334455667788 --wit-name lodestone-witness/aabbccddeeff0011
	--wit2-name witness.example/w2 --time 1700000000)
KEYS_B=(--log-seed "$(seed log-b)" --wit-seed "$(seed wit-b)" --wit2-seed "$(seed wit2-b)"
	--origin example.com/python-log --wit-name witness.example/p1
	--wit2-name witness.example/p2 --time 1234567890)

# keys DIR: the --log-vkey/--witness-vkey arguments for DIR's vkeys
keys() {
	printf '%s\n' --log-vkey "$1/log.vkey" --witness-vkey "$1/witness.vkey" \
		--witness-vkey "$1/witness2.vkey"
}

# refused DESC CMD...: the command exits 1 (a refusal, not a crash or usage)
refused() {
	local desc=$1
	shift
	run "$@"
	if [ "$RC" -eq 1 ]; then ok "$desc (refused: $(head -c 160 <<<"$ERR$OUT"))"; else
		not_ok "$desc: exit $RC, wanted 1; $ERR $OUT"
	fi
}

leaf_hex() { # leaf i of the synthetic tree: 00 || SHA-256("interop leaf i")
	printf '00%s' "$(printf 'interop leaf %s' "$1" | sha256sum | cut -c1-64)"
}

for N in 1 2 3 7 8 9 1000; do
	echo "# N = $N"
	C="$T/c-$N"
	P="$T/py-$N"
	Q="$T/py2-$N"
	mkdir -p "$C" "$P" "$Q"
	run "$TOOL" emit --n "$N" "${KEYS_A[@]}" "$C"
	check "C emits the tree of $N ($ERR)" [ "$RC" -eq 0 ]
	run "$PY" "$C2SP" emit --n "$N" "${KEYS_A[@]}" "$P"
	check "Python emits the tree of $N ($ERR)" [ "$RC" -eq 0 ]
	run diff -r "$C" "$P"
	if [ "$RC" -eq 0 ] && [ -n "$(ls "$C")" ]; then
		ok "N=$N: C and Python make the same $(ls "$C" | wc -l) files, byte for byte"
	else
		not_ok "N=$N: C and Python files differ: $(head -c 600 <<<"$OUT")"
	fi
	mapfile -t KC < <(keys "$C")
	run "$PY" "$C2SP" check-dir --n "$N" "${KC[@]}" "$C"
	check "N=$N: Python checks C's files ($OUT$ERR)" [ "$RC" -eq 0 ]
	run "$TOOL" check --n "$N" "${KC[@]}" "$C"
	check "N=$N: C checks its own files ($OUT$ERR)" [ "$RC" -eq 0 ]
	# Python's files from other keys, names and time, checked by C
	run "$PY" "$C2SP" emit --n "$N" "${KEYS_B[@]}" "$Q"
	mapfile -t KQ < <(keys "$Q")
	run "$TOOL" check --n "$N" "${KQ[@]}" "$Q"
	check "N=$N: C checks Python's files made with other keys ($OUT$ERR)" [ "$RC" -eq 0 ]
	run "$TOOL" check --n "$N" "${KC[@]}" "$Q"
	check "N=$N: C refuses Python's files under the wrong keys" [ "$RC" -eq 1 ]
	run "$PY" "$C2SP" check-dir --n "$N" "${KC[@]}" "$Q"
	check "N=$N: Python refuses them under the wrong keys" [ "$RC" -eq 1 ]

	# the command-line checks the daemon's output will get
	last=$((N - 1))
	run "$PY" "$C2SP" check-checkpoint "${KC[@]}" "$C/checkpoint"
	check "N=$N: check-checkpoint ($OUT$ERR)" [ "$RC" -eq 0 ]
	for i in 0 $last; do
		run "$PY" "$C2SP" check-proof "${KC[@]}" --leaf-hex "$(leaf_hex $i)" \
			"$C/proof.$i.tlog-proof"
		check "N=$N: check-proof of leaf $i ($OUT$ERR)" [ "$RC" -eq 0 ]
	done
	if [ "$N" -gt 1 ]; then
		refused "N=$N: check-proof with another leaf" "$PY" "$C2SP" check-proof "${KC[@]}" \
			--leaf-hex "$(leaf_hex 1)" "$C/proof.0.tlog-proof"
		run "$PY" "$C2SP" check-consistency "${KC[@]}" --old "$C/checkpoint.1" \
			"$C/consistency.1"
		check "N=$N: check-consistency 1 -> $N ($OUT$ERR)" [ "$RC" -eq 0 ]
		m=$((N - 1))
		run "$PY" "$C2SP" check-consistency "${KC[@]}" --old "$C/checkpoint.$m" \
			"$C/consistency.$m"
		check "N=$N: check-consistency $m -> $N ($OUT$ERR)" [ "$RC" -eq 0 ]
		if [ "$m" -ne 1 ]; then
			refused "N=$N: check-consistency against the wrong old checkpoint" \
				"$PY" "$C2SP" check-consistency "${KC[@]}" --old "$C/checkpoint.1" \
				"$C/consistency.$m"
		fi
	fi
	run "$PY" "$C2SP" check-consistency "${KC[@]}" --old-root-hex \
		e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 "$C/consistency.0"
	check "N=$N: check-consistency from the empty tree ($OUT$ERR)" [ "$RC" -eq 0 ]
	refused "N=$N: check-checkpoint with a witness that did not cosign" "$PY" "$C2SP" \
		check-checkpoint --log-vkey "$C/log.vkey" --witness-vkey "$Q/witness.vkey" \
		"$C/checkpoint"
	run "$PY" "$C2SP" check-checkpoint --log-vkey "$C/log.vkey" --witness-vkey "$C/witness.vkey" \
		--witness-vkey "$Q/witness.vkey" --quorum 1 "$C/checkpoint"
	check "N=$N: check-checkpoint with a quorum of 1 of 2 ($OUT$ERR)" [ "$RC" -eq 0 ]
done

echo "# tampering: both sides refuse"
N=9
C="$T/c-$N"
mapfile -t KC < <(keys "$C")
X="$T/x"
# tamper NAME PERL-EXPR DESC: a copy of $C with NAME edited must fail both checks
tamper() {
	rm -rf "$X"
	cp -r "$C" "$X"
	perl -i -pe "$2" "$X/$1"
	if cmp -s "$C/$1" "$X/$1"; then
		not_ok "tamper $1: the edit changed nothing"
		return
	fi
	refused "C refuses $3" "$TOOL" check --n "$N" "${KC[@]}" "$X"
	refused "Python refuses $3" "$PY" "$C2SP" check-dir --n "$N" "${KC[@]}" "$X"
}
# flip LINE POS: a perl expression that turns the base64 character at POS of
# line LINE into the next one (still base64, another value)
flip() {
	printf 'if ($. == %d) { substr($_, %d, 1) =~ tr{A-Za-z0-9+/}{B-Za-z0-9+/A} }' "$1" "$2"
}
tamper checkpoint.9 's/^9$/10/ if $. == 2' "a checkpoint with another size"
tamper checkpoint.3 "$(flip 3 0)" "a checkpoint with another root"
tamper checkpoint.9 's/$/x/ if $. == 1' "a checkpoint with another origin"
tamper checkpoint.2 '$_ = "" if eof' "a checkpoint without its last cosignature"
tamper checkpoint.2 "$(flip 6 -10)" "a cosignature altered"
tamper checkpoint.2 "$(flip 5 -10)" "a log signature altered"
tamper proof.4.tlog-proof "$(flip 3 0)" "an inclusion proof with an altered hash"
tamper proof.4.tlog-proof '$_ = "" if $. == 3' "an inclusion proof one hash short"
tamper proof.4.tlog-proof 's/^index 4$/index 5/' "an inclusion proof for another index"
tamper consistency.3 "$(flip 2 0)" "a consistency proof with an altered hash"
tamper consistency.3 's/^old 3$/old 2/' "a consistency proof from another size"
tamper consistency.3 '$_ = "" if $. == 2' "a consistency proof one hash short"
tamper consistency.0 's/^old 0$/old 00/' "a size with a leading zero"
tamper checkpoint.1 's/^\xe2\x80\x94/-/' "a signature line without its em dash"

# what each makes of a stray byte: a bounded refusal, never a crash
for f in checkpoint.9 proof.4.tlog-proof consistency.3; do
	rm -rf "$X"
	cp -r "$C" "$X"
	printf '\x01' >>"$X/$f"
	refused "C refuses $f with a control byte" "$TOOL" check --n "$N" "${KC[@]}" "$X"
	refused "Python refuses $f with a control byte" "$PY" "$C2SP" check-dir --n "$N" "${KC[@]}" "$X"
done

finish
