/*
 * origin.c - where the rare earths of a lot came from, and how far each
 * policy reaches into it.
 *
 * For each rare-earth element of a lot, three distributions are kept as
 * integer fractions (scaled by LS_FRAC_ONE): by mine (site), by country of
 * mining and by country of last processing. A transformation output inherits
 * its inputs' distributions pro rata of the element mass each input brought
 * (grams consumed x ppm); its last processing country is the processor's.
 *
 * Reach of a policy P of jurisdiction J (what P's de minimis rule counts as
 * "of J"), kept per lot for every policy the cache was given:
 *
 *   hit(L) = P applies to re-exports and L was registered in J or made by a
 *            processor certified in J (material origin); or P applies to
 *            foreign technology and L was made outside J by a processor that
 *            had received, at or before L's date, a technology transfer from a
 *            sender certified in J, of a category P lists in controlled_tech.
 *
 * By mass, per rare-earth element z of L, with the inputs I_i of L's
 * transformation consumed g_i grams each:
 *
 *   f(L,z) = 1                                 if hit(L)
 *          = 0                                 else if L is a registration
 *          = sum_i w_i f(I_i,z) / sum_i w_i    else, w_i = g_i * ppm(I_i,z)
 *
 * and the mass share of L is sum over P's controlled elements z of
 * ppm(L,z) * f(L,z), in ppm of L's mass.
 *
 * By value, with V the declared value and M the grams of a lot, C(L) = 1 when
 * L holds a controlled element of P (else 0), and O_o every output of L's
 * transformation (L and its co-products):
 *
 *   v(L) = C(L)                                                  if hit(L)
 *        = 0                                                     else if L is a registration
 *        = min(1, sum_i V(I_i) * g_i / M(I_i) * v(I_i) / sum_o V(O_o))   else
 *
 * that is, the value of the consumed inputs' reached controlled content,
 * shared among the outputs in proportion to their declared values (for a
 * single output: relative to L's value). The value share of L is v(L), in
 * ppm of L's value. It is defined only when L, every ancestor and every
 * co-product of the transformations in between declare a value; otherwise
 * the mass share stands in (verify.c says so).
 *
 * Integer arithmetic only, so every node gets the same figures: fractions
 * are scaled by LS_FRAC_ONE and floored once per lot (each value term
 * V * g * v / M exactly, then the quotient), in unsigned 128-bit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kind.h"
#include "util.h"
#include "verify_int.h"

__extension__ typedef unsigned __int128 u128;

/* ---- id map: open addressing on the first 8 bytes of the id ----
 *
 * The probe table holds 4-byte entry numbers (0: empty), the ids and values
 * live in dense arrays in insertion order: probing reads a compact table,
 * and growing the dense arrays (realloc) keeps their pages. Slot positions,
 * and so the order ls_idmap_each visits, are those of a table of the ids
 * themselves: the same ids put in the same order land in the same slots.
 */

struct ls_idmap {
	uint32_t *slot; /* cap entries: 1 + the entry's index, or 0 */
	size_t cap, n;
	uint8_t (*ids)[32];
	void **vals;
	size_t dcap; /* entries the dense arrays hold */
};

#define IDMAP_MIN 64

struct ls_idmap *
ls_idmap_new(void)
{
	struct ls_idmap *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->cap = IDMAP_MIN;
	if ((m->slot = calloc(m->cap, sizeof(*m->slot))) == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void
ls_idmap_free(struct ls_idmap **m)
{
	if (m == NULL || *m == NULL)
		return;
	free((*m)->slot);
	free((*m)->ids);
	free((*m)->vals);
	free(*m);
	*m = NULL;
}

static size_t
slot_in(const uint32_t *slot, size_t cap, const uint8_t (*ids)[32], const uint8_t id[32])
{
	uint64_t h;
	size_t i;

	memcpy(&h, id, sizeof(h)); /* ids are BLAKE2b digests: already uniform */
	for (i = h & (cap - 1); slot[i] != 0 && memcmp(ids[slot[i] - 1], id, 32) != 0;
	     i = (i + 1) & (cap - 1))
		;
	return i;
}

static size_t
slot_of(const struct ls_idmap *m, const uint8_t id[32])
{
	return slot_in(m->slot, m->cap, (const uint8_t(*)[32])m->ids, id);
}

void *
ls_idmap_get(const struct ls_idmap *m, const uint8_t id[32])
{
	uint32_t e = m->slot[slot_of(m, id)];
	return e != 0 ? m->vals[e - 1] : NULL;
}

bool
ls_idmap_has(const struct ls_idmap *m, const uint8_t id[32])
{
	return m->slot[slot_of(m, id)] != 0;
}

int
ls_idmap_put(struct ls_idmap *m, const uint8_t id[32], void *val)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap) {
		/* Reinserted in the old table's slot order, as a table of the
		 * ids themselves would be. malloc and memset, not calloc: pages
		 * written at once fault once, not twice (read, then written). */
		size_t cap = m->cap * 2;
		uint32_t *big = malloc(cap * sizeof(*big));
		if (big == NULL)
			return LS_ERR_NOMEM;
		memset(big, 0, cap * sizeof(*big));
		for (size_t k = 0; k < m->cap; k++)
			if (m->slot[k] != 0)
				big[slot_in(big, cap, (const uint8_t(*)[32])m->ids,
					    m->ids[m->slot[k] - 1])] = m->slot[k];
		free(m->slot);
		m->slot = big;
		m->cap = cap;
	}
	i = slot_of(m, id);
	if (m->slot[i] == 0) {
		if (m->n == m->dcap) {
			size_t dcap = m->dcap ? 2 * m->dcap : IDMAP_MIN / 2;
			uint8_t(*ni)[32] = realloc(m->ids, dcap * sizeof(*ni));
			void **nv;
			if (ni == NULL)
				return LS_ERR_NOMEM;
			m->ids = ni;
			if ((nv = realloc(m->vals, dcap * sizeof(*nv))) == NULL)
				return LS_ERR_NOMEM;
			m->vals = nv;
			m->dcap = dcap;
		}
		memcpy(m->ids[m->n], id, 32);
		m->vals[m->n] = NULL;
		m->slot[i] = (uint32_t)(++m->n);
	}
	m->vals[m->slot[i] - 1] = val;
	return 0;
}

struct ls_idmap *
ls_idmap_clone(const struct ls_idmap *m)
{
	struct ls_idmap *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->cap = m->cap;
	c->n = c->dcap = m->n;
	if ((c->slot = malloc(m->cap * sizeof(*c->slot))) == NULL ||
	    (m->n > 0 && ((c->ids = malloc(m->n * sizeof(*c->ids))) == NULL ||
			  (c->vals = malloc(m->n * sizeof(*c->vals))) == NULL))) {
		ls_idmap_free(&c);
		return NULL;
	}
	memcpy(c->slot, m->slot, m->cap * sizeof(*c->slot));
	if (m->n > 0) {
		memcpy(c->ids, m->ids, m->n * sizeof(*c->ids));
		memcpy(c->vals, m->vals, m->n * sizeof(*c->vals));
	}
	return c;
}

size_t
ls_idmap_count(const struct ls_idmap *m)
{
	return m->n;
}

const uint8_t *
ls_idmap_id_at(const struct ls_idmap *m, size_t i)
{
	return m->ids[i];
}

void
ls_idmap_each(const struct ls_idmap *m, void (*fn)(void *arg, const uint8_t id[32], void *val),
	      void *arg)
{
	for (size_t k = 0; k < m->cap; k++)
		if (m->slot[k] != 0)
			fn(arg, m->ids[m->slot[k] - 1], m->vals[m->slot[k] - 1]);
}

/* ---- stages ---- */

static const char *const stage_names[LS_STAGE_COUNT] = {
    "mining", "separation", "metal", "magnet", "component", "product", "recycling"};

const char *
ls_stage_name(int stage)
{
	return stage >= 0 && stage < LS_STAGE_COUNT ? stage_names[stage] : "?";
}

int
ls_stage_parse(const char *name)
{
	for (int i = 0; i < LS_STAGE_COUNT; i++)
		if (strcmp(name, stage_names[i]) == 0)
			return i;
	return -1;
}

int
ls_stage_of(const char *category, bool registration, bool consumes_scrap)
{
	static const struct {
		const char *cat;
		int stage;
	} by_cat[] = {{"ore", LS_STAGE_MINING},          {"concentrate", LS_STAGE_MINING},
		      {"oxide", LS_STAGE_SEPARATION},    {"metal", LS_STAGE_METAL},
		      {"alloy", LS_STAGE_METAL},         {"magnet", LS_STAGE_MAGNET},
		      {"component", LS_STAGE_COMPONENT}, {"product", LS_STAGE_PRODUCT}};

	if (strcmp(category, "scrap") == 0)
		return -1;
	if (!registration && consumes_scrap)
		return LS_STAGE_RECYCLING;
	for (size_t i = 0; i < sizeof(by_cat) / sizeof(by_cat[0]); i++)
		if (strcmp(category, by_cat[i].cat) == 0)
			return by_cat[i].stage;
	return -1;
}

/* ---- distributions ---- */

/* Every lot origin of a cache lives in its arena, names included: a name
 * is copied once where it enters (a registration's site and country, a
 * processor's country) and shared by every lot it flows into. */
static int
dist_single(struct ls_bump **arena, struct ls_dist *d, const char *name)
{
	d->v = ls_bump_alloc(arena, sizeof(*d->v));
	if (d->v == NULL || (d->v[0].name = ls_bump_strdup(arena, name)) == NULL)
		return LS_ERR_NOMEM;
	d->v[0].frac = LS_FRAC_ONE;
	d->n = 1;
	return 0;
}

/* Accumulator of weighted fractions by name. */
struct acc {
	size_t n, cap;
	const char **name;
	u128 *sum;
};

static int
acc_add(struct acc *a, const char *name, u128 w)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->name[i], name) == 0) {
			a->sum[i] += w;
			return 0;
		}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		const char **nn = realloc(a->name, cap * sizeof(*nn));
		u128 *ns;
		if (nn == NULL)
			return LS_ERR_NOMEM;
		a->name = nn;
		if ((ns = realloc(a->sum, cap * sizeof(*ns))) == NULL)
			return LS_ERR_NOMEM;
		a->sum = ns;
		a->cap = cap;
	}
	a->name[a->n] = name;
	a->sum[a->n] = w;
	a->n++;
	return 0;
}

/* The distribution of a, or like (NULL: none) when it is the same: a lot
 * made of one input shares its input's distributions (immutable, in the
 * arena) instead of a copy per lot of a chain. */
static int
acc_to_dist(struct ls_bump **arena, struct acc *a, u128 total, const struct ls_dist *like,
	    struct ls_dist *d)
{
	d->n = 0;
	if (a->n == 0 || total == 0)
		return 0;
	if (like != NULL && like->n == a->n) {
		size_t i;
		for (i = 0; i < a->n; i++)
			if (like->v[i].name != a->name[i] ||
			    like->v[i].frac != (uint64_t)(a->sum[i] / total))
				break;
		if (i == a->n) {
			*d = *like;
			return 0;
		}
	}
	if ((d->v = ls_bump_alloc(arena, a->n * sizeof(*d->v))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < a->n; i++) {
		d->v[d->n].name = a->name[i]; /* an input's name: in the arena */
		d->v[d->n].frac = (uint64_t)(a->sum[i] / total);
		d->n++;
	}
	return 0;
}

static void
acc_release(struct acc *a)
{
	if (a->cap == 0)
		return; /* never grown: nothing to free (most, in a chain) */
	free(a->name);
	free(a->sum);
	memset(a, 0, sizeof(*a));
}

/* ---- the cache ---- */

struct ls_ocache {
	struct ls_txn *t;
	const struct ls_policy *const *pol;
	size_t n_pol;
	bool stages;           /* compute every lot's stages */
	struct ls_dist none;   /* the whole element: not through a stage */
	struct ls_idmap *orgs; /* with stages: certificate id -> its organisation */
	struct ls_bump *arena; /* every lot origin and what it points to */
	uint32_t id;           /* unique in the memo: the tag of its origins */
	/* A transformation's elements, reaches and one reach's fractions are
	 * worked out here first (compute is not re-entered), then shared with
	 * its one input when they are the same (a chain's lots carry their
	 * input's material through unchanged) or copied into the arena: a
	 * question's memory is what differs from lot to lot. */
	struct ls_elem_origin *se;
	size_t se_cap;
	struct ls_reach *sr;
	size_t sr_cap;
	uint64_t *sf;
	size_t sf_cap;
};

/* *p holds at least n (at least 1) items of size each, zeroed. */
static int
scratch(void **p, size_t *cap, size_t n, size_t size)
{
	if (n == 0)
		n = 1;
	if (n > *cap) {
		void *np = malloc(n * size);
		if (np == NULL)
			return LS_ERR_NOMEM;
		free(*p);
		*p = np;
		*cap = n;
	}
	memset(*p, 0, n * size);
	return 0;
}

struct ls_ocache *
ls_ocache_new(struct ls_txn *t, const struct ls_policy *const *policies, size_t n)
{
	struct ls_ocache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->t = t;
	c->pol = policies;
	c->n_pol = n;
	c->id = ls_qcache_mark_new(t);
	return c;
}

struct ls_ocache *
ls_ocache_new_stages(struct ls_txn *t)
{
	struct ls_ocache *c = ls_ocache_new(t, NULL, 0);

	if (c == NULL)
		return NULL;
	c->stages = true;
	if (dist_single(&c->arena, &c->none, LS_STAGE_NONE) != 0 ||
	    (c->orgs = ls_idmap_new()) == NULL)
		ls_ocache_free(&c);
	return c;
}

void
ls_ocache_free(struct ls_ocache **c)
{
	if (c == NULL || *c == NULL)
		return;
	ls_bump_free(&(*c)->arena);
	ls_idmap_free(&(*c)->orgs);
	free((*c)->se);
	free((*c)->sr);
	free((*c)->sf);
	free(*c);
	*c = NULL;
}

/* snprintf(dst, n, "%s", src) without the format: once per lot. */
static void
str_copy(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* The header of o; its elements into the arena, or with in_scratch into the
 * cache's scratch (compute's transformations, origin_commit). */
static int
origin_header(struct ls_ocache *c, struct ls_lot_origin *o, const struct ls_lotnode *ln,
	      const char *country, bool in_scratch)
{
	size_t n = 0;
	int rc;

	memcpy(o->id, ln->id, 32);
	o->grams = ln->grams;
	o->value = ln->value;
	str_copy(o->category, sizeof(o->category), ln->category);
	str_copy(o->country, sizeof(o->country), country);
	for (size_t i = 0; i < ln->n_comp; i++)
		n += ls_element_is_ree(ln->comp[i].z);
	if (in_scratch) {
		if ((rc = scratch((void **)&c->se, &c->se_cap, n, sizeof(*c->se))) != 0)
			return rc;
		o->e = c->se;
	} else if ((o->e = ls_bump_alloc(&c->arena, (n ? n : 1) * sizeof(*o->e))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < ln->n_comp; i++)
		if (ls_element_is_ree(ln->comp[i].z)) {
			o->e[o->n].z = ln->comp[i].z;
			o->e[o->n].ppm = ln->comp[i].ppm;
			o->n++;
		}
	return 0;
}

static const struct ls_elem_origin *
elem_of(const struct ls_lot_origin *o, uint32_t z)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->e[i].z == z)
			return &o->e[i];
	return NULL;
}

struct techs_ctx {
	struct ls_txn *t;
	int (*fn)(void *arg, const struct ls_record *transfer);
	void *arg;
};

static int
techs_one(void *arg, const uint8_t id[LS_ID_LEN])
{
	struct techs_ctx *c = arg;
	const struct ls_record *tr = NULL;
	struct ls_record *owned = NULL;
	int rc = ls_txn_record_ref(c->t, id, &tr, &owned);

	if (rc != 0)
		return rc;
	if (tr->type == LS_REC_TRANSFER)
		rc = c->fn(c->arg, tr);
	ls_record_free(owned);
	return rc;
}

int
ls_techs_each(struct ls_txn *t, const uint8_t to[LS_KEY_LEN], uint64_t before,
	      int (*fn)(void *arg, const struct ls_record *transfer), void *arg)
{
	struct techs_ctx c = {t, fn, arg};
	return ls_qcache_techs_each(t, to, before, techs_one, &c);
}

/* A technology the maker of a lot had received: sender's country, category. */
struct tech_src {
	char cc[3];
	char cat[32];
};

struct techs {
	struct ls_txn *t;
	size_t n;
	struct tech_src *v;
};

static int
tech_add(void *arg, const struct ls_record *tr)
{
	struct techs *ts = arg;
	struct tech_src *nv, *e;
	int rc;

	if ((nv = realloc(ts->v, (ts->n + 1) * sizeof(*nv))) == NULL)
		return LS_ERR_NOMEM;
	ts->v = nv;
	e = &ts->v[ts->n];
	if ((rc = ls_author_country_of(ts->t, tr, e->cc)) != 0)
		return rc;
	snprintf(e->cat, sizeof(e->cat), "%s", tr->transfer.tech);
	if (e->cc[0] != '\0')
		ts->n++;
	return 0;
}

/* Whether lot o holds an element the policy controls. */
static bool
holds_controlled(const struct ls_policy *p, const struct ls_lot_origin *o)
{
	for (size_t i = 0; i < p->n_elements; i++)
		for (size_t e = 0; e < o->n; e++)
			if (o->e[e].z == p->elements[i] && o->e[e].ppm > 0)
				return true;
	return false;
}

/*
 * hit(L) of the formulas above: made_in is the country of registration or of
 * the processor, techs what the processor had received (NULL for a
 * registration). *by_tech says whether the technology rule is what hit.
 */
static bool
reach_hit(const struct ls_policy *p, const char *made_in, const struct techs *techs, bool *by_tech)
{
	*by_tech = false;
	if (strcmp(made_in, p->jurisdiction) == 0)
		return p->applies_to_reexport;
	if (techs == NULL || !p->applies_to_foreign_tech)
		return false;
	for (size_t i = 0; i < techs->n; i++)
		if (strcmp(techs->v[i].cc, p->jurisdiction) == 0 &&
		    ls_strlist_has(&p->controlled_tech, techs->v[i].cat)) {
			*by_tech = true;
			return true;
		}
	return false;
}

/* Exact floor(value * grams * frac / mass), grams <= mass, frac <= LS_FRAC_ONE. */
static u128
value_term(uint64_t value, uint64_t grams, uint64_t mass, uint64_t frac)
{
	u128 x = (u128)value * grams;
	u128 q = x / mass, r = x % mass;

	/* q <= value < 2^64 and r < mass <= 10^15, so neither product overflows. */
	return q * frac + r * frac / mass;
}

/* The reach of every policy into a registered lot. */
static int
reach_registration(struct ls_ocache *c, struct ls_lot_origin *o)
{
	for (size_t k = 0; k < c->n_pol; k++) {
		struct ls_reach *r = &o->reach[k];
		bool by_tech, hit = reach_hit(c->pol[k], o->country, NULL, &by_tech);
		if ((r->frac = ls_bump_alloc(&c->arena, (o->n ? o->n : 1) * sizeof(*r->frac))) ==
		    NULL)
			return LS_ERR_NOMEM;
		for (size_t e = 0; e < o->n; e++)
			r->frac[e] = hit ? LS_FRAC_ONE : 0;
		r->valued = o->value != 0;
		if (!r->valued)
			memcpy(r->unvalued, o->id, 32);
		r->value_frac = hit && holds_controlled(c->pol[k], o) ? LS_FRAC_ONE : 0;
	}
	return 0;
}

/* The reach of every policy into lot o, made by transformation rec whose
 * inputs are all in the cache. */
/* Whether fractions f over lot o's elements equal input in's (the same
 * elements in the same order), so that o may share in's array. */
static bool
same_fracs(const struct ls_lot_origin *o, const uint64_t *f, const struct ls_lot_origin *in,
	   const uint64_t *g)
{
	if (in == NULL || in->n != o->n)
		return false;
	for (size_t e = 0; e < o->n; e++)
		if (in->e[e].z != o->e[e].z || f[e] != g[e])
			return false;
	return true;
}

static int
reach_transformation(struct ls_ocache *c, const struct ls_lotnode *tr,
		     const struct ls_lot_origin *const *ins, struct ls_lot_origin *o,
		     const struct techs *techs)
{
	u128 out_value = tr->out_value;
	bool outs_valued = tr->outs_valued;
	const uint8_t *unvalued_out = tr->unvalued_out;

	for (size_t k = 0; k < c->n_pol; k++) {
		const struct ls_policy *p = c->pol[k];
		struct ls_reach *r = &o->reach[k];
		bool by_tech, hit = reach_hit(p, o->country, techs, &by_tech);
		u128 vsum = 0;

		int rc = scratch((void **)&c->sf, &c->sf_cap, o->n, sizeof(*c->sf));

		if (rc != 0)
			return rc;
		r->frac = c->sf;
		r->tech = by_tech;
		r->valued = outs_valued;
		if (!outs_valued)
			memcpy(r->unvalued, unvalued_out, 32);
		for (size_t e = 0; e < o->n; e++) {
			u128 num = 0, total = 0;
			if (hit) {
				r->frac[e] = LS_FRAC_ONE;
				continue;
			}
			for (size_t i = 0; i < tr->n_inputs; i++) {
				const struct ls_lot_origin *in = ins[i];
				const struct ls_elem_origin *ie =
				    in ? elem_of(in, o->e[e].z) : NULL;
				u128 w;
				if (ie == NULL)
					continue;
				w = (u128)tr->inputs[i].grams * ie->ppm;
				total += w;
				num += w * in->reach[k].frac[ie - in->e];
				if (w > 0 && in->reach[k].frac[ie - in->e] > 0)
					r->tech |= in->reach[k].tech;
			}
			r->frac[e] = total ? (uint64_t)(num / total) : 0;
		}
		/* The input's array when the same, else a copy in the arena. */
		if (tr->n_inputs == 1 && ins[0] != NULL &&
		    same_fracs(o, r->frac, ins[0], ins[0]->reach[k].frac))
			r->frac = ins[0]->reach[k].frac;
		else {
			uint64_t *f = ls_bump_alloc(&c->arena, (o->n ? o->n : 1) * sizeof(*f));
			if (f == NULL)
				return LS_ERR_NOMEM;
			memcpy(f, c->sf, o->n * sizeof(*f));
			r->frac = f;
		}
		for (size_t i = 0; i < tr->n_inputs; i++) {
			const struct ls_lot_origin *in = ins[i];
			if (in == NULL || in->grams == 0)
				continue;
			if (r->valued && !in->reach[k].valued) {
				r->valued = false;
				memcpy(r->unvalued, in->reach[k].unvalued, 32);
			}
			if (!hit && in->reach[k].value_frac > 0) {
				vsum += value_term(in->value, tr->inputs[i].grams, in->grams,
						   in->reach[k].value_frac);
				r->tech |= in->reach[k].tech;
			}
		}
		if (!r->valued)
			r->value_frac = 0;
		else if (hit)
			r->value_frac = holds_controlled(p, o) ? LS_FRAC_ONE : 0;
		else
			r->value_frac = vsum / out_value >= LS_FRAC_ONE
					    ? LS_FRAC_ONE
					    : (uint64_t)(vsum / out_value);
	}
	return 0;
}

/* The origin this cache computed for memo node n, or NULL. */
static const struct ls_lot_origin *
origin_of(const struct ls_ocache *c, const struct ls_lotnode *n)
{
	return c->id != 0 && n->origin_cache == c->id ? n->origin : NULL;
}

/*
 * Stages. Per element, per stage S, the shares of the element by place: the
 * maker of a lot at stage S (country, site, organisation, record) gets the
 * whole element of the lot it made; a lot made at another stage inherits
 * its inputs' shares at S pro rata of the element mass each brought, as the
 * other distributions; what did not go through S is the share of
 * LS_STAGE_NONE. A registration at stage k says nothing of the stages
 * before k (the material entered the ledger past them): those are the
 * share of an unknown place (no country) named by the registration; scrap
 * registered is unknown from mining up to the magnet.
 */

/* The name of a place in a stage distribution: country, site, organisation
 * and the making record's hex id, joined by 0x1f (no such byte in a valid
 * string: record.c refuses control bytes). In the arena. */
static const char *
place_key(struct ls_ocache *c, const char *country, const char *site, const char *org,
	  const uint8_t rec[LS_ID_LEN])
{
	char hex[2 * LS_ID_LEN + 1], buf[4 + 2 * LS_STR_MAX + 2 * LS_ID_LEN + 8];

	snprintf(buf, sizeof(buf), "%s\x1f%s\x1f%s\x1f%s", country, site, org,
		 ls_hex(rec, LS_ID_LEN, hex));
	return ls_bump_strdup(&c->arena, buf);
}

/* The organisation of certificate cert_id ("" when none or not stored),
 * read once per certificate: a maker makes many lots. */
static int
cert_org(struct ls_ocache *c, bool has_cert, const uint8_t cert_id[LS_ID_LEN], char *org, size_t n)
{
	const struct ls_record *cert = NULL;
	struct ls_record *owned = NULL;
	const char *known;
	int rc;

	org[0] = '\0';
	if (!has_cert)
		return 0;
	if ((known = ls_idmap_get(c->orgs, cert_id)) != NULL) {
		str_copy(org, n, known);
		return 0;
	}
	if ((rc = ls_txn_record_ref(c->t, cert_id, &cert, &owned)) != 0)
		return rc == LS_ERR_NOT_FOUND ? 0 : rc;
	if (cert->type == LS_REC_CERTIFICATE)
		str_copy(org, n, cert->certificate.org);
	ls_record_free(owned);
	if ((known = ls_bump_strdup(&c->arena, org)) == NULL ||
	    ls_idmap_put(c->orgs, cert_id, (void *)(uintptr_t)known) != 0)
		return LS_ERR_NOMEM;
	return 0;
}

static int
stage_single(struct ls_ocache *c, struct ls_dist *d, const char *key)
{
	if (key == NULL)
		return LS_ERR_NOMEM;
	d->v = ls_bump_alloc(&c->arena, sizeof(*d->v));
	if (d->v == NULL)
		return LS_ERR_NOMEM;
	d->v[0].name = key;
	d->v[0].frac = LS_FRAC_ONE;
	d->n = 1;
	return 0;
}

static int
stages_registration(struct ls_ocache *c, const struct ls_lotnode *ln, struct ls_lot_origin *o)
{
	struct ls_dist own = {0, NULL}, unknown = {0, NULL};
	int k = ls_stage_of(ln->category, true, false);
	int known_from = k >= 0 ? k : LS_STAGE_COMPONENT; /* scrap: unknown up to magnet */
	char org[LS_STR_MAX + 1];
	int rc;

	if ((rc = cert_org(c, ln->has_cert, ln->cert_id, org, sizeof(org))) != 0)
		return rc;
	if (k >= 0 &&
	    (rc = stage_single(c, &own, place_key(c, ln->country, ln->site, org, ln->li.rec))) != 0)
		return rc;
	if (known_from > LS_STAGE_MINING &&
	    (rc = stage_single(c, &unknown, place_key(c, "", "", "", ln->li.rec))) != 0)
		return rc;
	for (size_t i = 0; i < o->n; i++)
		for (int st = 0; st < LS_STAGE_COUNT; st++)
			o->e[i].stage[st] = st == k                                     ? own
					    : st < known_from && st <= LS_STAGE_PRODUCT ? unknown
											: c->none;
	return 0;
}

/* Whether distribution d has a share named name. */
static bool
dist_has(const struct ls_dist *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].name, name) == 0)
			return true;
	return false;
}

static int
stages_transformation(struct ls_ocache *c, const struct ls_lotnode *ln,
		      const struct ls_lot_origin *const *ins, struct ls_lot_origin *o,
		      const char *country)
{
	struct ls_dist own = {0, NULL};
	bool scrap = false, *is_scrap = NULL;
	char org[LS_STR_MAX + 1];
	const char *site = "", *here_unknown = NULL;
	const struct ls_record *rec = NULL;
	struct ls_record *owned = NULL;
	int k, k_cat, rc = 0;

	if (ln->n_inputs > 0 && (is_scrap = calloc(ln->n_inputs, sizeof(*is_scrap))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < ln->n_inputs && rc == 0; i++) {
		const struct ls_lotnode *in;
		if ((rc = ls_lotnode_input(c->t, ln, i, &in)) == 0 &&
		    strcmp(in->category, "scrap") == 0)
			scrap = is_scrap[i] = true;
	}
	if (rc != 0)
		goto out;
	k = ls_stage_of(ln->category, false, scrap);
	/* A transformation that consumes scrap beside other inputs recycles
	 * the scrap's material only: its other inputs' material goes through
	 * the stage its category makes, here (a gram of scrap thrown into a
	 * separation does not turn the separation into a recycling).
	 * Material that comes in without the stages between mining and the one
	 * made here (gap): from a lot that is not scrap, this maker did them
	 * (an alloy made from ore was separated by its maker); from scrap, the
	 * ledger does not show who did them, the stage made here included
	 * (an oxide labelled scrap and "recycled" hides its separation), an
	 * unknown place named by this record. */
	k_cat = k >= 0 ? ls_stage_of(ln->category, false, false) : -1;
	if (k >= 0) {
		/* The site is not in the lot's node: read from the record, for
		 * the lots that make a stage only. */
		if ((rc = ls_txn_record_ref(c->t, ln->li.rec, &rec, &owned)) != 0)
			goto out;
		if (rec->type == LS_REC_TRANSFORMATION)
			site = rec->transformation.site;
		if ((rc = cert_org(c, ln->has_cert, ln->cert_id, org, sizeof(org))) == 0)
			rc = stage_single(
			    c, &own,
			    place_key(c, country[0] ? country : "??", site, org, ln->li.rec));
		if (rc == 0 && (here_unknown = place_key(c, "", "", "", ln->li.rec)) == NULL)
			rc = LS_ERR_NOMEM;
		ls_record_free(owned);
		if (rc != 0)
			goto out;
	}
	for (size_t i = 0; i < o->n && rc == 0; i++) {
		struct ls_elem_origin *e = &o->e[i];
		const struct ls_elem_origin *only = NULL;

		if (ln->n_inputs == 1 && ins[0] != NULL)
			only = elem_of(ins[0], e->z);
		for (int st = 0; st < LS_STAGE_COUNT && rc == 0; st++) {
			struct acc a = {0};
			u128 total = 0;
			/* per input: whether this maker did stage st of its material */
			bool split = scrap && (st == k || st == k_cat) && k_cat >= 0 &&
				     ln->n_inputs > 1,
			     gap = st > LS_STAGE_MINING && st <= k_cat && k_cat <= LS_STAGE_PRODUCT;
			if (st == k && !split) {
				e->stage[st] = own;
				continue;
			}
			if (only != NULL && (u128)ln->inputs[0].grams * only->ppm > 0 &&
			    !(gap && dist_has(&only->stage[st], LS_STAGE_NONE))) {
				e->stage[st] = only->stage[st]; /* one input: its shares */
				continue;
			}
			for (size_t in_i = 0; in_i < ln->n_inputs && rc == 0; in_i++) {
				const struct ls_elem_origin *ie =
				    ins[in_i] ? elem_of(ins[in_i], e->z) : NULL;
				u128 w;
				if (ie == NULL)
					continue;
				w = (u128)ln->inputs[in_i].grams * ie->ppm;
				total += w;
				if (split && (st == k) == is_scrap[in_i]) {
					rc = acc_add(&a, own.v[0].name, w * LS_FRAC_ONE);
					continue;
				}
				for (size_t sh = 0; sh < ie->stage[st].n && rc == 0; sh++) {
					const char *nm = ie->stage[st].v[sh].name;
					if (gap && (st < k_cat || is_scrap[in_i]) &&
					    strcmp(nm, LS_STAGE_NONE) == 0)
						nm = is_scrap[in_i] ? here_unknown : own.v[0].name;
					rc = acc_add(&a, nm, w * ie->stage[st].v[sh].frac);
				}
			}
			if (rc == 0 && total == 0)
				e->stage[st] = c->none; /* none of it came in */
			else if (rc == 0)
				rc = acc_to_dist(&c->arena, &a, total, NULL, &e->stage[st]);
			acc_release(&a);
		}
	}
out:
	free(is_scrap);
	return rc;
}

#define INS_STACK 16

/* strcmp(a, b) == 0 for the short names of a country, inline: asked for
 * every element of every lot. */
static bool
short_eq(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static bool
same_dist(const struct ls_dist *a, const struct ls_dist *b)
{
	return a->n == b->n && (a->n == 0 || a->v == b->v);
}

/* Whether the elements of o (in the scratch) are in's, share for share
 * (stages: a cache without them leaves them empty in both). */
static bool
same_elems(const struct ls_lot_origin *o, const struct ls_lot_origin *in, bool stages)
{
	if (in->n != o->n)
		return false;
	for (size_t i = 0; i < o->n; i++) {
		const struct ls_elem_origin *a = &o->e[i], *b = &in->e[i];
		if (a->z != b->z || a->ppm != b->ppm)
			return false;
		for (int k = 0; k < LS_DIST_COUNT; k++)
			if (!same_dist(&a->d[k], &b->d[k]))
				return false;
		for (int st = 0; stages && st < LS_STAGE_COUNT; st++)
			if (!same_dist(&a->stage[st], &b->stage[st]))
				return false;
	}
	return true;
}

static bool
same_reach(const struct ls_reach *a, const struct ls_reach *b)
{
	return a->frac == b->frac && a->value_frac == b->value_frac && a->valued == b->valued &&
	       a->tech == b->tech &&
	       (a->valued || memcmp(a->unvalued, b->unvalued, sizeof(a->unvalued)) == 0);
}

/* Moves transformation o's elements and reaches out of the cache's scratch:
 * its one input's arrays when they are the same, else copies in the arena. */
static int
origin_commit(struct ls_ocache *c, const struct ls_lotnode *ln, const struct ls_lot_origin *in,
	      struct ls_lot_origin *o)
{
	size_t k;

	if (ln->n_inputs != 1)
		in = NULL;
	if (in != NULL && same_elems(o, in, c->stages))
		o->e = in->e;
	else {
		struct ls_elem_origin *e = ls_bump_alloc(&c->arena, (o->n ? o->n : 1) * sizeof(*e));
		if (e == NULL)
			return LS_ERR_NOMEM;
		memcpy(e, o->e, o->n * sizeof(*e));
		o->e = e;
	}
	for (k = 0; in != NULL && k < c->n_pol; k++)
		if (!same_reach(&o->reach[k], &in->reach[k]))
			break;
	if (in != NULL && k == c->n_pol)
		o->reach = in->reach;
	else {
		struct ls_reach *r =
		    ls_bump_alloc(&c->arena, (c->n_pol ? c->n_pol : 1) * sizeof(*r));
		if (r == NULL)
			return LS_ERR_NOMEM;
		memcpy(r, o->reach, c->n_pol * sizeof(*r));
		o->reach = r;
	}
	return 0;
}

/* Computes the origin of lot node ln, whose inputs are all in the cache
 * already. */
static int
compute(struct ls_ocache *c, const struct ls_lotnode *ln, struct ls_lot_origin **out)
{
	struct ls_txn *t = c->t;
	struct ls_lot_origin *o = NULL;
	struct techs techs = {t, 0, NULL};
	const struct ls_lot_origin *ins_stack[INS_STACK], **ins = NULL;
	struct ls_dist proc = {0, NULL};
	char country[3];
	int rc;

	*out = NULL;
	if ((o = ls_bump_alloc(&c->arena, sizeof(*o))) == NULL)
		return LS_ERR_NOMEM;
	if (ln->type == LS_REC_LOT) {
		struct ls_dist mine = {0, NULL}, cc = {0, NULL};
		if ((o->reach = ls_bump_alloc(&c->arena, (c->n_pol ? c->n_pol : 1) *
							     sizeof(*o->reach))) == NULL)
			return LS_ERR_NOMEM;
		if ((rc = origin_header(c, o, ln, ln->country, false)) != 0)
			return rc;
		/* One site and one country for every element: shared. */
		if (o->n > 0 && ((rc = dist_single(&c->arena, &mine, ln->site)) != 0 ||
				 (rc = dist_single(&c->arena, &cc, ln->country)) != 0))
			return rc;
		for (size_t i = 0; i < o->n; i++) {
			struct ls_elem_origin *e = &o->e[i];
			e->d[LS_DIST_MINE] = mine;
			e->d[LS_DIST_COUNTRY] = cc;
			e->d[LS_DIST_PROCESSING] = cc;
		}
		if (c->stages && o->n > 0 && (rc = stages_registration(c, ln, o)) != 0)
			return rc;
		if ((rc = reach_registration(c, o)) != 0)
			return rc;
		*out = o;
		return 0;
	}
	if ((rc = scratch((void **)&c->sr, &c->sr_cap, c->n_pol, sizeof(*c->sr))) != 0)
		return rc;
	o->reach = c->sr;
	if ((rc = ls_author_country_by(t, ln->has_cert, ln->author, ln->cert_id, country)) != 0 ||
	    (rc = origin_header(c, o, ln, country, true)) != 0)
		return rc;
	/* The inputs' origins, looked up once. */
	if ((ins = ln->n_inputs <= INS_STACK ? ins_stack : calloc(ln->n_inputs, sizeof(*ins))) ==
	    NULL)
		return LS_ERR_NOMEM;
	for (size_t k = 0; k < ln->n_inputs && rc == 0; k++) {
		const struct ls_lotnode *in;
		if ((rc = ls_lotnode_input(t, ln, k, &in)) == 0)
			ins[k] = origin_of(c, in);
	}
	for (size_t i = 0; i < o->n && rc == 0; i++) {
		struct ls_elem_origin *e = &o->e[i];
		struct acc a[LS_DIST_COUNT] = {{0}};
		const struct ls_elem_origin *only = NULL;
		bool shared = false;
		u128 total = 0;

		if (ln->n_inputs == 1 && ins[0] != NULL)
			only = elem_of(ins[0], e->z);
		if (only != NULL && (u128)ln->inputs[0].grams * only->ppm > 0) {
			/* One input that carries the element: each share would
			 * be w * frac / w (w = grams * ppm; no overflow: 10^15 *
			 * 10^6 * 10^12 < 2^128), the input's fraction exactly,
			 * and acc_to_dist would keep the input's distributions:
			 * taken as they are, without the sums. */
			e->d[LS_DIST_MINE] = only->d[LS_DIST_MINE];
			e->d[LS_DIST_COUNTRY] = only->d[LS_DIST_COUNTRY];
			shared = true;
		}
		for (size_t k = 0; !shared && k < ln->n_inputs && rc == 0; k++) {
			const struct ls_lot_origin *in = ins[k];
			const struct ls_elem_origin *ie = in ? elem_of(in, e->z) : NULL;
			u128 w;
			if (ie == NULL)
				continue;
			w = (u128)ln->inputs[k].grams * ie->ppm;
			total += w;
			for (int dk = 0; dk < LS_DIST_COUNT && rc == 0; dk++) {
				if (dk == LS_DIST_PROCESSING)
					continue;
				for (size_t sh_i = 0; sh_i < ie->d[dk].n && rc == 0; sh_i++) {
					const struct ls_share *sh = &ie->d[dk].v[sh_i];
					rc = acc_add(&a[dk], sh->name, w * sh->frac);
				}
			}
		}
		if (rc == 0 && !shared)
			rc = acc_to_dist(&c->arena, &a[LS_DIST_MINE], total,
					 only ? &only->d[LS_DIST_MINE] : NULL, &e->d[LS_DIST_MINE]);
		if (rc == 0 && !shared)
			rc = acc_to_dist(&c->arena, &a[LS_DIST_COUNTRY], total,
					 only ? &only->d[LS_DIST_COUNTRY] : NULL,
					 &e->d[LS_DIST_COUNTRY]);
		if (rc == 0) {
			/* One processing country for the whole lot: the input's
			 * when it is the same, else one copy for every element. */
			const char *pc = country[0] ? country : "??";
			const struct ls_dist *ip = only ? &only->d[LS_DIST_PROCESSING] : NULL;
			if (ip != NULL && ip->n == 1 && ip->v[0].frac == LS_FRAC_ONE &&
			    short_eq(ip->v[0].name, pc))
				e->d[LS_DIST_PROCESSING] = *ip;
			else if (proc.n == 1)
				e->d[LS_DIST_PROCESSING] = proc;
			else if ((rc = dist_single(&c->arena, &proc, pc)) == 0)
				e->d[LS_DIST_PROCESSING] = proc;
		}
		for (int dk = 0; dk < LS_DIST_COUNT; dk++)
			acc_release(&a[dk]);
	}
	if (rc == 0 && c->stages && o->n > 0)
		rc = stages_transformation(c, ln, ins, o, country);
	if (rc == 0 && c->n_pol > 0)
		rc = ls_techs_each(t, ln->author, ln->timestamp, tech_add, &techs);
	if (rc == 0)
		rc = reach_transformation(c, ln, ins, o, &techs);
	if (rc == 0)
		rc = origin_commit(c, ln, ln->n_inputs == 1 ? ins[0] : NULL, o);
	if (rc == 0)
		*out = o;
	free(techs.v);
	if (ins != ins_stack)
		free(ins);
	return rc;
}

int
ls_ocache_get(struct ls_ocache *c, const uint8_t lot[LS_ID_LEN], const struct ls_lot_origin **out)
{
	const struct ls_lotnode **stack = NULL, *root;
	struct ls_lotnode *owned = NULL;
	size_t sp = 0, cap = 0;
	int rc = 0;

	*out = NULL;
	/* Origins hang on the question memo's nodes: a cache needs one (made
	 * before it, which gave it its id). */
	if (c->t->qc == NULL || c->id == 0)
		return LS_ERR_INVALID;
	if ((rc = ls_txn_lotnode(c->t, lot, &root, &owned)) != 0)
		return rc;
	if ((*out = origin_of(c, root)) != NULL)
		return 0;
	/* Iterative post-order walk: deep chains must not exhaust the stack. */
	if ((stack = malloc(64 * sizeof(*stack))) == NULL)
		return LS_ERR_NOMEM;
	cap = 64;
	stack[sp++] = root;
	while (sp > 0) {
		const struct ls_lotnode *cur = stack[sp - 1];
		bool ready = true;
		struct ls_lot_origin *o;

		if (origin_of(c, cur) != NULL) {
			sp--;
			continue;
		}
		for (size_t i = 0; cur->type == LS_REC_TRANSFORMATION && i < cur->n_inputs; i++) {
			const struct ls_lotnode *in;
			if ((rc = ls_lotnode_input(c->t, cur, i, &in)) != 0)
				goto out;
			if (origin_of(c, in) != NULL)
				continue;
			ready = false;
			if (sp == cap) {
				const struct ls_lotnode **ns =
				    realloc(stack, cap * 2 * sizeof(*ns));
				if (ns == NULL) {
					rc = LS_ERR_NOMEM;
					goto out;
				}
				stack = ns;
				cap *= 2;
			}
			stack[sp++] = in;
		}
		if (!ready)
			continue;
		sp--;
		if ((rc = compute(c, cur, &o)) != 0)
			goto out;
		{
			struct ls_lotnode *w = (struct ls_lotnode *)(uintptr_t)cur;
			w->origin = o;
			w->origin_cache = c->id;
		}
	}
	*out = origin_of(c, root);
	rc = *out ? 0 : LS_ERR_NOT_FOUND;
out:
	free(stack);
	return rc;
}

/* ---- the public origin question ---- */

struct part_tmp {
	const char *name;
	uint64_t grams;
	uint64_t rem;
};

static int
part_cmp(const void *a, const void *b)
{
	const struct part_tmp *x = a, *y = b;
	if (x->rem != y->rem)
		return x->rem < y->rem ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int
name_cmp(const void *a, const void *b)
{
	const struct ls_origin_part *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/* Splits `grams` by the fractions of d, largest remainder first, so the parts
 * add up to grams exactly: *tmp (malloc'd, d->n entries, NULL when none)
 * names borrowed from d. */
static int
split_tmp(const struct ls_dist *d, uint64_t grams, struct part_tmp **out)
{
	struct part_tmp *tmp;
	u128 fsum = 0;
	uint64_t given = 0;

	*out = NULL;
	if (d->n == 0)
		return 0;
	for (size_t i = 0; i < d->n; i++)
		fsum += d->v[i].frac;
	if ((tmp = calloc(d->n, sizeof(*tmp))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < d->n; i++) {
		u128 x = fsum ? (u128)grams * d->v[i].frac : 0;
		tmp[i].name = d->v[i].name;
		tmp[i].grams = fsum ? (uint64_t)(x / fsum) : 0;
		tmp[i].rem = fsum ? (uint64_t)(x % fsum) : 0;
		given += tmp[i].grams;
	}
	qsort(tmp, d->n, sizeof(*tmp), part_cmp);
	for (size_t i = 0; given < grams; i = (i + 1) % d->n) {
		tmp[i].grams++;
		given++;
	}
	*out = tmp;
	return 0;
}

static int
split(const struct ls_dist *d, uint64_t grams, struct ls_origin_part **out, size_t *n)
{
	struct part_tmp *tmp;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = split_tmp(d, grams, &tmp)) != 0 || tmp == NULL)
		return rc;
	if ((*out = calloc(d->n, sizeof(**out))) == NULL) {
		free(tmp);
		return LS_ERR_NOMEM;
	}
	for (size_t i = 0; i < d->n; i++) {
		snprintf((*out)[i].name, sizeof((*out)[i].name), "%s", tmp[i].name);
		(*out)[i].grams = tmp[i].grams;
	}
	qsort(*out, d->n, sizeof(**out), name_cmp);
	*n = d->n;
	free(tmp);
	return 0;
}

int
ls_verify_origin(struct ls_store *s, const uint8_t lot[LS_ID_LEN], struct ls_origin *o)
{
	return ls_verify_origin_of(s, lot, NULL, o);
}

static int
place_cmp(const void *a, const void *b)
{
	const struct ls_stage_place *x = a, *y = b;
	int d;

	if ((d = strcmp(x->country, y->country)) != 0 || (d = strcmp(x->site, y->site)) != 0 ||
	    (d = strcmp(x->org, y->org)) != 0)
		return d;
	return memcmp(x->record, y->record, LS_ID_LEN);
}

/* Parses a place_key into p (names are bounded by the key's making). */
static void
place_parse(const char *key, struct ls_stage_place *p)
{
	char *f[4] = {p->country, p->site, p->org, NULL};
	size_t cap[3] = {sizeof(p->country), sizeof(p->site), sizeof(p->org)};
	char hex[2 * LS_ID_LEN + 1];
	const char *k = key;

	for (int i = 0; i < 3; i++) {
		const char *end = strchr(k, 0x1f);
		size_t len = end ? (size_t)(end - k) : strlen(k);
		if (len >= cap[i])
			len = cap[i] - 1;
		memcpy(f[i], k, len);
		f[i][len] = '\0';
		k = end ? end + 1 : k + strlen(k);
	}
	str_copy(hex, sizeof(hex), k);
	if (ls_unhex(hex, p->record, LS_ID_LEN) != 0)
		memset(p->record, 0, LS_ID_LEN);
}

int
ls_origin_stage_countries(struct ls_origin_stage *st)
{
	struct ls_origin_part *v = NULL;
	size_t n = 0;

	free(st->by_country);
	st->by_country = NULL;
	st->n_country = 0;
	if (st->n_places > 0 && (v = calloc(st->n_places, sizeof(*v))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < st->n_places; i++) {
		size_t j;
		for (j = 0; j < n; j++)
			if (strcmp(v[j].name, st->places[i].country) == 0)
				break;
		if (j == n)
			str_copy(v[n++].name, sizeof(v[j].name), st->places[i].country);
		v[j].grams += st->places[i].grams;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), name_cmp);
	st->by_country = v;
	st->n_country = n;
	return 0;
}

/* The stages of element e of lot origin lo, for e->grams of it. */
static int
elem_stages(const struct ls_elem_origin *lo, struct ls_origin_elem *e)
{
	int rc = 0;

	if ((e->stages = calloc(LS_STAGE_COUNT, sizeof(*e->stages))) == NULL)
		return LS_ERR_NOMEM;
	for (int st = 0; st < LS_STAGE_COUNT && rc == 0; st++) {
		struct ls_origin_stage *os = &e->stages[e->n_stages];
		struct part_tmp *tmp = NULL;
		size_t n = 0;

		if ((rc = split_tmp(&lo->stage[st], e->grams, &tmp)) != 0)
			break;
		for (size_t i = 0; i < lo->stage[st].n; i++)
			n += strcmp(tmp[i].name, LS_STAGE_NONE) != 0;
		if (n == 0) {
			free(tmp);
			continue;
		}
		os->stage = st;
		if ((os->places = calloc(n, sizeof(*os->places))) == NULL) {
			free(tmp);
			rc = LS_ERR_NOMEM;
			break;
		}
		for (size_t i = 0; i < lo->stage[st].n; i++) {
			if (strcmp(tmp[i].name, LS_STAGE_NONE) == 0)
				continue;
			place_parse(tmp[i].name, &os->places[os->n_places]);
			os->places[os->n_places].grams = tmp[i].grams;
			os->grams += tmp[i].grams;
			os->n_places++;
		}
		free(tmp);
		qsort(os->places, os->n_places, sizeof(*os->places), place_cmp);
		e->n_stages++;
		rc = ls_origin_stage_countries(os);
	}
	return rc;
}

static int origin_of_holder(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const uint8_t *holder,
			    bool stages, struct ls_origin *o);

int
ls_verify_origin_of(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const uint8_t *holder,
		    struct ls_origin *o)
{
	return origin_of_holder(s, lot, holder, false, o);
}

int
ls_verify_origin_stages(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const uint8_t *holder,
			struct ls_origin *o)
{
	return origin_of_holder(s, lot, holder, true, o);
}

static int
origin_of_holder(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const uint8_t *holder,
		 bool stages, struct ls_origin *o)
{
	struct ls_txn t;
	struct ls_ocache *c = NULL;
	const struct ls_lot_origin *lo;
	uint64_t mass;
	int rc;

	memset(o, 0, sizeof(*o));
	memcpy(o->lot, lot, LS_ID_LEN);
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((rc = ls_qcache_begin(&t)) != 0)
		goto out;
	if ((c = stages ? ls_ocache_new_stages(&t) : ls_ocache_new(&t, NULL, 0)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	if ((rc = ls_ocache_get(c, lot, &lo)) != 0)
		goto out;
	mass = lo->grams;
	str_copy(o->category, sizeof(o->category), lo->category);
	if (holder != NULL) {
		o->has_holder = true;
		memcpy(o->holder, holder, LS_KEY_LEN);
		if ((rc = ls_txn_hold(&t, holder, lot, &mass)) != 0)
			goto out;
		if (mass > lo->grams) /* cannot happen: a holder holds part of a lot */
			mass = lo->grams;
	}
	o->grams = mass;
	if (mass == 0)
		goto out;
	if ((o->elems = calloc(lo->n ? lo->n : 1, sizeof(*o->elems))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < lo->n; i++) {
		struct ls_origin_elem *e = &o->elems[i];
		e->z = lo->e[i].z;
		e->grams = (uint64_t)((u128)mass * lo->e[i].ppm / LS_PPM_TOTAL);
		o->n++;
		if ((rc = split(&lo->e[i].d[LS_DIST_COUNTRY], e->grams, &e->by_country,
				&e->n_country)) != 0 ||
		    (rc = split(&lo->e[i].d[LS_DIST_MINE], e->grams, &e->by_mine, &e->n_mine)) !=
			0 ||
		    (rc = split(&lo->e[i].d[LS_DIST_PROCESSING], e->grams, &e->by_processing,
				&e->n_processing)) != 0 ||
		    (stages && (rc = elem_stages(&lo->e[i], e)) != 0))
			goto out;
	}
out:
	ls_ocache_free(&c);
	o->cost.records = t.n_records;
	o->cost.reads = t.n_reads;
	o->cost.seeks = t.n_seeks;
	ls_txn_abort(&t);
	if (rc != 0)
		ls_origin_release(o);
	return rc;
}

void
ls_origin_release(struct ls_origin *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->n; i++) {
		free(o->elems[i].by_country);
		free(o->elems[i].by_mine);
		free(o->elems[i].by_processing);
		for (size_t k = 0; k < o->elems[i].n_stages; k++) {
			free(o->elems[i].stages[k].places);
			free(o->elems[i].stages[k].by_country);
		}
		free(o->elems[i].stages);
	}
	free(o->elems);
	o->elems = NULL;
	o->n = 0;
}
