/*
 * verify.c - provenance and export checks.
 *
 * Ingest already enforced what a record's causal past decides (signatures,
 * certificates, feeds, holdings, mass balance, cited licenses). Here the
 * ledger is judged as it stands now: revocations published after the fact,
 * equivocating authors, cross-border hops under the policy in force at their
 * date, re-export bindings of licenses up the custody chain, de minimis.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "kind.h"
#include "util.h"
#include "verify_int.h"

__extension__ typedef unsigned __int128 u128;

static const char *const verdict_names[] = {"valid", "broken", "allowed", "license-required",
					    "denied"};

const char *
ls_verdict_name(enum ls_verdict_kind k)
{
	if ((unsigned)k >= sizeof(verdict_names) / sizeof(verdict_names[0]))
		return "unknown";
	return verdict_names[k];
}

void
ls_verdict_init(struct ls_verdict *v)
{
	memset(v, 0, sizeof(*v));
}

void
ls_verdict_release(struct ls_verdict *v)
{
	if (v == NULL)
		return;
	free(v->reasons);
	memset(v, 0, sizeof(*v));
}

int
ls_verdict_add(struct ls_verdict *v, enum ls_reason code, const uint8_t (*ids)[LS_ID_LEN],
	       size_t n_ids, const char *fmt, ...)
{
	struct ls_verdict_reason *r, *nr;
	va_list ap;

	/* One reason per code and message: a fault seen on two paths is one fault. */
	nr = realloc(v->reasons, (v->n + 1) * sizeof(*nr));
	if (nr == NULL)
		return LS_ERR_NOMEM;
	v->reasons = nr;
	r = &v->reasons[v->n];
	memset(r, 0, sizeof(*r));
	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < v->n; i++)
		if (v->reasons[i].code == code && strcmp(v->reasons[i].message, r->message) == 0)
			return 0;
	for (size_t i = 0; ids != NULL && i < n_ids && i < LS_REASON_IDS_MAX; i++)
		memcpy(r->ids[i], ids[i], LS_ID_LEN);
	r->n_ids = n_ids < LS_REASON_IDS_MAX ? n_ids : LS_REASON_IDS_MAX;
	v->n++;
	return 0;
}

static const char *
h8(const uint8_t *id, char buf[17])
{
	char full[65];
	ls_hex(id, 32, full);
	memcpy(buf, full, 16);
	buf[16] = '\0';
	return buf;
}

static bool
keylist_has(const struct ls_keylist *l, const uint8_t k[32])
{
	for (size_t i = 0; i < l->n; i++)
		if (memcmp(l->v[i], k, 32) == 0)
			return true;
	return false;
}

/* ---- policies ---- */

struct policies {
	size_t n;
	struct ls_record **p;
	const struct ls_policy **pol; /* &p[i]->policy, for the origin cache */
};

static void
policies_release(struct policies *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		ls_record_free(ps->p[i]);
	free(ps->p);
	free(ps->pol);
	memset(ps, 0, sizeof(*ps));
}

struct pload {
	struct ls_txn *t;
	struct policies *ps;
};

/* Question time: a policy counts when its author was a valid authority at
 * its date (a revocation in scope voids what came after it). */
static int
policy_one(void *arg, const uint8_t id[LS_ID_LEN])
{
	struct pload *pl = arg;
	struct ls_record *r = NULL, **np;
	char msg[LS_ERR_MSG_MAX];
	struct ls_why w = LS_WHY(msg);
	enum ls_reason reason;
	int rc;

	if ((rc = ls_txn_record(pl->t, id, &r)) != 0)
		return rc;
	reason = ls_author_check(pl->t, r, LS_ROLE_AUTHORITY, LS_LAYER_QUESTION, &w);
	if (reason != LS_R_OK) {
		ls_record_free(r);
		return reason == LS_R_STORE ? w.err : 0;
	}
	if ((np = realloc(pl->ps->p, (pl->ps->n + 1) * sizeof(*np))) == NULL) {
		ls_record_free(r);
		return LS_ERR_NOMEM;
	}
	pl->ps->p = np;
	pl->ps->p[pl->ps->n++] = r;
	return 0;
}

static int
policies_load(struct ls_txn *t, struct policies *ps)
{
	struct pload pl = {t, ps};
	int rc;

	memset(ps, 0, sizeof(*ps));
	rc = ls_txn_policies_each(t, policy_one, &pl);
	if (rc == 0 && (ps->pol = calloc(ps->n ? ps->n : 1, sizeof(*ps->pol))) == NULL)
		rc = LS_ERR_NOMEM;
	for (size_t i = 0; rc == 0 && i < ps->n; i++)
		ps->pol[i] = &ps->p[i]->policy;
	return rc;
}

/* Whether policy i is in force at time `at`: inside its period, not
 * superseded by a policy in force, not suspended. */
static bool
policy_in_force(const struct policies *ps, size_t i, uint64_t at)
{
	const struct ls_record *p = ps->p[i];

	if (at < p->policy.effective_from ||
	    (p->policy.effective_until != 0 && at >= p->policy.effective_until))
		return false;
	for (size_t j = 0; j < ps->n; j++) {
		const struct ls_policy *q = &ps->p[j]->policy;
		/* Only a policy of the same jurisdiction supersedes or suspends
		 * (ingest refuses others; this holds for bundles too). */
		if (j == i || strcasecmp(q->jurisdiction, p->policy.jurisdiction) != 0)
			continue;
		for (size_t s = 0; s < q->n_suspends; s++)
			if (memcmp(q->suspends[s].policy, p->id, 32) == 0 &&
			    at >= q->suspends[s].from && at < q->suspends[s].until)
				return false;
		if (keylist_has(&q->supersedes, p->id) && at >= q->effective_from &&
		    (q->effective_until == 0 || at < q->effective_until))
			return false;
	}
	return true;
}

enum control { C_NOT, C_EXEMPT, C_DE_MINIMIS, C_CONTROLLED };

/* Rounding allowed when a share is compared with a threshold (see controlled). */
#define SHARE_ROUNDING ((u128)LS_FRAC_ONE / 1000)

/*
 * Whether exporting lot `lo` from country `from_cc` is controlled by policy k
 * of ps (lo->reach[k] is its reach, origin.c). msg gets the why; when the
 * policy asks for the value basis but a lot of the chain declares no value,
 * unvalued gets that lot and *has_unvalued is set.
 */
static enum control
controlled(const struct policies *ps, size_t k, const struct ls_lot_origin *lo, const char *from_cc,
	   char *msg, size_t len, uint8_t unvalued[32], bool *has_unvalued)
{
	const struct ls_policy *p = &ps->p[k]->policy;
	const struct ls_reach *r = &lo->reach[k];
	u128 share = 0, thresh;
	bool content = false, by_value;
	char origin[32], what[160], h[17];
	const char *basis;
	unsigned long long shown;

	*has_unvalued = false;
	if (ls_strlist_has(&p->exempt_categories, lo->category)) {
		snprintf(msg, len, "category '%s' is exempt under policy '%s' (%s)", lo->category,
			 p->name, p->jurisdiction);
		return C_EXEMPT;
	}
	if (p->controlled_categories.n > 0 &&
	    !ls_strlist_has(&p->controlled_categories, lo->category))
		return C_NOT;
	for (size_t i = 0; i < p->n_elements; i++)
		for (size_t e = 0; e < lo->n; e++)
			if (lo->e[e].z == p->elements[i] && lo->e[e].ppm > 0) {
				content = true;
				share += (u128)lo->e[e].ppm * r->frac[e];
			}
	if (!content)
		return C_NOT;
	if (strcmp(from_cc, p->jurisdiction) == 0) {
		snprintf(msg, len, "%s holds controlled elements under policy '%s' (%s)",
			 lo->category, p->name, p->jurisdiction);
		return C_CONTROLLED;
	}
	if (!p->applies_to_reexport && !p->applies_to_foreign_tech)
		return C_NOT;
	by_value = p->de_minimis_basis == LS_BASIS_VALUE && r->valued;
	if (by_value)
		share = (u128)r->value_frac * LS_PPM_TOTAL;
	if (share == 0)
		return C_NOT;
	if (r->tech)
		snprintf(origin, sizeof(origin), "%s-origin or %s-technology", p->jurisdiction,
			 p->jurisdiction);
	else
		snprintf(origin, sizeof(origin), "%s-origin", p->jurisdiction);
	if (!by_value && p->de_minimis_basis == LS_BASIS_VALUE) {
		snprintf(what, sizeof(what),
			 "%s controlled content (counted by mass: lot %s of the chain declares "
			 "no value)",
			 origin, h8(r->unvalued, h));
		memcpy(unvalued, r->unvalued, 32);
		*has_unvalued = true;
	} else
		snprintf(what, sizeof(what), "%s controlled content%s", origin,
			 by_value ? " worth" : "");
	/* Shares are floored at every transformation, so a content exactly at
	 * the threshold comes out a few units under it: allow that rounding (far
	 * below 0.001 ppm), or exactly 0.1 % would pass as de minimis. The
	 * figure shown is rounded the same way. */
	thresh = (u128)p->de_minimis_ppm * LS_FRAC_ONE;
	shown = (unsigned long long)((share + SHARE_ROUNDING) / LS_FRAC_ONE);
	basis = by_value ? "of the lot's value" : "of the lot's mass";
	if (share + SHARE_ROUNDING >= thresh) {
		snprintf(msg, len,
			 "%s %llu ppm %s is at or above the de minimis threshold %u ppm of "
			 "policy '%s'",
			 what, shown, basis, p->de_minimis_ppm, p->name);
		return C_CONTROLLED;
	}
	snprintf(msg, len, "%s %llu ppm %s is below the de minimis threshold %u ppm of policy '%s'",
		 what, shown, basis, p->de_minimis_ppm, p->name);
	return C_DE_MINIMIS;
}

/* ---- holders and countries ---- */

/*
 * Question time: the certificates of key valid at `at` (in their period,
 * neither revoked in scope, issued by a valid authority) and the distinct
 * countries they name. A key certified in several countries is judged in
 * each: it cannot pick the one that suits it by the certificate it cites.
 */
#define KEY_CERTS_MAX LS_LIST_MAX

struct key_certs {
	size_t n, n_cc;
	uint8_t cert[KEY_CERTS_MAX][32];
	char cc[KEY_CERTS_MAX][3];
};

struct kcs {
	struct ls_txn *t;
	const uint8_t *key;
	uint64_t at;
	struct key_certs *kc;
};

static int
kcs_one(void *arg, const struct ls_cert_row *row)
{
	struct kcs *k = arg;
	char msg[LS_ERR_MSG_MAX];
	struct ls_why w = LS_WHY(msg);
	enum ls_reason reason;
	size_t i;

	if (row->from > k->at || (row->until != 0 && k->at >= row->until) ||
	    k->kc->n == KEY_CERTS_MAX)
		return 0;
	reason = ls_cert_check(k->t, row->cert, k->key, 0, k->at, LS_LAYER_QUESTION, NULL, &w);
	if (reason == LS_R_STORE)
		return w.err;
	if (reason != LS_R_OK)
		return 0;
	memcpy(k->kc->cert[k->kc->n++], row->cert, 32);
	for (i = 0; i < k->kc->n_cc && strcmp(k->kc->cc[i], row->country) != 0; i++)
		;
	if (i == k->kc->n_cc)
		memcpy(k->kc->cc[k->kc->n_cc++], row->country, 3);
	return 0;
}

static int
key_certs(struct ls_txn *t, const uint8_t key[32], uint64_t at, struct key_certs *kc)
{
	struct kcs k = {t, key, at, kc};

	kc->n = kc->n_cc = 0;
	return ls_txn_certs_each(t, key, kcs_one, &k);
}

/* Whether a policy denies key by name: the organisation of any of its valid
 * certificates. */
static int
denied_by_name(struct ls_txn *t, const struct ls_policy *p, const struct key_certs *kc,
	       bool *denied)
{
	int rc;

	*denied = false;
	for (size_t i = 0; i < kc->n && !*denied && p->denied_end_user_names.n > 0; i++) {
		struct ls_record *cr = NULL;
		if ((rc = ls_txn_record(t, kc->cert[i], &cr)) != 0)
			return rc;
		*denied = cr->type == LS_REC_CERTIFICATE &&
			  ls_strlist_has(&p->denied_end_user_names, cr->certificate.org);
		ls_record_free(cr);
	}
	return 0;
}

/* The key holding the most of lot, preferring its maker on a tie. */
struct mh {
	const struct ls_lot_info *li;
	uint8_t *holder;
	uint64_t best;
	bool found;
	size_t n;
};

static int
mh_one(void *arg, const uint8_t holder[LS_KEY_LEN], uint64_t g)
{
	struct mh *m = arg;

	m->n++;
	if (!m->found || g > m->best || (g == m->best && memcmp(holder, m->li->maker, 32) == 0)) {
		memcpy(m->holder, holder, 32);
		m->best = g;
		m->found = true;
	}
	return 0;
}

/* The key holding the most of lot, preferring its maker on a tie. */
static int
main_holder(struct ls_txn *t, const uint8_t lot[32], const struct ls_lot_info *li,
	    uint8_t holder[32], size_t *n_holders, bool *found)
{
	struct mh m = {li, holder, 0, false, 0};
	int rc = ls_txn_holders_each(t, lot, mh_one, &m);

	*n_holders = m.n;
	*found = m.found;
	return rc;
}

/* ---- ancestors and records ---- */

/* Every lot that lot descends from, lot included (BFS order). */
static int
ancestors(struct ls_txn *t, const uint8_t lot[32], uint8_t (**out)[32], size_t *n)
{
	struct ls_idmap *seen = ls_idmap_new();
	uint8_t(*q)[32] = NULL;
	size_t head = 0, cnt = 0, cap = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (seen == NULL)
		return LS_ERR_NOMEM;
	if ((q = malloc(64 * 32)) == NULL) {
		ls_idmap_free(&seen);
		return LS_ERR_NOMEM;
	}
	cap = 64;
	memcpy(q[cnt++], lot, 32);
	if ((rc = ls_idmap_put(seen, lot, (void *)1)) != 0)
		goto out;
	while (head < cnt) {
		struct ls_lot_info li;
		struct ls_record *r = NULL;
		if ((rc = ls_txn_lot(t, q[head], &li)) != 0)
			goto out;
		head++;
		if (li.index == LS_LOT_REGISTRATION)
			continue;
		if ((rc = ls_txn_record(t, li.rec, &r)) != 0)
			goto out;
		for (size_t i = 0; i < r->transformation.n_inputs; i++) {
			const uint8_t *in = r->transformation.inputs[i].lot;
			if (ls_idmap_has(seen, in))
				continue;
			if (cnt == cap) {
				uint8_t(*nq)[32] = realloc(q, cap * 2 * 32);
				if (nq == NULL) {
					ls_record_free(r);
					rc = LS_ERR_NOMEM;
					goto out;
				}
				q = nq;
				cap *= 2;
			}
			memcpy(q[cnt++], in, 32);
			if ((rc = ls_idmap_put(seen, in, (void *)1)) != 0) {
				ls_record_free(r);
				goto out;
			}
		}
		ls_record_free(r);
	}
	*out = q;
	*n = cnt;
	q = NULL;
out:
	free(q);
	ls_idmap_free(&seen);
	return rc;
}

/* ---- custody: the transfers through which a holder got a lot ---- */

struct custody {
	struct ls_txn *t;
	struct ls_idmap *seen;      /* hash(holder || lot) */
	struct ls_idmap *transfers; /* transfer ids on the path */
	uint8_t holder[32], lot[32];
	int rc;
	/* work stack of (holder, lot) */
	uint8_t (*stack)[64];
	size_t sp, cap;
};

static int
custody_push(struct custody *c, const uint8_t holder[32], const uint8_t lot[32])
{
	uint8_t pair[64], h[32];

	memcpy(pair, holder, 32);
	memcpy(pair + 32, lot, 32);
	crypto_generichash(h, 32, pair, 64, NULL, 0);
	if (ls_idmap_has(c->seen, h))
		return 0;
	if (ls_idmap_put(c->seen, h, (void *)1) != 0)
		return LS_ERR_NOMEM;
	if (c->sp == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 32;
		uint8_t(*ns)[64] = realloc(c->stack, nc * 64);
		if (ns == NULL)
			return LS_ERR_NOMEM;
		c->stack = ns;
		c->cap = nc;
	}
	memcpy(c->stack[c->sp++], pair, 64);
	return 0;
}

static int
custody_child(void *arg, const uint8_t rec[32])
{
	struct custody *c = arg;
	struct ls_record *r = NULL;
	bool received = false;
	int rc = 0;

	if ((rc = ls_txn_record(c->t, rec, &r)) != 0)
		return rc;
	if (r->type == LS_REC_TRANSFER && memcmp(r->transfer.to, c->holder, 32) == 0 &&
	    (rc = ls_txn_received(c->t, rec, &received)) == 0 && received) {
		if ((rc = ls_idmap_put(c->transfers, rec, (void *)1)) == 0)
			rc = custody_push(c, r->author, c->lot);
	}
	ls_record_free(r);
	return rc;
}

/* The transfers (received) through which holder came to hold lot or the lots
 * it was made from. *out is a map of transfer ids (caller frees). */
static int
custody(struct ls_txn *t, const uint8_t holder[32], const uint8_t lot[32], struct ls_idmap **out)
{
	struct custody c = {.t = t};
	int rc = 0;

	*out = NULL;
	c.seen = ls_idmap_new();
	c.transfers = ls_idmap_new();
	if (c.seen == NULL || c.transfers == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	if ((rc = custody_push(&c, holder, lot)) != 0)
		goto out;
	while (c.sp > 0) {
		struct ls_lot_info li;
		c.sp--;
		memcpy(c.holder, c.stack[c.sp], 32);
		memcpy(c.lot, c.stack[c.sp] + 32, 32);
		if ((rc = ls_txn_children(t, c.lot, custody_child, &c)) != 0 ||
		    (rc = ls_txn_lot(t, c.lot, &li)) != 0)
			goto out;
		if (li.index != LS_LOT_REGISTRATION && memcmp(li.maker, c.holder, 32) == 0) {
			struct ls_record *r = NULL;
			if ((rc = ls_txn_record(t, li.rec, &r)) != 0)
				goto out;
			for (size_t i = 0; rc == 0 && i < r->transformation.n_inputs; i++)
				rc = custody_push(&c, li.maker, r->transformation.inputs[i].lot);
			ls_record_free(r);
			if (rc != 0)
				goto out;
		}
	}
	*out = c.transfers;
	c.transfers = NULL;
out:
	free(c.stack);
	ls_idmap_free(&c.seen);
	ls_idmap_free(&c.transfers);
	return rc;
}

struct bind_ctx {
	struct ls_txn *t;
	struct ls_verdict *v;
	const struct policies *ps;
	const char *category; /* of the lot */
	uint64_t at;
	const char *dest;
	const char *end_use;
	const uint8_t *exclude;
	bool denied;
	int rc;
};

/*
 * Whether a license's bindings stand aside for this lot: its category is
 * exempt under a policy in force of a jurisdiction the license's issuer acts
 * for. Another country's exemption does not lift them.
 */
static int
binding_exempt(struct bind_ctx *b, const struct ls_record *lic, bool *exempt)
{
	int rc;

	*exempt = false;
	for (size_t i = 0; i < b->ps->n && !*exempt; i++) {
		const struct ls_policy *p = &b->ps->p[i]->policy;
		if (!policy_in_force(b->ps, i, b->at) ||
		    !ls_strlist_has(&p->exempt_categories, b->category))
			continue;
		if ((rc = ls_author_acts_for(b->t, lic, p->jurisdiction, exempt)) != 0)
			return rc;
	}
	return 0;
}

static void
bind_one(void *arg, const uint8_t id[32], void *val)
{
	struct bind_ctx *b = arg;
	struct ls_record *tr = NULL, *lic = NULL;
	uint8_t ids[2][32];
	bool exempt;
	char h[17];

	(void)val;
	if (b->rc != 0 || (b->exclude != NULL && memcmp(id, b->exclude, 32) == 0))
		return;
	if ((b->rc = ls_txn_record(b->t, id, &tr)) != 0)
		return;
	if (!tr->transfer.has_license)
		goto out;
	if ((b->rc = ls_txn_record(b->t, tr->transfer.license, &lic)) != 0)
		goto out;
	if (lic->type != LS_REC_LICENSE)
		goto out;
	if ((b->rc = binding_exempt(b, lic, &exempt)) != 0 || exempt)
		goto out;
	memcpy(ids[0], lic->id, 32);
	memcpy(ids[1], tr->id, 32);
	if (ls_strlist_has(&lic->license.no_reexport_to, b->dest)) {
		b->denied = true;
		b->rc = ls_verdict_add(b->v, LS_R_REEXPORT_BARRED, (const uint8_t(*)[32])ids, 2,
				       "license %s (transfer %s) bars re-export to %s",
				       lic->license.number, h8(tr->id, h), b->dest);
	}
	if (b->rc == 0 && lic->license.no_military && strcasecmp(b->end_use, "military") == 0) {
		b->denied = true;
		b->rc = ls_verdict_add(b->v, LS_R_END_USE_DENIED, (const uint8_t(*)[32])ids, 2,
				       "license %s (transfer %s) bars military use downstream",
				       lic->license.number, h8(tr->id, h));
	}
out:
	ls_record_free(tr);
	ls_record_free(lic);
}

/* Re-export bindings of every license up holder's custody of lot, at `at`,
 * unless the issuing jurisdiction exempts the lot's category. */
static int
check_bindings(struct ls_txn *t, const struct policies *ps, uint64_t at, const uint8_t holder[32],
	       const uint8_t lot[32], const char *dest, const char *end_use, const uint8_t *exclude,
	       struct ls_verdict *v, bool *denied)
{
	struct ls_idmap *tr = NULL;
	struct ls_record *rec = NULL;
	const struct ls_lotdef *d;
	struct bind_ctx b = {t, v, ps, NULL, at, dest, end_use, exclude, false, 0};
	int rc;

	*denied = false;
	if ((rc = ls_txn_lot_def(t, lot, &rec, &d)) != 0)
		return rc;
	b.category = d->category;
	if ((rc = custody(t, holder, lot, &tr)) == 0) {
		ls_idmap_each(tr, bind_one, &b);
		rc = b.rc;
	}
	ls_idmap_free(&tr);
	ls_record_free(rec);
	*denied = b.denied;
	return rc;
}

/* ---- provenance ---- */

struct prov {
	struct ls_txn *t;
	struct ls_verdict *v;
	struct ls_ocache *oc;
	struct policies *ps;
	struct ls_idmap *checked;
	struct ls_idmap *path; /* transfers the lot's material went through */
	const uint8_t *lot;
	int rc;
};

/*
 * Whether author signed two records with one seq: the first evidence pair
 * kept for it (its seq and both record ids), or false.
 */
static int
author_equivocated(struct ls_txn *t, const uint8_t author[32], bool *found, uint64_t *seq,
		   uint8_t pair[2][32])
{
	int rc = ls_txn_evidence_first(t, author, seq, pair);

	*found = rc == 0;
	return rc == LS_ERR_NOT_FOUND ? 0 : rc;
}

/* Checks one ancestor record at question time: its author's certificate
 * and role with the revocations now known (in scope), and equivocation. */
static int
check_record(struct prov *p, const struct ls_record *r)
{
	uint64_t seq;
	uint8_t ids[2][32], pair[2][32];
	char h[17], msg[LS_ERR_MSG_MAX];
	struct ls_why w = LS_WHY(msg);
	enum ls_reason reason;
	bool equiv;
	int rc;

	if (ls_idmap_has(p->checked, r->id))
		return 0;
	if ((rc = ls_idmap_put(p->checked, r->id, (void *)1)) != 0)
		return rc;
	p->v->ancestors++;
	memcpy(ids[0], r->id, 32);
	reason = ls_author_check(p->t, r, ls_rtype_roles(r->type), LS_LAYER_QUESTION, &w);
	if (reason == LS_R_STORE)
		return w.err;
	if (reason != LS_R_OK) {
		memcpy(ids[1], w.id, 32);
		if ((rc = ls_verdict_add(p->v, reason, (const uint8_t(*)[32])ids, w.has_id ? 2 : 1,
					 "%s %s: %s", ls_rtype_name(r->type), h8(r->id, h), msg)) !=
		    0)
			return rc;
	}
	if ((rc = author_equivocated(p->t, r->author, &equiv, &seq, pair)) != 0)
		return rc;
	if (equiv) {
		uint8_t eids[3][32];
		char ha[17], hb[17];
		memcpy(eids[0], r->id, 32);
		memcpy(eids[1], pair[0], 32);
		memcpy(eids[2], pair[1], 32);
		if ((rc = ls_verdict_add(p->v, LS_R_EQUIVOCATION, (const uint8_t(*)[32])eids, 3,
					 "the author of %s %s signed two records with seq %llu: "
					 "%s and %s",
					 ls_rtype_name(r->type), h8(r->id, h),
					 (unsigned long long)seq, h8(pair[0], ha),
					 h8(pair[1], hb))) != 0)
			return rc;
	}
	return 0;
}

/* One hop from from_cc to to_cc under every policy in force at its date
 * that controls it (see check_hop_at). */
struct hop {
	struct prov *p;
	const struct ls_record *tr;
	const uint8_t *lot;
	const struct ls_lot_origin *lo;
	const struct ls_lotdef *d;
	const struct ls_record *lic;
	const struct key_certs *rcv;
};

static int
hop_policies(const struct hop *x, const char *from_cc, const char *to_cc)
{
	struct prov *p = x->p;
	const struct ls_record *tr = x->tr;
	const struct ls_transfer *tf = &tr->transfer;
	const char *use = *tf->end_use ? tf->end_use : "civilian";
	char msg[LS_ERR_MSG_MAX], why_msg[LS_ERR_MSG_MAX], h[17];
	struct ls_why w = LS_WHY(why_msg);
	enum ls_reason reason;
	uint8_t ids[3][32];
	int rc = 0;

	memcpy(ids[0], tr->id, 32);
	for (size_t i = 0; i < p->ps->n && rc == 0; i++) {
		const struct ls_record *pol = p->ps->p[i];
		const struct ls_policy *pp = &pol->policy;
		bool unv = false, bad_user;
		size_t n_ids = 2;
		if (!policy_in_force(p->ps, i, tr->timestamp))
			continue;
		if (x->lot != NULL) {
			if (controlled(p->ps, i, x->lo, from_cc, msg, sizeof(msg), ids[2], &unv) !=
			    C_CONTROLLED)
				continue;
		} else {
			if (strcmp(pp->jurisdiction, from_cc) != 0 ||
			    !ls_strlist_has(&pp->controlled_tech, tf->tech))
				continue;
			snprintf(msg, sizeof(msg),
				 "%s is controlled technology under policy '%s' (%s)", tf->tech,
				 pp->name, pp->jurisdiction);
		}
		memcpy(ids[1], pol->id, 32);
		if (unv)
			n_ids = 3;
		if (ls_strlist_has(&pp->denied_end_uses, use) &&
		    (rc = ls_verdict_add(p->v, LS_R_END_USE_DENIED, (const uint8_t(*)[32])ids, 2,
					 "transfer %s: end use '%s' is denied by policy '%s' (%s)",
					 h8(tr->id, h), use, pp->name, pp->jurisdiction)) != 0)
			break;
		bad_user = keylist_has(&pp->denied_end_user_keys, tf->to);
		if (!bad_user && (rc = denied_by_name(p->t, pp, x->rcv, &bad_user)) != 0)
			break;
		if (bad_user &&
		    (rc = ls_verdict_add(p->v, LS_R_END_USER_DENIED, (const uint8_t(*)[32])ids, 2,
					 "transfer %s: the receiver is denied by policy '%s' (%s)",
					 h8(tr->id, h), pp->name, pp->jurisdiction)) != 0)
			break;
		if (x->lic == NULL) {
			rc = ls_verdict_add(p->v, LS_R_NO_LICENSE, (const uint8_t(*)[32])ids, n_ids,
					    "%sexport %s -> %s by transfer %s had no license: %s",
					    x->lot != NULL ? "" : "technology ", from_cc, to_cc,
					    h8(tr->id, h), msg);
			continue;
		}
		{
			struct ls_license_use u = {
			    .exporter = tr->author,
			    .destination = to_cc,
			    .end_user = tf->to,
			    .end_use = tf->end_use,
			    .item = x->d,
			    .tech = tf->tech,
			    .quantity = false, /* used up at ingest, in the licensee's order */
			    .at = tr->timestamp,
			    .jurisdiction = pp->jurisdiction,
			};
			uint8_t lids[3][32];
			reason = ls_license_check(p->t, x->lic, &u, LS_LAYER_QUESTION, &w);
			if (reason == LS_R_STORE) {
				rc = w.err;
				break;
			}
			if (reason == LS_R_OK)
				continue;
			memcpy(lids[0], tr->id, 32);
			memcpy(lids[1], x->lic->id, 32);
			memcpy(lids[2], pol->id, 32);
			rc = ls_verdict_add(p->v, reason, (const uint8_t(*)[32])lids, 3,
					    "export %s -> %s by transfer %s: %s (%s)", from_cc,
					    to_cc, h8(tr->id, h), why_msg, msg);
		}
	}
	return rc;
}

/*
 * What one hop of a transfer must satisfy at question time: its receiver's
 * certificate with revocations now known; and for every pair of a country
 * the sender is certified in and one the receiver is certified in that
 * differ (a key certified in two countries is judged in both), under every
 * policy in force at its date that controls it (policies of the sender's
 * country over its technology, or every policy over the lot, by
 * `controlled`), no denied end use or end user, and a cited license that
 * covers it, issued by an authority of that policy's jurisdiction. The
 * bindings of licenses up the custody chain apply to every hop.
 */
static int
check_hop_at(struct prov *p, const struct ls_record *tr, const uint8_t *lot)
{
	const struct ls_transfer *tf = &tr->transfer;
	struct ls_record *to_cert = NULL, *lic = NULL, *src = NULL;
	struct key_certs *snd = NULL, *rcv = NULL;
	const char *use = *tf->end_use ? tf->end_use : "civilian";
	char why_msg[LS_ERR_MSG_MAX], h[17];
	struct ls_why w = LS_WHY(why_msg);
	struct hop x = {p, tr, lot, NULL, NULL, NULL, NULL};
	enum ls_reason reason;
	uint8_t ids[2][32];
	bool crosses = false;
	int rc = 0;

	memcpy(ids[0], tr->id, 32);
	memcpy(ids[1], tf->to_cert, 32);
	reason = ls_cert_check(p->t, tf->to_cert, tf->to, 0, tr->timestamp, LS_LAYER_QUESTION,
			       &to_cert, &w);
	if (reason == LS_R_STORE)
		return w.err;
	if (reason != LS_R_OK)
		return ls_verdict_add(p->v, LS_R_BAD_RECEIVER, (const uint8_t(*)[32])ids, 2,
				      "transfer %s: the receiver's certificate: %s", h8(tr->id, h),
				      why_msg);
	reason = ls_transfer_may_receive(p->t, tr, LS_LAYER_QUESTION, &w);
	if (reason == LS_R_STORE)
		rc = w.err;
	else if (reason != LS_R_OK)
		rc = ls_verdict_add(p->v, reason, (const uint8_t(*)[32])ids, 1, "transfer %s: %s",
				    h8(tr->id, h), why_msg);
	if (rc != 0)
		goto out;
	if ((snd = malloc(sizeof(*snd))) == NULL || (rcv = malloc(sizeof(*rcv))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	if ((rc = key_certs(p->t, tr->author, tr->timestamp, snd)) != 0 ||
	    (rc = key_certs(p->t, tf->to, tr->timestamp, rcv)) != 0)
		goto out;
	x.rcv = rcv;
	for (size_t i = 0; i < snd->n_cc; i++)
		for (size_t j = 0; j < rcv->n_cc; j++)
			crosses |= strcmp(snd->cc[i], rcv->cc[j]) != 0;
	if (crosses) {
		if (tf->has_license && (rc = ls_txn_record(p->t, tf->license, &lic)) != 0)
			goto out;
		if (lot != NULL && ((rc = ls_ocache_get(p->oc, lot, &x.lo)) != 0 ||
				    (rc = ls_txn_lot_def(p->t, lot, &src, &x.d)) != 0))
			goto out;
		x.lic = lic;
		for (size_t i = 0; i < snd->n_cc && rc == 0; i++)
			for (size_t j = 0; j < rcv->n_cc && rc == 0; j++)
				if (strcmp(snd->cc[i], rcv->cc[j]) != 0)
					rc = hop_policies(&x, snd->cc[i], rcv->cc[j]);
	}
	/* Re-export bindings and military bars of licenses up the custody
	 * chain apply to every hop, licensed or not, to wherever it goes. */
	for (size_t j = 0; rc == 0 && lot != NULL && j < rcv->n_cc; j++) {
		bool denied;
		rc = check_bindings(p->t, p->ps, tr->timestamp, tr->author, lot, rcv->cc[j], use,
				    tr->id, p->v, &denied);
	}
out:
	free(snd);
	free(rcv);
	ls_record_free(to_cert);
	ls_record_free(lic);
	ls_record_free(src);
	return rc;
}

/* A technology transfer. */
static int
check_tech_hop(struct prov *p, const struct ls_record *tr)
{
	return check_hop_at(p, tr, NULL);
}

/* A transfer of lot. */
static int
check_hop(struct prov *p, const struct ls_record *tr, const uint8_t lot[32])
{
	return check_hop_at(p, tr, lot);
}

struct child_ctx {
	struct prov *p;
	const uint8_t *lot;
};

static int
receipt_child(void *arg, const uint8_t rec[32])
{
	struct prov *p = arg;
	struct ls_record *r = NULL;
	int rc;

	if ((rc = ls_txn_record(p->t, rec, &r)) != 0)
		return rc;
	rc = check_record(p, r);
	ls_record_free(r);
	return rc;
}

/* A technology its maker had received before making an ancestor lot: part of
 * that lot's provenance (the lot carries the technology's origin). */
static int
tech_child(void *arg, const struct ls_record *tr)
{
	struct prov *p = arg;
	int rc;

	if (ls_idmap_has(p->checked, tr->id))
		return 0;
	if ((rc = check_record(p, tr)) == 0 && (rc = check_tech_hop(p, tr)) == 0)
		rc = ls_txn_children(p->t, tr->id, receipt_child, p);
	return rc;
}

static int
lot_child(void *arg, const uint8_t rec[32])
{
	struct child_ctx *c = arg;
	struct ls_record *r = NULL;
	int rc;

	if ((rc = ls_txn_record(c->p->t, rec, &r)) != 0)
		return rc;
	/* An ancestor's transfers count only where the lot's material went: a
	 * sibling portion shipped elsewhere is not this lot's provenance. */
	if (r->type != LS_REC_TRANSFER ||
	    (memcmp(c->lot, c->p->lot, 32) != 0 && !ls_idmap_has(c->p->path, r->id))) {
		ls_record_free(r);
		return 0;
	}
	if ((rc = check_record(c->p, r)) == 0 && (rc = check_hop(c->p, r, c->lot)) == 0)
		rc = ls_txn_children(c->p->t, r->id, receipt_child, c->p);
	ls_record_free(r);
	return rc;
}

static int
provenance(struct ls_txn *t, struct ls_ocache *oc, struct policies *ps, const uint8_t lot[32],
	   struct ls_verdict *v)
{
	struct prov p = {t, v, oc, ps, NULL, NULL, lot, 0};
	uint8_t(*anc)[32] = NULL, regs[LS_REASON_IDS_MAX][32];
	struct ls_lot_info lli;
	size_t n = 0, nregs = 0;
	int rc;

	v->kind = LS_V_VALID;
	if ((rc = ls_txn_lot(t, lot, &lli)) != 0 || (rc = custody(t, lli.maker, lot, &p.path)) != 0)
		return rc;
	if ((rc = ancestors(t, lot, &anc, &n)) != 0) {
		ls_idmap_free(&p.path);
		return rc;
	}
	if ((p.checked = ls_idmap_new()) == NULL) {
		ls_idmap_free(&p.path);
		free(anc);
		return LS_ERR_NOMEM;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct ls_lot_info li;
		struct ls_record *r = NULL;
		struct child_ctx cc = {&p, anc[i]};
		if ((rc = ls_txn_lot(t, anc[i], &li)) != 0 || (rc = ls_txn_record(t, li.rec, &r)))
			break;
		if (r->type == LS_REC_LOT && nregs < LS_REASON_IDS_MAX)
			memcpy(regs[nregs++], r->id, 32);
		rc = check_record(&p, r);
		if (rc == 0 && r->type == LS_REC_TRANSFORMATION)
			rc = ls_techs_each(t, r->author, r->timestamp, tech_child, &p);
		ls_record_free(r);
		if (rc == 0)
			rc = ls_txn_children(t, anc[i], lot_child, &cc);
	}
	if (rc == 0) {
		size_t faults = v->n;
		if (faults > 0)
			v->kind = LS_V_BROKEN;
		else
			rc = ls_verdict_add(v, LS_R_OK, (const uint8_t(*)[32])regs, nregs,
					    "%llu records checked across %zu lots back to their "
					    "registrations",
					    (unsigned long long)v->ancestors, n);
	}
	ls_idmap_free(&p.checked);
	ls_idmap_free(&p.path);
	free(anc);
	return rc;
}

int
ls_verify_provenance(struct ls_store *s, const uint8_t lot[LS_ID_LEN], struct ls_verdict *v)
{
	struct ls_txn t;
	struct ls_ocache *oc = NULL;
	struct policies ps = {0};
	struct ls_lot_info li;
	int rc;

	ls_verdict_init(v);
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((rc = ls_txn_lot(&t, lot, &li)) != 0)
		goto out;
	if ((rc = policies_load(&t, &ps)) != 0)
		goto out;
	if ((oc = ls_ocache_new(&t, ps.pol, ps.n)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	rc = provenance(&t, oc, &ps, lot, v);
out:
	policies_release(&ps);
	ls_ocache_free(&oc);
	ls_txn_abort(&t);
	if (rc != 0)
		ls_verdict_release(v);
	return rc;
}

/* ---- export check ---- */

struct findlic {
	struct ls_txn *t;
	const struct ls_license_use *u;
	const uint8_t *only; /* the license the exporter cites, or NULL */
	bool found;
	uint8_t id[32];
	char number[LS_STR_MAX + 1];
	int rc;
};

static int
findlic_one(void *arg, const uint8_t id[LS_ID_LEN])
{
	struct findlic *f = arg;
	struct ls_record *r = NULL;
	char msg[LS_ERR_MSG_MAX];
	struct ls_why w = LS_WHY(msg);
	enum ls_reason reason;
	int rc;

	if (f->only != NULL && memcmp(id, f->only, 32) != 0)
		return 0;
	if ((rc = ls_txn_record(f->t, id, &r)) != 0)
		return rc;
	reason = ls_license_check(f->t, r, f->u, LS_LAYER_QUESTION, &w);
	if (reason == LS_R_OK) {
		f->found = true;
		memcpy(f->id, id, 32);
		snprintf(f->number, sizeof(f->number), "%s", r->license.number);
	}
	ls_record_free(r);
	if (reason == LS_R_STORE)
		return w.err;
	return f->found ? 1 : 0;
}

/* A license that covers this export (the one cited, if any): 0 with
 * *found set, or a store error. The rule is ls_license_check's. */
static int
find_license(struct ls_txn *t, const struct ls_export_query *q, const struct ls_license_use *u,
	     bool *found, uint8_t out[32], char *number, size_t nlen)
{
	struct findlic f = {t, u, q->has_license ? q->license : NULL, false, {0}, "", 0};
	int rc = ls_txn_licenses_each(t, findlic_one, &f);

	*found = f.found;
	if (f.found) {
		memcpy(out, f.id, 32);
		snprintf(number, nlen, "%s", f.number);
	}
	return rc == 1 ? 0 : rc;
}

/* Why the license the exporter cites does not cover this export. */
static int
why_not_license(struct ls_txn *t, const struct ls_export_query *q, const struct ls_license_use *u,
		struct ls_verdict *v)
{
	struct ls_record *r = NULL;
	const uint8_t(*id)[32] = (const uint8_t(*)[32])q->license;
	char msg[LS_ERR_MSG_MAX];
	struct ls_why w = LS_WHY(msg);
	enum ls_reason reason;
	int rc = ls_txn_record(t, q->license, &r);

	if (rc == LS_ERR_NOT_FOUND)
		return ls_verdict_add(v, LS_R_LICENSE_MISMATCH, id, 1,
				      "the license cited is not a license on the ledger");
	if (rc != 0)
		return rc;
	reason = ls_license_check(t, r, u, LS_LAYER_QUESTION, &w);
	ls_record_free(r);
	if (reason == LS_R_STORE)
		return w.err;
	if (reason == LS_R_OK)
		return 0;
	return ls_verdict_add(v, reason, id, 1, "%s", msg);
}

int
ls_verify_export(struct ls_store *s, const struct ls_export_query *q, struct ls_verdict *v)
{
	struct ls_txn t;
	struct ls_ocache *oc = NULL;
	struct policies ps = {0};
	struct ls_lot_info li;
	const struct ls_lot_origin *lo;
	const char *use = q->end_use != NULL && *q->end_use ? q->end_use : "civilian";
	uint64_t at = q->time ? q->time : ls_now();
	uint8_t holder[32], ids[3][32], unv_id[32];
	char msg[LS_ERR_MSG_MAX], number[LS_STR_MAX + 1];
	struct key_certs *snd = NULL, *eu = NULL;
	bool need = false, denied = false, covered;
	struct ls_record *lotrec = NULL;
	const struct ls_lotdef *lotdef = NULL;
	struct ls_license_use lu;
	size_t n_holders = 0;
	int rc;

	ls_verdict_init(v);
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((rc = ls_txn_lot(&t, q->lot, &li)) != 0)
		goto out;
	if ((rc = policies_load(&t, &ps)) != 0)
		goto out;
	if ((oc = ls_ocache_new(&t, ps.pol, ps.n)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	if ((rc = provenance(&t, oc, &ps, q->lot, v)) != 0)
		goto out;
	if (v->kind == LS_V_BROKEN) {
		v->kind = LS_V_DENIED;
		goto out;
	}
	if ((rc = ls_ocache_get(oc, q->lot, &lo)) != 0)
		goto out;
	if (q->has_from) {
		uint64_t held;
		memcpy(holder, q->from, 32);
		if ((rc = ls_txn_hold(&t, holder, q->lot, &held)) != 0)
			goto out;
		if (held == 0) {
			rc = ls_verdict_add(v, LS_R_NOT_HOLDER, (const uint8_t(*)[32])q->lot, 1,
					    "the exporter holds none of this lot");
			v->kind = LS_V_DENIED;
			goto out;
		}
	} else {
		bool found;
		if ((rc = main_holder(&t, q->lot, &li, holder, &n_holders, &found)) != 0)
			goto out;
		if (!found)
			memcpy(holder, li.maker, 32);
	}
	if ((snd = malloc(sizeof(*snd))) == NULL || (eu = malloc(sizeof(*eu))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	/* Every country the holder is certified in at the time asked: it
	 * exports from each (a holder certified nowhere, a trust anchor, from
	 * nowhere: only policies that reach abroad apply). */
	if ((rc = key_certs(&t, holder, at, snd)) != 0 ||
	    (rc = ls_txn_lot_def(&t, q->lot, &lotrec, &lotdef)) != 0)
		goto out;
	if (snd->n_cc == 0)
		snd->cc[snd->n_cc++][0] = '\0';
	if (snd->n_cc == 1 && strcmp(snd->cc[0], q->destination) == 0) {
		rc = ls_verdict_add(v, LS_R_OK, NULL, 0,
				    "holder and destination are both in %s: not an export",
				    q->destination);
		v->kind = LS_V_ALLOWED;
		goto out;
	}
	if (q->has_end_user && (rc = key_certs(&t, q->end_user, at, eu)) != 0)
		goto out;
	for (size_t f = 0; f < snd->n_cc && rc == 0; f++) {
		const char *from_cc = snd->cc[f];
		if (strcmp(from_cc, q->destination) == 0)
			continue;
		for (size_t i = 0; i < ps.n && rc == 0; i++) {
			const struct ls_record *pr = ps.p[i];
			const struct ls_policy *p = &pr->policy;
			enum control c;
			bool unv;
			if (!policy_in_force(&ps, i, at))
				continue;
			memcpy(ids[0], pr->id, 32);
			c = controlled(&ps, i, lo, from_cc, msg, sizeof(msg), unv_id, &unv);
			/* The lot whose missing value made the share fall back to mass. */
			memcpy(ids[1], unv_id, 32);
			if (c == C_EXEMPT) {
				rc = ls_verdict_add(v, LS_R_EXEMPT, (const uint8_t(*)[32])ids, 1,
						    "%s", msg);
				continue;
			}
			if (c == C_DE_MINIMIS) {
				rc = ls_verdict_add(v, LS_R_DE_MINIMIS, (const uint8_t(*)[32])ids,
						    unv ? 2 : 1, "%s", msg);
				continue;
			}
			if (c != C_CONTROLLED)
				continue;
			if (ls_strlist_has(&p->denied_end_uses, use)) {
				denied = true;
				rc = ls_verdict_add(v, LS_R_END_USE_DENIED,
						    (const uint8_t(*)[32])ids, 1,
						    "end use '%s' is denied by policy '%s' (%s)",
						    use, p->name, p->jurisdiction);
			}
			if (rc == 0 && q->has_end_user) {
				bool bad = keylist_has(&p->denied_end_user_keys, q->end_user);
				if (!bad && (rc = denied_by_name(&t, p, eu, &bad)) != 0)
					break;
				if (bad) {
					denied = true;
					rc = ls_verdict_add(
					    v, LS_R_END_USER_DENIED, (const uint8_t(*)[32])ids, 1,
					    "the end user is denied by policy '%s' (%s)", p->name,
					    p->jurisdiction);
				}
			}
			if (rc != 0)
				break;
			{
				struct ls_license_use u = {
				    .exporter = holder,
				    .destination = q->destination,
				    .end_user = q->has_end_user ? q->end_user : NULL,
				    .end_use = use,
				    .item = lotdef,
				    .grams = 0,
				    .quantity = true, /* some left */
				    .at = at,
				    .jurisdiction = p->jurisdiction,
				};
				lu = u;
			}
			if ((rc = find_license(&t, q, &lu, &covered, ids[1], number,
					       sizeof(number))) != 0)
				break;
			if (covered) {
				memcpy(ids[2], unv_id, 32);
				rc = ls_verdict_add(v, LS_R_CONTROLLED, (const uint8_t(*)[32])ids,
						    unv ? 3 : 2, "%s; covered by license %s", msg,
						    number);
			} else {
				need = true;
				rc = ls_verdict_add(v, LS_R_NO_LICENSE, (const uint8_t(*)[32])ids,
						    unv ? 2 : 1, "export to %s needs a license: %s",
						    q->destination, msg);
				if (rc == 0 && q->has_license)
					rc = why_not_license(&t, q, &lu, v);
			}
		}
	}
	if (rc == 0) {
		bool bdenied = false;
		rc = check_bindings(&t, &ps, at, holder, q->lot, q->destination, use, NULL, v,
				    &bdenied);
		denied |= bdenied;
	}
	if (rc == 0) {
		/* Drop the provenance summary: the export reasons speak now. */
		if (v->n > 0 && v->reasons[0].code == LS_R_OK) {
			memmove(&v->reasons[0], &v->reasons[1], (v->n - 1) * sizeof(v->reasons[0]));
			v->n--;
		}
		v->kind = denied ? LS_V_DENIED : need ? LS_V_LICENSE_REQUIRED : LS_V_ALLOWED;
		if (v->n == 0)
			rc = ls_verdict_add(v, LS_R_OK, NULL, 0,
					    "no policy in force controls this export from %s to %s",
					    snd->cc[0][0] ? snd->cc[0] : "??", q->destination);
	}
out:
	free(snd);
	free(eu);
	ls_record_free(lotrec);
	policies_release(&ps);
	ls_ocache_free(&oc);
	ls_txn_abort(&t);
	if (rc != 0)
		ls_verdict_release(v);
	return rc;
}
