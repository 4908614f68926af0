/*
 * test_converge.c - the ledger's central promise as a property: every honest
 * node that holds the same records stores the same set and gives the same
 * verdicts, whatever the order in which the records arrived (DESIGN.md,
 * "Feeds" and "Three layers of checking").
 *
 * For each seed a generator makes a world: a trust anchor, an authority per
 * country (two or three countries), certified miners, processors, traders
 * and recyclers, a control policy, licenses, lots, transformations,
 * domestic and cross-border transfers (some citing licenses, some
 * technology), receipts, and at the end a few records that break a
 * consensus rule or wait for a record that never comes, plus copies with a
 * broken signature. The revocation and equivocation tests add, at random,
 * revocations of a participant's key or certificate, of a license or of an
 * authority, dated before some of the records they affect, and equivocations
 * (two records of one author at one seq: a double spend, a second
 * certificate, a second lot, a second receipt) with third parties building
 * on the other side. Keys derive from the seed and every timestamp is
 * explicit, so a seed reproduces the same bytes.
 *
 * The same envelopes then go to several fresh stores: store 0 in the order
 * they were made, store 1 backwards, the others shuffled, each with random
 * duplicates in random batch sizes. The stores must agree on the records
 * stored (ls_store_log), the pending and evidence counts, the evidence
 * pairs, the provenance verdict of every lot and a few export verdicts per
 * lot (kind, set of reason codes, and the ids behind each reason). The
 * honest and revocation tests also check every store against the generator:
 * a record valid by the consensus rules is stored, one that breaks a rule is
 * not, one that names a missing record waits (a revocation is not a
 * dependency: it is judged at question time, not at ingest).
 *
 * Environment:
 * The local tests mix in the admission layer (see feed_local below): the
 * stores other than store 0 also get, for about a third of the envelopes,
 * a copy from a local client, in a submission of its batch.
 *
 *   LS_CONVERGE_SEEDS=N           seeds per test (default 6; `make soak`: 500)
 *   LS_CONVERGE_FIRST=S           first seed (default 1)
 *   LS_CONVERGE_SEED=S            only seed S (to reproduce a failure)
 *   LS_CONVERGE_STORES=K          stores per seed, 2..8 (default 4)
 *   LS_CONVERGE_ONLY=NAME         only the tests whose name contains NAME
 *   LS_CONVERGE_VERBOSE=1         a line per seed, every difference in full
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sodium.h>

#include "helper_fixture.h"
#include "holdings.h"
#include "reason.h"
#include "record.h"
#include "store.h"
#include "verify.h"

#define MAX_ACTORS  40
#define MAX_LOTS    400
#define MAX_TRANSIT 400
#define MAX_LICS    64
#define MAX_REVS    32
#define MAX_ENVS    1500
#define MAX_QUERIES (3 * MAX_LOTS)
#define MAX_STORES  8
#define MAX_BATCH   200
#define DESC_MAX    200
#define TAG_MAX     120
#define HOUR        3600ull
#define GRAMS_CAP   1000000000ull /* keeps gram-ppm sums far inside 64 bits */

/* ---- configuration (environment) ---- */

struct cfg {
	char *root; /* every store of the run lives below it */
	uint64_t first, n_seeds;
	unsigned n_stores;
	bool verbose;
};

static struct cfg g_cfg;

/* ---- a small deterministic PRNG (splitmix64) ---- */

struct rng {
	uint64_t s;
};

static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
rng_below(struct rng *r, uint64_t n)
{
	return n == 0 ? 0 : rng_next(r) % n;
}

/* Uniform in lo..hi inclusive. */
static uint64_t
rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

static bool
rng_pct(struct rng *r, unsigned pct)
{
	return rng_below(r, 100) < pct;
}

/* ---- the world ---- */

enum { W_REVOKE = 1, W_EQUIVOCATE = 2, W_LOCAL = 4 /* feed: local clients' copies too */ };

enum akind { A_ANCHOR, A_AUTH, A_PART };

struct actor {
	struct fx_actor *fx;
	enum akind kind;
	char name[20];
	char cc[3];
	uint32_t roles;
	int issuer;     /* the actor that certified it, -1 before */
	bool active;    /* certified (or the anchor): it signs */
	bool spare;     /* kept for a certificate on the other side of a fork */
	bool done;      /* signed a record that breaks a rule: signs no more */
	uint64_t since; /* date of its current certificate */
};

enum stage { S_ORE, S_CONC, S_OXIDE, S_METAL, S_ALLOY, S_MAGNET, S_COMPONENT, S_PRODUCT, S_SCRAP };

static const char *const stage_name[] = {"ore",    "concentrate", "oxide",   "metal", "alloy",
					 "magnet", "component",   "product", "scrap"};

struct lot {
	uint8_t id[32];
	char label[16];
	enum stage stage;
	uint64_t grams;
	struct ls_comp comp;
	int maker;
	int env; /* the record that made it */
	bool fork;
};

struct transit {
	uint8_t id[32];
	int from, to, lot; /* lot -1: a technology */
	uint64_t grams;
	bool received, fork;
	bool ret; /* a receipt's shortfall on its way back (id: the receipt) */
};

struct lic {
	uint8_t id[32];
	int issuer, licensee;
	char number[24];
	char dests[16];
	const char *items;
	const char *end_use;
	uint64_t max_grams, used, until, since;
};

struct revo {
	uint8_t subject[32];
	uint64_t eff;
	int env;
};

/* What the consensus rules make of a record. */
enum expect {
	X_VALID = 0, /* every store keeps it */
	X_INVALID,   /* breaks a rule: no store keeps it */
	X_WAITS,     /* names a record that never comes: pending everywhere */
	X_CORRUPT,   /* a copy of another envelope with a broken signature */
};

struct env {
	struct fx_env e;
	enum expect expect;
	int author;
	bool fork_side, first_side; /* one of the two records of an equivocation */
	bool tainted;               /* a side of an equivocation, or built on one */
	char desc[DESC_MAX];
	char tag[TAG_MAX];
};

struct query {
	struct ls_export_query q;
	int lot;
	char desc[96];
};

struct idref {
	uint8_t id[32];
	int env;
};

struct world {
	uint64_t seed;
	unsigned flags;
	struct rng rng;
	uint64_t now, t_ask;
	char cc[4][3];
	int auth[4]; /* the authority of cc[i] */
	size_t n_cc;
	int anchor;
	size_t n_actors, n_lots, n_transit, n_lics, n_revs, n_envs, n_queries, n_forks;
	struct actor a[MAX_ACTORS];
	struct lot lots[MAX_LOTS];
	struct transit tr[MAX_TRANSIT];
	struct lic lic[MAX_LICS];
	struct revo rev[MAX_REVS];
	struct env envs[MAX_ENVS];
	struct query q[MAX_QUERIES];
	struct idref *index; /* sorted by id; corrupt copies left out */
	size_t n_index;
	uint64_t hold[MAX_ACTORS][MAX_LOTS];
	uint8_t policy[32];
	bool has_policy, policy_changed;
	bool failed; /* a builder failed or a table is full */
};

static void
hex8(const uint8_t *id, char out[9])
{
	sodium_bin2hex(out, 9, id, 4);
}

static bool
list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; *p != '\0';) {
		size_t k = strcspn(p, ",");
		if (k == n && strncmp(p, item, n) == 0)
			return true;
		p += k;
		if (*p == ',')
			p++;
	}
	return false;
}

static void setf(char *dst, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* snprintf through a buffer of its own: dst and the arguments may both lie
 * in the world (GCC's -Wrestrict cannot tell that they do not overlap). */
static void
setf(char *dst, size_t len, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	snprintf(dst, len, "%s", buf);
}

/* A new actor whose key derives from the world's PRNG. */
static int
actor_new(struct world *w, enum akind kind, const char *cc, uint32_t roles, const char *what)
{
	struct actor *a;
	uint8_t seed[32];
	size_t same = 0;

	if (w->n_actors == MAX_ACTORS) {
		w->failed = true;
		return -1;
	}
	a = &w->a[w->n_actors];
	memset(a, 0, sizeof(*a));
	if ((a->fx = fx_actor_new(cc)) == NULL) {
		w->failed = true;
		return -1;
	}
	for (size_t i = 0; i < 4; i++) {
		uint64_t x = rng_next(&w->rng);
		memcpy(seed + 8 * i, &x, 8);
	}
	sodium_mprotect_readwrite(a->fx->kp->sk);
	crypto_sign_seed_keypair(a->fx->kp->pk, a->fx->kp->sk, seed);
	sodium_mprotect_readonly(a->fx->kp->sk);
	sodium_memzero(seed, sizeof(seed));
	for (size_t i = 0; i < w->n_actors; i++)
		same += strcmp(w->a[i].cc, cc) == 0 &&
			strncmp(w->a[i].name + 3, what, strlen(what)) == 0;
	a->kind = kind;
	setf(a->cc, sizeof(a->cc), "%s", cc);
	if (kind == A_ANCHOR)
		setf(a->name, sizeof(a->name), "anchor");
	else if (kind == A_AUTH)
		setf(a->name, sizeof(a->name), "%s-auth", cc);
	else
		setf(a->name, sizeof(a->name), "%s-%s%zu", cc, what, same + 1);
	a->roles = roles;
	a->issuer = -1;
	a->active = kind == A_ANCHOR;
	return (int)w->n_actors++;
}

/* The actor who signs next, dated a little after the last record. */
static struct fx_actor *
tick(struct world *w, int who)
{
	w->now += rng_range(&w->rng, HOUR / 4, 6 * HOUR);
	w->a[who].fx->ts = w->now;
	return w->a[who].fx;
}

static int emit(struct world *w, int who, struct fx_env *e, enum expect x, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Takes e into the world's envelopes; returns its index or -1. */
static int
emit(struct world *w, int who, struct fx_env *e, enum expect x, const char *fmt, ...)
{
	struct env *v;
	char h[9], buf[DESC_MAX];
	va_list ap;
	int n;

	if (e->buf == NULL || w->n_envs == MAX_ENVS) {
		fx_env_release(e);
		w->failed = true;
		return -1;
	}
	v = &w->envs[w->n_envs];
	memset(v, 0, sizeof(*v));
	v->e = *e;
	memset(e, 0, sizeof(*e));
	v->expect = x;
	v->author = who;
	hex8(v->e.id, h);
	n = snprintf(buf, sizeof(buf), "%s %s by %s #%llu t%+lldh: ", ls_rtype_name(v->e.type), h,
		     w->a[who].name, (unsigned long long)v->e.seq,
		     (long long)((int64_t)(w->a[who].fx->ts - FX_T0) / (int64_t)HOUR));
	if (n > 0 && (size_t)n < sizeof(buf)) {
		va_start(ap, fmt);
		vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	memcpy(v->desc, buf, sizeof(v->desc) - 1);
	return (int)w->n_envs++;
}

static int
add_lot(struct world *w, const uint8_t id[32], enum stage st, uint64_t grams,
	const struct ls_comp *c, int maker, int env, bool fork)
{
	struct lot *l;

	if (w->n_lots == MAX_LOTS) {
		w->failed = true;
		return -1;
	}
	l = &w->lots[w->n_lots];
	memcpy(l->id, id, 32);
	snprintf(l->label, sizeof(l->label), "L%zu", w->n_lots + 1);
	l->stage = st;
	l->grams = grams;
	l->comp = *c;
	l->maker = maker;
	l->env = env;
	l->fork = fork;
	if (!fork)
		w->hold[maker][w->n_lots] = grams;
	return (int)w->n_lots++;
}

static int
add_transit(struct world *w, const uint8_t id[32], int from, int to, int lot, uint64_t grams,
	    bool fork)
{
	struct transit *t;

	if (w->n_transit == MAX_TRANSIT) {
		w->failed = true;
		return -1;
	}
	t = &w->tr[w->n_transit];
	memset(t, 0, sizeof(*t));
	memcpy(t->id, id, 32);
	t->from = from;
	t->to = to;
	t->lot = lot;
	t->grams = grams;
	t->fork = fork;
	return (int)w->n_transit++;
}

/* ---- compositions ---- */

static void
comp_add(struct ls_comp *c, uint32_t z, uint64_t ppm)
{
	if (ppm == 0 || c->n == LS_COMP_MAX)
		return;
	c->e[c->n].z = z;
	c->e[c->n].ppm = (uint32_t)ppm;
	c->n++;
}

static void
comp_format(const struct ls_comp *c, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->n && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s=%u", i ? "," : "",
				 ls_element_symbol(c->e[i].z), c->e[i].ppm);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static void
ore_comp(struct rng *r, struct ls_comp *c)
{
	memset(c, 0, sizeof(*c));
	comp_add(c, 26, rng_range(r, 100000, 400000)); /* Fe */
	if (rng_pct(r, 10))
		comp_add(c, 39, rng_range(r, 1000, 30000)); /* Y */
	if (rng_pct(r, 50))
		comp_add(c, 59, rng_range(r, 5000, 60000)); /* Pr */
	comp_add(c, 60, rng_range(r, 20000, 300000));       /* Nd */
	if (rng_pct(r, 15))
		comp_add(c, 62, rng_range(r, 1000, 80000)); /* Sm */
	if (rng_pct(r, 30))
		comp_add(c, 65, rng_range(r, 200, 10000)); /* Tb */
	if (rng_pct(r, 60))
		comp_add(c, 66, rng_range(r, 500, 50000)); /* Dy */
}

/* A license item list covers a lot by category or by one of its elements
 * (rules.c license_covers). */
static bool
items_cover(const char *items, const struct lot *l)
{
	if (list_has(items, stage_name[l->stage]))
		return true;
	for (size_t i = 0; i < l->comp.n; i++)
		if (list_has(items, ls_element_symbol(l->comp.e[i].z)))
			return true;
	return false;
}

/* ---- picking actors ---- */

static bool
can_sign(const struct world *w, int i)
{
	return i >= 0 && w->a[i].active && !w->a[i].done;
}

/* A random participant that can sign and has one of `roles` (0: any). */
static int
pick_part(struct world *w, uint32_t roles, int not, const char *cc, bool foreign)
{
	int c[MAX_ACTORS];
	size_t n = 0;

	for (size_t i = 0; i < w->n_actors; i++) {
		const struct actor *a = &w->a[i];
		if (a->kind != A_PART || !can_sign(w, (int)i) || (int)i == not )
			continue;
		if (roles != 0 && (a->roles & roles) == 0)
			continue;
		if (cc != NULL && (strcmp(a->cc, cc) == 0) == foreign)
			continue;
		c[n++] = (int)i;
	}
	return n == 0 ? -1 : c[rng_below(&w->rng, n)];
}

/* A random lot that actor holds (not yet at `below` stage; S_SCRAP + 1: any). */
static int
pick_held(struct world *w, int who, int below)
{
	int c[MAX_LOTS];
	size_t n = 0;

	for (size_t l = 0; l < w->n_lots; l++)
		if (w->hold[who][l] > 0 &&
		    (w->lots[l].stage == S_SCRAP || (int)w->lots[l].stage < below))
			c[n++] = (int)l;
	return n == 0 ? -1 : c[rng_below(&w->rng, n)];
}

static int
cc_index(const struct world *w, const char *cc)
{
	for (size_t i = 0; i < w->n_cc; i++)
		if (strcmp(w->cc[i], cc) == 0)
			return (int)i;
	return -1;
}

/* ---- record makers: each returns the env index or -1 ---- */

static int
certify(struct world *w, int issuer, int subject, bool fork)
{
	struct actor *s = &w->a[subject];
	struct fx_env e = fx_cert(tick(w, issuer), s->fx, s->name, s->cc, s->roles, 0, 0);
	char roles[96];
	int i;

	ls_roles_format(s->roles, roles, sizeof(roles));
	i = emit(w, issuer, &e, X_VALID, "certifies %s (%s, %s)%s", s->name, s->cc, roles,
		 fork ? ", a spare key" : "");
	if (i >= 0) {
		s->active = true;
		s->issuer = issuer;
		s->since = w->now;
	}
	return i;
}

static int
make_lot(struct world *w, int m, bool fork)
{
	struct ls_comp c;
	char comp[256], cs[16];
	enum stage st =
	    (w->a[m].roles & LS_ROLE_MINER) ? (rng_pct(&w->rng, 70) ? S_ORE : S_CONC) : S_SCRAP;
	uint64_t grams = rng_range(&w->rng, 50000, 5000000);
	struct fx_env e;
	int i;

	ore_comp(&w->rng, &c);
	comp_format(&c, comp, sizeof(comp));
	snprintf(cs, sizeof(cs), "L%zu", w->n_lots + 1);
	e = fx_lot(tick(w, m), cs, "test site", NULL, stage_name[st], grams, comp);
	i = emit(w, m, &e, X_VALID, "registers lot %s (%s, %llu g, %s)", cs, stage_name[st],
		 (unsigned long long)grams, comp);
	if (i >= 0)
		add_lot(w, w->envs[i].e.id, st, grams, &c, m, i, fork);
	return i;
}

static int
act_lot(struct world *w)
{
	int m = pick_part(w, LS_ROLE_MINER | LS_ROLE_RECYCLER, -1, NULL, false);

	return m < 0 ? -1 : make_lot(w, m, false);
}

static int
act_transform(struct world *w)
{
	int p = pick_part(w, LS_ROLE_PROCESSOR | LS_ROLE_RECYCLER, -1, NULL, false);
	struct ls_lot_input in[2];
	int lin[2], i;
	size_t n_in = 1, n_out;
	uint64_t total = 0, ree[72] = {0};
	enum stage st = S_ORE, next;
	char outs[2][400], comp[256], what[160];
	const char *outp[2];
	struct ls_comp oc[2];
	uint64_t og[2];
	struct fx_env e;

	if (p < 0 || (lin[0] = pick_held(w, p, S_PRODUCT)) < 0)
		return -1;
	if (rng_pct(&w->rng, 30) && (lin[1] = pick_held(w, p, S_PRODUCT)) >= 0 && lin[1] != lin[0])
		n_in = 2;
	for (size_t k = 0; k < n_in; k++) {
		const struct lot *l = &w->lots[lin[k]];
		uint64_t held = w->hold[p][lin[k]];
		enum stage s = l->stage == S_SCRAP ? S_CONC : l->stage;
		memcpy(in[k].lot, l->id, 32);
		in[k].grams = rng_pct(&w->rng, 70) ? held : rng_range(&w->rng, 1, held);
		total += in[k].grams;
		if (s > st)
			st = s;
		for (size_t j = 0; j < l->comp.n; j++)
			if (ls_element_is_ree(l->comp.e[j].z))
				ree[l->comp.e[j].z] += in[k].grams * l->comp.e[j].ppm;
	}
	next = st + (rng_pct(&w->rng, 80) ? 1 : 2);
	if (next > S_PRODUCT)
		next = S_PRODUCT;
	n_out = rng_pct(&w->rng, 25) ? 2 : 1;
	for (size_t o = 0; o < n_out; o++) {
		uint64_t f =
		    next >= S_MAGNET ? rng_range(&w->rng, 80, 250) : rng_range(&w->rng, 20, 150);
		uint64_t keep = rng_range(&w->rng, 60, 100), sum = 0, ppm[72] = {0};
		uint64_t g = total * f / 100 / n_out;
		if (g == 0)
			g = 1;
		if (g > GRAMS_CAP)
			g = GRAMS_CAP;
		/* Never more of a rare earth out than went in: g * ppm <= in / n_out. */
		for (uint32_t z = 0; z < 72; z++)
			if (ree[z] > 0) {
				ppm[z] = ree[z] * keep / 100 / n_out / g;
				sum += ppm[z];
			}
		memset(&oc[o], 0, sizeof(oc[o]));
		/* Iron from outside the ledger for metals and magnets (informational). */
		if (next >= S_METAL && sum > 0)
			comp_add(&oc[o], 26, (1000000 - (sum > 900000 ? 900000 : sum)) / 2);
		for (uint32_t z = 0; z < 72; z++)
			if (ppm[z] > 0)
				comp_add(&oc[o], z, sum > 900000 ? ppm[z] * 900000 / sum : ppm[z]);
		og[o] = g;
		comp_format(&oc[o], comp, sizeof(comp));
		snprintf(outs[o], sizeof(outs[o]), "L%zu:%s:%llu:%s", w->n_lots + 1 + o,
			 stage_name[next], (unsigned long long)g, comp);
		outp[o] = outs[o];
	}
	snprintf(what, sizeof(what), "%llu g of %s%s%s into %zu %s lot(s)",
		 (unsigned long long)total, w->lots[lin[0]].label, n_in > 1 ? " and " : "",
		 n_in > 1 ? w->lots[lin[1]].label : "", n_out, stage_name[next]);
	e = fx_transform(tick(w, p), in, n_in, outp, n_out);
	if ((i = emit(w, p, &e, X_VALID, "transforms %s", what)) < 0)
		return -1;
	for (size_t k = 0; k < n_in; k++)
		w->hold[p][lin[k]] -= in[k].grams;
	for (size_t o = 0; o < n_out; o++) {
		uint8_t lot[32];
		ls_lot_id(w->envs[i].e.id, (uint32_t)o, lot);
		add_lot(w, lot, next, og[o], &oc[o], p, i, false);
	}
	return i;
}

/* A license of `who` usable now for this lot (or technology) to country cc. */
static int
usable_license(struct world *w, int who, const char *cc, const struct lot *l, const char *tech)
{
	for (size_t i = 0; i < w->n_lics; i++) {
		const struct lic *c = &w->lic[i];
		if (c->licensee != who || !list_has(c->dests, cc) ||
		    (c->until != 0 && c->until <= w->now + 6 * HOUR + 1))
			continue;
		if (l != NULL && items_cover(c->items, l) && c->used < c->max_grams)
			return (int)i;
		if (l == NULL && list_has(c->items, tech))
			return (int)i;
	}
	return -1;
}

static int
transfer(struct world *w, int s, int r, int l, uint64_t g, int li, const char *use, bool fork,
	 enum expect x)
{
	struct fx_env e = fx_transfer(tick(w, s), w->lots[l].id, g, w->a[r].fx,
				      li >= 0 ? w->lic[li].id : NULL, use);
	int i = emit(w, s, &e, x, "ships %llu g of %s (%s) to %s%s%s%s%s", (unsigned long long)g,
		     w->lots[l].label, stage_name[w->lots[l].stage], w->a[r].name,
		     li >= 0 ? " citing " : "", li >= 0 ? w->lic[li].number : "",
		     use != NULL ? ", end use " : "", use != NULL ? use : "");

	if (i >= 0 && x == X_VALID) {
		if (!fork)
			w->hold[s][l] -= g;
		if (li >= 0)
			w->lic[li].used += g;
		add_transit(w, w->envs[i].e.id, s, r, l, g, fork);
	}
	return i;
}

static int
act_transfer(struct world *w)
{
	int s = pick_part(w, 0, -1, NULL, false), r, l, li = -1;
	const char *use = NULL;
	uint64_t g;

	if (s < 0 || (l = pick_held(w, s, S_SCRAP + 1)) < 0)
		return -1;
	r = pick_part(w, 0, s, w->a[s].cc, rng_pct(&w->rng, 50));
	if (r < 0 && (r = pick_part(w, 0, s, NULL, false)) < 0)
		return -1;
	g = rng_pct(&w->rng, 60) ? w->hold[s][l] : rng_range(&w->rng, 1, w->hold[s][l]);
	if (strcmp(w->a[s].cc, w->a[r].cc) != 0 &&
	    (li = usable_license(w, s, w->a[r].cc, &w->lots[l], NULL)) >= 0 &&
	    rng_pct(&w->rng, 85)) {
		uint64_t left = w->lic[li].max_grams - w->lic[li].used;
		if (g > left)
			g = left;
		use = w->lic[li].end_use;
	} else {
		li = -1;
		use = rng_pct(&w->rng, 80) ? NULL : rng_pct(&w->rng, 50) ? "civilian" : "military";
	}
	return transfer(w, s, r, l, g, li, use, false, X_VALID);
}

static int
act_tech(struct world *w)
{
	int s = pick_part(w, LS_ROLE_PROCESSOR, -1, NULL, false), r, li, i;
	const char *tech = rng_pct(&w->rng, 50) ? "tech:separation" : "tech:magnet";
	struct fx_env e;

	if (s < 0 || (r = pick_part(w, 0, s, w->a[s].cc, true)) < 0)
		return -1;
	li = usable_license(w, s, w->a[r].cc, NULL, tech);
	if (li >= 0 && !rng_pct(&w->rng, 70))
		li = -1;
	e = fx_transfer_tech(tick(w, s), tech, w->a[r].fx, li >= 0 ? w->lic[li].id : NULL,
			     li >= 0 ? w->lic[li].end_use : NULL);
	i = emit(w, s, &e, X_VALID, "passes %s to %s%s%s", tech, w->a[r].name,
		 li >= 0 ? " citing " : "", li >= 0 ? w->lic[li].number : "");
	if (i >= 0)
		add_transit(w, w->envs[i].e.id, s, r, -1, 0, false);
	return i;
}

static int
receive(struct world *w, int t, uint64_t g, bool fork)
{
	struct transit *tr = &w->tr[t];
	struct fx_env e = fx_receipt(tick(w, tr->to), tr->id, g);
	char h[9];
	int i;

	hex8(tr->id, h);
	i = emit(w, tr->to, &e, X_VALID, "receives %llu g of %s from %s (transfer %s)",
		 (unsigned long long)g, tr->lot >= 0 ? w->lots[tr->lot].label : "technology",
		 w->a[tr->from].name, h);
	if (i >= 0) {
		tr->received = true;
		if (tr->lot >= 0 && !fork)
			w->hold[tr->to][tr->lot] += g;
		/* The shortfall goes back to the sender, who may take it back
		 * (a receipt of the receipt) and ship it again. */
		if (tr->lot >= 0 && !fork && !tr->ret && g < tr->grams) {
			int k = add_transit(w, w->envs[i].e.id, tr->to, tr->from, tr->lot,
					    tr->grams - g, false);
			if (k >= 0)
				w->tr[k].ret = true;
		}
	}
	return i;
}

/* Whether the receiver of t may receipt it: an import (the two actors'
 * countries differ) needs the importer role. */
static bool
receivable(const struct world *w, const struct transit *t)
{
	return t->ret || strcmp(w->a[t->from].cc, w->a[t->to].cc) == 0 ||
	       (w->a[t->to].roles & LS_ROLE_IMPORTER) != 0;
}

static int
act_receipt(struct world *w)
{
	int c[MAX_TRANSIT];
	size_t n = 0;
	const struct transit *t;

	for (size_t i = 0; i < w->n_transit; i++)
		if (!w->tr[i].received && can_sign(w, w->tr[i].to) && receivable(w, &w->tr[i]))
			c[n++] = (int)i;
	if (n == 0)
		return -1;
	t = &w->tr[c[rng_below(&w->rng, n)]];
	return receive(w, (int)(t - w->tr),
		       t->lot < 0                       ? 0
		       : t->ret || rng_pct(&w->rng, 85) ? t->grams
							: rng_range(&w->rng, 1, t->grams),
		       false);
}

static int
act_license(struct world *w)
{
	static const char *const item_sets[] = {"magnet",
						"oxide,metal",
						"Dy,Tb",
						"magnet,alloy,metal,oxide",
						"tech:separation,tech:magnet",
						"Nd,Dy,Tb,Sm"};
	static const char *const bar[] = {"US", "FR", "JP", "DE"};
	struct fx_license_spec ls;
	int who = pick_part(w, 0, -1, NULL, false), au, i, ci;
	char dests[16];
	struct lic *c;
	struct fx_env e;

	if (who < 0 || w->n_lics == MAX_LICS || (ci = cc_index(w, w->a[who].cc)) < 0)
		return -1;
	au = rng_pct(&w->rng, 85) ? w->auth[ci] : w->anchor;
	if (!can_sign(w, au))
		return -1;
	dests[0] = '\0';
	for (size_t k = 0; k < w->n_cc; k++)
		if (strcmp(w->cc[k], w->a[who].cc) != 0 &&
		    (dests[0] == '\0' || rng_pct(&w->rng, 50)))
			setf(dests + strlen(dests), sizeof(dests) - strlen(dests), "%s%s",
			     dests[0] ? "," : "", w->cc[k]);
	if (rng_pct(&w->rng, 20))
		snprintf(dests + strlen(dests), sizeof(dests) - strlen(dests), ",FR");
	c = &w->lic[w->n_lics];
	memset(c, 0, sizeof(*c));
	setf(c->number, sizeof(c->number), "LIC-%s-%zu", w->a[who].cc, w->n_lics + 1);
	setf(c->dests, sizeof(c->dests), "%s", dests);
	c->items = item_sets[rng_below(&w->rng, sizeof(item_sets) / sizeof(item_sets[0]))];
	c->end_use = rng_pct(&w->rng, 90) ? "civilian" : "research";
	c->max_grams = rng_range(&w->rng, 1000, 3000000);
	c->licensee = who;
	c->issuer = au;
	memset(&ls, 0, sizeof(ls));
	ls.number = c->number;
	ls.licensee = w->a[who].fx->kp->pk;
	ls.general = rng_pct(&w->rng, 20);
	ls.items = c->items;
	ls.max_grams = c->max_grams;
	ls.destinations = c->dests;
	ls.end_use = c->end_use;
	ls.no_reexport_to = rng_pct(&w->rng, 40) ? bar[rng_below(&w->rng, 4)] : NULL;
	ls.no_military = rng_pct(&w->rng, 50);
	tick(w, au);
	if (rng_pct(&w->rng, 15)) {
		/* A license that ends: the generator cites it only while valid. */
		ls.valid_until = w->now + rng_range(&w->rng, 2, 10) * FX_DAY;
		c->until = ls.valid_until;
	}
	e = fx_license(w->a[au].fx, &ls);
	i = emit(w, au, &e, X_VALID, "licenses %s: %s of %s to %s, %llu g, %s%s%s%s", c->number,
		 w->a[who].name, c->items, c->dests, (unsigned long long)c->max_grams, c->end_use,
		 ls.no_reexport_to ? ", no re-export to " : "",
		 ls.no_reexport_to ? ls.no_reexport_to : "", ls.no_military ? ", no military" : "");
	if (i < 0)
		return -1;
	memcpy(c->id, w->envs[i].e.id, 32);
	c->since = w->now;
	w->n_lics++;
	return i;
}

static int
act_recert(struct world *w)
{
	int c[MAX_ACTORS], p, au, ci;
	size_t n = 0;

	/* A late joiner first, else a new certificate for someone certified. */
	for (size_t i = 0; i < w->n_actors; i++)
		if (w->a[i].kind == A_PART && !w->a[i].active && !w->a[i].spare)
			c[n++] = (int)i;
	p = n > 0 ? c[rng_below(&w->rng, n)] : pick_part(w, 0, -1, NULL, false);
	if (p < 0 || (ci = cc_index(w, w->a[p].cc)) < 0)
		return -1;
	au = rng_pct(&w->rng, 80) ? w->auth[ci] : w->anchor;
	return can_sign(w, au) ? certify(w, au, p, false) : -1;
}

static void
policy_base(struct fx_policy_spec *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->jurisdiction = "CN";
	ps->name = "CN rare earths 2025";
	ps->effective_from = FX_T0 - 60 * FX_DAY;
	ps->elements = "Sm,Gd,Tb,Dy,Lu,Sc,Y";
	ps->controlled_categories = "oxide,metal,alloy,magnet";
	ps->controlled_tech = "tech:separation,tech:magnet";
	ps->exempt_categories = "component,product";
	ps->denied_end_uses = "military";
	ps->de_minimis_ppm = 1000;
}

static int
act_policy(struct world *w)
{
	struct fx_policy_spec ps;
	uint8_t deny[1][32];
	int au = w->auth[0], i, f = pick_part(w, 0, -1, "CN", true);

	if (rng_pct(&w->rng, 20))
		au = w->anchor;
	if (!can_sign(w, au))
		return -1;
	policy_base(&ps);
	ps.applies_to_reexport = rng_pct(&w->rng, 70);
	ps.applies_to_foreign_tech = rng_pct(&w->rng, 30);
	if (rng_pct(&w->rng, 50))
		ps.exempt_categories = "product";
	if (f >= 0 && rng_pct(&w->rng, 40)) {
		memcpy(deny[0], w->a[f].fx->kp->pk, 32);
		ps.denied_end_user_keys = (const uint8_t(*)[32])deny;
		ps.n_denied_end_user_keys = 1;
	}
	{
		struct fx_env e = fx_policy(tick(w, au), &ps);
		i = emit(w, au, &e, X_VALID,
			 "publishes the CN policy (re-export %s, denied user %s)",
			 ps.applies_to_reexport ? "yes" : "no",
			 ps.n_denied_end_user_keys ? w->a[f].name : "none");
	}
	if (i >= 0) {
		memcpy(w->policy, w->envs[i].e.id, 32);
		w->has_policy = true;
	}
	return i;
}

/* Once a world: the CN rules widen (superseding the first policy), or another
 * country publishes its own. */
static int
act_policy_change(struct world *w)
{
	struct fx_policy_spec ps;
	const uint8_t(*sup)[32] = (const uint8_t(*)[32])w->policy;
	int i, au, k = w->n_cc > 1 ? (int)rng_range(&w->rng, 1, w->n_cc - 1) : 0;
	struct fx_env e;

	if (w->policy_changed || !w->has_policy)
		return -1;
	w->policy_changed = true;
	policy_base(&ps);
	if (rng_pct(&w->rng, 50) || k == 0) {
		au = w->auth[0];
		ps.name = "CN rare earths, October 2025";
		ps.elements = "Sm,Gd,Tb,Dy,Lu,Sc,Y,Ho,Er,Tm,Eu,Yb";
		ps.applies_to_reexport = true;
		ps.supersedes = sup;
		ps.n_supersedes = 1;
		if (!can_sign(w, au))
			return -1;
		tick(w, au);
		/* In force from the day it is published or a few days later. */
		ps.effective_from = w->now + rng_range(&w->rng, 0, 3) * FX_DAY;
		e = fx_policy(w->a[au].fx, &ps);
		return emit(w, au, &e, X_VALID, "publishes a CN policy superseding the first");
	}
	au = w->auth[k];
	if (!can_sign(w, au))
		return -1;
	ps.jurisdiction = w->cc[k];
	ps.name = "national magnet controls";
	ps.elements = "Dy,Tb";
	ps.controlled_categories = "magnet";
	ps.controlled_tech = NULL;
	ps.exempt_categories = NULL;
	ps.de_minimis_ppm = 0;
	e = fx_policy(tick(w, au), &ps);
	i = emit(w, au, &e, X_VALID, "publishes a %s policy on Dy/Tb magnets", w->cc[k]);
	return i;
}

/* ---- facts that are not dependencies: revocations ---- */

static int
revoke(struct world *w, int author, const uint8_t subject[32], uint64_t since, const char *what)
{
	uint64_t eff;
	struct fx_env e;
	char when[48];
	int i;

	if (!can_sign(w, author) || w->n_revs == MAX_REVS)
		return -1;
	tick(w, author);
	/* Mostly backdated, so that records signed after `eff` exist already. */
	if (rng_pct(&w->rng, 75)) {
		eff = rng_range(&w->rng, since, w->now);
		snprintf(when, sizeof(when), "backdated to t%+lldh",
			 (long long)((int64_t)(eff - FX_T0) / (int64_t)HOUR));
	} else {
		eff = w->now + rng_range(&w->rng, HOUR, 3 * FX_DAY);
		snprintf(when, sizeof(when), "from t%+lldh",
			 (long long)((int64_t)(eff - FX_T0) / (int64_t)HOUR));
	}
	e = fx_revoke(w->a[author].fx, subject, eff);
	if ((i = emit(w, author, &e, X_VALID, "revokes %s, %s", what, when)) < 0)
		return -1;
	memcpy(w->rev[w->n_revs].subject, subject, 32);
	w->rev[w->n_revs].eff = eff;
	w->rev[w->n_revs].env = i;
	w->n_revs++;
	return i;
}

static int
act_revoke(struct world *w)
{
	unsigned r = (unsigned)rng_below(&w->rng, 100);
	char what[64];
	int p;

	if (r < 30 || r >= 95) {
		/* A participant's key, by whoever certified it. */
		if ((p = pick_part(w, 0, -1, NULL, false)) < 0)
			return -1;
		snprintf(what, sizeof(what), "the key of %s", w->a[p].name);
		return revoke(w, w->a[p].issuer, w->a[p].fx->kp->pk, w->a[p].since, what);
	}
	if (r < 55) {
		if ((p = pick_part(w, 0, -1, NULL, false)) < 0)
			return -1;
		snprintf(what, sizeof(what), "the certificate of %s", w->a[p].name);
		return revoke(w, w->a[p].issuer, w->a[p].fx->cert_id, w->a[p].since, what);
	}
	if (r < 75) {
		const struct lic *c;
		if (w->n_lics == 0)
			return -1;
		c = &w->lic[rng_below(&w->rng, w->n_lics)];
		snprintf(what, sizeof(what), "license %s", c->number);
		return revoke(w, c->issuer, c->id, c->since, what);
	}
	if (r < 85) {
		/* A key revokes itself. */
		if ((p = pick_part(w, 0, -1, NULL, false)) < 0)
			return -1;
		snprintf(what, sizeof(what), "its own key");
		return revoke(w, p, w->a[p].fx->kp->pk, w->a[p].since, what);
	}
	if (r < 90) {
		/* An authority, by the trust anchor. */
		int au = w->auth[rng_below(&w->rng, w->n_cc)];
		bool key = rng_pct(&w->rng, 50);
		if (!w->a[au].active)
			return -1;
		snprintf(what, sizeof(what), "the %s of %s", key ? "key" : "certificate",
			 w->a[au].name);
		return revoke(w, w->anchor, key ? w->a[au].fx->kp->pk : w->a[au].fx->cert_id,
			      w->a[au].since, what);
	}
	/* The same subject again, by the anchor, with the same effective date. */
	if (w->n_revs > 0) {
		const struct revo *v = &w->rev[rng_below(&w->rng, w->n_revs)];
		struct fx_env e;
		char h[9];
		if (w->n_revs == MAX_REVS)
			return -1;
		hex8(w->envs[v->env].e.id, h);
		e = fx_revoke(tick(w, w->anchor), v->subject, v->eff);
		p = emit(w, w->anchor, &e, X_VALID, "revokes the subject of %s again, same date",
			 h);
		if (p >= 0) {
			w->rev[w->n_revs] = *v;
			w->rev[w->n_revs].env = p;
			w->n_revs++;
		}
		return p;
	}
	return -1;
}

/* ---- equivocations: two records of one author at one seq ---- */

static void
mark_sides(struct world *w, int first, int fork)
{
	if (first >= 0)
		w->envs[first].first_side = true;
	if (fork >= 0)
		w->envs[fork].fork_side = true;
	w->n_forks++;
}

static int
act_fork(struct world *w)
{
	unsigned r = (unsigned)rng_below(&w->rng, 100);
	struct fx_mark m, cur;
	int a, x, y;

	if (r < 40) {
		/* A double spend: the same lot shipped to two receivers. */
		int l, b, c;
		uint64_t h, gy;
		if ((a = pick_part(w, 0, -1, NULL, false)) < 0 ||
		    (l = pick_held(w, a, S_SCRAP + 1)) < 0 ||
		    (b = pick_part(w, 0, a, NULL, false)) < 0 ||
		    (c = pick_part(w, 0, a, NULL, false)) < 0)
			return -1;
		h = w->hold[a][l];
		m = fx_mark(w->a[a].fx);
		x = transfer(w, a, b, l, rng_range(&w->rng, 1, h), -1, NULL, false, X_VALID);
		cur = fx_mark(w->a[a].fx);
		fx_rewind(w->a[a].fx, &m);
		gy = rng_range(&w->rng, 1, h);
		y = transfer(w, a, c, l, gy, -1, NULL, true, X_VALID);
		if (y >= 0 && gy < h && rng_pct(&w->rng, 30) &&
		    (b = pick_part(w, 0, a, NULL, false)) >= 0)
			transfer(w, a, b, l, h - gy, -1, NULL, true, X_VALID); /* on the fork */
		fx_rewind(w->a[a].fx, &cur);
		mark_sides(w, x, y);
		return y;
	}
	if (r < 65) {
		/* An authority certifies two keys at one seq (a late joiner or a
		 * new certificate, and a spare key); the spare goes on to trade. */
		int q = -1, p = -1, au, ci;
		for (size_t i = 0; i < w->n_actors && q < 0; i++)
			if (w->a[i].spare && !w->a[i].active)
				q = (int)i;
		if (q < 0 || (ci = cc_index(w, w->a[q].cc)) < 0 || !can_sign(w, au = w->auth[ci]))
			return -1;
		for (size_t i = 0; i < w->n_actors && p < 0; i++)
			if (w->a[i].kind == A_PART && !w->a[i].active && !w->a[i].spare &&
			    strcmp(w->a[i].cc, w->a[q].cc) == 0)
				p = (int)i;
		if (p < 0 && (p = pick_part(w, 0, -1, w->a[q].cc, false)) < 0)
			return -1;
		m = fx_mark(w->a[au].fx);
		x = certify(w, au, p, false);
		cur = fx_mark(w->a[au].fx);
		fx_rewind(w->a[au].fx, &m);
		y = certify(w, au, q, true);
		fx_rewind(w->a[au].fx, &cur);
		mark_sides(w, x, y);
		return y;
	}
	if (r < 80) {
		/* A miner registers two lots at one seq. */
		if ((a = pick_part(w, LS_ROLE_MINER | LS_ROLE_RECYCLER, -1, NULL, false)) < 0)
			return -1;
		m = fx_mark(w->a[a].fx);
		x = make_lot(w, a, false);
		cur = fx_mark(w->a[a].fx);
		fx_rewind(w->a[a].fx, &m);
		y = make_lot(w, a, true);
		if (y >= 0 && rng_pct(&w->rng, 30))
			make_lot(w, a, true); /* on the fork */
		fx_rewind(w->a[a].fx, &cur);
		mark_sides(w, x, y);
		return y;
	}
	/* A receiver signs receipts of two transfers at one seq. */
	for (size_t t1 = 0; t1 < w->n_transit; t1++) {
		const struct transit *t = &w->tr[t1];
		if (t->received || t->fork || t->lot < 0 || !can_sign(w, t->to) ||
		    !receivable(w, t))
			continue;
		for (size_t t2 = t1 + 1; t2 < w->n_transit; t2++) {
			const struct transit *u = &w->tr[t2];
			if (u->received || u->fork || u->lot < 0 || u->to != t->to ||
			    !receivable(w, u))
				continue;
			a = t->to;
			m = fx_mark(w->a[a].fx);
			x = receive(w, (int)t1, t->grams, false);
			cur = fx_mark(w->a[a].fx);
			fx_rewind(w->a[a].fx, &m);
			y = receive(w, (int)t2, u->grams, true);
			fx_rewind(w->a[a].fx, &cur);
			mark_sides(w, x, y);
			return y;
		}
	}
	return -1;
}

/* ---- records that no store may keep, or that wait for ever ---- */

static int
garbage(struct world *w, int kind)
{
	int s, l, r, i = -1, t;
	struct fx_env e;

	switch (kind) {
	case 0: /* overspend */
		if ((s = pick_part(w, 0, -1, NULL, false)) < 0 ||
		    (l = pick_held(w, s, S_SCRAP + 1)) < 0 ||
		    (r = pick_part(w, 0, s, NULL, false)) < 0)
			return -1;
		i = transfer(w, s, r, l, w->hold[s][l] + rng_range(&w->rng, 1, 1000), -1, NULL,
			     false, X_INVALID);
		break;
	case 1: /* a lot the sender holds none of */
		if ((s = pick_part(w, 0, -1, NULL, false)) < 0 ||
		    (r = pick_part(w, 0, s, NULL, false)) < 0)
			return -1;
		for (l = 0; l < (int)w->n_lots; l++)
			if (w->hold[s][l] == 0 && !w->lots[l].fork)
				break;
		if (l == (int)w->n_lots)
			return -1;
		i = transfer(w, s, r, l, 1, -1, NULL, false, X_INVALID);
		break;
	case 2: /* a receipt of a transfer addressed to someone else */
		if (w->n_transit == 0)
			return -1;
		t = (int)rng_below(&w->rng, w->n_transit);
		if (w->tr[t].fork || (s = pick_part(w, 0, w->tr[t].to, NULL, false)) < 0)
			return -1;
		e = fx_receipt(tick(w, s), w->tr[t].id, 1);
		i = emit(w, s, &e, X_INVALID, "receives a transfer to %s", w->a[w->tr[t].to].name);
		break;
	case 3: /* more received than sent */
		for (t = 0; t < (int)w->n_transit; t++)
			if (!w->tr[t].received && !w->tr[t].fork && w->tr[t].lot >= 0 &&
			    can_sign(w, w->tr[t].to))
				break;
		if (t == (int)w->n_transit)
			return -1;
		e = fx_receipt(tick(w, w->tr[t].to), w->tr[t].id, w->tr[t].grams + 1);
		i = emit(w, w->tr[t].to, &e, X_INVALID, "receives %llu g of a %llu g transfer",
			 (unsigned long long)w->tr[t].grams + 1,
			 (unsigned long long)w->tr[t].grams);
		break;
	case 4: { /* more dysprosium out than in */
		struct ls_lot_input in;
		const char *out = "bad:oxide:1000:Dy=990000";
		if ((s = pick_part(w, LS_ROLE_PROCESSOR, -1, NULL, false)) < 0 ||
		    (l = pick_held(w, s, S_PRODUCT)) < 0)
			return -1;
		memcpy(in.lot, w->lots[l].id, 32);
		in.grams = 1;
		e = fx_transform(tick(w, s), &in, 1, &out, 1);
		i = emit(w, s, &e, X_INVALID, "transforms 1 g of %s into 990 g of Dy",
			 w->lots[l].label);
		break;
	}
	case 5: /* a lot registered without the miner role */
		for (s = 0; s < (int)w->n_actors; s++)
			if (w->a[s].kind == A_PART && can_sign(w, s) &&
			    (w->a[s].roles & (LS_ROLE_MINER | LS_ROLE_RECYCLER)) == 0)
				break;
		if (s == (int)w->n_actors)
			return -1;
		e = fx_lot(tick(w, s), "no-role", "test site", NULL, "ore", 1000, "Nd=1000");
		i = emit(w, s, &e, X_INVALID, "registers a lot without the miner role");
		break;
	case 6: /* dated before the author's previous record */
		for (t = 0; t < (int)w->n_transit; t++)
			if (!w->tr[t].received && !w->tr[t].fork && can_sign(w, w->tr[t].to) &&
			    w->a[w->tr[t].to].fx->seq > 0)
				break;
		if (t == (int)w->n_transit)
			return -1;
		s = w->tr[t].to;
		w->a[s].fx->ts -= 2 * HOUR; /* fx->ts is the date of its last record */
		{
			/* By hand: fx_receipt would move the clock up to the
			 * transfer's date, which may be after the record before. */
			struct ls_record *rr = ls_record_new(LS_REC_RECEIPT);
			memset(&e, 0, sizeof(e));
			if (rr != NULL) {
				memcpy(rr->receipt.transfer, w->tr[t].id, 32);
				rr->receipt.grams = w->tr[t].lot >= 0 ? w->tr[t].grams : 0;
				fx_sign(w->a[s].fx, rr, &e);
			}
			ls_record_free(rr);
		}
		i = emit(w, s, &e, X_INVALID, "receives, dated before its previous record");
		break;
	case 7: { /* a certificate that never comes */
		uint8_t saved[32];
		if ((s = pick_part(w, 0, -1, NULL, false)) < 0)
			return -1;
		memcpy(saved, w->a[s].fx->cert_id, 32);
		for (size_t k = 0; k < 4; k++) {
			uint64_t x = rng_next(&w->rng);
			memcpy(w->a[s].fx->cert_id + 8 * k, &x, 8);
		}
		e = fx_lot(tick(w, s), "ghost", "test site", NULL, "ore", 1000, "Nd=1000");
		memcpy(w->a[s].fx->cert_id, saved, 32);
		i = emit(w, s, &e, X_WAITS, "cites a certificate nobody issued");
		break;
	}
	case 8: { /* a license that never comes */
		uint8_t ghost[32];
		if ((s = pick_part(w, 0, -1, NULL, false)) < 0 ||
		    (l = pick_held(w, s, S_SCRAP + 1)) < 0 ||
		    (r = pick_part(w, 0, s, NULL, false)) < 0)
			return -1;
		for (size_t k = 0; k < 4; k++) {
			uint64_t x = rng_next(&w->rng);
			memcpy(ghost + 8 * k, &x, 8);
		}
		e = fx_transfer(tick(w, s), w->lots[l].id, 1, w->a[r].fx, ghost, NULL);
		i = emit(w, s, &e, X_WAITS, "ships 1 g of %s citing a license nobody issued",
			 w->lots[l].label);
		break;
	}
	case 9: { /* a license of someone else */
		int li;
		if (w->n_lics == 0 || (s = pick_part(w, 0, -1, NULL, false)) < 0 ||
		    (l = pick_held(w, s, S_SCRAP + 1)) < 0 ||
		    (r = pick_part(w, 0, s, w->a[s].cc, true)) < 0)
			return -1;
		li = (int)rng_below(&w->rng, w->n_lics);
		if (w->lic[li].licensee == s)
			return -1;
		i = transfer(w, s, r, l, 1, li, w->lic[li].end_use, false, X_INVALID);
		break;
	}
	case 10: /* an import received without the importer role */
		for (t = 0; t < (int)w->n_transit; t++)
			if (!w->tr[t].received && !w->tr[t].fork && can_sign(w, w->tr[t].to) &&
			    !receivable(w, &w->tr[t]))
				break;
		if (t == (int)w->n_transit)
			return -1;
		e = fx_receipt(tick(w, w->tr[t].to), w->tr[t].id,
			       w->tr[t].lot >= 0 ? w->tr[t].grams : 0);
		i = emit(w, w->tr[t].to, &e, X_INVALID, "receives an import from %s, no importer",
			 w->a[w->tr[t].from].name);
		break;
	default: return -1;
	}
	if (i >= 0)
		w->a[w->envs[i].author].done = true;
	return i;
}

/* ---- assembling a world ---- */

static void
world_free(struct world **wp)
{
	struct world *w = *wp;

	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n_envs; i++)
		fx_env_release(&w->envs[i].e);
	for (size_t i = 0; i < w->n_actors; i++)
		fx_actor_free(&w->a[i].fx);
	free(w->index);
	free(w);
	*wp = NULL;
}

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static int
pair_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 64);
}

/* The envelope index of record id (corrupt copies aside), or -1. */
static int
find_env(const struct world *w, const uint8_t id[32])
{
	const struct idref *r = bsearch(id, w->index, w->n_index, sizeof(*w->index), id_cmp);

	return r != NULL ? r->env : -1;
}

static int
find_lot(const struct world *w, const uint8_t id[32])
{
	for (size_t i = 0; i < w->n_lots; i++)
		if (memcmp(w->lots[i].id, id, 32) == 0)
			return (int)i;
	return -1;
}

static void tag_add(struct env *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
tag_add(struct env *v, const char *fmt, ...)
{
	size_t n = strlen(v->tag);
	va_list ap;

	if (n + 3 >= sizeof(v->tag))
		return;
	if (n > 0) {
		memcpy(v->tag + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(v->tag + n, sizeof(v->tag) - n, fmt, ap);
	va_end(ap);
}

static bool
taint_of(const struct world *w, const uint8_t id[32])
{
	int i = find_env(w, id), l;

	if (i < 0 && (l = find_lot(w, id)) >= 0)
		i = w->lots[l].env;
	return i >= 0 && w->envs[i].tainted;
}

/*
 * Notes on each record what a reader of a failure wants to know: the
 * revocations dated at or before it that name its author, its certificate,
 * its license or its receiver, and whether it is a side of an equivocation
 * or built on one (through its feed or any record it names). Generation
 * order is causal, so one pass suffices.
 */
static void
world_tag(struct world *w)
{
	for (size_t i = 0; i < w->n_envs; i++) {
		struct env *v = &w->envs[i];
		struct ls_record *r = NULL;
		bool t;

		if (v->expect == X_CORRUPT || ls_record_decode(v->e.buf, v->e.len, &r, NULL) != 0)
			continue;
		for (size_t k = 0; k < w->n_revs; k++) {
			const struct revo *rv = &w->rev[k];
			const char *what = NULL;
			char h[9];
			if (rv->eff > r->timestamp || rv->env == (int)i)
				continue;
			if (memcmp(rv->subject, r->author, 32) == 0)
				what = "author's key";
			else if (r->has_cert && memcmp(rv->subject, r->cert_id, 32) == 0)
				what = "author's certificate";
			else if (r->type == LS_REC_TRANSFER && r->transfer.has_license &&
				 memcmp(rv->subject, r->transfer.license, 32) == 0)
				what = "license cited";
			else if (r->type == LS_REC_TRANSFER &&
				 memcmp(rv->subject, r->transfer.to, 32) == 0)
				what = "receiver's key";
			else if (r->type == LS_REC_TRANSFER &&
				 memcmp(rv->subject, r->transfer.to_cert, 32) == 0)
				what = "receiver's certificate";
			if (what == NULL)
				continue;
			hex8(w->envs[rv->env].e.id, h);
			tag_add(v, "%s revoked from t%+lldh by %s", what,
				(long long)((int64_t)(rv->eff - FX_T0) / (int64_t)HOUR), h);
		}
		t = v->fork_side || v->first_side;
		if (r->has_prev)
			t |= taint_of(w, r->prev);
		if (r->has_cert)
			t |= taint_of(w, r->cert_id);
		switch (r->type) {
		case LS_REC_RECEIPT: t |= taint_of(w, r->receipt.transfer); break;
		case LS_REC_TRANSFER:
			t |= taint_of(w, r->transfer.to_cert);
			if (r->transfer.has_license)
				t |= taint_of(w, r->transfer.license);
			if (r->transfer.has_lot)
				t |= taint_of(w, r->transfer.lot);
			break;
		case LS_REC_TRANSFORMATION:
			for (size_t k = 0; k < r->transformation.n_inputs; k++)
				t |= taint_of(w, r->transformation.inputs[k].lot);
			break;
		default: break;
		}
		v->tainted = t;
		if (v->first_side)
			tag_add(v, "equivocation: first record at this seq");
		else if (v->fork_side)
			tag_add(v, "equivocation: second record at this seq");
		else if (t)
			tag_add(v, "built on an equivocation");
		ls_record_free(r);
	}
}

static void
world_queries(struct world *w)
{
	static const char *const dests[] = {"US", "DE", "JP", "FR", "CN"};

	for (size_t l = 0; l < w->n_lots && w->n_queries + 3 <= MAX_QUERIES; l++) {
		for (int k = 0; k < 3; k++) {
			struct query *q = &w->q[w->n_queries];
			int eu = -1, li = -1;
			memset(q, 0, sizeof(*q));
			q->lot = (int)l;
			memcpy(q->q.lot, w->lots[l].id, 32);
			setf(q->q.destination, sizeof(q->q.destination), "%s",
			     dests[rng_below(&w->rng, 5)]);
			q->q.time = w->t_ask;
			if (k == 1) {
				q->q.end_use = rng_pct(&w->rng, 70) ? "military" : "research";
				q->q.time = rng_range(&w->rng, FX_T0 - 20 * FX_DAY, w->t_ask);
				if (rng_pct(&w->rng, 40) &&
				    (eu = pick_part(w, 0, -1, NULL, false)) >= 0) {
					q->q.has_end_user = true;
					memcpy(q->q.end_user, w->a[eu].fx->kp->pk, 32);
				}
			}
			if (k == 2) {
				for (size_t c = 0; c < w->n_lics && li < 0; c++)
					if (w->lic[c].licensee == w->lots[l].maker)
						li = (int)c;
				if (!rng_pct(&w->rng, 30))
					continue;
				q->q.has_from = true;
				memcpy(q->q.from, w->a[w->lots[l].maker].fx->kp->pk, 32);
				if (li >= 0) {
					q->q.has_license = true;
					memcpy(q->q.license, w->lic[li].id, 32);
					setf(q->q.destination, sizeof(q->q.destination), "%.2s",
					     w->lic[li].dests);
				}
			}
			setf(q->desc, sizeof(q->desc),
			     "export of %s to %s (%s) at t%+lldh%s%s%s%s%s", w->lots[l].label,
			     q->q.destination, q->q.end_use ? q->q.end_use : "civilian",
			     (long long)((int64_t)(q->q.time - FX_T0) / (int64_t)HOUR),
			     q->q.has_from ? " from its maker" : "", li >= 0 ? " citing " : "",
			     li >= 0 ? w->lic[li].number : "", eu >= 0 ? " to end user " : "",
			     eu >= 0 ? w->a[eu].name : "");
			w->n_queries++;
		}
	}
}

static void
add_corrupt_copies(struct world *w, size_t n)
{
	for (size_t k = 0; k < n && w->n_envs > 0; k++) {
		size_t i = rng_below(&w->rng, w->n_envs);
		struct fx_env c;
		int j;

		if (w->envs[i].expect != X_VALID)
			continue;
		c = w->envs[i].e;
		if ((c.buf = malloc(c.len)) == NULL) {
			w->failed = true;
			return;
		}
		memcpy(c.buf, w->envs[i].e.buf, c.len);
		c.buf[c.len - 1] ^= 0x01; /* the last byte of the signature */
		if ((j = emit(w, w->envs[i].author, &c, X_CORRUPT, "copy")) >= 0)
			setf(w->envs[j].desc, sizeof(w->envs[j].desc),
			     "copy with a broken signature of %.150s", w->envs[i].desc);
	}
}

static const struct {
	const char *what;
	uint32_t roles;
} kinds[] = {
    {"mine", LS_ROLE_MINER | LS_ROLE_EXPORTER},
    {"proc", LS_ROLE_PROCESSOR | LS_ROLE_IMPORTER | LS_ROLE_EXPORTER},
    {"trade", LS_ROLE_IMPORTER | LS_ROLE_EXPORTER},
    {"recyc", LS_ROLE_RECYCLER | LS_ROLE_IMPORTER | LS_ROLE_EXPORTER},
};

static void
add_participants(struct world *w, size_t c)
{
	const char *cc = w->cc[c];
	bool cn = c == 0;
	size_t n = cn ? rng_range(&w->rng, 3, 5) : rng_range(&w->rng, 2, 3);

	for (size_t i = 0; i < n; i++) {
		size_t k;
		int p;
		if (cn && i == 0)
			k = 0;
		else if (i == (cn ? 1u : 0u))
			k = 1;
		else {
			unsigned r = (unsigned)rng_below(&w->rng, 100);
			k = r < (cn ? 30u : 10u) ? 0 : r < 60 ? 1 : r < 88 ? 2 : 3;
		}
		if ((p = actor_new(w, A_PART, cc, kinds[k].roles, kinds[k].what)) < 0)
			return;
		if (i >= 2 && rng_pct(&w->rng, 15))
			continue; /* a late joiner, certified later */
		certify(w, rng_pct(&w->rng, 75) ? w->auth[c] : w->anchor, p, false);
	}
}

static struct world *
world_build(uint64_t seed, unsigned flags)
{
	static const char *const others[] = {"DE", "JP", "US"};
	struct world *w = calloc(1, sizeof(*w));
	size_t steps, n_extra, start, revs = 0, forks = 0;

	if (w == NULL)
		return NULL;
	w->seed = seed;
	w->flags = flags;
	w->rng.s = seed * 0x2545f4914f6cdd1dull ^ ((uint64_t)flags << 56) ^ 0x4c6f6465ull;
	w->now = FX_T0 - 30 * FX_DAY;
	snprintf(w->cc[0], sizeof(w->cc[0]), "CN");
	w->n_cc = 1;
	n_extra = rng_range(&w->rng, 1, 2);
	start = rng_below(&w->rng, 3);
	for (size_t k = 0; k < n_extra; k++)
		setf(w->cc[w->n_cc++], sizeof(w->cc[0]), "%s", others[(start + k) % 3]);

	w->anchor = actor_new(w, A_ANCHOR, "CN", LS_ROLE_ALL, "anchor");
	for (size_t c = 0; c < w->n_cc && !w->failed; c++) {
		w->auth[c] = actor_new(w, A_AUTH, w->cc[c], LS_ROLE_AUTHORITY, "auth");
		if (w->auth[c] >= 0)
			certify(w, w->anchor, w->auth[c], false);
	}
	for (size_t c = 0; c < w->n_cc && !w->failed; c++)
		add_participants(w, c);
	if (flags & W_EQUIVOCATE)
		for (int k = 0; k < 2; k++) {
			int p = actor_new(w, A_PART, w->cc[rng_below(&w->rng, w->n_cc)],
					  kinds[1 + k].roles, "spare");
			if (p >= 0)
				w->a[p].spare = true;
		}
	if (w->failed)
		return w;
	act_policy(w);
	for (size_t k = rng_range(&w->rng, 1, 3); k > 0; k--)
		act_license(w);
	act_lot(w);
	act_lot(w);

	steps = rng_range(&w->rng, 150, 400);
	for (size_t s = 0; s < steps && !w->failed && w->n_envs + 64 < MAX_ENVS; s++) {
		unsigned r = (unsigned)rng_below(&w->rng, 100);
		bool force = s == steps / 3 || s == 2 * steps / 3;
		if ((flags & W_REVOKE) && revs < 6 &&
		    (rng_below(&w->rng, 1000) < 15 || (force && revs == 0))) {
			for (int tries = 0; tries < 10; tries++)
				if (act_revoke(w) >= 0) {
					revs++;
					break;
				}
			continue;
		}
		if ((flags & W_EQUIVOCATE) && forks < 4 &&
		    (rng_below(&w->rng, 1000) < 12 || (force && forks == 0))) {
			for (int tries = 0; tries < 10; tries++)
				if (act_fork(w) >= 0) {
					forks++;
					break;
				}
			continue;
		}
		if (r < 12)
			act_lot(w);
		else if (r < 30)
			act_transform(w);
		else if (r < 55)
			act_transfer(w);
		else if (r < 80)
			act_receipt(w);
		else if (r < 85)
			act_license(w);
		else if (r < 88)
			act_tech(w);
		else if (r < 91)
			act_recert(w);
		else if (r < 92)
			act_policy_change(w);
		else
			act_transfer(w);
	}
	/* Most of what is in transit arrives; the rest stays on the road. */
	for (size_t t = 0; t < w->n_transit && !w->failed; t++)
		if (!w->tr[t].received && can_sign(w, w->tr[t].to) && receivable(w, &w->tr[t]) &&
		    rng_pct(&w->rng, 85))
			receive(w, (int)t, w->tr[t].grams, w->tr[t].fork);
	for (size_t k = rng_range(&w->rng, 2, 5), tries = 0; k > 0 && tries < 40; tries++)
		if (garbage(w, (int)rng_below(&w->rng, 11)) >= 0)
			k--;
	add_corrupt_copies(w, rng_range(&w->rng, 1, 3));
	w->t_ask = w->now + FX_DAY;
	if (w->failed)
		return w;

	if ((w->index = calloc(w->n_envs, sizeof(*w->index))) == NULL) {
		w->failed = true;
		return w;
	}
	for (size_t i = 0; i < w->n_envs; i++)
		if (w->envs[i].expect != X_CORRUPT) {
			memcpy(w->index[w->n_index].id, w->envs[i].e.id, 32);
			w->index[w->n_index++].env = (int)i;
		}
	qsort(w->index, w->n_index, sizeof(*w->index), id_cmp);
	world_tag(w);
	world_queries(w);
	return w;
}

/* ---- feeding stores ---- */

struct obs {
	enum ls_ingest_status status; /* the last answer other than known */
	enum ls_reason reason;
	unsigned given;
	bool answered;
	bool stored; /* the accepted hook named it */
	char msg[LS_ERR_MSG_MAX];
	/* The answer when given once more after everything (see probe). */
	bool probed;
	enum ls_ingest_status now;
	enum ls_reason now_reason;
	char now_msg[LS_ERR_MSG_MAX];
};

struct vsum {
	int rc;
	enum ls_verdict_kind kind;
	uint64_t codes;     /* bit per enum ls_reason */
	uint8_t digest[16]; /* of the set of (code, ids behind it) */
};

struct run {
	int k;
	char *dir;
	struct ls_store *s;
	struct obs *obs;
	struct world *w;
	size_t n_given, n_batches, n_dups;
	size_t stray;                /* accepted records the world does not know */
	size_t corrupt_kept;         /* corrupt copies answered accepted or pending */
	size_t unsettled;            /* records accepted when given again (probe) */
	size_t n_local;              /* local clients' copies given (W_LOCAL) */
	size_t n_local_refused;      /* of those, refused at admission */
	size_t n_deprej;             /* of those, dependency-rejected */
	size_t bad_admission;        /* admission refusals the rule does not allow */
	char bad_msg[400];           /* the first of them */
	bool probe_changed;          /* the probe changed the store's counts */
	struct ls_store_stats after; /* the counts after the probe */
	uint8_t (*ids)[32];
	size_t n_ids, cap_ids;
	uint8_t (*ev)[64];
	size_t n_ev, cap_ev;
	struct ls_store_stats st;
	struct vsum *prov, *exp;
	struct ls_verdict *pv, *xv; /* the verdicts themselves, for the report */
	int err;
	char errmsg[160];
};

static const char *
run_how(const struct run *r)
{
	return r->k == 0 ? "generation order" : r->k == 1 ? "reverse order" : "shuffled";
}

static void
on_accepted(void *arg, const struct ls_record *rec, const uint8_t *env, size_t len)
{
	struct run *r = arg;
	int i = find_env(r->w, rec->id);

	(void)env;
	(void)len;
	if (i >= 0)
		r->obs[i].stored = true;
	else
		r->stray++;
}

struct ordk {
	uint64_t key;
	size_t idx;
};

static int
ordk_cmp(const void *a, const void *b)
{
	const struct ordk *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/*
 * The order in which store k gets the envelopes: generation order (k 0),
 * backwards (k 1) or shuffled, about one in ten given twice (a duplicate
 * comes after its original in the first two). With local (W_LOCAL), about
 * a third are given once more by local clients: runs of 2 to 12 envelopes
 * consecutive in generation order (a client sending its records, the
 * rule-breaking ones at the end and what names them among them), each run
 * inserted whole anywhere in the order, as one client's submission (*sub,
 * 1 or 2, so that two clients share a group commit). Half the copies with
 * a broken signature are sent by a client too, each in a run with the next
 * few records of the original's author (they name the original: its feed
 * successors), and half of those runs carry the original as well, before
 * or after the forgery (dependency-rejected, and the genuine record that
 * rescues its dependants). Index n + i is the local copy of envelope i.
 */
static size_t *
make_order(struct world *w, struct run *run, struct rng *r, bool local, uint32_t **sub,
	   size_t *n_out)
{
	size_t n = w->n_envs, m = 0, *out;
	struct ordk *o = calloc(2 * n + 1, sizeof(*o));

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t pos = run->k == 1 ? n - 1 - i : i;
		o[m++] = (struct ordk){(uint64_t)pos << 24, i};
		if (rng_pct(r, 10)) {
			size_t later = rng_range(r, pos, n - 1);
			o[m++] =
			    (struct ordk){((uint64_t)later << 24) | rng_range(r, 1, 0xffffff), i};
			run->n_dups++;
		}
	}
	if (run->k >= 2)
		for (size_t i = m; i > 1; i--) {
			size_t j = rng_below(r, i);
			struct ordk t = o[i - 1];
			o[i - 1] = o[j];
			o[j] = t;
		}
	else
		qsort(o, m, sizeof(*o), ordk_cmp);
	*sub = NULL;
	if ((out = calloc(3 * m + 1, sizeof(*out))) == NULL ||
	    (*sub = calloc(3 * m + 1, sizeof(**sub))) == NULL) {
		free(out);
		free(o);
		return NULL;
	}
	for (size_t i = 0; i < m; i++)
		out[i] = o[i].idx;
	free(o);
	for (size_t i = 0; local && i < n; i++) {
		size_t run_v[16], len = 0, at;
		int e;
		if (w->envs[i].expect != X_CORRUPT || !rng_pct(r, 50) ||
		    (e = find_env(w, w->envs[i].e.id)) < 0)
			continue;
		run_v[len++] = n + i;
		for (size_t j = (size_t)e + 1; j < n && len < 8; j++)
			if (w->envs[j].author == w->envs[e].author &&
			    w->envs[j].expect != X_CORRUPT)
				run_v[len++] = n + j;
		if (rng_pct(r, 50)) {
			at = rng_below(r, len + 1);
			memmove(run_v + at + 1, run_v + at, (len - at) * sizeof(*run_v));
			run_v[at] = n + (size_t)e;
			len++;
		}
		at = rng_below(r, m + 1);
		memmove(out + at + len, out + at, (m - at) * sizeof(*out));
		memmove(*sub + at + len, *sub + at, (m - at) * sizeof(**sub));
		for (size_t j = 0; j < len; j++) {
			out[at + j] = run_v[j];
			(*sub)[at + j] = 1 + (uint32_t)(i & 1);
		}
		m += len;
	}
	for (size_t i = 0; local && i < n;) {
		size_t len, at;
		if (!rng_pct(r, 6)) {
			i++;
			continue;
		}
		len = rng_range(r, 2, 12);
		if (len > n - i)
			len = n - i;
		at = rng_below(r, m + 1);
		memmove(out + at + len, out + at, (m - at) * sizeof(*out));
		memmove(*sub + at + len, *sub + at, (m - at) * sizeof(**sub));
		for (size_t j = 0; j < len; j++) {
			out[at + j] = n + i + j;
			(*sub)[at + j] = 1 + (uint32_t)(i & 1);
		}
		m += len;
		i += len;
	}
	*n_out = m;
	return out;
}

static int
log_fn(void *arg, uint64_t pos, const struct ls_record *rec, const uint8_t *env, size_t len)
{
	struct run *r = arg;

	(void)pos;
	(void)env;
	(void)len;
	if (r->n_ids == r->cap_ids) {
		size_t cap = r->cap_ids ? 2 * r->cap_ids : 256;
		uint8_t(*n)[32] = realloc(r->ids, cap * 32);
		if (n == NULL)
			return LS_ERR_NOMEM;
		r->ids = n;
		r->cap_ids = cap;
	}
	memcpy(r->ids[r->n_ids++], rec->id, 32);
	return 0;
}

static int
ev_fn(void *arg, const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
	struct run *r = arg;
	struct ls_record *ra = NULL, *rb = NULL;
	int rc = 0;

	if (r->n_ev == r->cap_ev) {
		size_t cap = r->cap_ev ? 2 * r->cap_ev : 16;
		uint8_t(*n)[64] = realloc(r->ev, cap * 64);
		if (n == NULL)
			return LS_ERR_NOMEM;
		r->ev = n;
		r->cap_ev = cap;
	}
	if (ls_record_decode(a, la, &ra, NULL) == 0 && ls_record_decode(b, lb, &rb, NULL) == 0) {
		memcpy(r->ev[r->n_ev], ra->id, 32);
		memcpy(r->ev[r->n_ev] + 32, rb->id, 32);
		r->n_ev++;
	} else
		rc = LS_ERR_MALFORMED;
	ls_record_free(ra);
	ls_record_free(rb);
	return rc;
}

static int
tuple_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 1 + LS_REASON_IDS_MAX * 32);
}

static void
summarize(int rc, const struct ls_verdict *v, struct vsum *out)
{
	uint8_t(*t)[1 + LS_REASON_IDS_MAX * 32];
	crypto_generichash_state h;

	memset(out, 0, sizeof(*out));
	out->rc = rc;
	if (rc != 0)
		return;
	out->kind = v->kind;
	if ((t = calloc(v->n + 1, sizeof(*t))) == NULL) {
		out->rc = LS_ERR_NOMEM;
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		out->codes |= 1ull << (v->reasons[i].code & 63);
		t[i][0] = (uint8_t)v->reasons[i].code;
		memcpy(t[i] + 1, v->reasons[i].ids, v->reasons[i].n_ids * 32);
		qsort(t[i] + 1, v->reasons[i].n_ids, 32, id_cmp);
	}
	qsort(t, v->n, sizeof(*t), tuple_cmp);
	crypto_generichash_init(&h, NULL, 0, sizeof(out->digest));
	for (size_t i = 0; i < v->n; i++)
		if (i == 0 || tuple_cmp(t[i], t[i - 1]) != 0)
			crypto_generichash_update(&h, t[i], sizeof(t[i]));
	crypto_generichash_final(&h, out->digest, sizeof(out->digest));
	free(t);
}

static int
ask_export(struct ls_store *s, const struct query *q, struct ls_verdict *v)
{
	return ls_verify_export(s, &q->q, v);
}

/*
 * Every holding the holds table has (ls_holdings, holder by holder) is a part
 * of its lot's provenance verdict, with the same grams: the verdict's holders
 * are found from the lot's own history (its maker, the parties of its
 * transfers), and a key holding some of the lot that the history did not
 * name would be left out of the verdict.
 */
static void
check_holders(struct world *w, struct run *r)
{
	for (size_t i = 0; i < w->n_actors && r->err == 0; i++) {
		const uint8_t *key = w->a[i].fx->kp->pk;
		struct ls_holdings h;
		int rc = ls_holdings(r->s, key, NULL, LS_HOLDINGS_MAX, &h);
		if (rc == 0 && h.more_holds)
			rc = LS_ERR_TOO_BIG; /* more than one page: not in these worlds */
		for (size_t k = 0; rc == 0 && k < h.n_holds && r->err == 0; k++) {
			struct ls_verdict v;
			bool found = false;
			ls_verdict_init(&v);
			if ((rc = ls_verify_provenance(r->s, h.holds[k].lot, &v)) != 0)
				break;
			for (size_t p = 0; p < v.n_parts && !found; p++)
				found = !v.parts[p].in_transit &&
					memcmp(v.parts[p].holder, key, 32) == 0 &&
					v.parts[p].grams == h.holds[k].grams;
			if (!found && v.n_parts < LS_VERDICT_PARTS_MAX) {
				char hk[9], hl[9];
				hex8(key, hk);
				hex8(h.holds[k].lot, hl);
				r->err = LS_ERR_STORE;
				snprintf(r->errmsg, sizeof(r->errmsg),
					 "%s (%s) holds %llu g of lot %s, which its provenance "
					 "verdict (%zu parts) does not name",
					 w->a[i].name, hk, (unsigned long long)h.holds[k].grams, hl,
					 v.n_parts);
			}
			ls_verdict_release(&v);
		}
		ls_holdings_release(&h);
		if (rc != 0 && r->err == 0) {
			r->err = rc;
			snprintf(r->errmsg, sizeof(r->errmsg), "checking holders: %s",
				 ls_strerror(rc));
		}
	}
}

/* Reads back what store r holds and what it answers. */
static void
snapshot(struct world *w, struct run *r)
{
	int rc;

	if ((rc = ls_store_log(r->s, NULL, log_fn, r)) != 0 ||
	    (rc = ls_store_stats(r->s, &r->st)) != 0 ||
	    (rc = ls_store_evidence(r->s, ev_fn, r)) != 0) {
		r->err = rc;
		snprintf(r->errmsg, sizeof(r->errmsg), "reading the store: %s", ls_strerror(rc));
		return;
	}
	if (r->n_ids > 0)
		qsort(r->ids, r->n_ids, 32, id_cmp);
	if (r->n_ev > 0)
		qsort(r->ev, r->n_ev, 64, pair_cmp);
	r->prov = calloc(w->n_lots + 1, sizeof(*r->prov));
	r->exp = calloc(w->n_queries + 1, sizeof(*r->exp));
	r->pv = calloc(w->n_lots + 1, sizeof(*r->pv));
	r->xv = calloc(w->n_queries + 1, sizeof(*r->xv));
	if (r->prov == NULL || r->exp == NULL || r->pv == NULL || r->xv == NULL) {
		r->err = LS_ERR_NOMEM;
		snprintf(r->errmsg, sizeof(r->errmsg), "out of memory");
		return;
	}
	for (size_t l = 0; l < w->n_lots; l++) {
		rc = ls_verify_provenance(r->s, w->lots[l].id, &r->pv[l]);
		summarize(rc, &r->pv[l], &r->prov[l]);
	}
	for (size_t q = 0; q < w->n_queries; q++) {
		rc = ask_export(r->s, &w->q[q], &r->xv[q]);
		summarize(rc, &r->xv[q], &r->exp[q]);
	}
	check_holders(w, r);
}

static void
on_probe_accepted(void *arg, const struct ls_record *rec, const uint8_t *env, size_t len)
{
	struct run *r = arg;

	(void)rec;
	(void)env;
	(void)len;
	r->unsettled++;
}

/*
 * Gives store r once more every envelope it did not store, after the
 * snapshot: what it answers now is its final word on each (a record released
 * from pending and then refused is not reported by ingest), and a settled
 * store must not change: r->unsettled counts what it accepted,
 * r->probe_changed says whether its counts (records, pending, evidence) moved.
 */
static void
probe(struct world *w, struct run *r)
{
	const uint8_t *envs[MAX_BATCH];
	size_t lens[MAX_BATCH], idx[MAX_BATCH], n = 0;
	struct ls_ingest_result res[MAX_BATCH];
	struct ls_ingest_hooks hooks = {on_probe_accepted, NULL, r};

	for (size_t i = 0; i <= w->n_envs && r->err == 0; i++) {
		int rc;
		if (i < w->n_envs && (r->obs[i].stored || w->envs[i].expect == X_CORRUPT))
			continue;
		if (i < w->n_envs) {
			envs[n] = w->envs[i].e.buf;
			lens[n] = w->envs[i].e.len;
			idx[n++] = i;
		}
		if (n < MAX_BATCH && i < w->n_envs)
			continue;
		if (n > 0 && (rc = ls_store_ingest(r->s, envs, lens, n, res, &hooks)) != 0) {
			r->err = rc;
			snprintf(r->errmsg, sizeof(r->errmsg), "probe ingest: %s", ls_strerror(rc));
		}
		for (size_t j = 0; j < n && r->err == 0; j++) {
			struct obs *o = &r->obs[idx[j]];
			o->probed = true;
			o->now = res[j].status;
			o->now_reason = res[j].reason;
			snprintf(o->now_msg, sizeof(o->now_msg), "%s", res[j].message);
		}
		n = 0;
	}
	if (r->err == 0 && ls_store_stats(r->s, &r->after) == 0)
		r->probe_changed = r->after.records != r->st.records ||
				   r->after.pending != r->st.pending ||
				   r->after.equivocations != r->st.equivocations;
}

/*
 * What the admission layer may do to a local client's copies (W_LOCAL),
 * checked on each batch as it returns. The consensus layer promises that
 * the records stored by two nodes holding the same records are the same
 * set, whatever the order; admission only adds refusals of its own clients'
 * submissions. Every record a local client sends here is also given by
 * peers (the local copy is an extra one), so every store holds the same
 * records, and compare() and check_expect() must find the same stored set,
 * the same pending count and the same verdicts as store 0 (peers only):
 * a local refusal never costs a peer's copy its place (in the pending set
 * either). Here, for each local copy refused as dependency-rejected: the
 * record it names (missing) was refused in the same batch, in the same
 * submission, and is not stored when the call returns (the rule refuses a
 * dependant only for a record that did not come); and the copy itself is
 * not stored by the call. Other refusals of local copies are admission's
 * to make (a valid record refused at admission is stored anyway from the
 * peers' copy, which check_expect sees); a broken signature must be
 * refused as such.
 */
static void
check_local(struct run *r, const uint8_t *const *envs, const size_t *lens, const bool *is_local,
	    const uint32_t *subs, const struct ls_ingest_result *res, size_t b)
{
	(void)envs;
	(void)lens;
	for (size_t j = 0; j < b; j++) {
		char why[160] = "";
		uint8_t *env = NULL;
		size_t len = 0;
		bool found = false;
		int rc;
		if (!is_local[j])
			continue;
		r->n_local++;
		if (res[j].status != LS_INGEST_REJECTED)
			continue;
		r->n_local_refused++;
		if (res[j].reason != LS_R_DEP_REJECTED)
			continue;
		r->n_deprej++;
		for (size_t k = 0; k < b && !found; k++)
			found = k != j && is_local[k] && subs[k] == subs[j] &&
				res[k].status == LS_INGEST_REJECTED && res[k].has_id &&
				res[j].has_missing && memcmp(res[k].id, res[j].missing, 32) == 0;
		if (!found)
			snprintf(why, sizeof(why),
				 "dependency-rejected, but names no record its submission refused");
		for (int q = 0; q < 2 && why[0] == '\0'; q++) {
			/* q 0: the record it names; q 1: the copy itself. */
			rc = ls_store_get(r->s, q == 0 ? res[j].missing : res[j].id, &env, &len);
			free(env);
			env = NULL;
			if (rc != LS_ERR_NOT_FOUND)
				snprintf(why, sizeof(why), "dependency-rejected, but %s is %s",
					 q == 0 ? "the record it names" : "the record itself",
					 rc == 0 ? "stored" : ls_strerror(rc));
		}
		if (why[0] != '\0' && r->bad_admission++ == 0)
			snprintf(r->bad_msg, sizeof(r->bad_msg), "%s: '%.200s'", why,
				 res[j].message);
	}
}

static void
feed(struct world *w, struct run *r, const char *root, struct rng *rng)
{
	const uint8_t *envs[MAX_BATCH];
	size_t lens[MAX_BATCH], *order = NULL, n = 0;
	struct ls_ingest_result res[MAX_BATCH];
	uint8_t admit[MAX_BATCH];
	uint32_t subs[MAX_BATCH], *sub = NULL;
	bool is_local[MAX_BATCH], local = (w->flags & W_LOCAL) && r->k > 0, any_local;
	struct ls_ingest_hooks hooks = {on_accepted, NULL, r};
	char path[512];
	int rc;

	r->w = w;
	snprintf(path, sizeof(path), "%s/seed%llu-%u-store%d", root, (unsigned long long)w->seed,
		 w->flags, r->k);
	if (mkdir(path, 0700) != 0 || (r->dir = strdup(path)) == NULL) {
		r->err = LS_ERR_IO;
		snprintf(r->errmsg, sizeof(r->errmsg), "cannot make '%.100s': %s", path,
			 strerror(errno));
		return;
	}
	if ((rc = fx_store_open(path, w->a[w->anchor].fx, 0, &r->s)) != 0 ||
	    (r->obs = calloc(w->n_envs, sizeof(*r->obs))) == NULL ||
	    (order = make_order(w, r, rng, local, &sub, &n)) == NULL) {
		r->err = rc ? rc : LS_ERR_NOMEM;
		snprintf(r->errmsg, sizeof(r->errmsg), "cannot open the store: %s",
			 ls_strerror(r->err));
		free(order);
		return;
	}
	for (size_t p = 0; p < n;) {
		size_t b = rng_pct(rng, 8) ? rng_range(rng, 32, MAX_BATCH) : rng_range(rng, 1, 16);
		if (b > n - p)
			b = n - p;
		any_local = false;
		for (size_t j = 0; j < b; j++) {
			size_t i = order[p + j];
			is_local[j] = i >= w->n_envs;
			i -= is_local[j] ? w->n_envs : 0;
			envs[j] = w->envs[i].e.buf;
			lens[j] = w->envs[i].e.len;
			admit[j] = is_local[j] ? LS_ADMIT_LOCAL : LS_ADMIT_PEER;
			subs[j] = sub[p + j];
			any_local |= is_local[j];
		}
		rc = any_local ? ls_store_ingest_submissions(r->s, envs, lens, admit, subs, b, res,
							     &hooks)
			       : ls_store_ingest(r->s, envs, lens, b, res, &hooks);
		if (rc != 0) {
			r->err = rc;
			snprintf(r->errmsg, sizeof(r->errmsg), "ingest of a batch of %zu: %s", b,
				 ls_strerror(rc));
			break;
		}
		if (any_local)
			check_local(r, envs, lens, is_local, subs, res, b);
		for (size_t j = 0; j < b; j++) {
			size_t i = order[p + j];
			struct obs *o;
			if (is_local[j]) {
				/* The peers' answers are the ones reported; a
				 * local copy's broken signature is refused as such
				 * (or the copy is known: its body is stored). */
				i -= w->n_envs;
				if (w->envs[i].expect == X_CORRUPT &&
				    (res[j].status == LS_INGEST_ACCEPTED ||
				     res[j].status == LS_INGEST_PENDING ||
				     (res[j].status == LS_INGEST_REJECTED &&
				      res[j].reason != LS_R_BAD_SIGNATURE)))
					r->corrupt_kept++;
				continue;
			}
			o = &r->obs[i];
			o->given++;
			if (w->envs[i].expect == X_CORRUPT &&
			    (res[j].status == LS_INGEST_ACCEPTED ||
			     res[j].status == LS_INGEST_PENDING ||
			     (res[j].status == LS_INGEST_REJECTED &&
			      res[j].reason != LS_R_BAD_SIGNATURE)))
				r->corrupt_kept++;
			if (res[j].status != LS_INGEST_KNOWN || !o->answered) {
				o->status = res[j].status;
				o->reason = res[j].reason;
				snprintf(o->msg, sizeof(o->msg), "%s", res[j].message);
				o->answered = true;
			}
		}
		r->n_given += b;
		r->n_batches++;
		p += b;
	}
	free(order);
	free(sub);
	if (r->err == 0)
		snapshot(w, r);
	if (r->err == 0)
		probe(w, r);
}

static void
run_release(struct run *r)
{
	ls_store_close(&r->s);
	if (r->dir != NULL)
		fx_rmtree(r->dir);
	free(r->dir);
	free(r->obs);
	free(r->ids);
	free(r->ev);
	for (size_t i = 0; r->pv != NULL && i < r->w->n_lots; i++)
		ls_verdict_release(&r->pv[i]);
	for (size_t i = 0; r->xv != NULL && i < r->w->n_queries; i++)
		ls_verdict_release(&r->xv[i]);
	free(r->prov);
	free(r->exp);
	free(r->pv);
	free(r->xv);
	memset(r, 0, sizeof(*r));
}

/* ---- comparing and reporting ---- */

struct report {
	struct world *w;
	const char *test;
	bool print;  /* print the differences (else only count them) */
	bool headed; /* the seed's header line is out */
	size_t cap;  /* lines per kind of difference */
};

static void
rep_head(struct report *rp)
{
	if (!rp->print || rp->headed)
		return;
	rp->headed = true;
	fprintf(stderr,
		"\nconverge: test_converge_%s, seed %llu: %zu envelopes (%zu lots, %zu "
		"revocations, %zu equivocations), %zu export questions\n",
		rp->test, (unsigned long long)rp->w->seed, rp->w->n_envs, rp->w->n_lots,
		rp->w->n_revs, rp->w->n_forks, rp->w->n_queries);
}

/* The record a "waiting for <id>" message names, described; or NULL. */
static const char *
waits_for(const struct world *w, const char *msg, char h[9])
{
	const char *p = strstr(msg, "waiting for ");
	uint8_t missing[32];
	int j, l;

	if (p == NULL || strlen(p + 12) < 64 ||
	    sodium_hex2bin(missing, 32, p + 12, 64, NULL, NULL, NULL) != 0)
		return NULL;
	hex8(missing, h);
	if ((j = find_env(w, missing)) < 0 && (l = find_lot(w, missing)) >= 0)
		j = w->lots[l].env;
	return j >= 0 ? w->envs[j].desc : "a record the world never made";
}

static void
answer(const struct world *w, enum ls_ingest_status st, enum ls_reason reason, const char *msg,
       char *buf, size_t len)
{
	const char *d;
	char h[9];

	if (st == LS_INGEST_PENDING && (d = waits_for(w, msg, h)) != NULL)
		snprintf(buf, len, "pending, waiting for %s (%.110s)", h, d);
	else if (st == LS_INGEST_REJECTED)
		snprintf(buf, len, "rejected %s: %s", ls_reason_code(reason), msg);
	else
		snprintf(buf, len, "%s: %s", fx_status_name(st), msg);
}

/* What store r did with envelope i, in one line. */
static void
obs_line(const struct world *w, const struct run *r, size_t i, char *buf, size_t len)
{
	const struct obs *o = &r->obs[i];
	char now[300], then[300];

	if (o->stored) {
		snprintf(buf, len, "stored%s",
			 o->answered && o->status == LS_INGEST_PENDING ? " (after waiting)" : "");
		return;
	}
	if (!o->answered) {
		snprintf(buf, len, "never given");
		return;
	}
	answer(w, o->status, o->reason, o->msg, then, sizeof(then));
	if (!o->probed) {
		snprintf(buf, len, "not stored; when given: %s", then);
		return;
	}
	if (o->now == LS_INGEST_ACCEPTED || o->now == LS_INGEST_KNOWN) {
		/* Taken when given once more (known: released by another one). */
		setf(buf, len,
		     "not stored, but taken when given again after all the others; when "
		     "given: %.200s",
		     then);
		return;
	}
	answer(w, o->now, o->now_reason, o->now_msg, now, sizeof(now));
	if (o->now == o->status && o->now_reason == o->reason)
		snprintf(buf, len, "not stored: %s", now);
	else
		setf(buf, len, "not stored: %s (when given: %.120s)", now, then);
}

static void
print_env(const struct world *w, const struct run *a, const struct run *b, size_t i,
	  const char *what)
{
	char la[400], lb[400], hex[65];

	obs_line(w, a, i, la, sizeof(la));
	sodium_bin2hex(hex, sizeof(hex), w->envs[i].e.id, 32);
	fprintf(stderr, "      %s: %s%s%s%s\n        id %s\n", what, w->envs[i].desc,
		w->envs[i].tag[0] ? " [" : "", w->envs[i].tag, w->envs[i].tag[0] ? "]" : "", hex);
	fprintf(stderr, "        store %d: %s\n", a->k, la);
	if (b != NULL) {
		obs_line(w, b, i, lb, sizeof(lb));
		fprintf(stderr, "        store %d: %s\n", b->k, lb);
	}
}

static void
print_verdict(int k, int rc, const struct ls_verdict *v)
{
	char h[9];

	if (rc != 0) {
		fprintf(stderr, "        store %d: %s\n", k, ls_strerror(rc));
		return;
	}
	fprintf(stderr, "        store %d: %s\n", k, ls_verdict_name(v->kind));
	for (size_t i = 0; i < v->n; i++) {
		fprintf(stderr, "          %s: %.160s", ls_reason_code(v->reasons[i].code),
			v->reasons[i].message);
		for (size_t j = 0; j < v->reasons[i].n_ids; j++) {
			hex8(v->reasons[i].ids[j], h);
			fprintf(stderr, "%s%s", j ? " " : " [", h);
		}
		fprintf(stderr, "%s\n", v->reasons[i].n_ids ? "]" : "");
	}
}

static const char *
vsum_diff(const struct vsum *a, const struct vsum *b)
{
	if (a->rc != b->rc)
		return "answer";
	if (a->rc != 0)
		return NULL;
	if (a->kind != b->kind)
		return "kind";
	if (a->codes != b->codes)
		return "reason codes";
	if (memcmp(a->digest, b->digest, sizeof(a->digest)) != 0)
		return "ids behind the reasons";
	return NULL;
}

/* Differences between store a and store b; printed when rp->print. */
static size_t
compare(struct report *rp, const struct run *a, const struct run *b)
{
	struct world *w = rp->w;
	size_t diffs = 0, ia = 0, ib = 0, shown = 0, n_only[2] = {0, 0}, n_prov = 0, n_exp = 0;
	bool said = false;

#define SAY()                                                                                      \
	do {                                                                                       \
		if (rp->print && !said) {                                                          \
			rep_head(rp);                                                              \
			fprintf(stderr,                                                            \
				"  store %d (%s, %zu batches, %zu duplicates) differs from store " \
				"%d (%s):\n",                                                      \
				b->k, run_how(b), b->n_batches, b->n_dups, a->k, run_how(a));      \
			said = true;                                                               \
		}                                                                                  \
	} while (0)

	/* The records stored, listed in generation order: the first lines show
	 * where the stores part, the rest usually follow from them. */
	{
		long *only = calloc(a->n_ids + b->n_ids + 1, sizeof(*only));
		size_t n = 0;
		if (only == NULL)
			return diffs + 1;
		while (ia < a->n_ids || ib < b->n_ids) {
			int c = ia == a->n_ids   ? 1
				: ib == b->n_ids ? -1
						 : memcmp(a->ids[ia], b->ids[ib], 32);
			const uint8_t *id;
			int i;
			if (c == 0) {
				ia++;
				ib++;
				continue;
			}
			id = c < 0 ? a->ids[ia++] : b->ids[ib++];
			n_only[c < 0 ? 0 : 1]++;
			diffs++;
			i = find_env(w, id);
			/* env index, or the world never made it; the sign says which store */
			only[n++] = (i >= 0 ? (long)i + 1 : (long)w->n_envs + 1) * (c < 0 ? 1 : -1);
		}
		for (size_t x = 1; x < n; x++)
			for (size_t y = x; y > 0 && labs(only[y - 1]) > labs(only[y]); y--) {
				long t = only[y];
				only[y] = only[y - 1];
				only[y - 1] = t;
			}
		if (n > 0)
			SAY();
		for (size_t x = 0; rp->print && x < n && shown < rp->cap; x++, shown++) {
			long i = labs(only[x]) - 1;
			char what[32];
			snprintf(what, sizeof(what), "only in store %d", only[x] > 0 ? a->k : b->k);
			if (i < (long)w->n_envs)
				print_env(w, a, b, (size_t)i, what);
			else
				fprintf(stderr, "      %s: a record the world never made\n", what);
		}
		free(only);
	}
	if (rp->print && (n_only[0] || n_only[1]))
		fprintf(stderr,
			"    records: %zu stored in store %d, %zu in store %d; %zu only in %d, "
			"%zu only in %d%s\n",
			a->n_ids, a->k, b->n_ids, b->k, n_only[0], a->k, n_only[1], b->k,
			n_only[0] + n_only[1] > shown ? " (the first in generation order shown)"
						      : "");
	/* Pending and evidence. */
	if (a->st.pending != b->st.pending || a->st.equivocations != b->st.equivocations ||
	    a->st.records != b->st.records) {
		diffs++;
		SAY();
		if (rp->print)
			fprintf(
			    stderr,
			    "    stats: records %llu vs %llu, pending %llu vs %llu, "
			    "equivocations %llu vs %llu\n",
			    (unsigned long long)a->st.records, (unsigned long long)b->st.records,
			    (unsigned long long)a->st.pending, (unsigned long long)b->st.pending,
			    (unsigned long long)a->st.equivocations,
			    (unsigned long long)b->st.equivocations);
	}
	if (a->n_ev != b->n_ev || (a->n_ev > 0 && memcmp(a->ev, b->ev, a->n_ev * 64) != 0)) {
		diffs++;
		SAY();
		if (rp->print) {
			fprintf(stderr, "    evidence pairs differ: %zu vs %zu\n", a->n_ev,
				b->n_ev);
			for (int s = 0; s < 2; s++) {
				const struct run *r = s ? b : a;
				for (size_t e = 0; e < r->n_ev && e < rp->cap; e++) {
					char h1[9], h2[9];
					hex8(r->ev[e], h1);
					hex8(r->ev[e] + 32, h2);
					fprintf(stderr, "      store %d: %s / %s\n", r->k, h1, h2);
				}
			}
		}
	}
	/* Verdicts. */
	for (size_t l = 0; l < w->n_lots; l++) {
		const char *d = vsum_diff(&a->prov[l], &b->prov[l]);
		if (d == NULL)
			continue;
		diffs++;
		SAY();
		if (!rp->print || n_prov++ >= rp->cap)
			continue;
		fprintf(stderr,
			"    provenance of lot %s (%s, made by %s, record %.60s) differs in %s:\n",
			w->lots[l].label, stage_name[w->lots[l].stage], w->a[w->lots[l].maker].name,
			w->envs[w->lots[l].env].desc, d);
		print_verdict(a->k, a->prov[l].rc, &a->pv[l]);
		print_verdict(b->k, b->prov[l].rc, &b->pv[l]);
	}
	if (rp->print && n_prov > rp->cap)
		fprintf(stderr, "    ... %zu provenance verdicts differ in all\n", n_prov);
	for (size_t q = 0; q < w->n_queries; q++) {
		const char *d = vsum_diff(&a->exp[q], &b->exp[q]);
		if (d == NULL)
			continue;
		diffs++;
		SAY();
		if (!rp->print || n_exp++ >= rp->cap)
			continue;
		fprintf(stderr, "    %s differs in %s:\n", w->q[q].desc, d);
		print_verdict(a->k, a->exp[q].rc, &a->xv[q]);
		print_verdict(b->k, b->exp[q].rc, &b->xv[q]);
	}
	if (rp->print && n_exp > rp->cap)
		fprintf(stderr, "    ... %zu export verdicts differ in all\n", n_exp);
#undef SAY
	return diffs;
}

/*
 * Store r against the generator: a record valid by the consensus rules is
 * stored, one that breaks a rule is not, one that names a record that never
 * comes waits. Records on either side of an equivocation, or built on one,
 * are left out when skip_tainted (what becomes of them is the library's
 * choice, as long as every store makes the same).
 */
static size_t
check_expect(struct report *rp, const struct run *r, bool skip_tainted)
{
	struct world *w = rp->w;
	size_t bad = 0, shown = 0, waits = 0;
	bool said = false;

	for (size_t i = 0; i < w->n_envs; i++) {
		const struct env *v = &w->envs[i];
		const char *want = NULL;
		if (v->expect == X_CORRUPT || (skip_tainted && v->tainted))
			continue;
		waits += v->expect == X_WAITS;
		if (v->expect == X_VALID && !r->obs[i].stored)
			want = "valid by the consensus rules but not stored";
		else if (v->expect != X_VALID && r->obs[i].stored)
			want = v->expect == X_INVALID
				   ? "breaks a consensus rule but was stored"
				   : "names a record that never comes but was stored";
		if (want == NULL)
			continue;
		bad++;
		if (!rp->print)
			continue;
		rep_head(rp);
		if (!said) {
			fprintf(stderr, "  store %d (%s) against the generator:\n", r->k,
				run_how(r));
			said = true;
		}
		if (shown++ < rp->cap)
			print_env(w, r, NULL, i, want);
	}
	if (!skip_tainted && r->st.pending != waits) {
		bad++;
		if (rp->print) {
			rep_head(rp);
			fprintf(
			    stderr,
			    "  store %d (%s): %llu records pending, the generator made %zu that "
			    "wait for ever\n",
			    r->k, run_how(r), (unsigned long long)r->st.pending, waits);
		}
	}
	if (r->probe_changed) {
		bad++;
		if (rp->print) {
			rep_head(rp);
			fprintf(stderr,
				"  store %d (%s) changed when given again what it had not stored: "
				"records %llu -> %llu, pending %llu -> %llu, equivocations %llu -> "
				"%llu\n",
				r->k, run_how(r), (unsigned long long)r->st.records,
				(unsigned long long)r->after.records,
				(unsigned long long)r->st.pending,
				(unsigned long long)r->after.pending,
				(unsigned long long)r->st.equivocations,
				(unsigned long long)r->after.equivocations);
		}
	}
	if (r->bad_admission > 0) {
		bad++;
		if (rp->print) {
			rep_head(rp);
			fprintf(
			    stderr,
			    "  store %d: %zu local copies refused where the rule does not allow "
			    "it; the first: %s\n",
			    r->k, r->bad_admission, r->bad_msg);
		}
	}
	if (r->stray > 0 || r->corrupt_kept > 0 || r->unsettled > 0) {
		bad++;
		if (rp->print) {
			rep_head(rp);
			fprintf(stderr,
				"  store %d: %zu accepted records the world never made, %zu copies "
				"with a broken signature not refused as such, %zu records accepted "
				"when given again after all the others\n",
				r->k, r->stray, r->corrupt_kept, r->unsettled);
		}
	}
	if (rp->print && shown > rp->cap)
		fprintf(stderr, "    ... %zu in all\n", shown);
	return bad;
}

/* ---- the property over seeds ---- */

enum { SEED_OK = 0, SEED_DIVERGED = 1, SEED_ERROR = 2 };

static int
run_seed(uint64_t seed, unsigned flags, const char *test, bool detail)
{
	struct world *w = world_build(seed, flags);
	struct run runs[MAX_STORES];
	struct report rp = {w, test, false, false, g_cfg.verbose ? SIZE_MAX : 8};
	size_t diffs[MAX_STORES] = {0}, expect[MAX_STORES] = {0}, total = 0;
	int result = SEED_OK;

	memset(runs, 0, sizeof(runs));
	if (w == NULL || w->failed) {
		fprintf(stderr, "converge: test_converge_%s seed %llu: the generator failed\n",
			test, (unsigned long long)seed);
		world_free(&w);
		return SEED_ERROR;
	}
	for (unsigned k = 0; k < g_cfg.n_stores; k++) {
		struct rng r = {seed ^ (0x9e3779b97f4a7c15ull * (k + 1)) ^ ((uint64_t)flags << 48)};
		runs[k].k = (int)k;
		feed(w, &runs[k], g_cfg.root, &r);
		if (runs[k].err != 0) {
			fprintf(stderr, "converge: test_converge_%s seed %llu: store %u: %s\n",
				test, (unsigned long long)seed, k, runs[k].errmsg);
			result = SEED_ERROR;
			goto out;
		}
	}
	for (unsigned k = 0; k < g_cfg.n_stores; k++) {
		if (k > 0)
			total += diffs[k] = compare(&rp, &runs[0], &runs[k]);
		total += expect[k] = check_expect(&rp, &runs[k], (flags & W_EQUIVOCATE) != 0);
	}
	if (total > 0) {
		result = SEED_DIVERGED;
		if (detail) {
			rp.print = true;
			for (unsigned k = 1; k < g_cfg.n_stores; k++)
				if (diffs[k] > 0)
					compare(&rp, &runs[0], &runs[k]);
			for (unsigned k = 0; k < g_cfg.n_stores; k++)
				if (expect[k] > 0)
					check_expect(&rp, &runs[k], (flags & W_EQUIVOCATE) != 0);
		}
		fprintf(stderr, "converge: test_converge_%s seed %llu FAILED:", test,
			(unsigned long long)seed);
		for (unsigned k = 1; k < g_cfg.n_stores; k++)
			if (diffs[k] > 0)
				fprintf(stderr, " store %u: %zu differences from store 0;", k,
					diffs[k]);
		for (unsigned k = 0; k < g_cfg.n_stores; k++)
			if (expect[k] > 0)
				fprintf(stderr, " store %u: %zu against the generator;", k,
					expect[k]);
		fprintf(stderr,
			"\n  reproduce: LS_CONVERGE_SEED=%llu LS_CONVERGE_ONLY=%s "
			"build/tests/test_converge\n",
			(unsigned long long)seed, test);
	}
	if (g_cfg.verbose) {
		size_t by[LS_REC_TYPE_COUNT] = {0}, kinds_v[LS_V_DENIED + 1] = {0}, lic = 0;
		for (size_t i = 0; i < w->n_envs; i++)
			if (runs[0].obs[i].stored)
				by[w->envs[i].e.type]++;
		for (size_t i = 0; i < w->n_lots; i++)
			if (runs[0].prov[i].rc == 0)
				kinds_v[runs[0].prov[i].kind]++;
		for (size_t i = 0; i < w->n_queries; i++)
			if (runs[0].exp[i].rc == 0)
				kinds_v[runs[0].exp[i].kind]++;
		for (size_t i = 0; i < w->n_lics; i++)
			lic += w->lic[i].used > 0;
		fprintf(
		    stderr,
		    "converge: test_converge_%s seed %llu: %zu envelopes, %zu revocations, "
		    "%zu equivocations; store 0 keeps %zu (cert %zu, rev %zu, pol %zu, lic %zu "
		    "(%zu cited), lot %zu, xform %zu, transfer %zu, receipt %zu), %llu pending; "
		    "verdicts: %zu valid, %zu broken, %zu allowed, %zu license-required, %zu "
		    "denied: %s\n",
		    test, (unsigned long long)seed, w->n_envs, w->n_revs, w->n_forks, runs[0].n_ids,
		    by[LS_REC_CERTIFICATE], by[LS_REC_REVOCATION], by[LS_REC_POLICY],
		    by[LS_REC_LICENSE], lic, by[LS_REC_LOT], by[LS_REC_TRANSFORMATION],
		    by[LS_REC_TRANSFER], by[LS_REC_RECEIPT], (unsigned long long)runs[0].st.pending,
		    kinds_v[LS_V_VALID], kinds_v[LS_V_BROKEN], kinds_v[LS_V_ALLOWED],
		    kinds_v[LS_V_LICENSE_REQUIRED], kinds_v[LS_V_DENIED],
		    result == SEED_OK ? "ok" : "FAILED");
		for (unsigned k = 1; k < g_cfg.n_stores && (flags & W_LOCAL); k++)
			fprintf(stderr,
				"converge: test_converge_%s seed %llu: store %u: %zu local copies, "
				"%zu refused at admission, %zu of them dependency-rejected\n",
				test, (unsigned long long)seed, k, runs[k].n_local,
				runs[k].n_local_refused, runs[k].n_deprej);
	}
out:
	for (unsigned k = 0; k < g_cfg.n_stores; k++)
		run_release(&runs[k]);
	world_free(&w);
	return result;
}

static void
property(const char *test, unsigned flags)
{
	size_t failed = 0, errors = 0, off = 0;
	char seeds[200] = "";

	for (uint64_t i = 0; i < g_cfg.n_seeds; i++) {
		uint64_t seed = g_cfg.first + i;
		int rc = run_seed(seed, flags, test, failed < 3 || g_cfg.verbose);
		if (rc == SEED_OK)
			continue;
		if (rc == SEED_DIVERGED)
			failed++;
		else
			errors++;
		if (off + 24 < sizeof(seeds))
			off += (size_t)snprintf(seeds + off, sizeof(seeds) - off, "%s%llu",
						off ? " " : "", (unsigned long long)seed);
	}
	if (failed > 0 || errors > 0)
		fail_msg("test_converge_%s: %zu of %llu seeds failed, %zu could not run "
			 "(seeds: %s%s)",
			 test, failed, (unsigned long long)g_cfg.n_seeds, errors, seeds,
			 off + 24 >= sizeof(seeds) ? " ..." : "");
}

/* Certificates, lots, transformations, transfers, receipts, licenses and a
 * policy, and records that break rules: no revocation, no equivocation. */
static void
test_converge_honest(void **state)
{
	(void)state;
	property("honest", 0);
}

/* Revocations of keys, certificates, licenses and authorities, most of them
 * dated before records that are already signed. */
static void
test_converge_revocations(void **state)
{
	(void)state;
	property("revocations", W_REVOKE);
}

/* Double spends, second certificates, lots and receipts at one seq, with
 * third parties building on the second record. */
static void
test_converge_equivocations(void **state)
{
	(void)state;
	property("equivocations", W_EQUIVOCATE);
}

static void
test_converge_mixed(void **state)
{
	(void)state;
	property("mixed", W_REVOKE | W_EQUIVOCATE);
}

/* The honest world with local clients' copies mixed in (feed, check_local):
 * the stores still agree with store 0 and the generator. */
static void
test_converge_local(void **state)
{
	(void)state;
	property("local", W_LOCAL);
}

/* The same with revocations (admission judges what verify would). */
static void
test_converge_local_revocations(void **state)
{
	(void)state;
	property("local_revocations", W_LOCAL | W_REVOKE);
}

/* ---- main ---- */

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long x;

	if (v == NULL || *v == '\0')
		return dflt;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0') {
		fprintf(stderr, "test_converge: %s='%s' is not a number; using %llu\n", name, v,
			(unsigned long long)dflt);
		return dflt;
	}
	return x;
}

static bool
env_flag(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

static int
group_setup(void **state)
{
	(void)state;
	return (g_cfg.root = fx_tmpdir()) == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	fx_rmtree(g_cfg.root);
	free(g_cfg.root);
	g_cfg.root = NULL;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_converge_honest),
	    cmocka_unit_test(test_converge_revocations),
	    cmocka_unit_test(test_converge_equivocations),
	    cmocka_unit_test(test_converge_mixed),
	    cmocka_unit_test(test_converge_local),
	    cmocka_unit_test(test_converge_local_revocations),
	};
	const char *only = getenv("LS_CONVERGE_ONLY");
	char filter[128];

	if (sodium_init() < 0)
		return 1;
	g_cfg.first = env_u64("LS_CONVERGE_FIRST", 1);
	g_cfg.n_seeds = env_u64("LS_CONVERGE_SEEDS", 6);
	if (getenv("LS_CONVERGE_SEED") != NULL) {
		g_cfg.first = env_u64("LS_CONVERGE_SEED", 1);
		g_cfg.n_seeds = 1;
	}
	g_cfg.n_stores = (unsigned)env_u64("LS_CONVERGE_STORES", 4);
	if (g_cfg.n_stores < 2)
		g_cfg.n_stores = 2;
	if (g_cfg.n_stores > MAX_STORES)
		g_cfg.n_stores = MAX_STORES;
	g_cfg.verbose = env_flag("LS_CONVERGE_VERBOSE");
	if (only != NULL && *only != '\0') {
		snprintf(filter, sizeof(filter), "*%s*", only);
		cmocka_set_test_filter(filter);
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
