/*
 * kind/transfer.c - a Transfer moves grams of a lot, or a technology item,
 * to a certified receiver, citing a license where one is needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kind.h"
#include "util.h"

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

int
ls_transfer_countries(struct ls_txn *t, const struct ls_record *tr, char from[3], char to[3])
{
	int rc = ls_author_country_of(t, tr, from);

	if (rc == 0)
		rc = ls_cert_country_of(t, tr->transfer.to_cert, to);
	return rc;
}

/*
 * Consensus: a transfer between the countries of the certificates it names
 * (the sender's and the receiver's) is an export, and the sender's
 * certificate must give the exporter role.
 */
static enum ls_reason
export_role(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	char from[3], to[3], inner[LS_ERR_MSG_MAX];
	enum ls_reason reason;
	int rc;

	if ((rc = ls_transfer_countries(t, r, from, to)) != 0)
		return ls_why_store(w, rc);
	if (from[0] == '\0' || to[0] == '\0' || strcmp(from, to) == 0)
		return LS_R_OK;
	reason = ls_cert_check(t, r->cert_id, r->author, LS_ROLE_EXPORTER, r->timestamp,
			       LS_LAYER_CONSENSUS, NULL, w);
	if (reason == LS_R_OK || reason == LS_R_STORE)
		return reason;
	snprintf(inner, sizeof(inner), "%s", w->msg);
	return LS_FAIL(w, reason,
		       "transfer: %s -> %s is an export, which needs the exporter role: %s", from,
		       to, inner);
}

static enum ls_reason
check(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	enum ls_reason reason = check_at(t, r, LS_LAYER_CONSENSUS, w);

	return reason == LS_R_OK ? export_role(t, r, w) : reason;
}

/* What a key's certificates valid at a time say together. */
struct party {
	struct ls_txn *t;
	const uint8_t *key;
	uint64_t at;
	enum ls_layer layer;
	bool any;       /* some certificate is valid */
	uint32_t roles; /* the roles of the valid ones */
	size_t n_cc;
	char cc[LS_LIST_MAX][3];
};

static int
party_one(void *arg, const struct ls_cert_row *row)
{
	struct party *pa = arg;
	char msg[LS_ERR_MSG_MAX];
	struct ls_why w = LS_WHY(msg);
	enum ls_reason reason;
	size_t i;

	reason = ls_cert_check(pa->t, row->cert, pa->key, 0, pa->at, pa->layer, NULL, &w);
	if (reason == LS_R_STORE)
		return w.err;
	if (reason != LS_R_OK)
		return 0;
	pa->any = true;
	pa->roles |= row->roles;
	for (i = 0; i < pa->n_cc && strcmp(pa->cc[i], row->country) != 0; i++)
		;
	if (i == pa->n_cc && pa->n_cc < LS_LIST_MAX)
		memcpy(pa->cc[pa->n_cc++], row->country, 3);
	return 0;
}

static int
party_of(struct ls_txn *t, const uint8_t key[LS_KEY_LEN], uint64_t at, enum ls_layer layer,
	 struct party *pa)
{
	memset(pa, 0, sizeof(*pa));
	pa->t = t;
	pa->key = key;
	pa->at = at;
	pa->layer = layer;
	if (ls_store_is_anchor(t->s, key))
		return 0; /* no certificate, no country: a trust anchor exports nothing */
	return ls_txn_certs_each(t, key, party_one, pa);
}

enum ls_reason
ls_transfer_may_receive(struct ls_txn *t, const struct ls_record *tr, enum ls_layer layer,
			struct ls_why *w)
{
	const uint32_t receives = ls_kind_receipt.roles;
	struct party *snd = NULL, *rcv = NULL;
	enum ls_reason reason = LS_R_OK;
	const char *from = NULL, *to = NULL;
	char have[128], h[2 * LS_KEY_LEN + 1], when[32];
	int rc;

	if ((snd = malloc(sizeof(*snd))) == NULL || (rcv = malloc(sizeof(*rcv))) == NULL) {
		reason = ls_why_store(w, LS_ERR_NOMEM);
		goto out;
	}
	if ((rc = party_of(t, tr->transfer.to, tr->timestamp, layer, rcv)) != 0 ||
	    (rc = party_of(t, tr->author, tr->timestamp, layer, snd)) != 0) {
		reason = ls_why_store(w, rc);
		goto out;
	}
	ls_hex(tr->transfer.to, 8, h);
	ls_roles_format(rcv->roles, have, sizeof(have));
	if (!rcv->any) {
		reason =
		    LS_FAIL(w, LS_R_BAD_RECEIVER, "the receiver %s has no valid certificate at %s",
			    h, ls_time_format(tr->timestamp, when, sizeof(when)));
		goto out;
	}
	if ((rcv->roles & receives) == 0) {
		reason = LS_FAIL(w, LS_R_BAD_RECEIVER,
				 "the receiver %s may not receive: its certificates give roles "
				 "(%s), none of miner, processor, exporter, importer, recycler",
				 h, have);
		goto out;
	}
	/* A key certified in several countries is judged in each. */
	for (size_t i = 0; i < snd->n_cc && from == NULL; i++)
		for (size_t j = 0; j < rcv->n_cc && from == NULL; j++)
			if (strcmp(snd->cc[i], rcv->cc[j]) != 0) {
				from = snd->cc[i];
				to = rcv->cc[j];
			}
	if (from == NULL)
		goto out;
	if ((rcv->roles & LS_ROLE_IMPORTER) == 0) {
		reason = LS_FAIL(w, LS_R_BAD_RECEIVER,
				 "%s -> %s is an export: the receiver %s needs the importer role "
				 "and its certificates give (%s)",
				 from, to, h, have);
		goto out;
	}
	if ((snd->roles & LS_ROLE_EXPORTER) == 0) {
		ls_roles_format(snd->roles, have, sizeof(have));
		reason =
		    LS_FAIL(w, LS_R_WRONG_ROLE,
			    "%s -> %s is an export: the sender needs the exporter role and its "
			    "certificates give (%s)",
			    from, to, have);
	}
out:
	free(snd);
	free(rcv);
	return reason;
}

/* Admission: a receiver or cited license revoked at the transfer's date; a
 * receiver that may not receive it. */
static enum ls_reason
admit(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	enum ls_reason reason = check_at(t, r, LS_LAYER_ADMISSION, w);
	char inner[LS_ERR_MSG_MAX];

	if (reason != LS_R_OK)
		return reason;
	reason = ls_transfer_may_receive(t, r, LS_LAYER_ADMISSION, w);
	if (reason != LS_R_OK && reason != LS_R_STORE) {
		snprintf(inner, sizeof(inner), "%s", w->msg);
		(void)LS_FAIL(w, reason, "transfer: %s", inner);
	}
	return reason;
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
	    (rc = ls_txn_child_put(t, tf->lot, r->id, r->type)) != 0)
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
    .judge = ls_transfer_judge,
};
