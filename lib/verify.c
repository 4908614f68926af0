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
	for (size_t i = 0; i < v->n_parts; i++)
		ls_verdict_release(&v->parts[i].v);
	free(v->parts);
	free(v->reasons);
	memset(v, 0, sizeof(*v));
}

size_t
ls_verdict_faults(const struct ls_verdict *v)
{
	size_t n = 0;

	for (size_t i = 0; i < v->n; i++)
		n += !v->reasons[i].warning;
	return n;
}

/* Appends a copy of reason r to v, as a warning when `warning`. */
static int
verdict_copy(struct ls_verdict *v, const struct ls_verdict_reason *r, bool warning)
{
	struct ls_verdict_reason *nr;

	for (size_t i = 0; i < v->n; i++)
		if (v->reasons[i].code == r->code && strcmp(v->reasons[i].message, r->message) == 0)
			return 0;
	if ((nr = realloc(v->reasons, (v->n + 1) * sizeof(*nr))) == NULL)
		return LS_ERR_NOMEM;
	v->reasons = nr;
	v->reasons[v->n] = *r;
	v->reasons[v->n].warning = warning;
	v->n++;
	return 0;
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
	/* The ownership records indexed beside the policies (kind/ownership.c)
	 * whose authors were valid authorities at their dates. */
	size_t n_own;
	struct ls_record **own;
};

static void
policies_release(struct policies *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		ls_record_free(ps->p[i]);
	for (size_t i = 0; i < ps->n_own; i++)
		ls_record_free(ps->own[i]);
	free(ps->own);
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
	if (reason != LS_R_OK || (r->type != LS_REC_POLICY && r->type != LS_REC_OWNERSHIP)) {
		ls_record_free(r);
		return reason == LS_R_STORE ? w.err : 0;
	}
	if (r->type == LS_REC_OWNERSHIP) {
		if ((np = realloc(pl->ps->own, (pl->ps->n_own + 1) * sizeof(*np))) == NULL) {
			ls_record_free(r);
			return LS_ERR_NOMEM;
		}
		pl->ps->own = np;
		pl->ps->own[pl->ps->n_own++] = r;
		return 0;
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

/* MOFCOM No. 61: denials extend to subsidiaries owned 50 % or more. */
#define OWNERSHIP_CONTROL_PPM 500000u

/* Whether ownership record r counts for policy p at `at`: of p's
 * jurisdiction and in force. */
static bool
own_counts(const struct ls_record *r, const struct ls_policy *p, uint64_t at)
{
	const struct ls_ownership *o = &r->ownership;

	return strcmp(o->jurisdiction, p->jurisdiction) == 0 &&
	       (o->from ? o->from : r->timestamp) <= at;
}

/* Index of name in v[0..n) (organisation names compare as a denial by name
 * does: without case), or n. */
static size_t
name_at(const char *const *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n && strcasecmp(v[i], name) != 0; i++)
		;
	return i;
}

/* One counted holding above org: indices into the names of org_denied. */
struct own_holding {
	size_t owner, sub;
	uint32_t ppm;
	const struct ls_record *r;
};

/*
 * Whether organisation org is denied by name by policy p at time `at`: it is
 * named, or denied organisations together own 50 % or more of it by
 * ownership records of p's jurisdiction in force at `at` (an owner owns at
 * least the share stated: two statements of one holding are the larger;
 * the holdings of distinct denied owners add up); an organisation so owned
 * is denied in turn, through any number of links. The denied set is the
 * least fixed point: a cycle of holdings (A owns B owns A) denies nobody no
 * named organisation reaches. *own_id: the largest counted holding of org,
 * when one does. Work, whatever the shape: finding the n owners above org
 * (n passes over the ownership records, n <= n_own) and the h holdings
 * among them (h <= n_own), h^2 to merge restatements, then at most n rounds
 * of one pass over the holdings. LS_ERR_NOMEM only.
 */
static int
org_denied(const struct policies *ps, const struct ls_policy *p, const char *org, uint64_t at,
	   bool *denied, uint8_t own_id[LS_ID_LEN], bool *by_own)
{
	const char **name = NULL; /* org, then the owners above it */
	bool *den = NULL;
	uint64_t *sum = NULL;
	struct own_holding *hd = NULL, *top = NULL;
	size_t n = 1, nh = 0;
	int rc = 0;

	*denied = ls_strlist_has(&p->denied_end_user_names, org);
	*by_own = false;
	if (*denied || ps == NULL || ps->n_own == 0)
		return 0;
	/* every name past org is the owner of a distinct record */
	if ((name = calloc(ps->n_own + 1, sizeof(*name))) == NULL ||
	    (den = calloc(ps->n_own + 1, sizeof(*den))) == NULL ||
	    (sum = calloc(ps->n_own + 1, sizeof(*sum))) == NULL ||
	    (hd = calloc(ps->n_own, sizeof(*hd))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	name[0] = org;
	/* The owners above org, and the holdings among them: each name is
	 * looked up as a subsidiary once. */
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < ps->n_own; i++) {
			const struct ls_record *r = ps->own[i];
			size_t w;
			if (strcasecmp(r->ownership.subsidiary, name[k]) != 0 ||
			    !own_counts(r, p, at))
				continue;
			if ((w = name_at(name, n, r->ownership.owner)) == n)
				name[n++] = r->ownership.owner;
			hd[nh++] = (struct own_holding){w, k, r->ownership.share_ppm, r};
		}
	/* One holding per owner and subsidiary: its largest statement. */
	for (size_t i = 0; i < nh; i++)
		for (size_t j = 0; j < nh && hd[i].r != NULL; j++)
			if (j != i && hd[j].r != NULL && hd[j].owner == hd[i].owner &&
			    hd[j].sub == hd[i].sub &&
			    (hd[j].ppm > hd[i].ppm || (hd[j].ppm == hd[i].ppm && j < i)))
				hd[i].r = NULL;
	for (size_t k = 0; k < n; k++)
		den[k] = ls_strlist_has(&p->denied_end_user_names, name[k]);
	/* The least fixed point: each round adds what denied owners own 50 %
	 * or more of (holdings of owners denied in this round count at once,
	 * which only reaches the same point sooner). */
	for (bool more = true; more && !den[0];) {
		more = false;
		memset(sum, 0, n * sizeof(*sum));
		for (size_t i = 0; i < nh; i++)
			if (hd[i].r != NULL && den[hd[i].owner] && !den[hd[i].sub])
				sum[hd[i].sub] += hd[i].ppm;
		for (size_t k = 0; k < n; k++)
			if (!den[k] && sum[k] >= OWNERSHIP_CONTROL_PPM)
				den[k] = more = true;
	}
	*denied = den[0];
	for (size_t i = 0; *denied && i < nh; i++)
		if (hd[i].r != NULL && hd[i].sub == 0 && den[hd[i].owner] &&
		    (top == NULL || hd[i].ppm > top->ppm))
			top = &hd[i];
	if (top != NULL) {
		memcpy(own_id, top->r->id, LS_ID_LEN);
		*by_own = true;
	}
out:
	free(name);
	free(den);
	free(sum);
	free(hd);
	return rc;
}

/* Whether a policy denies key by name: the organisation of any of its valid
 * certificates, or one a denied organisation owns (org_denied) at `at`. */
static int
denied_by_name(struct ls_txn *t, const struct policies *ps, const struct ls_policy *p,
	       const struct key_certs *kc, uint64_t at, bool *denied, uint8_t own_id[LS_ID_LEN],
	       bool *by_own)
{
	int rc;

	*denied = false;
	*by_own = false;
	for (size_t i = 0; i < kc->n && !*denied && p->denied_end_user_names.n > 0; i++) {
		const struct ls_record *cr = NULL;
		struct ls_record *owned = NULL;
		if ((rc = ls_txn_record_ref(t, kc->cert[i], &cr, &owned)) != 0)
			return rc;
		if (cr->type == LS_REC_CERTIFICATE)
			rc = org_denied(ps, p, cr->certificate.org, at, denied, own_id, by_own);
		ls_record_free(owned);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- ancestors and records ---- */

/* Every lot that lot descends from, lot included (BFS order), as nodes of
 * the question's memo (t->qc: borrowed until it ends; *out malloc'd). The
 * nodes' marks say which were reached: no set beside them. */
static int
ancestors(struct ls_txn *t, const uint8_t lot[32], const struct ls_lotnode ***out, size_t *n)
{
	const struct ls_lotnode **q = NULL, *ln;
	struct ls_lotnode *owned = NULL;
	size_t head = 0, cnt = 0, cap = 64;
	uint32_t gen;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (t->qc == NULL)
		return LS_ERR_INVALID; /* a question always has its memo */
	gen = ls_qcache_mark_new(t);
	if ((q = malloc(cap * sizeof(*q))) == NULL)
		return LS_ERR_NOMEM;
	if ((rc = ls_txn_lotnode(t, lot, &ln, &owned)) != 0)
		goto out;
	ls_lotnode_mark(ln, gen);
	q[cnt++] = ln;
	while (head < cnt && rc == 0) {
		ln = q[head++];
		for (size_t i = 0; ln->li.index != LS_LOT_REGISTRATION && i < ln->n_inputs; i++) {
			const struct ls_lotnode *in;
			/* Followed as the memo's pointer once looked up (the
			 * custody walk before has looked most up). */
			if ((rc = ls_lotnode_input(t, ln, i, &in)) != 0)
				break;
			if (!ls_lotnode_mark(in, gen))
				continue;
			if (cnt == cap) {
				const struct ls_lotnode **nq = realloc(q, cap * 2 * sizeof(*q));
				if (nq == NULL) {
					rc = LS_ERR_NOMEM;
					break;
				}
				q = nq;
				cap *= 2;
			}
			q[cnt++] = in;
		}
	}
	if (rc == 0) {
		*out = q;
		*n = cnt;
		q = NULL;
	}
out:
	free(q);
	return rc;
}

/* ---- custody: the transfers through which a holder got a lot ---- */

struct custody {
	struct ls_txn *t;
	uint32_t mark;              /* the walk's: which (holder, lot) it reached */
	struct ls_idmap *transfers; /* transfer ids on the path */
	uint8_t holder[32];
	const struct ls_lotnode *lot;
	/* work stack of (holder, lot) */
	struct cust_item {
		uint8_t holder[32];
		const struct ls_lotnode *lot;
	} * stack;
	size_t sp, cap;
	struct pair_list *visited; /* NULL, or every (holder, lot) reached */
};

/* hash(holder || lot): the key of a (holder, lot) pair. */
static void
pair_key(const uint8_t holder[32], const uint8_t lot[32], uint8_t h[32])
{
	uint8_t pair[64];

	memcpy(pair, holder, 32);
	memcpy(pair + 32, lot, 32);
	crypto_generichash(h, 32, pair, 64, NULL, 0);
}

/* A list of 32-byte keys. */
struct pair_list {
	size_t n, cap;
	uint8_t (*v)[32];
};

static int
pair_list_add(struct pair_list *l, const uint8_t key[32])
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 4;
		uint8_t(*nv)[32] = realloc(l->v, nc * sizeof(*nv));
		if (nv == NULL)
			return LS_ERR_NOMEM;
		l->v = nv;
		l->cap = nc;
	}
	memcpy(l->v[l->n++], key, 32);
	return 0;
}

static void
pair_list_free(struct pair_list **l)
{
	if (*l == NULL)
		return;
	free((*l)->v);
	free(*l);
	*l = NULL;
}

static int
custody_push(struct custody *c, const uint8_t holder[32], const struct ls_lotnode *lot)
{
	bool fresh;
	int rc;

	/* Each (holder, lot) once: the holders reached are kept on the lot's
	 * node, under the walk's mark. */
	if ((rc = ls_lotnode_holder_mark(c->t, lot, c->mark, holder, &fresh)) != 0 || !fresh)
		return rc;
	if (c->visited != NULL) {
		uint8_t key[32];
		pair_key(holder, lot->id, key);
		if ((rc = pair_list_add(c->visited, key)) != 0)
			return rc;
	}
	if (c->sp == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 32;
		struct cust_item *ns = realloc(c->stack, nc * sizeof(*ns));
		if (ns == NULL)
			return LS_ERR_NOMEM;
		c->stack = ns;
		c->cap = nc;
	}
	memcpy(c->stack[c->sp].holder, holder, 32);
	c->stack[c->sp++].lot = lot;
	return 0;
}

static int
custody_child(struct custody *c, const struct ls_kid *kid)
{
	const struct ls_record *r = NULL;
	struct ls_record *owned = NULL;
	bool received = false;
	int rc = 0;

	if (kid->type != LS_REC_TRANSFER)
		return 0;
	if ((rc = ls_txn_record_ref(c->t, kid->id, &r, &owned)) != 0)
		return rc;
	if (r->type == LS_REC_TRANSFER && memcmp(r->transfer.to, c->holder, 32) == 0 &&
	    (rc = ls_qcache_received(c->t, kid->id, &received)) == 0 && received) {
		if ((rc = ls_idmap_put(c->transfers, kid->id, (void *)1)) == 0)
			rc = custody_push(c, r->author, c->lot);
	}
	ls_record_free(owned);
	return rc;
}

/* The transfers (received) through which holder came to hold lot or the lots
 * it was made from. *out is a map of transfer ids (caller frees). Walks the
 * question memo's nodes (t->qc). visited (NULL: not wanted) gets the key
 * (pair_key) of every (holder, lot) the walk reached: the map depends on
 * which transfers of those lots to those holders were received, and on
 * nothing else that can change. */
static int
custody_union(struct ls_idmap *to, const struct ls_idmap *from)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < ls_idmap_count(from); i++)
		rc = ls_idmap_put(to, ls_idmap_id_at(from, i), (void *)1);
	return rc;
}

/* done (NULL: none) holds complete custody maps by pair key (the writer's
 * custody memo): a pair the walk reaches with nothing else left to walk,
 * whose map is there, adds that map's transfers in the order they were
 * found, as walking it would have (the pairs it reaches that this walk
 * reached before add none), and ends the walk. */
static int
custody(struct ls_txn *t, const uint8_t holder[32], const uint8_t lot[32], struct ls_idmap **out,
	struct pair_list *visited, const struct ls_idmap *done)
{
	struct custody c = {.t = t, .visited = visited};
	bool first = true;
	const struct ls_lotnode *root;
	struct ls_lotnode *owned = NULL;
	int rc = 0;

	*out = NULL;
	if (t->qc == NULL)
		return LS_ERR_INVALID; /* a question always has its memo */
	c.mark = ls_qcache_mark_new(t);
	if ((c.transfers = ls_idmap_new()) == NULL)
		return LS_ERR_NOMEM;
	if ((rc = ls_txn_lotnode(t, lot, &root, &owned)) != 0 ||
	    (rc = custody_push(&c, holder, root)) != 0)
		goto out;
	while (c.sp > 0) {
		const struct ls_lotnode *ln;
		struct ls_kids kids;
		c.sp--;
		memcpy(c.holder, c.stack[c.sp].holder, 32);
		c.lot = ln = c.stack[c.sp].lot;
		if (done != NULL && !first && c.sp == 0) {
			const struct ls_idmap *sub;
			uint8_t key[32];
			pair_key(c.holder, ln->id, key);
			if ((sub = ls_idmap_get(done, key)) != NULL) {
				if ((rc = custody_union(c.transfers, sub)) != 0)
					goto out;
				break;
			}
		}
		first = false;
		if ((rc = ls_txn_lot_kids(t, ln, &kids)) == 0) {
			for (size_t i = 0; rc == 0 && i < kids.n; i++)
				rc = custody_child(&c, &kids.v[i]);
			ls_kids_release(&kids);
		}
		if (rc == 0 && ln->li.index != LS_LOT_REGISTRATION &&
		    memcmp(ln->li.maker, c.holder, 32) == 0)
			for (size_t i = 0; rc == 0 && i < ln->n_inputs; i++) {
				const struct ls_lotnode *in;
				if ((rc = ls_lotnode_input(t, ln, i, &in)) == 0)
					rc = custody_push(&c, ln->li.maker, in);
			}
		if (rc != 0)
			goto out;
	}
	*out = c.transfers;
	c.transfers = NULL;
out:
	free(c.stack);
	ls_idmap_free(&c.transfers);
	return rc;
}

static void
free_map(void *arg, const uint8_t id[32], void *val)
{
	struct ls_idmap *m = val;

	(void)arg;
	(void)id;
	ls_idmap_free(&m);
}

/* A question's custody memo: hash(holder || lot) -> its custody map. */
static void
custody_memo_free(struct ls_idmap **memo)
{
	if (memo == NULL || *memo == NULL)
		return;
	ls_idmap_each(*memo, free_map, NULL);
	ls_idmap_free(memo);
}

/*
 * The writer's custody memo (store_int.h): the custody maps the admission
 * judge worked out in one attempt at a batch, so that a batch of one lot's
 * history is not walked again for each of its records. A map is what
 * custody() would answer again as long as no transfer of a lot it reached,
 * to the holder it reached it with, becomes received (a record naming the
 * transfer: ls_custody_memo_named); then the maps that reached that pair
 * are dropped, and worked out again when asked for.
 */
struct ls_custody_memo {
	struct ls_idmap *maps;    /* pair key -> custody map (NULL: dropped) */
	struct ls_idmap *by_pair; /* pair key reached -> pair_list of the maps' keys */
	size_t live;              /* maps not dropped */
};

int
ls_custody_memo_new(struct ls_custody_memo **out)
{
	struct ls_custody_memo *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (m == NULL || (m->maps = ls_idmap_new()) == NULL ||
	    (m->by_pair = ls_idmap_new()) == NULL) {
		ls_custody_memo_free(&m);
		return LS_ERR_NOMEM;
	}
	*out = m;
	return 0;
}

static void
free_list(void *arg, const uint8_t id[32], void *val)
{
	struct pair_list *l = val;

	(void)arg;
	(void)id;
	pair_list_free(&l);
}

static void free_map(void *arg, const uint8_t id[32], void *val);

void
ls_custody_memo_free(struct ls_custody_memo **mp)
{
	struct ls_custody_memo *m = *mp;

	if (m == NULL)
		return;
	if (m->maps != NULL)
		ls_idmap_each(m->maps, free_map, NULL);
	if (m->by_pair != NULL)
		ls_idmap_each(m->by_pair, free_list, NULL);
	ls_idmap_free(&m->maps);
	ls_idmap_free(&m->by_pair);
	free(m);
	*mp = NULL;
}

int
ls_custody_memo_named(struct ls_txn *t, const uint8_t parent[LS_ID_LEN])
{
	struct ls_custody_memo *m = t->custody;
	struct ls_record *r = NULL;
	struct pair_list *l, work = {0, 0, NULL};
	uint8_t key[32];
	int rc;

	if (m == NULL || m->live == 0)
		return 0;
	if ((rc = ls_txn_record(t, parent, &r)) != 0)
		return rc == LS_ERR_NOT_FOUND ? 0 : rc; /* a lot, not a transfer */
	if (r->type != LS_REC_TRANSFER || !r->transfer.has_lot)
		goto out;
	pair_key(r->transfer.to, r->transfer.lot, key);
	if ((rc = pair_list_add(&work, key)) != 0)
		goto out;
	/* The maps that reached the pair; and those that reached the pairs
	 * of those maps, whose transfers they took in whole (custody_union). */
	for (size_t w = 0; w < work.n && rc == 0; w++) {
		memcpy(key, work.v[w], 32);
		if ((l = ls_idmap_get(m->by_pair, key)) == NULL)
			continue;
		for (size_t i = 0; i < l->n && rc == 0; i++) {
			struct ls_idmap *map = ls_idmap_get(m->maps, l->v[i]);
			if (map == NULL)
				continue;
			ls_idmap_free(&map);
			m->live--;
			if ((rc = ls_idmap_put(m->maps, l->v[i], NULL)) == 0)
				rc = pair_list_add(&work, l->v[i]);
		}
		pair_list_free(&l);
		if (rc == 0)
			rc = ls_idmap_put(m->by_pair, key, NULL);
	}
out:
	free(work.v);
	ls_record_free(r);
	return rc;
}

/* custody() of a writer's transaction with a custody memo, kept there. */
static int
custody_batch(struct ls_txn *t, const uint8_t holder[32], const uint8_t lot[32],
	      const uint8_t key[32], const struct ls_idmap **out)
{
	struct ls_custody_memo *bm = t->custody;
	struct pair_list visited = {0, 0, NULL};
	struct ls_idmap *m = ls_idmap_get(bm->maps, key);
	int rc;

	if (m != NULL) {
		*out = m;
		return 0;
	}
	if ((rc = custody(t, holder, lot, &m, &visited, bm->maps)) != 0)
		goto out;
	if ((rc = ls_idmap_put(bm->maps, key, m)) != 0) {
		ls_idmap_free(&m);
		goto out;
	}
	bm->live++;
	*out = m;
	for (size_t i = 0; i < visited.n && rc == 0; i++) {
		struct pair_list *l = ls_idmap_get(bm->by_pair, visited.v[i]);
		if (l == NULL) {
			if ((l = calloc(1, sizeof(*l))) == NULL) {
				rc = LS_ERR_NOMEM;
				break;
			}
			if ((rc = ls_idmap_put(bm->by_pair, visited.v[i], l)) != 0) {
				free(l);
				break;
			}
		}
		rc = pair_list_add(l, key);
	}
out:
	free(visited.v);
	return rc;
}

/* custody(), computed once per holder and lot in memo (NULL: no memo;
 * then *owned is the map, the caller's to free), or in the writer's
 * custody memo (t->custody) while the judged record is on the branch the
 * tables follow. *out is borrowed from the memo. The map is the same object
 * every time, so the bindings walk its transfers in the same order on every
 * hop. */
static int
custody_get(struct ls_txn *t, struct ls_idmap *memo, const uint8_t holder[32],
	    const uint8_t lot[32], const struct ls_idmap **out, struct ls_idmap **owned)
{
	uint8_t h[32];
	struct ls_idmap *m;
	int rc;

	*out = NULL;
	*owned = NULL;
	pair_key(holder, lot, h);
	if (t->custody != NULL && t->branch == NULL)
		return custody_batch(t, holder, lot, h, out);
	if (memo != NULL && (m = ls_idmap_get(memo, h)) != NULL) {
		*out = m;
		return 0;
	}
	if ((rc = custody(t, holder, lot, &m, NULL, NULL)) != 0)
		return rc;
	if (memo == NULL) {
		*out = *owned = m;
		return 0;
	}
	if ((rc = ls_idmap_put(memo, h, m)) != 0) {
		ls_idmap_free(&m);
		return rc;
	}
	*out = m;
	return 0;
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
	const struct ls_record *tr = NULL, *lic = NULL;
	struct ls_record *tr_own = NULL, *lic_own = NULL;
	uint8_t ids[2][32];
	bool exempt;
	char h[17];

	(void)val;
	if (b->rc != 0 || (b->exclude != NULL && memcmp(id, b->exclude, 32) == 0))
		return;
	if ((b->rc = ls_txn_record_ref(b->t, id, &tr, &tr_own)) != 0)
		return;
	if (!tr->transfer.has_license)
		goto out;
	if ((b->rc = ls_txn_record_ref(b->t, tr->transfer.license, &lic, &lic_own)) != 0)
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
	ls_record_free(tr_own);
	ls_record_free(lic_own);
}

/* Re-export bindings of every license up holder's custody of lot, at `at`,
 * unless the issuing jurisdiction exempts the lot's category. */
static int
check_bindings(struct ls_txn *t, struct ls_idmap *cmemo, const struct policies *ps, uint64_t at,
	       const uint8_t holder[32], const uint8_t lot[32], const char *dest,
	       const char *end_use, const uint8_t *exclude, struct ls_verdict *v, bool *denied)
{
	const struct ls_idmap *tr = NULL;
	struct ls_idmap *tr_own = NULL;
	const struct ls_lotnode *ln;
	struct ls_lotnode *lown = NULL;
	struct bind_ctx b = {t, v, ps, NULL, at, dest, end_use, exclude, false, 0};
	int rc;

	*denied = false;
	if ((rc = ls_txn_lotnode(t, lot, &ln, &lown)) != 0)
		return rc;
	b.category = ln->category;
	if ((rc = custody_get(t, cmemo, holder, lot, &tr, &tr_own)) == 0) {
		ls_idmap_each(tr, bind_one, &b);
		rc = b.rc;
	}
	ls_idmap_free(&tr_own);
	ls_lotnode_free(&lown);
	*denied = b.denied;
	return rc;
}

/* ---- provenance ---- */

/*
 * One transfer of the lot asked about, judged on its own: whose verdict its
 * faults decide depends on whose custody path it is on.
 */
struct lot_tr {
	uint8_t id[32], from[32], to[32];
	uint64_t grams;
	bool received;
	struct ls_verdict v; /* its faults, and its receipt's */
};

struct lot_trs {
	size_t n, cap;
	struct lot_tr *v;
	struct lot_tr **by_to; /* sorted by receiver, for custody_marks */
};

struct prov {
	struct ls_txn *t;
	struct ls_verdict *v;
	struct ls_ocache *oc;
	struct policies *ps;
	struct ls_idmap *checked;
	/* ancestors' transfers the lot's maker got material through: from the
	 * custody memo (the export's bindings walk the same), or path_own */
	const struct ls_idmap *path;
	struct ls_idmap *path_own;
	struct ls_idmap *cmemo; /* custody maps by holder and lot (custody_get) */
	const uint8_t *lot;
	struct lot_trs trs;
	size_t receipts; /* receipts seen (receipt_child) */
	size_t n_lots, n_regs;
	uint8_t regs[LS_REASON_IDS_MAX][32];
	uint64_t unwitnessed; /* records checked that have no logged time */
	size_t n_unw;
	uint8_t unw[LS_REASON_IDS_MAX][32];
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
	return ls_qcache_equivocated(t, author, found, seq, pair);
}

/*
 * Question time: a record that claims a time far before its logged time is
 * backdated (a fault of the path it is on); one with no logged time is
 * counted, for the unwitnessed warning of the verdict (prov_walk).
 */
static int
check_time(struct prov *p, const struct ls_record *r)
{
	struct ls_rtime rt;
	char h[17], claimed[32], logged[32];
	int rc;

	if ((rc = ls_qcache_record_time(p->t, r, &rt)) != 0)
		return rc;
	if (!rt.logged_known) {
		if (p->n_unw < LS_REASON_IDS_MAX)
			memcpy(p->unw[p->n_unw++], r->id, 32);
		p->unwitnessed++;
		return 0;
	}
	if (!rt.backdated)
		return 0;
	return ls_verdict_add(p->v, LS_R_BACKDATED, (const uint8_t(*)[32])r->id, 1,
			      "%s %s claims %s but was logged at %s, %llu s later: more than the "
			      "%d s a clock may be off",
			      ls_rtype_name(r->type), h8(r->id, h),
			      ls_time_format(rt.claimed, claimed, sizeof(claimed)),
			      ls_time_format(rt.logged, logged, sizeof(logged)),
			      (unsigned long long)(rt.logged - rt.claimed), LS_BACKDATE_TOLERANCE);
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
	if ((rc = check_time(p, r)) != 0)
		return rc;
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
		bool unv = false, bad_user, by_own;
		uint8_t own_id[32];
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
		by_own = false;
		if (!bad_user && (rc = denied_by_name(p->t, p->ps, pp, x->rcv, tr->timestamp,
						      &bad_user, own_id, &by_own)) != 0)
			break;
		if (bad_user) {
			uint8_t dids[3][32];
			memcpy(dids[0], tr->id, 32);
			memcpy(dids[1], pol->id, 32);
			memcpy(dids[2], own_id, 32);
			if ((rc = ls_verdict_add(
				 p->v, LS_R_END_USER_DENIED, (const uint8_t(*)[32])dids,
				 by_own ? 3 : 2,
				 "transfer %s: the receiver is denied by policy '%s' (%s)%s",
				 h8(tr->id, h), pp->name, pp->jurisdiction,
				 by_own ? ", as a subsidiary owned 50 % or more by a denied "
					  "organisation (ownership record)"
					: "")) != 0)
				break;
		}
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
	const struct ls_record *lic = NULL;
	struct ls_record *lic_own = NULL;
	const struct ls_lotnode *ln = NULL;
	struct ls_lotnode *lown = NULL;
	struct ls_lotdef *def = NULL;
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
	reason =
	    ls_cert_check(p->t, tf->to_cert, tf->to, 0, tr->timestamp, LS_LAYER_QUESTION, NULL, &w);
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
		if (tf->has_license &&
		    (rc = ls_txn_record_ref(p->t, tf->license, &lic, &lic_own)) != 0)
			goto out;
		if (lot != NULL && ((rc = ls_ocache_get(p->oc, lot, &x.lo)) != 0 ||
				    (rc = ls_txn_lotnode(p->t, lot, &ln, &lown)) != 0))
			goto out;
		if (lot != NULL) {
			if ((def = malloc(sizeof(*def))) == NULL) {
				rc = LS_ERR_NOMEM;
				goto out;
			}
			ls_lotnode_def(ln, def);
			x.d = def;
		}
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
		rc = check_bindings(p->t, p->cmemo, p->ps, tr->timestamp, tr->author, lot,
				    rcv->cc[j], use, tr->id, p->v, &denied);
	}
out:
	free(snd);
	free(rcv);
	free(def);
	ls_record_free(lic_own);
	ls_lotnode_free(&lown);
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

/* A reason that denies (exit 1) rather than asks for a license (exit 3). */
static bool
denies(enum ls_reason r)
{
	return r == LS_R_END_USE_DENIED || r == LS_R_END_USER_DENIED || r == LS_R_REEXPORT_BARRED;
}

enum ls_reason
ls_transfer_judge(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	struct policies ps = {0};
	struct ls_ocache *oc = NULL;
	struct ls_verdict v;
	struct prov p;
	const struct ls_verdict_reason *first = NULL;
	enum ls_reason reason = LS_R_OK;
	bool own_qc = false;
	int rc;

	ls_verdict_init(&v);
	memset(&p, 0, sizeof(p));
	/* A memo for this judgement (a writer's transaction may have none). */
	if (t->qc == NULL) {
		if ((rc = ls_qcache_begin(t)) != 0)
			goto out;
		own_qc = true;
	}
	/* A node's children are read with it (one cursor) when the custody
	 * walk will want them; with the writer's custody memo it most often
	 * will not, and a lot shipped N times would be read whole N times. */
	if (t->custody == NULL)
		ls_qcache_want_kids(t);
	if ((p.cmemo = ls_idmap_new()) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	if ((rc = policies_load(t, &ps)) != 0)
		goto out;
	if ((oc = ls_ocache_new(t, ps.pol, ps.n)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	p.t = t;
	p.v = &v;
	p.oc = oc;
	p.ps = &ps;
	p.lot = r->transfer.has_lot ? r->transfer.lot : NULL;
	if ((rc = check_hop_at(&p, r, p.lot)) != 0)
		goto out;
	for (size_t i = 0; i < v.n; i++)
		if (first == NULL || (denies(v.reasons[i].code) && !denies(first->code)))
			first = &v.reasons[i];
	if (first != NULL) {
		reason = first->code;
		if (v.n > 1)
			snprintf(w->msg, w->len, "%s (and %zu more reasons)", first->message,
				 v.n - 1);
		else
			snprintf(w->msg, w->len, "%s", first->message);
	}
out:
	ls_verdict_release(&v);
	policies_release(&ps);
	ls_ocache_free(&oc);
	custody_memo_free(&p.cmemo);
	if (own_qc)
		ls_qcache_end(t);
	return rc != 0 ? ls_why_store(w, rc) : reason;
}

struct child_ctx {
	struct prov *p;
	const uint8_t *lot;
};

static int
receipt_child(void *arg, const uint8_t rec[32])
{
	struct prov *p = arg;
	const struct ls_record *r = NULL;
	struct ls_record *owned = NULL;
	int rc;

	if ((rc = ls_txn_record_ref(p->t, rec, &r, &owned)) != 0)
		return rc;
	p->receipts += r->type == LS_REC_RECEIPT;
	rc = check_record(p, r);
	ls_record_free(owned);
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
trs_push(struct lot_trs *trs, struct lot_tr **out)
{
	if (trs->n == trs->cap) {
		size_t cap = trs->cap ? 2 * trs->cap : 8;
		struct lot_tr *nv = realloc(trs->v, cap * sizeof(*nv));
		if (nv == NULL)
			return LS_ERR_NOMEM;
		trs->v = nv;
		trs->cap = cap;
	}
	*out = &trs->v[trs->n++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

static void
trs_release(struct lot_trs *trs)
{
	for (size_t i = 0; i < trs->n; i++)
		ls_verdict_release(&trs->v[i].v);
	free(trs->v);
	free(trs->by_to);
	memset(trs, 0, sizeof(*trs));
}

static int
cmp_to(const void *a, const void *b)
{
	const struct lot_tr *x = *(const struct lot_tr *const *)a;
	const struct lot_tr *y = *(const struct lot_tr *const *)b;

	return memcmp(x->to, y->to, 32);
}

static int
lot_child(struct child_ctx *c, const struct ls_kid *kid)
{
	struct prov *p = c->p;
	struct ls_verdict *main_v = p->v;
	const struct ls_record *r = NULL;
	struct ls_record *owned = NULL;
	bool own = memcmp(c->lot, p->lot, 32) == 0;
	struct lot_tr *x = NULL;
	int rc;

	if (kid->type != LS_REC_TRANSFER)
		return 0;
	if ((rc = ls_txn_record_ref(p->t, kid->id, &r, &owned)) != 0)
		return rc;
	/* An ancestor's transfers count only where the lot's material went: a
	 * sibling portion shipped elsewhere is not this lot's provenance. The
	 * lot's own transfers are judged one by one, for the holders whose
	 * custody path they are on (prov_answer). */
	if (r->type != LS_REC_TRANSFER || (!own && !ls_idmap_has(p->path, r->id))) {
		ls_record_free(owned);
		return 0;
	}
	if (own) {
		if ((rc = trs_push(&p->trs, &x)) != 0)
			goto out;
		memcpy(x->id, r->id, 32);
		memcpy(x->from, r->author, 32);
		memcpy(x->to, r->transfer.to, 32);
		x->grams = r->transfer.grams;
		p->v = &x->v;
	}
	p->receipts = 0;
	if ((rc = check_record(p, r)) == 0 && (rc = check_hop(p, r, c->lot)) == 0)
		rc = ls_txn_children(p->t, r->id, receipt_child, p);
	if (x != NULL) {
		/* Received when a receipt of it is stored: not the transit
		 * table, whose receiver's side follows the first branch of an
		 * equivocating receiver (ingest.c). */
		x->received = p->receipts > 0;
		main_v->ancestors += x->v.ancestors;
		x->v.ancestors = 0;
	}
out:
	p->v = main_v;
	ls_record_free(owned);
	return rc;
}

/*
 * Question time: the lot's history as it stands. Every ancestor record
 * with its author's standing, the technologies its makers used, and the
 * transfers by which the lot's maker got the material of its ancestors go
 * to p->v (faults of every holder's material); the lot's own transfers go
 * to p->trs, each with its own faults.
 */
static int
prov_walk(struct prov *p)
{
	const struct ls_lotnode **anc = NULL;
	struct ls_record *r = NULL;
	struct ls_lot_info lli;
	size_t n = 0;
	int rc;

	if ((rc = ls_txn_lot(p->t, p->lot, &lli)) != 0 ||
	    (rc = custody_get(p->t, p->cmemo, lli.maker, p->lot, &p->path, &p->path_own)) != 0 ||
	    (rc = ancestors(p->t, p->lot, &anc, &n)) != 0)
		return rc;
	/* The making records' headers are all the checks read of them: one
	 * record filled for each. */
	if ((p->checked = ls_idmap_new()) == NULL || (r = calloc(1, sizeof(*r))) == NULL) {
		free(anc);
		return LS_ERR_NOMEM;
	}
	p->n_lots = n;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct ls_lotnode *ln = anc[i];
		struct ls_kids kids;
		struct child_ctx cc = {p, ln->id};
		ls_lotnode_header_fill(ln, r);
		if (r->type == LS_REC_LOT && p->n_regs < LS_REASON_IDS_MAX)
			memcpy(p->regs[p->n_regs++], r->id, 32);
		rc = check_record(p, r);
		if (rc == 0 && r->type == LS_REC_TRANSFORMATION)
			rc = ls_techs_each(p->t, r->author, r->timestamp, tech_child, p);
		if (rc == 0 && (rc = ls_txn_lot_kids(p->t, ln, &kids)) == 0) {
			for (size_t k = 0; rc == 0 && k < kids.n; k++)
				rc = lot_child(&cc, &kids.v[k]);
			ls_kids_release(&kids);
		}
	}
	free(anc);
	free(r);
	if (rc == 0 && p->unwitnessed > 0) {
		size_t before = p->v->n;
		rc = ls_verdict_add(p->v, LS_R_UNWITNESSED, (const uint8_t(*)[32])p->unw, p->n_unw,
				    "%llu of the records checked %s no logged time (no witnessed "
				    "checkpoint holds %s): revocations are judged on the times "
				    "they claim",
				    (unsigned long long)p->unwitnessed,
				    p->unwitnessed == 1 ? "has" : "have",
				    p->unwitnessed == 1 ? "it" : "them");
		if (rc == 0 && p->v->n > before)
			p->v->reasons[p->v->n - 1].warning = true;
	}
	if (rc == 0 && p->trs.n > 0) {
		if ((p->trs.by_to = malloc(p->trs.n * sizeof(*p->trs.by_to))) == NULL)
			return LS_ERR_NOMEM;
		for (size_t i = 0; i < p->trs.n; i++)
			p->trs.by_to[i] = &p->trs.v[i];
		qsort(p->trs.by_to, p->trs.n, sizeof(*p->trs.by_to), cmp_to);
	}
	return rc;
}

static void
prov_release(struct prov *p)
{
	ls_idmap_free(&p->checked);
	ls_idmap_free(&p->path_own);
	p->path = NULL;
	custody_memo_free(&p->cmemo);
	trs_release(&p->trs);
}

/*
 * Marks on[i] for every received transfer of the lot on key's custody path:
 * those that brought key the material, and those that brought it to their
 * senders, back to the maker. Each transfer is visited once.
 */
static int
custody_marks(const struct lot_trs *trs, const uint8_t key[32], bool *on)
{
	uint8_t(*stack)[32] = malloc((trs->n + 1) * 32);
	size_t sp = 0;

	if (stack == NULL)
		return LS_ERR_NOMEM;
	memcpy(stack[sp++], key, 32);
	while (sp > 0) {
		uint8_t k[32];
		size_t lo = 0, hi = trs->n;
		memcpy(k, stack[--sp], 32);
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (memcmp(trs->by_to[mid]->to, k, 32) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < trs->n && memcmp(trs->by_to[lo]->to, k, 32) == 0; lo++) {
			size_t i = (size_t)(trs->by_to[lo] - trs->v);
			if (on[i] || !trs->v[i].received)
				continue;
			on[i] = true;
			memcpy(stack[sp++], trs->v[i].from, 32);
		}
	}
	free(stack);
	return 0;
}

/*
 * The provenance of material whose custody path is on[]: the faults of the
 * lot's history and of the lot's transfers on the path decide it; the
 * faults of its other transfers are warnings.
 */
static int
part_verdict(const struct prov *p, const bool *on, struct ls_verdict *out)
{
	const struct ls_verdict *base = p->v;
	bool faulty = ls_verdict_faults(base) > 0;
	int rc = 0;

	ls_verdict_init(out);
	out->ancestors = base->ancestors;
	for (size_t i = 0; i < p->trs.n && !faulty; i++)
		faulty = on[i] && p->trs.v[i].v.n > 0;
	out->kind = faulty ? LS_V_BROKEN : LS_V_VALID;
	if (!faulty)
		rc = ls_verdict_add(out, LS_R_OK, (const uint8_t(*)[32])p->regs, p->n_regs,
				    "%llu records checked across %zu lots back to their "
				    "registrations",
				    (unsigned long long)base->ancestors, p->n_lots);
	for (size_t i = 0; i < base->n && rc == 0; i++)
		rc = verdict_copy(out, &base->reasons[i], base->reasons[i].warning);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < p->trs.n && rc == 0; i++)
			for (size_t k = 0; on[i] == (pass == 0) && k < p->trs.v[i].v.n && rc == 0;
			     k++)
				rc = verdict_copy(out, &p->trs.v[i].v.reasons[k], pass == 1);
	return rc;
}

/* The material holder has, and is on its way to it: its custody marks. */
static int
holder_marks(const struct prov *p, const uint8_t holder[32], bool *on, uint64_t *incoming)
{
	int rc = custody_marks(&p->trs, holder, on);

	*incoming = 0;
	for (size_t i = 0; i < p->trs.n && rc == 0; i++) {
		const struct lot_tr *x = &p->trs.v[i];
		if (x->received || memcmp(x->to, holder, 32) != 0)
			continue;
		on[i] = true;
		*incoming += x->grams;
		rc = custody_marks(&p->trs, x->from, on);
	}
	return rc;
}

static int
rank(enum ls_verdict_kind k)
{
	return k == LS_V_BROKEN || k == LS_V_DENIED ? 2 : k == LS_V_LICENSE_REQUIRED ? 1 : 0;
}

/*
 * v takes the worst kind of its parts, and the reasons of all of them: every
 * fault once, then the warnings that are no part's fault; the summaries of
 * valid parts only when every part is valid. The union, not the worst
 * part's list, so that the answer does not depend on which part comes first.
 */
static int
verdict_worst(struct ls_verdict *v)
{
	int worst = -1, rc = 0;

	for (size_t i = 0; i < v->n_parts; i++)
		if (rank(v->parts[i].v.kind) > worst) {
			worst = rank(v->parts[i].v.kind);
			v->kind = v->parts[i].v.kind;
		}
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < v->n_parts && rc == 0; i++) {
			const struct ls_verdict *w = &v->parts[i].v;
			for (size_t k = 0; k < w->n && rc == 0; k++) {
				const struct ls_verdict_reason *r = &w->reasons[k];
				if (r->warning != (pass == 1) ||
				    (worst > 0 && rank(w->kind) == 0 && !r->warning))
					continue;
				rc = verdict_copy(v, r, r->warning);
			}
		}
	return rc;
}

/* What a question without a holder judges: holders, then transfers in
 * transit, the most grams first. */
struct holding {
	uint8_t key[32];
	uint64_t grams;
	const struct lot_tr *transit; /* NULL: held */
	bool faulty;                  /* its provenance is broken (holdings_rank) */
};

struct holdings {
	size_t n, cap;
	struct holding *v;
};

static int
holding_one(void *arg, const uint8_t holder[LS_KEY_LEN], uint64_t g)
{
	struct holdings *h = arg;

	if (g == 0)
		return 0;
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 8;
		struct holding *nv = realloc(h->v, cap * sizeof(*nv));
		if (nv == NULL)
			return LS_ERR_NOMEM;
		h->v = nv;
		h->cap = cap;
	}
	memcpy(h->v[h->n].key, holder, 32);
	h->v[h->n].grams = g;
	h->v[h->n].transit = NULL;
	h->v[h->n].faulty = false;
	h->n++;
	return 0;
}

static int
cmp_holding(const void *a, const void *b)
{
	const struct holding *x = a, *y = b;

	if ((x->transit != NULL) != (y->transit != NULL))
		return x->transit != NULL ? 1 : -1;
	if (x->grams != y->grams)
		return x->grams > y->grams ? -1 : 1;
	if (x->transit != NULL)
		return memcmp(x->transit->id, y->transit->id, 32);
	return memcmp(x->key, y->key, 32);
}

/* A key that may hold some of the lot; judged, if equivocating, as a holder
 * whatever the tables say (the maker, a receiver of one of its transfers). */
struct candidate {
	uint8_t key[32];
	bool judged;
};

static int
cmp_candidate(const void *a, const void *b)
{
	return memcmp(((const struct candidate *)a)->key, ((const struct candidate *)b)->key, 32);
}

/*
 * An equivocating author's own holdings follow whichever branch of its
 * feed a node saw first (ingest.c), so they do not decide who is asked
 * about: such an author is judged as a holder whenever it made the lot or
 * received some of it, whatever the tables say it holds now.
 */
static int
equivocator_add(const struct prov *p, const uint8_t key[32], struct holdings *h)
{
	uint64_t seq;
	uint8_t pair[2][32];
	bool equiv;
	int rc;

	if ((rc = author_equivocated(p->t, key, &equiv, &seq, pair)) != 0 || !equiv)
		return rc;
	if ((rc = holding_one(h, key, 1)) == 0)
		h->v[h->n - 1].grams = 0;
	return rc;
}

/*
 * The holders of the lot and, unless held_only, its transfers in transit.
 * Only the lot's maker and the parties of its own transfers can hold any
 * of it (a registration or a transformation credits its maker, a receipt
 * the transfer's receiver, a return the transfer's sender: lib/kind/), so
 * each of them is one point read of the holds table: the question costs
 * what the lot's history holds, not what the ledger does.
 */
static int
holdings_of(const struct prov *p, bool held_only, struct holdings *h)
{
	struct ls_lot_info li;
	struct candidate *c;
	size_t n = 0;
	int rc;

	memset(h, 0, sizeof(*h));
	if ((rc = ls_txn_lot(p->t, p->lot, &li)) != 0)
		return rc;
	if ((c = malloc((1 + 2 * p->trs.n) * sizeof(*c))) == NULL)
		return LS_ERR_NOMEM;
	memcpy(c[n].key, li.maker, 32);
	c[n++].judged = true;
	for (size_t i = 0; i < p->trs.n; i++) {
		memcpy(c[n].key, p->trs.v[i].to, 32);
		c[n++].judged = p->trs.v[i].received;
		memcpy(c[n].key, p->trs.v[i].from, 32);
		c[n++].judged = false;
	}
	qsort(c, n, sizeof(*c), cmp_candidate);
	for (size_t i = 0; i < n && rc == 0;) {
		bool judged = false;
		uint64_t g;
		size_t j = i;
		for (; j < n && memcmp(c[j].key, c[i].key, 32) == 0; j++)
			judged = judged || c[j].judged;
		if ((rc = ls_txn_hold(p->t, c[i].key, p->lot, &g)) == 0)
			rc = g > 0    ? holding_one(h, c[i].key, g)
			     : judged ? equivocator_add(p, c[i].key, h)
				      : 0;
		i = j;
	}
	free(c);
	for (size_t i = 0; !held_only && i < p->trs.n && rc == 0; i++) {
		const struct lot_tr *x = &p->trs.v[i];
		if (x->received)
			continue;
		if ((rc = holding_one(h, x->to, x->grams)) == 0)
			h->v[h->n - 1].transit = x;
	}
	if (h->n > 1)
		qsort(h->v, h->n, sizeof(*h->v), cmp_holding);
	return rc;
}

/* The custody marks of one holding (the transfer itself when in transit). */
static int
holding_marks(const struct prov *p, const struct holding *x, bool *on)
{
	memset(on, 0, p->trs.n ? p->trs.n : 1);
	if (x->transit == NULL)
		return custody_marks(&p->trs, x->key, on);
	on[x->transit - p->trs.v] = true;
	return custody_marks(&p->trs, x->transit->from, on);
}

/* Whether the material whose custody path is on[] has a broken provenance
 * (part_verdict's rule, without its reasons). */
static bool
marks_faulty(const struct prov *p, const bool *on)
{
	if (ls_verdict_faults(p->v) > 0)
		return true;
	for (size_t i = 0; i < p->trs.n; i++)
		if (on[i] && p->trs.v[i].v.n > 0)
			return true;
	return false;
}

static int
cmp_holding_faulty(const void *a, const void *b)
{
	const struct holding *x = a, *y = b;

	if (x->faulty != y->faulty)
		return x->faulty ? -1 : 1;
	return cmp_holding(a, b);
}

/*
 * More holdings than a verdict has parts: those whose provenance is broken
 * go first, so that a broken holder is never among those left unjudged and
 * the worst part decides (a fault cannot hide behind 64 clean holders).
 */
static int
holdings_rank(const struct prov *p, struct holdings *h, bool *on)
{
	int rc;

	if (h->n <= LS_VERDICT_PARTS_MAX)
		return 0;
	for (size_t i = 0; i < h->n; i++) {
		if ((rc = holding_marks(p, &h->v[i], on)) != 0)
			return rc;
		h->v[i].faulty = marks_faulty(p, on);
	}
	qsort(h->v, h->n, sizeof(*h->v), cmp_holding_faulty);
	return 0;
}

static int
parts_alloc(struct ls_verdict *v, size_t n_holdings)
{
	size_t n = n_holdings < LS_VERDICT_PARTS_MAX ? n_holdings : LS_VERDICT_PARTS_MAX;

	v->parts_more = n_holdings - n;
	if ((v->parts = calloc(n ? n : 1, sizeof(*v->parts))) == NULL)
		return LS_ERR_NOMEM;
	return 0;
}

/* The worst rank of v's parts (-1: none). */
static int
parts_worst(const struct ls_verdict *v)
{
	int worst = -1;

	for (size_t i = 0; i < v->n_parts; i++)
		if (rank(v->parts[i].v.kind) > worst)
			worst = rank(v->parts[i].v.kind);
	return worst;
}

/*
 * A part beyond the cap of an export question: when it is worse than some
 * part shown, it takes the last such part's place (that part's verdict is
 * released: it is among those counted in parts_more) and false is returned;
 * else true (pt stays the caller's).
 */
static bool
export_worse(struct ls_verdict *v, struct ls_verdict_part *pt)
{
	for (size_t i = v->n_parts; i-- > 0;)
		if (rank(v->parts[i].v.kind) < rank(pt->v.kind)) {
			ls_verdict_release(&v->parts[i].v);
			v->parts[i] = *pt;
			memset(pt, 0, sizeof(*pt));
			return false;
		}
	return true;
}

/* Provenance of the material q->from holds, or of every holder's. */
static int
prov_answer(struct prov *p, const struct ls_export_query *q, struct ls_verdict *v)
{
	bool *on = calloc(p->trs.n ? p->trs.n : 1, 1);
	struct holdings h = {0};
	int rc = 0;

	if (on == NULL)
		return LS_ERR_NOMEM;
	if (q->has_from) {
		uint64_t held, incoming;
		if ((rc = ls_txn_hold(p->t, q->from, p->lot, &held)) != 0 ||
		    (rc = holder_marks(p, q->from, on, &incoming)) != 0 ||
		    (rc = part_verdict(p, on, v)) != 0)
			goto out;
		if (v->kind == LS_V_VALID && held == 0 && incoming == 0) {
			ls_verdict_release(v);
			v->kind = LS_V_BROKEN;
			rc = ls_verdict_add(v, LS_R_NOT_HOLDER, (const uint8_t(*)[32])p->lot, 1,
					    "the holder named holds none of this lot, and none is "
					    "on its way to it");
		}
		goto out;
	}
	if ((rc = holdings_of(p, false, &h)) != 0)
		goto out;
	if (h.n == 0) {
		/* Nobody holds any of it now (made into other lots): its whole
		 * history decides. */
		memset(on, 1, p->trs.n);
		rc = part_verdict(p, on, v);
		goto out;
	}
	if ((rc = holdings_rank(p, &h, on)) != 0 || (rc = parts_alloc(v, h.n)) != 0)
		goto out;
	for (size_t i = 0; i < h.n && v->n_parts < LS_VERDICT_PARTS_MAX && rc == 0; i++) {
		struct ls_verdict_part *pt = &v->parts[v->n_parts];
		if ((rc = holding_marks(p, &h.v[i], on)) != 0 ||
		    (rc = part_verdict(p, on, &pt->v)) != 0) {
			ls_verdict_release(&pt->v);
			break;
		}
		memcpy(pt->holder, h.v[i].key, 32);
		pt->grams = h.v[i].grams;
		pt->in_transit = h.v[i].transit != NULL;
		if (pt->in_transit)
			memcpy(pt->transfer, h.v[i].transit->id, 32);
		v->n_parts++;
	}
	if (rc == 0)
		rc = verdict_worst(v);
	v->ancestors = p->v->ancestors;
out:
	free(h.v);
	free(on);
	return rc;
}

/* Question time: the lot did not exist at the date asked. */
static int
not_made(struct ls_verdict *v, const struct ls_lot_info *li, uint64_t at, bool exp)
{
	char made[32], asked[32];

	v->kind = exp ? LS_V_DENIED : LS_V_BROKEN;
	return ls_verdict_add(v, LS_R_NOT_MADE, (const uint8_t(*)[32])li->rec, 1,
			      "the lot was made at %s, after the date asked (%s)",
			      ls_time_format(li->timestamp, made, sizeof(made)),
			      ls_time_format(at, asked, sizeof(asked)));
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
	/* Of several that cover it, the first by number (then id): the
	 * order the licenses were once read in, all of them. */
	if (reason == LS_R_OK &&
	    (!f->found || strcmp(r->license.number, f->number) < 0 ||
	     (strcmp(r->license.number, f->number) == 0 && memcmp(id, f->id, 32) < 0))) {
		f->found = true;
		memcpy(f->id, id, 32);
		snprintf(f->number, sizeof(f->number), "%s", r->license.number);
	}
	ls_record_free(r);
	if (reason == LS_R_STORE)
		return w.err;
	return 0;
}

/* A license that covers this export (the one cited, if any): 0 with
 * *found set, or a store error. The rule is ls_license_check's, which
 * covers only an export by the licensee: the licensee's licenses are all
 * it reads (lictee), not every license in the store. */
static int
find_license(struct ls_txn *t, const struct ls_export_query *q, const struct ls_license_use *u,
	     bool *found, uint8_t out[32], char *number, size_t nlen)
{
	struct findlic f = {t, u, q->has_license ? q->license : NULL, false, {0}, "", 0};
	int rc = ls_txn_licenses_of(t, u->exporter, findlic_one, &f);

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

/* A question's read state: one transaction, the policies in it, the origin
 * memo, and the walk of the lot's history. */
struct question {
	struct ls_txn t;
	bool open;
	struct policies ps;
	struct ls_ocache *oc;
	struct ls_lot_info li;
	struct ls_verdict base; /* faults of every holder's material */
	struct prov p;
};

static int
question_open(struct ls_store *s, const uint8_t lot[32], struct question *x)
{
	int rc;

	memset(x, 0, sizeof(*x));
	if ((rc = ls_txn_begin(s, false, &x->t)) != 0)
		return rc;
	x->open = true;
	if ((rc = ls_qcache_begin(&x->t)) != 0)
		return rc;
	ls_qcache_want_kids(&x->t);
	if ((x->p.cmemo = ls_idmap_new()) == NULL)
		return LS_ERR_NOMEM;
	if ((rc = ls_txn_lot(&x->t, lot, &x->li)) != 0 || (rc = policies_load(&x->t, &x->ps)) != 0)
		return rc;
	if ((x->oc = ls_ocache_new(&x->t, x->ps.pol, x->ps.n)) == NULL)
		return LS_ERR_NOMEM;
	x->p.t = &x->t;
	x->p.v = &x->base;
	x->p.oc = x->oc;
	x->p.ps = &x->ps;
	x->p.lot = lot;
	return prov_walk(&x->p);
}

/* What the question read, into its verdict. */
static void
question_cost(const struct question *x, struct ls_verdict *v)
{
	v->cost.records = x->t.n_records;
	v->cost.reads = x->t.n_reads;
	v->cost.seeks = x->t.n_seeks;
}

static void
question_close(struct question *x)
{
	prov_release(&x->p);
	ls_verdict_release(&x->base);
	policies_release(&x->ps);
	ls_ocache_free(&x->oc);
	if (x->open)
		ls_txn_abort(&x->t);
	x->open = false;
}

/*
 * The export of the material holder holds, whose provenance verdict v
 * already holds: broken is denied; else every policy in force from each
 * country the holder is certified in, and the bindings of the licenses up
 * its custody path.
 */
static int
export_holder(struct question *x, const struct ls_export_query *q, const uint8_t holder[32],
	      struct ls_verdict *v)
{
	struct ls_txn *t = &x->t;
	struct policies *ps = &x->ps;
	const struct ls_lot_origin *lo;
	const char *use = q->end_use != NULL && *q->end_use ? q->end_use : "civilian";
	uint64_t at = q->time ? q->time : ls_now();
	uint8_t ids[3][32], unv_id[32];
	char msg[LS_ERR_MSG_MAX], number[LS_STR_MAX + 1];
	struct key_certs *snd = NULL, *eu = NULL;
	bool need = false, denied = false, covered;
	const struct ls_lotnode *ln = NULL;
	struct ls_lotnode *lown = NULL;
	struct ls_lotdef *lotdef = NULL;
	struct ls_license_use lu;
	int rc;

	if (v->kind == LS_V_BROKEN) {
		v->kind = LS_V_DENIED;
		return 0;
	}
	/* Drop the provenance summary: the export reasons speak now. */
	for (size_t i = 0; i < v->n; i++)
		if (v->reasons[i].code == LS_R_OK && !v->reasons[i].warning) {
			memmove(&v->reasons[i], &v->reasons[i + 1],
				(v->n - i - 1) * sizeof(v->reasons[0]));
			v->n--;
			break;
		}
	if ((rc = ls_ocache_get(x->oc, q->lot, &lo)) != 0)
		return rc;
	if ((snd = malloc(sizeof(*snd))) == NULL || (eu = malloc(sizeof(*eu))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	/* Every country the holder is certified in at the time asked: it
	 * exports from each (a holder certified nowhere, a trust anchor, from
	 * nowhere: only policies that reach abroad apply). */
	if ((rc = key_certs(t, holder, at, snd)) != 0 ||
	    (rc = ls_txn_lotnode(t, q->lot, &ln, &lown)) != 0)
		goto out;
	if ((lotdef = malloc(sizeof(*lotdef))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	ls_lotnode_def(ln, lotdef);
	if (snd->n_cc == 0)
		snd->cc[snd->n_cc++][0] = '\0';
	if (snd->n_cc == 1 && strcmp(snd->cc[0], q->destination) == 0) {
		rc = ls_verdict_add(v, LS_R_OK, NULL, 0,
				    "holder and destination are both in %s: not an export",
				    q->destination);
		v->kind = LS_V_ALLOWED;
		goto out;
	}
	if (q->has_end_user && (rc = key_certs(t, q->end_user, at, eu)) != 0)
		goto out;
	for (size_t f = 0; f < snd->n_cc && rc == 0; f++) {
		const char *from_cc = snd->cc[f];
		if (strcmp(from_cc, q->destination) == 0)
			continue;
		for (size_t i = 0; i < ps->n && rc == 0; i++) {
			const struct ls_record *pr = ps->p[i];
			const struct ls_policy *p = &pr->policy;
			enum control c;
			bool unv;
			if (!policy_in_force(ps, i, at))
				continue;
			memcpy(ids[0], pr->id, 32);
			c = controlled(ps, i, lo, from_cc, msg, sizeof(msg), unv_id, &unv);
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
				bool bad = keylist_has(&p->denied_end_user_keys, q->end_user),
				     by_own = false;
				uint8_t dids[2][32];
				if (!bad && (rc = denied_by_name(t, ps, p, eu, at, &bad, dids[1],
								 &by_own)) != 0)
					break;
				if (bad) {
					denied = true;
					memcpy(dids[0], pr->id, 32);
					rc = ls_verdict_add(
					    v, LS_R_END_USER_DENIED, (const uint8_t(*)[32])dids,
					    by_own ? 2 : 1,
					    "the end user is denied by policy '%s' (%s)%s", p->name,
					    p->jurisdiction,
					    by_own ? ", as a subsidiary owned 50 % or more by a "
						     "denied "
						     "organisation (ownership record)"
						   : "");
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
			if ((rc = find_license(t, q, &lu, &covered, ids[1], number,
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
					rc = why_not_license(t, q, &lu, v);
			}
		}
	}
	if (rc == 0) {
		bool bdenied = false;
		rc = check_bindings(t, x->p.cmemo, ps, at, holder, q->lot, q->destination, use,
				    NULL, v, &bdenied);
		denied |= bdenied;
	}
	if (rc == 0) {
		v->kind = denied ? LS_V_DENIED : need ? LS_V_LICENSE_REQUIRED : LS_V_ALLOWED;
		if (ls_verdict_faults(v) == 0)
			rc = ls_verdict_add(v, LS_R_OK, NULL, 0,
					    "no policy in force controls this export from %s to %s",
					    snd->cc[0][0] ? snd->cc[0] : "??", q->destination);
	}
out:
	free(snd);
	free(eu);
	free(lotdef);
	ls_lotnode_free(&lown);
	return rc;
}

int
ls_verify_export(struct ls_store *s, const struct ls_export_query *q, struct ls_verdict *v)
{
	struct question x;
	struct holdings h = {0};
	bool *on = NULL;
	int rc;

	ls_verdict_init(v);
	if ((rc = question_open(s, q->lot, &x)) != 0)
		goto out;
	if (q->time != 0 && q->time < x.li.timestamp) {
		rc = not_made(v, &x.li, q->time, true);
		goto out;
	}
	if ((on = calloc(x.p.trs.n ? x.p.trs.n : 1, 1)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	if (q->has_from) {
		uint64_t held;
		/* Provenance first: a broken history is denied whoever holds it. */
		if ((rc = custody_marks(&x.p.trs, q->from, on)) != 0 ||
		    (rc = part_verdict(&x.p, on, v)) != 0 ||
		    (rc = ls_txn_hold(&x.t, q->from, q->lot, &held)) != 0)
			goto out;
		if (v->kind == LS_V_VALID && held == 0) {
			ls_verdict_release(v);
			rc = ls_verdict_add(v, LS_R_NOT_HOLDER, (const uint8_t(*)[32])q->lot, 1,
					    "the exporter holds none of this lot");
			v->kind = LS_V_DENIED;
			goto out;
		}
		rc = export_holder(&x, q, q->from, v);
		goto out;
	}
	if ((rc = holdings_of(&x.p, true, &h)) != 0)
		goto out;
	if (h.n == 0) {
		/* Nobody holds any: its maker's, on its whole history. */
		memset(on, 1, x.p.trs.n);
		if ((rc = part_verdict(&x.p, on, v)) == 0)
			rc = export_holder(&x, q, x.li.maker, v);
		goto out;
	}
	if ((rc = holdings_rank(&x.p, &h, on)) != 0 || (rc = parts_alloc(v, h.n)) != 0)
		goto out;
	for (size_t i = 0; i < h.n && rc == 0; i++) {
		struct ls_verdict_part pt;
		/* Beyond the cap, a holder is judged only while one could be
		 * worse than every part shown: denied cannot get worse. */
		if (v->n_parts == LS_VERDICT_PARTS_MAX && parts_worst(v) == 2)
			break;
		memset(&pt, 0, sizeof(pt));
		if ((rc = holding_marks(&x.p, &h.v[i], on)) != 0 ||
		    (rc = part_verdict(&x.p, on, &pt.v)) != 0 ||
		    (rc = export_holder(&x, q, h.v[i].key, &pt.v)) != 0) {
			ls_verdict_release(&pt.v);
			break;
		}
		memcpy(pt.holder, h.v[i].key, 32);
		pt.grams = h.v[i].grams;
		if (v->n_parts < LS_VERDICT_PARTS_MAX) {
			v->parts[v->n_parts++] = pt;
			continue;
		}
		if (export_worse(v, &pt))
			ls_verdict_release(&pt.v);
	}
	if (rc == 0)
		rc = verdict_worst(v);
	v->ancestors = x.base.ancestors;
out:
	free(h.v);
	free(on);
	question_cost(&x, v);
	question_close(&x);
	if (rc != 0)
		ls_verdict_release(v);
	return rc;
}

int
ls_verify(struct ls_store *s, const struct ls_export_query *q, struct ls_verdict *v)
{
	struct question x;
	int rc;

	if (q->destination[0] != '\0')
		return ls_verify_export(s, q, v);
	ls_verdict_init(v);
	if ((rc = question_open(s, q->lot, &x)) == 0) {
		if (q->time != 0 && q->time < x.li.timestamp)
			rc = not_made(v, &x.li, q->time, false);
		else
			rc = prov_answer(&x.p, q, v);
	}
	question_cost(&x, v);
	question_close(&x);
	if (rc != 0)
		ls_verdict_release(v);
	return rc;
}

int
ls_verify_provenance(struct ls_store *s, const uint8_t lot[LS_ID_LEN], struct ls_verdict *v)
{
	struct ls_export_query q;

	memset(&q, 0, sizeof(q));
	memcpy(q.lot, lot, LS_ID_LEN);
	return ls_verify(s, &q, v);
}
