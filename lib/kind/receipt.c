/*
 * kind/receipt.c - a Receipt: the receiver accepts a transfer (the grams it
 * received).
 */
#include <stdio.h>
#include <string.h>

#include "kind.h"

static void
deps(const struct ls_record *r, struct ls_deps *d)
{
	ls_deps_add(d, LS_DEP_RECORD, r->receipt.transfer);
}

/*
 * Consensus: the receiver of a cross-border transfer acts as an importer.
 * The transfer crosses when the country of its sender's certificate differs
 * from that of the receiver's certificate it names, or from that of the
 * certificate the receipt cites; the receipt's certificate must then give
 * the importer role (a key certified in two countries cannot receive an
 * export under the certificate of the sender's country).
 */
static enum ls_reason
import_role(struct ls_txn *t, const struct ls_record *r, const struct ls_record *tr,
	    struct ls_why *w)
{
	char from[3], to[3], mine[3], inner[LS_ERR_MSG_MAX];
	enum ls_reason reason;
	const char *dest;
	int rc;

	if ((rc = ls_transfer_countries(t, tr, from, to)) != 0 ||
	    (rc = ls_author_country_of(t, r, mine)) != 0)
		return ls_why_store(w, rc);
	if (from[0] == '\0' || mine[0] == '\0')
		return LS_R_OK; /* a trust anchor at either end */
	dest = to[0] != '\0' && strcmp(from, to) != 0 ? to : mine;
	if (strcmp(from, dest) == 0)
		return LS_R_OK;
	reason = ls_cert_check(t, r->cert_id, r->author, LS_ROLE_IMPORTER, r->timestamp,
			       LS_LAYER_CONSENSUS, NULL, w);
	if (reason == LS_R_OK || reason == LS_R_STORE)
		return reason;
	snprintf(inner, sizeof(inner), "%s", w->msg);
	return LS_FAIL(w, reason,
		       "receipt: %s -> %s is an import, which needs the importer role: %s", from,
		       dest, inner);
}

/* Consensus: the transfer is addressed to the author, not yet received,
 * not dated after the receipt, sent at least the grams received, and an
 * import is received by an importer. */
static enum ls_reason
check(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	struct ls_record *tr = NULL;
	enum ls_reason reason = LS_R_OK;
	uint64_t sent;
	bool received;
	char h[17];
	int rc;

	if ((rc = ls_txn_record(t, r->receipt.transfer, &tr)) != 0)
		return ls_why_store(w, rc);
	ls_h8(r->receipt.transfer, h);
	if (tr->type != LS_REC_TRANSFER) {
		reason = LS_FAIL(w, LS_R_BAD_RECEIPT, "receipt: %s is not a transfer", h);
		goto out;
	}
	if (memcmp(tr->transfer.to, r->author, LS_KEY_LEN) != 0) {
		reason = LS_FAIL(w, LS_R_BAD_RECEIPT,
				 "receipt: transfer %s is addressed to someone else", h);
		goto out;
	}
	if (r->timestamp < tr->timestamp) {
		reason = LS_FAIL(w, LS_R_TIME_BACKWARDS,
				 "receipt: dated before the transfer %s it receives", h);
		goto out;
	}
	if ((rc = ls_txn_transit(t, r->receipt.transfer, &sent, &received)) != 0) {
		/* A stored transfer always has its transit entry. */
		reason = ls_why_store(w, rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc);
		goto out;
	}
	if (received) {
		reason =
		    LS_FAIL(w, LS_R_BAD_RECEIPT, "receipt: transfer %s was already received", h);
		goto out;
	}
	if (r->receipt.grams > sent) {
		reason =
		    LS_FAIL(w, LS_R_BAD_RECEIPT, "receipt: %llu g received but %llu g were sent",
			    (unsigned long long)r->receipt.grams, (unsigned long long)sent);
		goto out;
	}
	if (tr->transfer.has_lot && r->receipt.grams == 0) {
		reason = LS_FAIL(w, LS_R_BAD_RECEIPT, "receipt of a lot transfer with 0 g");
		goto out;
	}
	reason = import_role(t, r, tr, w);
out:
	ls_record_free(tr);
	return reason;
}

static int
apply(struct ls_txn *t, const struct ls_record *r)
{
	struct ls_record *tr = NULL;
	uint64_t sent, held;
	bool received;
	int rc;

	if ((rc = ls_txn_record(t, r->receipt.transfer, &tr)) != 0)
		return rc;
	if ((rc = ls_txn_transit(t, r->receipt.transfer, &sent, &received)) != 0 ||
	    (rc = ls_txn_transit_put(t, r->receipt.transfer, sent, true)) != 0 ||
	    (rc = ls_txn_child_put(t, r->receipt.transfer, r->id)) != 0)
		goto out;
	if (tr->transfer.has_lot &&
	    ((rc = ls_txn_hold(t, r->author, tr->transfer.lot, &held)) != 0 ||
	     (rc = ls_txn_hold_put(t, r->author, tr->transfer.lot, held + r->receipt.grams)) != 0))
		goto out;
out:
	ls_record_free(tr);
	return rc;
}

const struct ls_kind ls_kind_receipt = {
    .type = LS_REC_RECEIPT,
    .roles =
	LS_ROLE_MINER | LS_ROLE_PROCESSOR | LS_ROLE_EXPORTER | LS_ROLE_IMPORTER | LS_ROLE_RECYCLER,
    .deps = deps,
    .check = check,
    .apply = apply,
};
