/*
 * kind/receipt.c - a Receipt: the receiver accepts a transfer (the grams it
 * received), or the sender takes back the shortfall a receipt returned.
 *
 * Nothing disappears. A receipt of fewer grams than were sent returns the
 * shortfall to the sender: it is in transit back to the sender (the receipt
 * is its shipping record) until the sender signs a receipt naming that
 * receipt, and only then can the sender use it again. The sender's own
 * signature is needed because its holdings are ordered by its own feed: a
 * credit written into them by another author's record would make the
 * sender's later spending valid on a node that has the receipt and an
 * overspend on one that does not yet (not order-independent). A shortfall
 * of the sender's receipt of a return is lost: the receipt says so, with
 * its reason, and nothing is in transit any more.
 */
#include <string.h>

#include "kind.h"

static void
deps(const struct ls_record *r, struct ls_deps *d)
{
	ls_deps_add(d, LS_DEP_RECORD, r->receipt.transfer);
}

/* What a receipt takes in: a transfer to its author, or the shortfall that
 * a receipt of its author's transfer returns. */
struct intake {
	struct ls_record *named;    /* the record the receipt names */
	struct ls_record *transfer; /* the transfer (named, or the one named names) */
	bool is_return;
	uint64_t sent; /* grams sent, or returned */
	bool received; /* already taken in */
};

static void
intake_release(struct intake *in)
{
	if (in->transfer != in->named)
		ls_record_free(in->transfer);
	ls_record_free(in->named);
	memset(in, 0, sizeof(*in));
}

/* Consensus: loads what r takes in and checks whose it is. */
static enum ls_reason
intake_load(struct ls_txn *t, const struct ls_record *r, struct intake *in, struct ls_why *w)
{
	char h[17];
	int rc;

	memset(in, 0, sizeof(*in));
	ls_h8(r->receipt.transfer, h);
	if ((rc = ls_txn_record(t, r->receipt.transfer, &in->named)) != 0)
		return ls_why_store(w, rc);
	if (in->named->type == LS_REC_TRANSFER) {
		in->transfer = in->named;
		if (memcmp(in->transfer->transfer.to, r->author, LS_KEY_LEN) != 0)
			return LS_FAIL(w, LS_R_BAD_RECEIPT,
				       "receipt: transfer %s is addressed to someone else", h);
	} else if (in->named->type == LS_REC_RECEIPT) {
		in->is_return = true;
		/* A stored receipt names a stored record. */
		if ((rc = ls_txn_record(t, in->named->receipt.transfer, &in->transfer)) != 0)
			return ls_why_store(w, rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc);
		if (in->transfer->type != LS_REC_TRANSFER)
			return LS_FAIL(w, LS_R_BAD_RECEIPT,
				       "receipt: %s takes back a return itself: it returns nothing",
				       h);
		if (memcmp(in->transfer->author, r->author, LS_KEY_LEN) != 0)
			return LS_FAIL(w, LS_R_BAD_RECEIPT,
				       "receipt: %s returns grams to the sender of its transfer, "
				       "not to this key",
				       h);
	} else {
		return LS_FAIL(w, LS_R_BAD_RECEIPT, "receipt: %s is not a transfer or a receipt",
			       h);
	}
	rc = ls_txn_transit(t, r->receipt.transfer, &in->sent, &in->received);
	if (rc == LS_ERR_NOT_FOUND && in->is_return)
		return LS_FAIL(w, LS_R_BAD_RECEIPT,
			       "receipt: %s returns nothing (every gram sent was received)", h);
	if (rc != 0) /* A stored transfer always has its transit entry. */
		return ls_why_store(w, rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc);
	return LS_R_OK;
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

/* Consensus: the transfer is addressed to the author (or the return to the
 * sender), not yet received (a transfer's shortfall is taken back once,
 * whatever receipts an equivocating receiver signed), not dated after the
 * receipt, and sent at least the grams received; the holding does not
 * overflow; an import is received by an importer. */
static enum ls_reason
check(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	struct intake in;
	enum ls_reason reason;
	uint64_t held = 0;
	bool taken = false;
	char h[17];
	int rc;

	ls_h8(r->receipt.transfer, h);
	if ((reason = intake_load(t, r, &in, w)) != LS_R_OK)
		goto out;
	if (r->timestamp < in.named->timestamp) {
		reason =
		    LS_FAIL(w, LS_R_TIME_BACKWARDS, "receipt: dated before the %s %s it receives",
			    in.is_return ? "receipt" : "transfer", h);
		goto out;
	}
	if (in.is_return &&
	    (rc = ls_txn_return_taken(t, in.named->receipt.transfer, &taken)) != 0) {
		reason = ls_why_store(w, rc);
		goto out;
	}
	if (in.received || taken) {
		reason =
		    LS_FAIL(w, LS_R_BAD_RECEIPT,
			    in.is_return ? "receipt: what receipt %s returns was already taken back"
					 : "receipt: transfer %s was already received",
			    h);
		goto out;
	}
	if (r->receipt.grams > in.sent) {
		reason = LS_FAIL(w, LS_R_BAD_RECEIPT, "receipt: %llu g received but %llu g were %s",
				 (unsigned long long)r->receipt.grams, (unsigned long long)in.sent,
				 in.is_return ? "returned" : "sent");
		goto out;
	}
	if (in.transfer->transfer.has_lot &&
	    (rc = ls_txn_hold(t, r->author, in.transfer->transfer.lot, &held)) != 0) {
		reason = ls_why_store(w, rc);
		goto out;
	}
	if (held > UINT64_MAX - r->receipt.grams) {
		reason = LS_FAIL(w, LS_R_BAD_RECEIPT, "receipt: the holding would overflow");
		goto out;
	}
	/* An import is received by an importer (a return goes home). */
	if (!in.is_return)
		reason = import_role(t, r, in.transfer, w);
out:
	intake_release(&in);
	return reason;
}

/* Admission: grams short of what was sent need a reason, so that a
 * shortfall is never silent. */
static enum ls_reason
admit(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	struct intake in;
	enum ls_reason reason;

	if ((reason = intake_load(t, r, &in, w)) != LS_R_OK)
		goto out;
	if (r->receipt.grams < in.sent &&
	    (r->receipt.reason == NULL || r->receipt.reason[0] == '\0'))
		reason = LS_FAIL(w, LS_R_BAD_RECEIPT,
				 "receipt: %llu g of the %llu g %s are short: say why (reason)",
				 (unsigned long long)(in.sent - r->receipt.grams),
				 (unsigned long long)in.sent, in.is_return ? "returned" : "sent");
out:
	intake_release(&in);
	return reason;
}

struct unflow {
	struct ls_txn *t;
	const struct ls_record *transfer;
};

/* A transfer's shortfall is taken back once: what any receipt of it (an
 * equivocating receiver may sign several) returns is no longer in transit. */
static int
return_gone(void *arg, const uint8_t receipt[LS_ID_LEN])
{
	struct unflow *u = arg;
	int rc;

	if ((rc = ls_txn_flow_del(u->t, u->transfer->author, LS_FLOW_IN, receipt)) != 0)
		return rc;
	return ls_txn_flow_del(u->t, u->transfer->transfer.to, LS_FLOW_OUT, receipt);
}

static int
apply(struct ls_txn *t, const struct ls_record *r)
{
	char msg[LS_ERR_MSG_MAX];
	struct ls_why w = LS_WHY(msg);
	struct intake in;
	const struct ls_transfer *tf;
	uint64_t held;
	int rc = 0;

	/* check() passed on this state: only a store error can fail here. */
	if (intake_load(t, r, &in, &w) != LS_R_OK) {
		rc = w.err ? w.err : LS_ERR_STORE;
		goto out;
	}
	tf = &in.transfer->transfer;
	if ((rc = ls_txn_transit_put(t, r->receipt.transfer, in.sent, true)) != 0 ||
	    (rc = ls_txn_child_put(t, r->receipt.transfer, r->id, r->type)) != 0)
		goto out;
	if (in.is_return) {
		struct unflow u = {t, in.transfer};
		if ((rc = ls_txn_return_taken_put(t, in.named->receipt.transfer,
						  r->receipt.grams)) != 0 ||
		    (rc = ls_txn_children(t, in.named->receipt.transfer, return_gone, &u)) != 0)
			goto out;
	}
	if (!tf->has_lot)
		goto out;
	if ((rc = ls_txn_hold(t, r->author, tf->lot, &held)) != 0 ||
	    (rc = ls_txn_hold_put(t, r->author, tf->lot, held + r->receipt.grams)) != 0 ||
	    (rc = ls_txn_flow_del(t, r->author, LS_FLOW_IN, r->receipt.transfer)) != 0 ||
	    (rc = ls_txn_flow_del(t, in.named->author, LS_FLOW_OUT, r->receipt.transfer)) != 0)
		goto out;
	/* The shortfall of a receipt of a transfer goes back to the sender. */
	if (!in.is_return && r->receipt.grams < in.sent) {
		struct ls_flow_row back = {.grams = in.sent - r->receipt.grams, .is_return = true};
		memcpy(back.id, r->id, LS_ID_LEN);
		memcpy(back.lot, tf->lot, LS_ID_LEN);
		memcpy(back.party, r->author, LS_KEY_LEN);
		if ((rc = ls_txn_transit_put(t, r->id, back.grams, false)) != 0 ||
		    (rc = ls_txn_flow_put(t, in.transfer->author, LS_FLOW_IN, &back)) != 0)
			goto out;
		memcpy(back.party, in.transfer->author, LS_KEY_LEN);
		rc = ls_txn_flow_put(t, r->author, LS_FLOW_OUT, &back);
	}
out:
	intake_release(&in);
	return rc;
}

const struct ls_kind ls_kind_receipt = {
    .type = LS_REC_RECEIPT,
    .roles =
	LS_ROLE_MINER | LS_ROLE_PROCESSOR | LS_ROLE_EXPORTER | LS_ROLE_IMPORTER | LS_ROLE_RECYCLER,
    .deps = deps,
    .check = check,
    .apply = apply,
    .admit = admit,
};
