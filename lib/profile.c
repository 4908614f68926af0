/*
 * profile.c - compliance profiles applied to a lot's origin by stage
 * (profile.h). Question time: a pure function of the profile, the origin
 * and the date; integer arithmetic (a share is over its limit when
 * grams * 10^6 > max_ppm * stage grams, exactly).
 */
#include <stdlib.h>
#include <string.h>

#include "profile.h"

__extension__ typedef unsigned __int128 u128;

static const char *const names[] = {"compliant", "non-compliant", "unknown", "not-applicable"};

const char *
ls_compliance_name(enum ls_compliance c)
{
	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

/* Whether a place's country is one the ledger knows: "" (material that
 * entered past the stage) and "??" (a maker without a certified country,
 * such as a trust anchor) are unknown, never a country a rule lets pass. */
static bool
country_known(const char *cc)
{
	return ls_country_valid(cc);
}

static bool
country_in(const struct ls_prule *r, const char *cc)
{
	for (size_t i = 0; i < r->n_countries; i++)
		if (strcmp(r->countries[i], cc) == 0)
			return true;
	return false;
}

static bool
elem_watched(const struct ls_profile *p, uint32_t z)
{
	if (p->n_elements == 0)
		return true;
	for (size_t i = 0; i < p->n_elements; i++)
		if (p->elements[i] == z)
			return true;
	return false;
}

static const struct ls_origin_stage *
stage_of(const struct ls_origin_elem *e, int stage)
{
	for (size_t i = 0; i < e->n_stages; i++)
		if (e->stages[i].stage == stage)
			return &e->stages[i];
	return NULL;
}

struct acc {
	struct ls_compliance_result *r;
	size_t cap;
};

/* A finding for (rule, z, stage, country) of st: grams of the places of
 * that country (all places when all is true). */
static int
add_finding(struct acc *a, enum ls_compliance kind, size_t rule, uint32_t z,
	    const struct ls_origin_stage *st, const char *cc, bool all)
{
	struct ls_finding *f;

	if (a->r->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 8;
		struct ls_finding *nv = realloc(a->r->v, cap * sizeof(*nv));
		if (nv == NULL)
			return LS_ERR_NOMEM;
		a->r->v = nv;
		a->cap = cap;
	}
	f = &a->r->v[a->r->n++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->rule = rule;
	f->z = z;
	f->stage = st->stage;
	memcpy(f->country, cc, strlen(cc) + 1);
	f->of_grams = st->grams;
	for (size_t i = 0; i < st->n_places; i++) {
		const struct ls_stage_place *pl = &st->places[i];
		if (!all && strcmp(pl->country, cc) != 0)
			continue;
		f->grams += pl->grams;
		if (f->n_records < LS_PROFILE_RECORDS_MAX)
			memcpy(f->records[f->n_records++], pl->record, LS_ID_LEN);
		else
			f->records_more++;
	}
	f->ppm = st->grams ? (uint32_t)((u128)f->grams * LS_PPM_TOTAL / st->grams) : 0;
	return 0;
}

/* "No stage S in C": every barred country that did some of the element at
 * S, and the unknown share. */
static int
no_stage_in(struct acc *a, size_t ri, const struct ls_prule *r, uint32_t z,
	    const struct ls_origin_stage *st)
{
	int rc = 0;

	for (size_t k = 0; k < st->n_country && rc == 0; k++) {
		const char *cc = st->by_country[k].name;
		if (!country_known(cc))
			rc = add_finding(a, LS_COMPLIANCE_UNKNOWN, ri, z, st, cc, false);
		else if (country_in(r, cc))
			rc = add_finding(a, LS_NON_COMPLIANT, ri, z, st, cc, false);
	}
	return rc;
}

/* "At most P ppm from any single country at S" (countries of the rule not
 * counted): every country over; when none is, the unknown share when the
 * largest country with it, or it alone, could be over. */
static int
max_share(struct acc *a, size_t ri, const struct ls_prule *r, uint32_t z,
	  const struct ls_origin_stage *st)
{
	uint64_t unknown = 0, top = 0;
	bool over = false;
	int rc = 0;

	for (size_t k = 0; k < st->n_country; k++)
		if (!country_known(st->by_country[k].name))
			unknown += st->by_country[k].grams;
	for (size_t k = 0; k < st->n_country && rc == 0; k++) {
		const char *cc = st->by_country[k].name;
		uint64_t g = st->by_country[k].grams;
		if (!country_known(cc) || country_in(r, cc))
			continue;
		if (g > top)
			top = g;
		if ((u128)g * LS_PPM_TOTAL > (u128)r->max_ppm * st->grams) {
			over = true;
			rc = add_finding(a, LS_NON_COMPLIANT, ri, z, st, cc, false);
		}
	}
	if (rc == 0 && !over && unknown > 0 &&
	    (u128)(top + unknown) * LS_PPM_TOTAL > (u128)r->max_ppm * st->grams)
		for (size_t k = 0; k < st->n_country && rc == 0; k++)
			if (!country_known(st->by_country[k].name))
				rc = add_finding(a, LS_COMPLIANCE_UNKNOWN, ri, z, st,
						 st->by_country[k].name, false);
	return rc;
}

static int
add_pending(struct ls_compliance_result *r, size_t rule, int stage, uint64_t from)
{
	struct ls_pending *nv = realloc(r->pending, (r->n_pending + 1) * sizeof(*nv));

	if (nv == NULL)
		return LS_ERR_NOMEM;
	r->pending = nv;
	nv[r->n_pending].rule = rule;
	nv[r->n_pending].stage = stage;
	nv[r->n_pending].from = from;
	r->n_pending++;
	return 0;
}

int
ls_profile_check(const struct ls_profile *p, const struct ls_origin *o, uint64_t at,
		 struct ls_compliance_result *r, struct ls_err_ctx *ctx)
{
	struct acc a = {r, 0};
	bool applies = p->n_categories == 0;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (at < p->effective_from || (p->effective_until != 0 && at >= p->effective_until))
		return ls_err_set(ctx, LS_ERR_INVALID, "profile '%s' is not in force at that date",
				  p->name);
	for (size_t i = 0; i < p->n_categories; i++)
		if (strcmp(p->categories[i], o->category) == 0)
			applies = true;
	if (!applies) {
		r->verdict = LS_NOT_APPLICABLE;
		return 0;
	}
	for (size_t ri = 0; ri < p->n_rules && rc == 0; ri++) {
		const struct ls_prule *ru = &p->rules[ri];
		for (size_t si = 0; si < ru->n_stages && rc == 0; si++) {
			uint64_t from =
			    ru->stages[si].from ? ru->stages[si].from : p->effective_from;
			if (from > at) {
				rc = add_pending(r, ri, ru->stages[si].stage, from);
				continue;
			}
			for (size_t ei = 0; ei < o->n && rc == 0; ei++) {
				const struct ls_origin_elem *e = &o->elems[ei];
				const struct ls_origin_stage *st =
				    stage_of(e, ru->stages[si].stage);
				if (!elem_watched(p, e->z) || st == NULL || st->grams == 0)
					continue;
				rc = ru->kind == LS_PRULE_NO_STAGE_IN
					 ? no_stage_in(&a, ri, ru, e->z, st)
					 : max_share(&a, ri, ru, e->z, st);
			}
		}
	}
	if (rc != 0) {
		ls_compliance_release(r);
		return rc;
	}
	r->verdict = LS_COMPLIANT;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].kind == LS_NON_COMPLIANT)
			r->verdict = LS_NON_COMPLIANT;
		else if (r->verdict == LS_COMPLIANT)
			r->verdict = LS_COMPLIANCE_UNKNOWN;
	return 0;
}

void
ls_compliance_release(struct ls_compliance_result *r)
{
	if (r == NULL)
		return;
	free(r->v);
	free(r->pending);
	memset(r, 0, sizeof(*r));
}
