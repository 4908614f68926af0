/*
 * kind/lot.c - a LotRegistration is a new lot at its origin (a mine or a
 * recycler); the lot id is the record id.
 */
#include <string.h>

#include "kind.h"

static int
apply(struct ls_txn *t, const struct ls_record *r)
{
	const struct ls_lotdef *d = &r->lot.lot;
	struct ls_lot_info li;
	int rc;

	memcpy(li.rec, r->id, LS_ID_LEN);
	li.index = LS_LOT_REGISTRATION;
	li.grams = d->grams;
	memcpy(li.maker, r->author, LS_KEY_LEN);
	li.timestamp = r->timestamp;
	if ((rc = ls_txn_lot_put(t, r->id, &li, d->label, r)) != 0)
		return rc;
	return ls_txn_hold_put(t, r->author, r->id, d->grams);
}

/* Admission: the label is the author's first use of it. */
static enum ls_reason
admit(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	return ls_name_unused(t, r, false, r->lot.lot.label, w);
}

const struct ls_kind ls_kind_lot = {
    .type = LS_REC_LOT,
    .roles = LS_ROLE_MINER | LS_ROLE_RECYCLER,
    .apply = apply,
    .admit = admit,
};
