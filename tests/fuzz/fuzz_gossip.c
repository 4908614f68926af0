/*
 * fuzz_gossip.c - libFuzzer target for ls_gossip_decode, the entry point of
 * every byte a peer sends (the witnessing messages included). What decodes
 * must re-encode, and decode again to the same message.
 *
 * Build with `make fuzz`, run with
 *   build/fuzz/fuzz_gossip -max_total_time=60 build/fuzz/corpus-gossip
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gossip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(const struct ls_gossip_msg *a, const struct ls_gossip_msg *b)
{
	if (a->kind != b->kind || a->n_envs != b->n_envs || a->n_heads != b->n_heads ||
	    a->more != b->more || a->reply != b->reply || a->feeds != b->feeds ||
	    a->has_after != b->has_after || a->from_seq != b->from_seq || a->to_seq != b->to_seq ||
	    a->next_seq != b->next_seq || memcmp(a->digest, b->digest, sizeof(a->digest)) != 0 ||
	    memcmp(a->author, b->author, sizeof(a->author)) != 0 ||
	    memcmp(a->after, b->after, sizeof(a->after)) != 0)
		abort();
	for (size_t i = 0; i < a->n_envs; i++)
		if (a->lens[i] != b->lens[i] || memcmp(a->envs[i], b->envs[i], a->lens[i]) != 0)
			abort();
	for (size_t i = 0; i < a->n_heads; i++)
		if (a->heads[i].seq != b->heads[i].seq ||
		    memcmp(a->heads[i].author, b->heads[i].author, 32) != 0)
			abort();
	/* the witnessing messages */
	if (strcmp(a->log_vkey, b->log_vkey) != 0 || strcmp(a->wit_vkey, b->wit_vkey) != 0 ||
	    strcmp(a->reason, b->reason) != 0 || a->data_len != b->data_len ||
	    a->data_b_len != b->data_b_len || a->has_root != b->has_root ||
	    a->n_hashes != b->n_hashes || a->status != b->status || a->has_size != b->has_size ||
	    a->size != b->size || a->from != b->from || a->count != b->count ||
	    a->n_leaves != b->n_leaves || a->n_ids != b->n_ids ||
	    memcmp(a->root, b->root, sizeof(a->root)) != 0)
		abort();
	if ((a->data_len && memcmp(a->data, b->data, a->data_len) != 0) ||
	    (a->data_b_len && memcmp(a->data_b, b->data_b, a->data_b_len) != 0) ||
	    (a->n_hashes && memcmp(a->hashes, b->hashes, a->n_hashes * sizeof(*a->hashes)) != 0) ||
	    (a->n_leaves && memcmp(a->leaves, b->leaves, a->n_leaves * sizeof(*a->leaves)) != 0) ||
	    (a->n_ids && memcmp(a->ids, b->ids, a->n_ids * sizeof(*a->ids)) != 0))
		abort();
	/* a decoded note is NUL-terminated past its length */
	if ((a->data != NULL && a->data[a->data_len] != 0) ||
	    (a->data_b != NULL && a->data_b[a->data_b_len] != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_gossip_msg m, again;
	uint8_t *buf = NULL;
	size_t len = 0;

	if (ls_gossip_decode(data, size, &m, NULL) != 0)
		return 0;
	if (ls_gossip_encode(&m, &buf, &len, NULL) != 0)
		abort(); /* what was accepted within the limits must encode */
	if (ls_gossip_decode(buf, len, &again, NULL) != 0)
		abort();
	same(&m, &again);
	ls_gossip_msg_release(&again);
	ls_gossip_msg_release(&m);
	free(buf);
	return 0;
}
