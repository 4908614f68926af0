/*
 * fuzz_note.c - libFuzzer target for the parsers of lib/note.c, which take
 * every byte a peer, a witness or a proof file gives: ls_note_parse,
 * ls_note_sig_lines_parse, ls_checkpoint_parse, ls_tlog_proof_parse,
 * ls_addcp_parse and ls_vkey_parse, each run on every input. The parsers
 * take only canonical text, so what parses must format back to the very
 * same bytes (a verifier key: to the same key), and the proofs that parse
 * are run through the lib/tlog.c checks.
 *
 * Build with `make fuzz`, run with
 *   build/fuzz/fuzz_note -max_total_time=60 build/fuzz/corpus-note tests/fuzz/corpus-note
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "note.h"
#include "tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ls_note note, again;
static struct ls_tlog_proof proof;
static struct ls_addcp addcp;
static char out[LS_TLOG_PROOF_FILE_MAX + 1];

static void
same_bytes(const uint8_t *data, size_t size, size_t len)
{
	if (len != size || memcmp(out, data, size) != 0)
		abort(); /* accepted text must be the canonical form */
}

static void
fuzz_note(const uint8_t *data, size_t size)
{
	if (ls_note_parse((const char *)data, size, &note, NULL) != 0)
		return;
	same_bytes(data, size, ls_note_format(&note, out, sizeof(out)));
	if (ls_note_parse(out, size, &again, NULL) != 0 || again.n_sigs != note.n_sigs ||
	    again.body_len != note.body_len)
		abort();
}

static void
fuzz_sig_lines(const uint8_t *data, size_t size)
{
	size_t pos = 0, w;

	note.n_sigs = 0;
	if (ls_note_sig_lines_parse((const char *)data, size, &note, NULL) != 0)
		return;
	for (size_t i = 0; i < note.n_sigs; i++) {
		if ((w = ls_note_sig_line(&note.sigs[i], out + pos, sizeof(out) - pos)) == 0)
			abort();
		pos += w;
	}
	same_bytes(data, size, pos);
}

static void
fuzz_checkpoint(const uint8_t *data, size_t size)
{
	struct ls_checkpoint c;
	size_t len;

	if (ls_checkpoint_parse((const char *)data, size, &c, NULL) != 0)
		return;
	/* the first three lines are canonical, extension lines follow as they are */
	len = ls_checkpoint_body(&c, out, sizeof(out));
	if (len == 0 || len > size || memcmp(out, data, len) != 0)
		abort();
}

static void
fuzz_proof(const uint8_t *data, size_t size)
{
	uint8_t leaf[LS_TLOG_HASH] = {0};

	if (ls_tlog_proof_parse((const char *)data, size, &proof, NULL) != 0)
		return;
	same_bytes(data, size, ls_tlog_proof_format(&proof, out, sizeof(out)));
	(void)ls_tlog_verify_inclusion(proof.index, proof.c.size, leaf,
				       (const uint8_t(*)[LS_TLOG_HASH])proof.hashes, proof.n,
				       proof.c.root);
}

static void
fuzz_addcp(const uint8_t *data, size_t size)
{
	uint8_t fr[LS_TLOG_HASH], sr[LS_TLOG_HASH];

	if (ls_addcp_parse((const char *)data, size, &addcp, NULL) != 0)
		return;
	same_bytes(data, size, ls_addcp_format(&addcp, out, sizeof(out)));
	if (addcp.old > addcp.c.size || addcp.n > LS_ADDCP_PROOF_MAX)
		abort();
	(void)ls_tlog_consistency_roots(addcp.old, addcp.c.size, addcp.c.root,
					(const uint8_t(*)[LS_TLOG_HASH])addcp.proof, addcp.n, fr,
					sr);
	(void)ls_tlog_verify_consistency(addcp.old, addcp.c.size, fr, addcp.c.root,
					 (const uint8_t(*)[LS_TLOG_HASH])addcp.proof, addcp.n);
}

static void
fuzz_vkey(const uint8_t *data, size_t size)
{
	struct ls_vkey k, k2;
	char s[LS_VKEY_MAX * 2], f[LS_VKEY_MAX];

	if (size >= sizeof(s) || memchr(data, '\0', size) != NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ls_vkey_parse(s, &k, NULL) != 0)
		return;
	ls_vkey_format(&k, f);
	if (ls_vkey_parse(f, &k2, NULL) != 0 || memcmp(&k, &k2, sizeof(k)) != 0)
		abort();
	/* the same text but for the case of the key id's hex digits */
	if (strlen(f) != size || strncmp(f, s, strlen(k.name)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_note(data, size);
	fuzz_sig_lines(data, size);
	fuzz_checkpoint(data, size);
	fuzz_proof(data, size);
	fuzz_addcp(data, size);
	fuzz_vkey(data, size);
	return 0;
}
