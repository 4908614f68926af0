/*
 * holdings.c - what a participant holds and has in transit (holdings.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "holdings.h"
#include "store_int.h"

struct walk {
	struct ls_txn *t;
	struct ls_holdings *h;
	size_t limit;
	size_t *n;
	bool *more;
	struct ls_flow **flows;
	int err;
};

static void
lot_names(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], char *label, size_t llen, char *cat,
	  size_t clen, int *err)
{
	struct ls_record *rec = NULL;
	const struct ls_lotdef *d;
	int rc = ls_txn_lot_def(t, lot, &rec, &d);

	if (rc == 0) {
		snprintf(label, llen, "%s", d->label);
		if (cat != NULL)
			snprintf(cat, clen, "%s", d->category);
	} else {
		*err = rc;
	}
	ls_record_free(rec);
}

static int
hold_one(void *arg, const uint8_t lot[LS_ID_LEN], uint64_t grams)
{
	struct walk *w = arg;
	struct ls_holdings *h = w->h;
	struct ls_holding *x;

	if (h->n_holds == w->limit) {
		h->more_holds = true;
		return 1;
	}
	x = &h->holds[h->n_holds];
	memset(x, 0, sizeof(*x));
	memcpy(x->lot, lot, LS_ID_LEN);
	x->grams = grams;
	lot_names(w->t, lot, x->label, sizeof(x->label), x->category, sizeof(x->category), &w->err);
	if (w->err != 0)
		return w->err;
	h->n_holds++;
	return 0;
}

static int
flow_one(void *arg, const struct ls_flow_row *row)
{
	struct walk *w = arg;
	struct ls_flow *x;

	if (row->is_return) {
		/* An equivocating receiver's other receipt of a transfer whose
		 * shortfall the sender already took back returns nothing more. */
		struct ls_record *r = NULL;
		bool taken = false;
		int rc = ls_txn_record(w->t, row->id, &r);
		if (rc == 0 && r->type == LS_REC_RECEIPT)
			rc = ls_txn_return_taken(w->t, r->receipt.transfer, &taken);
		ls_record_free(r);
		if (rc != 0)
			return rc;
		if (taken)
			return 0;
	}
	if (*w->n == w->limit) {
		*w->more = true;
		return 1;
	}
	x = &(*w->flows)[*w->n];
	memset(x, 0, sizeof(*x));
	memcpy(x->id, row->id, LS_ID_LEN);
	memcpy(x->transfer, row->id, LS_ID_LEN);
	memcpy(x->lot, row->lot, LS_ID_LEN);
	memcpy(x->party, row->party, LS_KEY_LEN);
	x->grams = row->grams;
	x->is_return = row->is_return;
	lot_names(w->t, row->lot, x->label, sizeof(x->label), NULL, 0, &w->err);
	if (w->err != 0)
		return w->err;
	if (row->is_return) {
		struct ls_record *r = NULL;
		int rc = ls_txn_record(w->t, row->id, &r);
		if (rc != 0)
			return rc;
		if (r->type == LS_REC_RECEIPT) {
			memcpy(x->transfer, r->receipt.transfer, LS_ID_LEN);
			snprintf(x->reason, sizeof(x->reason), "%s",
				 r->receipt.reason ? r->receipt.reason : "");
		}
		ls_record_free(r);
	}
	(*w->n)++;
	return 0;
}

int
ls_holdings(struct ls_store *s, const uint8_t holder[LS_KEY_LEN], const uint8_t *after,
	    size_t limit, struct ls_holdings *h)
{
	struct ls_txn t;
	struct walk w = {0};
	int rc;

	memset(h, 0, sizeof(*h));
	memcpy(h->holder, holder, LS_KEY_LEN);
	if (limit == 0 || limit > LS_HOLDINGS_MAX)
		limit = LS_HOLDINGS_MAX;
	if ((h->holds = calloc(limit, sizeof(*h->holds))) == NULL ||
	    (h->in = calloc(limit, sizeof(*h->in))) == NULL ||
	    (h->out = calloc(limit, sizeof(*h->out))) == NULL)
		return LS_ERR_NOMEM;
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	w.t = &t;
	w.h = h;
	w.limit = limit;
	rc = ls_txn_holds_each(&t, holder, after, hold_one, &w);
	if (rc == 1)
		rc = 0;
	if (rc == 0) {
		w.n = &h->n_in;
		w.more = &h->more_in;
		w.flows = &h->in;
		rc = ls_txn_flows_each(&t, holder, LS_FLOW_IN, after, flow_one, &w);
		if (rc == 1)
			rc = 0;
	}
	if (rc == 0) {
		w.n = &h->n_out;
		w.more = &h->more_out;
		w.flows = &h->out;
		rc = ls_txn_flows_each(&t, holder, LS_FLOW_OUT, after, flow_one, &w);
		if (rc == 1)
			rc = 0;
	}
	ls_txn_abort(&t);
	return rc;
}

void
ls_holdings_release(struct ls_holdings *h)
{
	if (h == NULL)
		return;
	free(h->holds);
	free(h->in);
	free(h->out);
	memset(h, 0, sizeof(*h));
}
