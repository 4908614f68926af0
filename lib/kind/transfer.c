/*
 * kind/transfer.c - a Transfer moves grams of a lot, or a technology item,
 * to a certified receiver, citing a license where one is needed.
 */
#include <string.h>

#include "kind.h"

static void
deps(const struct ls_record *r, struct ls_deps *d)
{
	const struct ls_transfer *tf = &r->transfer;

	if (tf->has_lot)
		ls_deps_add(d, LS_DEP_LOT, tf->lot);
	ls_deps_add(d, LS_DEP_RECORD, tf->to_cert);
	if (tf->has_license)
		ls_deps_add(d, LS_DEP_RECORD, tf->license);
}

/* The checks of both layers: the receiver's certificate and the cited
 * license at `layer`, holdings (consensus). */
static enum ls_reason
check_at(struct ls_txn *t, const struct ls_record *r, enum ls_layer layer, struct ls_why *w)
{
	const struct ls_transfer *tf = &r->transfer;
	struct ls_record *to = NULL, *src = NULL, *lic = NULL;
	const struct ls_lotdef *d = NULL;
	enum ls_reason reason;
	char inner[LS_ERR_MSG_MAX], h[17];
	int rc;

	reason = ls_cert_check(t, tf->to_cert, tf->to, 0, r->timestamp, layer, &to, w);
	if (reason == LS_R_STORE)
		return reason;
	if (reason != LS_R_OK) {
		snprintf(inner, sizeof(inner), "%s", w->msg);
		return LS_FAIL(w, LS_R_BAD_RECEIVER, "transfer: the receiver's certificate %s: %s",
			       ls_h8(tf->to_cert, h), inner);
	}
	if (tf->has_lot) {
		struct ls_lot_info li;
		uint64_t held;
		ls_h8(tf->lot, h);
		if ((rc = ls_txn_lot(t, tf->lot, &li)) != 0 ||
		    (rc = ls_txn_hold(t, r->author, tf->lot, &held)) != 0) {
			reason = ls_why_store(w, rc);
			goto out;
		}
		if (r->timestamp < li.timestamp) {
			reason = LS_FAIL(w, LS_R_TIME_BACKWARDS,
					 "transfer: dated before lot %s was made", h);
			goto out;
		}
		if (held == 0) {
			reason =
			    LS_FAIL(w, LS_R_NOT_HOLDER, "transfer: sender holds none of lot %s", h);
			goto out;
		}
		if (tf->grams > held) {
			reason =
			    LS_FAIL(w, LS_R_OVERSPEND,
				    "transfer: ships %llu g of lot %s, sender holds %llu g",
				    (unsigned long long)tf->grams, h, (unsigned long long)held);
			goto out;
		}
		if ((rc = ls_txn_lot_def(t, tf->lot, &src, &d)) != 0) {
			reason = ls_why_store(w, rc);
			goto out;
		}
	}
	if (tf->has_license) {
		struct ls_license_use u = {
		    .exporter = r->author,
		    .destination = to->certificate.country,
		    .end_user = tf->to,
		    .end_use = tf->end_use,
		    .item = d,
		    .tech = tf->tech,
		    .grams = tf->grams,
		    .quantity = true,
		    .at = r->timestamp,
		};
		if ((rc = ls_txn_record(t, tf->license, &lic)) != 0) {
			reason = ls_why_store(w, rc);
			goto out;
		}
		reason = ls_license_check(t, lic, &u, layer, w);
		if (reason != LS_R_OK && reason != LS_R_STORE) {
			snprintf(inner, sizeof(inner), "%s", w->msg);
			(void)LS_FAIL(w, reason, "transfer: %s", inner);
		}
	}
out:
	ls_record_free(to);
	ls_record_free(src);
	ls_record_free(lic);
	return reason;
}

static enum ls_reason
check(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	return check_at(t, r, LS_LAYER_CONSENSUS, w);
}

/* Admission: a receiver or cited license revoked at the transfer's date. */
static enum ls_reason
admit(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	return check_at(t, r, LS_LAYER_ADMISSION, w);
}

static int
apply(struct ls_txn *t, const struct ls_record *r)
{
	const struct ls_transfer *tf = &r->transfer;
	struct ls_flow_row flow = {.is_return = false};
	uint64_t held, used;
	int rc;

	if (!tf->has_lot) {
		if ((rc = ls_txn_tech_put(t, tf->to, r->timestamp, r->id)) != 0)
			return rc;
		return ls_txn_transit_put(t, r->id, 0, false);
	}
	if ((rc = ls_txn_hold(t, r->author, tf->lot, &held)) != 0 ||
	    (rc = ls_txn_hold_put(t, r->author, tf->lot, held - tf->grams)) != 0 ||
	    (rc = ls_txn_transit_put(t, r->id, tf->grams, false)) != 0 ||
	    (rc = ls_txn_child_put(t, tf->lot, r->id)) != 0)
		return rc;
	memcpy(flow.id, r->id, LS_ID_LEN);
	memcpy(flow.lot, tf->lot, LS_ID_LEN);
	memcpy(flow.party, tf->to, LS_KEY_LEN);
	flow.grams = tf->grams;
	if ((rc = ls_txn_flow_put(t, r->author, LS_FLOW_OUT, &flow)) != 0)
		return rc;
	memcpy(flow.party, r->author, LS_KEY_LEN);
	if ((rc = ls_txn_flow_put(t, tf->to, LS_FLOW_IN, &flow)) != 0)
		return rc;
	if (!tf->has_license)
		return 0;
	if ((rc = ls_txn_licused(t, tf->license, &used)) != 0)
		return rc;
	return ls_txn_licused_put(t, tf->license, used + tf->grams);
}

const struct ls_kind ls_kind_transfer = {
    .type = LS_REC_TRANSFER,
    .roles =
	LS_ROLE_MINER | LS_ROLE_PROCESSOR | LS_ROLE_EXPORTER | LS_ROLE_IMPORTER | LS_ROLE_RECYCLER,
    .deps = deps,
    .check = check,
    .apply = apply,
    .admit = admit,
};
