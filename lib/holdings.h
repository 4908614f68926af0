/*
 * holdings.h - what a participant holds and what is in transit to it and
 * from it, per lot, in grams: the holds table and the flows index, read in
 * one read transaction.
 */
#ifndef LS_HOLDINGS_H
#define LS_HOLDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "store.h"

/* Entries of each list of one answer, at most. */
#define LS_HOLDINGS_MAX 1000

struct ls_holding {
	uint8_t lot[LS_ID_LEN];
	char label[LS_STR_MAX + 1];
	char category[16];
	uint64_t grams;
};

/* Material in transit: a transfer not yet received, or the shortfall that a
 * receipt returns to the sender, not yet taken back. */
struct ls_flow {
	uint8_t id[LS_ID_LEN];       /* the transfer, or the receipt that returns grams */
	uint8_t transfer[LS_ID_LEN]; /* the transfer (id itself, or what the receipt received) */
	uint8_t lot[LS_ID_LEN];
	char label[LS_STR_MAX + 1];
	uint8_t party[LS_KEY_LEN]; /* the sender (incoming) or the receiver (outgoing) */
	uint64_t grams;
	bool is_return;
	char reason[LS_STR_MAX + 1]; /* a return: the receipt's reason for it */
};

struct ls_holdings {
	uint8_t holder[LS_KEY_LEN];
	size_t n_holds, n_in, n_out;
	struct ls_holding *holds;           /* by lot id */
	struct ls_flow *in, *out;           /* by transfer (or receipt) id */
	bool more_holds, more_in, more_out; /* the list was cut at the limit */
};

/*
 * Fills *h with what holder holds and has in transit. Each list holds at
 * most `limit` entries (0 or more than LS_HOLDINGS_MAX: LS_HOLDINGS_MAX),
 * in id order, starting after id `after` (NULL: from the first), and says
 * when more follow: the next page starts after the last id shown. Fails
 * with a store error or LS_ERR_NOMEM; release *h with ls_holdings_release
 * either way.
 */
int ls_holdings(struct ls_store *s, const uint8_t holder[LS_KEY_LEN], const uint8_t *after,
		size_t limit, struct ls_holdings *h);

/* Frees what *h owns and zeroes it. NULL-safe. */
void ls_holdings_release(struct ls_holdings *h);

#endif
