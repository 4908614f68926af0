/*
 * fuzz_logproof.c - libFuzzer target for the log proof of a bundle
 * (lib/logproof.c): ls_logproof_decode of untrusted bytes, its re-encoding
 * (what decodes encodes and decodes again to the same counts), the check of
 * what decodes against as many zero ids (notes, vkeys, proofs parsed from
 * outside), ls_lp_split_decode, and ls_bundle_log on the same bytes.
 *
 * Build with `make fuzz`, run with
 *   build/fuzz/fuzz_logproof -max_total_time=60 build/fuzz/corpus-logproof
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logproof.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_logproof lp, again;
	struct ls_lp_split sv;
	const uint8_t *log;
	size_t log_len;
	int rc;

	rc = ls_logproof_decode(data, size, &lp, &ctx);
	if (rc == 0) {
		uint8_t *buf = NULL, (*ids)[LS_ID_LEN] = NULL;
		size_t len = 0;
		struct ls_lp_policy pol = {NULL, 0, 0, 0, 0};
		struct ls_lp_report rep;
		struct ls_verdict faults;
		if (ls_logproof_encode(&lp, &buf, &len) != 0)
			abort();
		if (ls_logproof_decode(buf, len, &again, NULL) != 0 ||
		    again.n_records != lp.n_records || again.n_heads != lp.n_heads ||
		    again.n_dating != lp.n_dating || again.n_splits != lp.n_splits ||
		    again.heads_count != lp.heads_count ||
		    strcmp(again.checkpoint, lp.checkpoint) != 0)
			abort();
		ls_logproof_release(&again);
		free(buf);
		ids = calloc(lp.n_records ? lp.n_records : 1, LS_ID_LEN);
		if (ids != NULL) {
			ls_verdict_init(&faults);
			(void)ls_logproof_check(&lp, (const uint8_t(*)[LS_ID_LEN])ids, lp.n_records,
						&pol, &rep, &faults);
			ls_lp_report_release(&rep);
			ls_verdict_release(&faults);
			free(ids);
		}
		ls_logproof_release(&lp);
	} else if (ctx.msg[0] == '\0' && rc != LS_ERR_NOMEM) {
		abort();
	}
	if (ls_lp_split_decode(data, size, &sv, NULL) == 0) {
		free(sv.note_a);
		free(sv.note_b);
		free(sv.proof.h);
	}
	(void)ls_bundle_log(data, size, &log, &log_len);
	return 0;
}
