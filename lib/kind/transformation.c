/*
 * kind/transformation.c - a Transformation consumes input lots (quantities)
 * and produces output lots. Rare-earth elements balance; other elements are
 * informational.
 */
#include <string.h>

#include "kind.h"
#include "util.h"

__extension__ typedef unsigned __int128 u128;

static void
deps(const struct ls_record *r, struct ls_deps *d)
{
	for (size_t i = 0; i < r->transformation.n_inputs; i++)
		ls_deps_add(d, LS_DEP_LOT, r->transformation.inputs[i].lot);
}

/* Adds grams * ppm of every rare-earth element of comp into sums. */
static bool
add_ree(const struct ls_comp *c, uint64_t grams, uint32_t *zs, u128 *sums, size_t *nz, size_t cap)
{
	for (size_t e = 0; e < c->n; e++) {
		size_t k;
		if (!ls_element_is_ree(c->e[e].z))
			continue;
		for (k = 0; k < *nz && zs[k] != c->e[e].z; k++)
			;
		if (k == *nz) {
			if (*nz == cap)
				return false;
			zs[(*nz)++] = c->e[e].z;
		}
		sums[k] += (u128)grams * c->e[e].ppm;
	}
	return true;
}

/* Consensus: the author holds every input (in its own feed's order), the
 * transformation is not dated before an input lot was made, and no
 * rare-earth element comes out in a greater mass than went in. */
/* Micrograms (grams times ppm) as exact grams, trailing zeros trimmed
 * ("13.92 g"): the unit of the record's quantities. buf holds 48 bytes. */
static const char *
ug_format(u128 ug, char buf[48])
{
	char digits[48];
	size_t n = 0, o = 0;
	u128 whole = ug / 1000000;
	unsigned frac = (unsigned)(ug % 1000000);
	int fd = 6;

	do {
		digits[n++] = (char)('0' + (unsigned)(whole % 10));
		whole /= 10;
	} while (whole != 0 && n < sizeof(digits));
	while (n > 0)
		buf[o++] = digits[--n];
	if (frac != 0) {
		while (frac % 10 == 0) {
			frac /= 10;
			fd--;
		}
		o += (size_t)snprintf(buf + o, 48 - o, ".%0*u", fd, frac);
	}
	snprintf(buf + o, 48 - o, " g");
	return buf;
}

static enum ls_reason
check(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	const struct ls_transformation *tr = &r->transformation;
	enum { CAP = LS_COMP_MAX * 4 };
	u128 in[CAP] = {0}, out[CAP] = {0};
	uint32_t zs[CAP];
	size_t nz = 0;
	char h[17];
	int rc;

	for (size_t i = 0; i < tr->n_inputs; i++) {
		struct ls_lot_info li;
		uint64_t held;
		if ((rc = ls_txn_lot(t, tr->inputs[i].lot, &li)) != 0 ||
		    (rc = ls_txn_hold(t, r->author, tr->inputs[i].lot, &held)) != 0)
			return ls_why_store(w, rc);
		ls_h8(tr->inputs[i].lot, h);
		if (r->timestamp < li.timestamp)
			return LS_FAIL(w, LS_R_TIME_BACKWARDS,
				       "transformation input %zu: dated before lot %s was made", i,
				       h);
		if (held == 0)
			return LS_FAIL(w, LS_R_NOT_HOLDER,
				       "transformation input %zu: author holds none of lot %s", i,
				       h);
		if (tr->inputs[i].grams > held)
			return LS_FAIL(
			    w, LS_R_OVERSPEND,
			    "transformation input %zu: consumes %llu g of lot %s, author "
			    "holds %llu g",
			    i, (unsigned long long)tr->inputs[i].grams, h,
			    (unsigned long long)held);
	}
	/* Mass balance per rare-earth element, in gram-ppm (exact integers). */
	for (size_t i = 0; i < tr->n_inputs; i++) {
		struct ls_record *src = NULL;
		const struct ls_lotdef *d;
		bool fits;
		if ((rc = ls_txn_lot_def(t, tr->inputs[i].lot, &src, &d)) != 0)
			return ls_why_store(w, rc);
		fits = add_ree(&d->comp, tr->inputs[i].grams, zs, in, &nz, CAP);
		ls_record_free(src);
		if (!fits)
			return LS_FAIL(w, LS_R_MASS_BALANCE, "too many elements");
	}
	for (size_t o = 0; o < tr->n_outputs; o++)
		if (!add_ree(&tr->outputs[o].comp, tr->outputs[o].grams, zs, out, &nz, CAP))
			return LS_FAIL(w, LS_R_MASS_BALANCE, "too many elements");
	/* Every element out of balance, in grams as the record gives them. */
	{
		char msg[LS_ERR_MSG_MAX] = "", a[48], b[48];
		size_t off = 0, bad = 0;
		for (size_t k = 0; k < nz; k++) {
			if (out[k] <= in[k])
				continue;
			if (off < sizeof(msg))
				off += (size_t)snprintf(msg + off, sizeof(msg) - off,
							"%s%s %s out but %s in", bad ? "; " : "",
							ls_element_symbol(zs[k]),
							ug_format(out[k], a), ug_format(in[k], b));
			bad++;
		}
		if (bad != 0)
			return LS_FAIL(
			    w, LS_R_MASS_BALANCE,
			    "transformation puts out more than went in of %zu element%s: %s", bad,
			    bad == 1 ? "" : "s", msg);
	}
	return LS_R_OK;
}

static int
apply(struct ls_txn *t, const struct ls_record *r)
{
	const struct ls_transformation *tr = &r->transformation;
	int rc;

	for (size_t i = 0; i < tr->n_inputs; i++) {
		uint64_t held;
		if ((rc = ls_txn_hold(t, r->author, tr->inputs[i].lot, &held)) != 0 ||
		    (rc = ls_txn_hold_put(t, r->author, tr->inputs[i].lot,
					  held - tr->inputs[i].grams)) != 0 ||
		    (rc = ls_txn_child_put(t, tr->inputs[i].lot, r->id, r->type)) != 0)
			return rc;
	}
	for (uint32_t o = 0; o < tr->n_outputs; o++) {
		const struct ls_lotdef *d = &tr->outputs[o];
		struct ls_lot_info li;
		uint8_t lot[LS_ID_LEN];
		ls_lot_id(r->id, o, lot);
		memcpy(li.rec, r->id, LS_ID_LEN);
		li.index = o;
		li.grams = d->grams;
		memcpy(li.maker, r->author, LS_KEY_LEN);
		li.timestamp = r->timestamp;
		if ((rc = ls_txn_lot_put(t, lot, &li, d->label, r)) != 0 ||
		    (rc = ls_txn_hold_put(t, r->author, lot, d->grams)) != 0)
			return rc;
	}
	return 0;
}

/* Admission: each output's label is the author's first use of it, and no
 * two outputs share one. */
static enum ls_reason
admit(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	const struct ls_transformation *x = &r->transformation;
	enum ls_reason reason;

	for (size_t i = 0; i < x->n_outputs; i++) {
		const char *label = x->outputs[i].label;
		if (label == NULL || *label == '\0')
			continue;
		for (size_t j = 0; j < i; j++)
			if (x->outputs[j].label != NULL && strcmp(x->outputs[j].label, label) == 0)
				return LS_FAIL(w, LS_R_DUPLICATE_NAME,
					       "outputs %zu and %zu are both labelled '%s'", j + 1,
					       i + 1, label);
		if ((reason = ls_name_unused(t, r, false, label, w)) != LS_R_OK)
			return reason;
	}
	return LS_R_OK;
}

const struct ls_kind ls_kind_transformation = {
    .type = LS_REC_TRANSFORMATION,
    .roles = LS_ROLE_PROCESSOR | LS_ROLE_RECYCLER,
    .deps = deps,
    .check = check,
    .apply = apply,
    .admit = admit,
};
