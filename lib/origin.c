/*
 * origin.c - where the rare earths of a lot came from.
 *
 * For each rare-earth element of a lot, four distributions are kept as
 * integer fractions (scaled by LS_FRAC_ONE): by mine (site), by country of
 * mining, by country of last processing, and "touched" (the share that was
 * mined or processed in a country at any step, or made there with that
 * country's technology: what a de minimis rule of that country counts).
 * A transformation output inherits its inputs' distributions pro rata of the
 * element mass each input brought (grams consumed x ppm); its last processing
 * country is the processor's. Integer arithmetic only, so every node gets
 * the same figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "verify_int.h"

__extension__ typedef unsigned __int128 u128;

/* ---- id map: open addressing on the first 8 bytes of the id ---- */

struct slot {
	uint8_t id[32];
	void *val;
	bool used;
};

struct ls_idmap {
	struct slot *s;
	size_t cap, n;
};

struct ls_idmap *
ls_idmap_new(void)
{
	struct ls_idmap *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->cap = 64;
	if ((m->s = calloc(m->cap, sizeof(*m->s))) == NULL) {
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
	free((*m)->s);
	free(*m);
	*m = NULL;
}

static size_t
slot_of(const struct ls_idmap *m, const uint8_t id[32])
{
	uint64_t h;
	size_t i;

	memcpy(&h, id, sizeof(h)); /* ids are BLAKE2b digests: already uniform */
	for (i = h & (m->cap - 1); m->s[i].used && memcmp(m->s[i].id, id, 32) != 0;
	     i = (i + 1) & (m->cap - 1))
		;
	return i;
}

void *
ls_idmap_get(const struct ls_idmap *m, const uint8_t id[32])
{
	size_t i = slot_of(m, id);
	return m->s[i].used ? m->s[i].val : NULL;
}

bool
ls_idmap_has(const struct ls_idmap *m, const uint8_t id[32])
{
	return m->s[slot_of(m, id)].used;
}

int
ls_idmap_put(struct ls_idmap *m, const uint8_t id[32], void *val)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap) {
		struct ls_idmap big = {calloc(m->cap * 2, sizeof(struct slot)), m->cap * 2, 0};
		if (big.s == NULL)
			return LS_ERR_NOMEM;
		for (size_t k = 0; k < m->cap; k++)
			if (m->s[k].used) {
				size_t j = slot_of(&big, m->s[k].id);
				big.s[j] = m->s[k];
				big.n++;
			}
		free(m->s);
		*m = big;
	}
	i = slot_of(m, id);
	if (!m->s[i].used) {
		memcpy(m->s[i].id, id, 32);
		m->s[i].used = true;
		m->n++;
	}
	m->s[i].val = val;
	return 0;
}

size_t
ls_idmap_count(const struct ls_idmap *m)
{
	return m->n;
}

void
ls_idmap_each(const struct ls_idmap *m, void (*fn)(void *arg, const uint8_t id[32], void *val),
	      void *arg)
{
	for (size_t k = 0; k < m->cap; k++)
		if (m->s[k].used)
			fn(arg, m->s[k].id, m->s[k].val);
}

/* ---- distributions ---- */

uint64_t
ls_dist_frac(const struct ls_dist *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].name, name) == 0)
			return d->v[i].frac;
	return 0;
}

static void
dist_release(struct ls_dist *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static int
dist_single(struct ls_dist *d, const char *name)
{
	d->v = calloc(1, sizeof(*d->v));
	if (d->v == NULL || (d->v[0].name = strdup(name)) == NULL)
		return LS_ERR_NOMEM;
	d->v[0].frac = LS_FRAC_ONE;
	d->n = 1;
	return 0;
}

/* Accumulator of weighted fractions by name. */
struct acc {
	size_t n, cap;
	char **name;
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
		char **nn = realloc(a->name, cap * sizeof(*nn));
		u128 *ns;
		if (nn == NULL)
			return LS_ERR_NOMEM;
		a->name = nn;
		if ((ns = realloc(a->sum, cap * sizeof(*ns))) == NULL)
			return LS_ERR_NOMEM;
		a->sum = ns;
		a->cap = cap;
	}
	a->name[a->n] = (char *)(uintptr_t)name;
	a->sum[a->n] = w;
	a->n++;
	return 0;
}

static int
acc_to_dist(struct acc *a, u128 total, struct ls_dist *d)
{
	d->n = 0;
	if (a->n == 0 || total == 0)
		return 0;
	if ((d->v = calloc(a->n, sizeof(*d->v))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < a->n; i++) {
		if ((d->v[d->n].name = strdup(a->name[i])) == NULL)
			return LS_ERR_NOMEM;
		d->v[d->n].frac = (uint64_t)(a->sum[i] / total);
		d->n++;
	}
	return 0;
}

static void
acc_release(struct acc *a)
{
	free(a->name);
	free(a->sum);
	memset(a, 0, sizeof(*a));
}

/* ---- the cache ---- */

struct ls_ocache {
	struct ls_txn *t;
	struct ls_idmap *map;
};

struct ls_ocache *
ls_ocache_new(struct ls_txn *t)
{
	struct ls_ocache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->t = t;
	if ((c->map = ls_idmap_new()) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

static void
lot_origin_free(struct ls_lot_origin *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->n; i++)
		for (int k = 0; k < LS_DIST_COUNT; k++)
			dist_release(&o->e[i].d[k]);
	free(o->e);
	free(o);
}

static void
free_entry(void *arg, const uint8_t id[32], void *val)
{
	(void)arg;
	(void)id;
	lot_origin_free(val);
}

void
ls_ocache_free(struct ls_ocache **c)
{
	if (c == NULL || *c == NULL)
		return;
	ls_idmap_each((*c)->map, free_entry, NULL);
	ls_idmap_free(&(*c)->map);
	free(*c);
	*c = NULL;
}

void
ls_author_country(struct ls_txn *t, const struct ls_record *r, char country[3])
{
	struct ls_record *cert = NULL;

	country[0] = '\0';
	if (!r->has_cert || ls_txn_record(t, r->cert_id, &cert) != 0)
		return;
	if (cert->type == LS_REC_CERTIFICATE)
		memcpy(country, cert->certificate.country, 3);
	ls_record_free(cert);
}

static int
origin_header(struct ls_lot_origin *o, const uint8_t lot[32], const struct ls_lotdef *d,
	      const char *country)
{
	size_t n = 0;

	memcpy(o->id, lot, 32);
	o->grams = d->grams;
	o->value = d->value;
	snprintf(o->category, sizeof(o->category), "%s", d->category);
	snprintf(o->country, sizeof(o->country), "%s", country);
	for (size_t i = 0; i < d->comp.n; i++)
		n += ls_element_is_ree(d->comp.e[i].z);
	if ((o->e = calloc(n ? n : 1, sizeof(*o->e))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < d->comp.n; i++)
		if (ls_element_is_ree(d->comp.e[i].z)) {
			o->e[o->n].z = d->comp.e[i].z;
			o->e[o->n].ppm = d->comp.e[i].ppm;
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

/* Countries whose technology the maker had received before making the lot. */
static int
tech_countries(struct ls_txn *t, const uint8_t maker[32], uint64_t before, struct acc *out)
{
	MDB_cursor *c = NULL;
	MDB_val k = {LS_KEY_LEN, (void *)(uintptr_t)maker}, v;
	int mrc, rc = 0;

	if ((mrc = mdb_cursor_open(t->txn, t->s->techs, &c)) != 0)
		return ls_store_err(mrc);
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct ls_record *tr = NULL;
		char cc[3];
		const uint8_t *p = k.mv_data;
		if (k.mv_size != LS_KEY_LEN + 8 + LS_ID_LEN || memcmp(p, maker, LS_KEY_LEN) != 0)
			break;
		if (ls_be64_get(p + LS_KEY_LEN) > before)
			break;
		if (ls_txn_record(t, p + LS_KEY_LEN + 8, &tr) != 0)
			continue;
		ls_author_country(t, tr, cc);
		ls_record_free(tr);
		if (cc[0] == '\0')
			continue;
		bool seen = false;
		for (size_t i = 0; i < out->n; i++)
			seen |= strcmp(out->name[i], cc) == 0;
		if (seen)
			continue;
		char *nm = strdup(cc);
		if (nm == NULL || (rc = acc_add(out, nm, 1)) != 0) {
			free(nm);
			rc = LS_ERR_NOMEM;
			break;
		}
	}
	mdb_cursor_close(c);
	return rc;
}

/* Computes the origin of a lot whose inputs are all in the cache already. */
static int
compute(struct ls_ocache *c, const uint8_t lot[32], struct ls_lot_origin **out)
{
	struct ls_txn *t = c->t;
	struct ls_lot_info li;
	struct ls_record *rec = NULL;
	const struct ls_lotdef *d;
	struct ls_lot_origin *o = NULL;
	struct acc techs = {0};
	char country[3];
	int rc;

	*out = NULL;
	if ((rc = ls_txn_lot(t, lot, &li)) != 0 || (rc = ls_txn_lot_def(t, lot, &rec, &d)) != 0)
		return rc;
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	if (rec->type == LS_REC_LOT) {
		if ((rc = origin_header(o, lot, d, rec->lot.country)) != 0)
			goto out;
		for (size_t i = 0; i < o->n; i++) {
			struct ls_elem_origin *e = &o->e[i];
			if ((rc = dist_single(&e->d[LS_DIST_MINE], rec->lot.site)) != 0 ||
			    (rc = dist_single(&e->d[LS_DIST_COUNTRY], rec->lot.country)) != 0 ||
			    (rc = dist_single(&e->d[LS_DIST_PROCESSING], rec->lot.country)) != 0 ||
			    (rc = dist_single(&e->d[LS_DIST_TOUCHED], rec->lot.country)) != 0)
				goto out;
		}
		*out = o;
		o = NULL;
		goto out;
	}
	ls_author_country(t, rec, country);
	if ((rc = origin_header(o, lot, d, country)) != 0)
		goto out;
	if ((rc = tech_countries(t, rec->author, rec->timestamp, &techs)) != 0)
		goto out;
	for (size_t i = 0; i < o->n; i++) {
		struct ls_elem_origin *e = &o->e[i];
		struct acc a[LS_DIST_COUNT] = {{0}};
		u128 total = 0;
		const struct ls_transformation *tr = &rec->transformation;

		for (size_t k = 0; k < tr->n_inputs && rc == 0; k++) {
			const struct ls_lot_origin *in = ls_idmap_get(c->map, tr->inputs[k].lot);
			const struct ls_elem_origin *ie = in ? elem_of(in, e->z) : NULL;
			u128 w;
			if (ie == NULL)
				continue;
			w = (u128)tr->inputs[k].grams * ie->ppm;
			total += w;
			for (int dk = 0; dk < LS_DIST_COUNT && rc == 0; dk++) {
				if (dk == LS_DIST_PROCESSING)
					continue;
				for (size_t s = 0; s < ie->d[dk].n && rc == 0; s++) {
					const struct ls_share *sh = &ie->d[dk].v[s];
					if (dk == LS_DIST_TOUCHED && strcmp(sh->name, country) == 0)
						continue; /* set to one below */
					rc = acc_add(&a[dk], sh->name, w * sh->frac);
				}
			}
		}
		if (rc == 0)
			rc = acc_to_dist(&a[LS_DIST_MINE], total, &e->d[LS_DIST_MINE]);
		if (rc == 0)
			rc = acc_to_dist(&a[LS_DIST_COUNTRY], total, &e->d[LS_DIST_COUNTRY]);
		if (rc == 0)
			rc = dist_single(&e->d[LS_DIST_PROCESSING], country[0] ? country : "??");
		/* Touched: everything this processor made is of its country, and of
		 * every country whose technology it received before. */
		for (size_t k = 0; rc == 0 && k < techs.n; k++)
			if (strcmp(techs.name[k], country) != 0) {
				size_t s;
				for (s = 0; s < a[LS_DIST_TOUCHED].n; s++)
					if (strcmp(a[LS_DIST_TOUCHED].name[s], techs.name[k]) == 0)
						break;
				if (s == a[LS_DIST_TOUCHED].n)
					rc = acc_add(&a[LS_DIST_TOUCHED], techs.name[k], 0);
				if (rc == 0)
					a[LS_DIST_TOUCHED].sum[s] = total * LS_FRAC_ONE;
			}
		if (rc == 0 && country[0] != '\0')
			rc = acc_add(&a[LS_DIST_TOUCHED], country, total * LS_FRAC_ONE);
		if (rc == 0)
			rc = acc_to_dist(&a[LS_DIST_TOUCHED], total, &e->d[LS_DIST_TOUCHED]);
		for (int dk = 0; dk < LS_DIST_COUNT; dk++)
			acc_release(&a[dk]);
		if (rc != 0)
			goto out;
	}
	*out = o;
	o = NULL;
out:
	for (size_t k = 0; k < techs.n; k++)
		free(techs.name[k]);
	acc_release(&techs);
	lot_origin_free(o);
	ls_record_free(rec);
	return rc;
}

/* Input lots of lot (none for a registration). *inputs malloc'd. */
static int
inputs_of(struct ls_txn *t, const uint8_t lot[32], uint8_t (**inputs)[32], size_t *n)
{
	struct ls_lot_info li;
	struct ls_record *rec = NULL;
	int rc;

	*inputs = NULL;
	*n = 0;
	if ((rc = ls_txn_lot(t, lot, &li)) != 0)
		return rc;
	if (li.index == LS_LOT_REGISTRATION)
		return 0;
	if ((rc = ls_txn_record(t, li.rec, &rec)) != 0)
		return rc;
	if (rec->type == LS_REC_TRANSFORMATION && rec->transformation.n_inputs > 0) {
		*inputs = malloc(rec->transformation.n_inputs * 32);
		if (*inputs == NULL) {
			rc = LS_ERR_NOMEM;
		} else {
			for (size_t i = 0; i < rec->transformation.n_inputs; i++)
				memcpy((*inputs)[i], rec->transformation.inputs[i].lot, 32);
			*n = rec->transformation.n_inputs;
		}
	}
	ls_record_free(rec);
	return rc;
}

int
ls_ocache_get(struct ls_ocache *c, const uint8_t lot[LS_ID_LEN], const struct ls_lot_origin **out)
{
	uint8_t(*stack)[32] = NULL;
	size_t sp = 0, cap = 0;
	int rc = 0;

	if ((*out = ls_idmap_get(c->map, lot)) != NULL)
		return 0;
		/* Iterative post-order walk: deep chains must not exhaust the stack. */
#define PUSH(id)                                                                                   \
	do {                                                                                       \
		if (sp == cap) {                                                                   \
			size_t nc = cap ? cap * 2 : 64;                                            \
			uint8_t(*ns)[32] = realloc(stack, nc * 32);                                \
			if (ns == NULL) {                                                          \
				rc = LS_ERR_NOMEM;                                                 \
				goto out;                                                          \
			}                                                                          \
			stack = ns;                                                                \
			cap = nc;                                                                  \
		}                                                                                  \
		memcpy(stack[sp++], (id), 32);                                                     \
	} while (0)
	PUSH(lot);
	while (sp > 0) {
		uint8_t cur[32], (*in)[32] = NULL;
		size_t n = 0;
		bool ready = true;
		struct ls_lot_origin *o;

		memcpy(cur, stack[sp - 1], 32);
		if (ls_idmap_has(c->map, cur)) {
			sp--;
			continue;
		}
		if ((rc = inputs_of(c->t, cur, &in, &n)) != 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			if (!ls_idmap_has(c->map, in[i])) {
				ready = false;
				PUSH(in[i]);
			}
		free(in);
		if (!ready)
			continue;
		sp--;
		if ((rc = compute(c, cur, &o)) != 0)
			goto out;
		if ((rc = ls_idmap_put(c->map, cur, o)) != 0) {
			lot_origin_free(o);
			goto out;
		}
	}
#undef PUSH
	*out = ls_idmap_get(c->map, lot);
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
 * add up to grams exactly. */
static int
split(const struct ls_dist *d, uint64_t grams, struct ls_origin_part **out, size_t *n)
{
	struct part_tmp *tmp;
	u128 fsum = 0;
	uint64_t given = 0;

	*out = NULL;
	*n = 0;
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
	struct ls_txn t;
	struct ls_ocache *c = NULL;
	const struct ls_lot_origin *lo;
	int rc;

	memset(o, 0, sizeof(*o));
	memcpy(o->lot, lot, LS_ID_LEN);
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((c = ls_ocache_new(&t)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	if ((rc = ls_ocache_get(c, lot, &lo)) != 0)
		goto out;
	if ((o->elems = calloc(lo->n ? lo->n : 1, sizeof(*o->elems))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < lo->n; i++) {
		struct ls_origin_elem *e = &o->elems[i];
		e->z = lo->e[i].z;
		e->grams = (uint64_t)((u128)lo->grams * lo->e[i].ppm / LS_PPM_TOTAL);
		o->n++;
		if ((rc = split(&lo->e[i].d[LS_DIST_COUNTRY], e->grams, &e->by_country,
				&e->n_country)) != 0 ||
		    (rc = split(&lo->e[i].d[LS_DIST_MINE], e->grams, &e->by_mine, &e->n_mine)) !=
			0 ||
		    (rc = split(&lo->e[i].d[LS_DIST_PROCESSING], e->grams, &e->by_processing,
				&e->n_processing)) != 0)
			goto out;
	}
out:
	ls_ocache_free(&c);
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
	}
	free(o->elems);
	o->elems = NULL;
	o->n = 0;
}
