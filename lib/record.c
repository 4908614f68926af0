/*
 * record.c - the record codec: the only file that touches protobuf-c types.
 *
 * Untrusted bytes are unpacked with a budgeted allocator, every field is
 * checked, the result is copied into a plain struct ls_record with its own
 * arena, and the unpacked message is freed before returning.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <protobuf-c/protobuf-c.h>
#include <sodium.h>

#include "lodestone.pb-c.h"
#include "pbuf_int.h"
#include "record.h"
#include "util.h"

/* ---- arena: one owner for every pointer inside a record ---- */

struct ls_arena_block {
	struct ls_arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

struct ls_arena {
	struct ls_arena_block *head;
};

static void *
arena_alloc(struct ls_arena *a, size_t n)
{
	struct ls_arena_block *b = a->head;
	size_t align = sizeof(max_align_t), off;

	n = (n + align - 1) / align * align;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > 4096 ? n : 4096;
		b = malloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	off = b->used;
	b->used += n;
	return memset((char *)b->data + off, 0, n);
}

static void
arena_free(struct ls_arena *a)
{
	struct ls_arena_block *b, *next;

	if (a == NULL)
		return;
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

/* ---- budgeted allocator for unpacking untrusted bytes ---- */

/* protobuf-c's unpack needs a few times the input size for the object tree. */
#define UNPACK_BUDGET(len) (16 * (len) + 64 * 1024)

/* ---- names ---- */

static const char *const rtype_names[LS_REC_TYPE_COUNT] = {
    [LS_REC_NONE] = "none",
    [LS_REC_CERTIFICATE] = "certificate",
    [LS_REC_REVOCATION] = "revocation",
    [LS_REC_POLICY] = "policy",
    [LS_REC_LICENSE] = "license",
    [LS_REC_LOT] = "lot",
    [LS_REC_TRANSFORMATION] = "transformation",
    [LS_REC_TRANSFER] = "transfer",
    [LS_REC_RECEIPT] = "receipt",
    [LS_REC_OWNERSHIP] = "ownership",
};

const char *
ls_rtype_name(enum ls_rtype t)
{
	if ((unsigned)t >= LS_REC_TYPE_COUNT)
		return "unknown";
	return rtype_names[t];
}

enum ls_rtype
ls_rtype_parse(const char *name)
{
	for (int t = LS_REC_CERTIFICATE; t < LS_REC_TYPE_COUNT; t++)
		if (strcasecmp(name, rtype_names[t]) == 0)
			return (enum ls_rtype)t;
	return LS_REC_NONE;
}

static const char *const role_names[] = {"authority", "miner",   "processor", "exporter",
					 "importer",  "auditor", "recycler"};

const char *
ls_role_name(uint32_t role)
{
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (role == (1u << i))
			return role_names[i];
	return NULL;
}

int
ls_roles_parse(const char *s, uint32_t *roles, struct ls_err_ctx *ctx)
{
	const char *p = s;

	*roles = 0;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		size_t i;
		for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
			if (strlen(role_names[i]) == n && strncasecmp(p, role_names[i], n) == 0)
				break;
		if (i == sizeof(role_names) / sizeof(role_names[0]))
			return ls_err_set(ctx, LS_ERR_INVALID, "unknown role '%.*s'", (int)n, p);
		*roles |= 1u << i;
		p += n;
		if (*p == ',')
			p++;
	}
	if (*roles == 0)
		return ls_err_set(ctx, LS_ERR_INVALID, "no role given");
	return 0;
}

void
ls_roles_format(uint32_t roles, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
		if (!(roles & (1u << i)))
			continue;
		int w = snprintf(buf + off, len - off, "%s%s", off ? "," : "", role_names[i]);
		if (w < 0 || (size_t)w >= len - off)
			return;
		off += (size_t)w;
	}
}

static const char *const element_symbols[] = {
    NULL, "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si",
    "P",  "S",  "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu",
    "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru",
    "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr",
    "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",
    "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac",
    "Th", "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf",
    "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};

#define Z_MAX 118

const char *
ls_element_symbol(uint32_t z)
{
	if (z == 0 || z > Z_MAX)
		return NULL;
	return element_symbols[z];
}

uint32_t
ls_element_z(const char *sym)
{
	for (uint32_t z = 1; z <= Z_MAX; z++)
		if (strcasecmp(sym, element_symbols[z]) == 0)
			return z;
	return 0;
}

static const char *const categories[] = {"ore",    "concentrate", "oxide",   "metal", "alloy",
					 "magnet", "component",   "product", "scrap"};
static const char *const techs[] = {"tech:mining", "tech:separation", "tech:smelting",
				    "tech:magnet", "tech:recycling"};

bool
ls_category_valid(const char *s)
{
	for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
		if (strcmp(s, categories[i]) == 0)
			return true;
	return false;
}

bool
ls_tech_valid(const char *s)
{
	for (size_t i = 0; i < sizeof(techs) / sizeof(techs[0]); i++)
		if (strcmp(s, techs[i]) == 0)
			return true;
	return false;
}

static int
elem_cmp(const void *a, const void *b)
{
	const struct ls_elem *x = a, *y = b;
	return (x->z > y->z) - (x->z < y->z);
}

/* Sorts comp, refuses duplicates, unknown elements and sums over 10^6 ppm. */
static int
comp_check(struct ls_comp *comp, const char *where, struct ls_err_ctx *ctx)
{
	uint64_t sum = 0;

	qsort(comp->e, comp->n, sizeof(comp->e[0]), elem_cmp);
	for (size_t i = 0; i < comp->n; i++) {
		if (ls_element_symbol(comp->e[i].z) == NULL)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "%s: unknown element %u", where,
					  comp->e[i].z);
		if (i > 0 && comp->e[i].z == comp->e[i - 1].z)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "%s: element %s listed twice",
					  where, ls_element_symbol(comp->e[i].z));
		if (comp->e[i].ppm == 0 || comp->e[i].ppm > LS_PPM_TOTAL)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "%s: %s ppm %u out of range",
					  where, ls_element_symbol(comp->e[i].z), comp->e[i].ppm);
		sum += comp->e[i].ppm;
	}
	if (sum > LS_PPM_TOTAL)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "%s: composition sums to %llu ppm, over 1000000", where,
				  (unsigned long long)sum);
	return 0;
}

int
ls_comp_parse(const char *s, struct ls_comp *comp, struct ls_err_ctx *ctx)
{
	const char *p = s;

	memset(comp, 0, sizeof(*comp));
	while (*p != '\0') {
		char sym[4];
		size_t n = strcspn(p, "=,");
		char *end;
		unsigned long v;

		if (n == 0 || n >= sizeof(sym) || p[n] != '=')
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "malformed composition '%s': expected EL=PPM", s);
		memcpy(sym, p, n);
		sym[n] = '\0';
		if (comp->n == LS_COMP_MAX)
			return ls_err_set(ctx, LS_ERR_INVALID, "composition has over %d elements",
					  LS_COMP_MAX);
		comp->e[comp->n].z = ls_element_z(sym);
		if (comp->e[comp->n].z == 0)
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "malformed composition '%s': unknown element '%s'", s,
					  sym);
		p += n + 1;
		if (*p < '0' || *p > '9')
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "malformed composition '%s': ppm of %s is not a number",
					  s, sym);
		v = strtoul(p, &end, 10);
		if ((*end != ',' && *end != '\0') || v == 0 || v > LS_PPM_TOTAL)
			return ls_err_set(
			    ctx, LS_ERR_INVALID,
			    "malformed composition '%s': ppm of %s must be 1..1000000", s, sym);
		comp->e[comp->n++].ppm = (uint32_t)v;
		p = *end == ',' ? end + 1 : end;
	}
	if (comp_check(comp, "composition", ctx) != 0)
		return LS_ERR_INVALID;
	return 0;
}

uint32_t
ls_comp_ppm(const struct ls_comp *comp, uint32_t z)
{
	for (size_t i = 0; i < comp->n; i++)
		if (comp->e[i].z == z)
			return comp->e[i].ppm;
	return 0;
}

void
ls_lot_id(const uint8_t rec_id[LS_ID_LEN], uint32_t index, uint8_t out[LS_ID_LEN])
{
	crypto_generichash_state st;
	uint8_t be[4] = {(uint8_t)(index >> 24), (uint8_t)(index >> 16), (uint8_t)(index >> 8),
			 (uint8_t)index};

	crypto_generichash_init(&st, NULL, 0, LS_ID_LEN);
	crypto_generichash_update(&st, (const uint8_t *)LS_LOT_DOMAIN,
				  sizeof(LS_LOT_DOMAIN)); /* with its NUL */
	crypto_generichash_update(&st, rec_id, LS_ID_LEN);
	crypto_generichash_update(&st, be, sizeof(be));
	crypto_generichash_final(&st, out, LS_ID_LEN);
}

/* ---- validation of unpacked fields ---- */

static int
check_str(const char *s, bool required, const char *field, struct ls_err_ctx *ctx)
{
	size_t n;

	if (s == NULL || *s == '\0') {
		if (required)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "%s is empty", field);
		return 0;
	}
	n = strlen(s);
	if (n > LS_STR_MAX)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "%s is longer than %d bytes", field,
				  LS_STR_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "%s has a control character",
					  field);
	return 0;
}

static int
check_bin(const ProtobufCBinaryData *b, size_t want, const char *field, struct ls_err_ctx *ctx)
{
	if (b->len != want)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "%s is %zu bytes, not %zu", field, b->len,
				  want);
	return 0;
}

static int
check_country(const char *s, const char *field, struct ls_err_ctx *ctx)
{
	const char *hint;

	if (ls_country_valid(s))
		return 0;
	hint = ls_country_hint(s);
	return ls_err_set(ctx, LS_ERR_MALFORMED,
			  "%s '%.8s' is not an assigned ISO 3166-1 alpha-2 country code%s%s%s",
			  field, s ? s : "", hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
}

static int
check_grams(uint64_t g, bool allow_zero, const char *field, struct ls_err_ctx *ctx)
{
	if ((g == 0 && !allow_zero) || g > LS_GRAMS_MAX)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "%s %llu out of range (1..10^15)", field,
				  (unsigned long long)g);
	return 0;
}

static int
check_count(size_t n, size_t max, const char *field, struct ls_err_ctx *ctx)
{
	if (n > max)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "%s has %zu entries, over %zu", field, n,
				  max);
	return 0;
}

static int
check_unknown(const ProtobufCMessage *m, const char *what, struct ls_err_ctx *ctx)
{
	if (m->n_unknown_fields != 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "%s has unknown fields", what);
	return 0;
}

/* Copies a checked string into the record arena. */
static const char *
dup(struct ls_record *r, const char *s)
{
	return ls_record_strdup(r, s ? s : "");
}

static int
copy_strlist(struct ls_record *r, struct ls_strlist *dst, char **v, size_t n, const char *field,
	     struct ls_err_ctx *ctx)
{
	const char **out;
	int rc;

	if ((rc = check_count(n, LS_LIST_MAX, field, ctx)) != 0)
		return rc;
	out = ls_record_alloc(r, (n ? n : 1) * sizeof(*out));
	if (out == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((rc = check_str(v[i], true, field, ctx)) != 0)
			return rc;
		if ((out[i] = dup(r, v[i])) == NULL)
			return LS_ERR_NOMEM;
	}
	dst->n = n;
	dst->v = out;
	return 0;
}

static int
copy_keylist(struct ls_record *r, struct ls_keylist *dst, const ProtobufCBinaryData *v, size_t n,
	     const char *field, struct ls_err_ctx *ctx)
{
	uint8_t(*out)[LS_KEY_LEN];
	int rc;

	if ((rc = check_count(n, LS_LIST_MAX, field, ctx)) != 0)
		return rc;
	out = ls_record_alloc(r, (n ? n : 1) * LS_KEY_LEN);
	if (out == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((rc = check_bin(&v[i], LS_KEY_LEN, field, ctx)) != 0)
			return rc;
		memcpy(out[i], v[i].data, LS_KEY_LEN);
	}
	dst->n = n;
	dst->v = (const uint8_t(*)[LS_KEY_LEN])out;
	return 0;
}

static int
copy_comp(struct ls_comp *dst, Lodestone__ElementShare **v, size_t n, const char *field,
	  struct ls_err_ctx *ctx)
{
	int rc;

	if ((rc = check_count(n, LS_COMP_MAX, field, ctx)) != 0)
		return rc;
	dst->n = n;
	for (size_t i = 0; i < n; i++) {
		if ((rc = check_unknown(&v[i]->base, field, ctx)) != 0)
			return rc;
		dst->e[i].z = v[i]->z;
		dst->e[i].ppm = v[i]->ppm;
	}
	return comp_check(dst, field, ctx);
}

static int
from_lotdef(struct ls_record *r, struct ls_lotdef *d, const char *label, const char *category,
	    uint64_t grams, Lodestone__ElementShare **comp, size_t n_comp, bool has_value,
	    uint64_t value, struct ls_err_ctx *ctx)
{
	int rc;

	if ((rc = check_str(label, true, "label", ctx)) != 0 ||
	    (rc = check_str(category, true, "category", ctx)) != 0 ||
	    (rc = check_grams(grams, false, "grams", ctx)) != 0 ||
	    (rc = copy_comp(&d->comp, comp, n_comp, "composition", ctx)) != 0)
		return rc;
	if (!ls_category_valid(category))
		return ls_err_set(ctx, LS_ERR_MALFORMED, "unknown category '%s'", category);
	if (has_value && value == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "declared value is 0");
	d->label = dup(r, label);
	d->category = dup(r, category);
	if (d->label == NULL || d->category == NULL)
		return LS_ERR_NOMEM;
	d->grams = grams;
	d->value = has_value ? value : 0;
	return 0;
}

static int
check_countries(const struct ls_strlist *l, const char *field, struct ls_err_ctx *ctx)
{
	int rc;
	for (size_t i = 0; i < l->n; i++)
		if ((rc = check_country(l->v[i], field, ctx)) != 0)
			return rc;
	return 0;
}

static int
from_certificate(struct ls_record *r, const Lodestone__Certificate *m, struct ls_err_ctx *ctx)
{
	struct ls_certificate *c = &r->certificate;
	int rc;

	if ((rc = check_unknown(&m->base, "certificate", ctx)) != 0 ||
	    (rc = check_bin(&m->subject, LS_KEY_LEN, "certificate subject", ctx)) != 0 ||
	    (rc = check_str(m->org, true, "certificate org", ctx)) != 0 ||
	    (rc = check_country(m->country, "certificate country", ctx)) != 0)
		return rc;
	if (m->roles == 0 || (m->roles & ~(uint32_t)LS_ROLE_ALL) != 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "certificate roles 0x%x out of range",
				  m->roles);
	memcpy(c->subject, m->subject.data, LS_KEY_LEN);
	if ((c->org = dup(r, m->org)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(c->country, m->country, 3);
	c->roles = m->roles;
	c->valid_from = m->has_valid_from ? m->valid_from : r->timestamp;
	c->valid_until = m->has_valid_until ? m->valid_until : 0;
	if (m->has_valid_until && c->valid_until <= c->valid_from)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "certificate valid_until is not after valid_from");
	if ((rc = copy_strlist(r, &c->jurisdictions, m->jurisdictions, m->n_jurisdictions,
			       "certificate jurisdictions", ctx)) != 0 ||
	    (rc = check_countries(&c->jurisdictions, "certificate jurisdictions", ctx)) != 0)
		return rc;
	if (c->jurisdictions.n > 0 && (c->roles & LS_ROLE_AUTHORITY) == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "certificate jurisdictions given for a key without the "
				  "authority role");
	return 0;
}

bool
ls_cert_acts_for(const struct ls_certificate *c, const char *cc)
{
	if (c->jurisdictions.n == 0)
		return strcasecmp(c->country, cc) == 0;
	return ls_strlist_has(&c->jurisdictions, cc);
}

static int
from_revocation(struct ls_record *r, const Lodestone__Revocation *m, struct ls_err_ctx *ctx)
{
	int rc;

	if ((rc = check_unknown(&m->base, "revocation", ctx)) != 0 ||
	    (rc = check_bin(&m->subject, LS_KEY_LEN, "revocation subject", ctx)) != 0 ||
	    (rc = check_str(m->reason, false, "revocation reason", ctx)) != 0)
		return rc;
	memcpy(r->revocation.subject, m->subject.data, LS_KEY_LEN);
	r->revocation.effective = m->effective;
	if ((r->revocation.reason = dup(r, m->reason)) == NULL)
		return LS_ERR_NOMEM;
	return 0;
}

static int
from_policy(struct ls_record *r, const Lodestone__Policy *m, struct ls_err_ctx *ctx)
{
	struct ls_policy *p = &r->policy;
	struct ls_suspension *sus;
	int rc;

	if ((rc = check_unknown(&m->base, "policy", ctx)) != 0 ||
	    (rc = check_country(m->jurisdiction, "policy jurisdiction", ctx)) != 0 ||
	    (rc = check_str(m->name, true, "policy name", ctx)) != 0 ||
	    (rc = check_count(m->n_controlled_elements, LS_LIST_MAX, "policy controlled_elements",
			      ctx)) != 0 ||
	    (rc = check_count(m->n_suspends, LS_LIST_MAX, "policy suspends", ctx)) != 0)
		return rc;
	memcpy(p->jurisdiction, m->jurisdiction, 3);
	if ((p->name = dup(r, m->name)) == NULL)
		return LS_ERR_NOMEM;
	p->effective_from = m->effective_from;
	p->effective_until = m->has_effective_until ? m->effective_until : 0;
	if (m->has_effective_until && p->effective_until <= p->effective_from)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "policy effective_until is not after effective_from");
	p->n_elements = m->n_controlled_elements;
	for (size_t i = 0; i < m->n_controlled_elements; i++) {
		if (ls_element_symbol(m->controlled_elements[i]) == NULL)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "policy controlled element %u unknown",
					  m->controlled_elements[i]);
		p->elements[i] = m->controlled_elements[i];
	}
	if ((rc = copy_strlist(r, &p->controlled_categories, m->controlled_categories,
			       m->n_controlled_categories, "policy controlled_categories", ctx)) ||
	    (rc = copy_strlist(r, &p->controlled_tech, m->controlled_tech, m->n_controlled_tech,
			       "policy controlled_tech", ctx)) ||
	    (rc = copy_strlist(r, &p->exempt_categories, m->exempt_categories,
			       m->n_exempt_categories, "policy exempt_categories", ctx)) ||
	    (rc = copy_strlist(r, &p->denied_end_uses, m->denied_end_uses, m->n_denied_end_uses,
			       "policy denied_end_uses", ctx)) ||
	    (rc = copy_keylist(r, &p->denied_end_user_keys, m->denied_end_user_keys,
			       m->n_denied_end_user_keys, "policy denied_end_user_keys", ctx)) ||
	    (rc = copy_strlist(r, &p->denied_end_user_names, m->denied_end_user_names,
			       m->n_denied_end_user_names, "policy denied_end_user_names", ctx)) ||
	    (rc = copy_keylist(r, &p->supersedes, m->supersedes, m->n_supersedes,
			       "policy supersedes", ctx)))
		return rc;
	if (m->has_de_minimis_ppm && m->de_minimis_ppm > LS_PPM_TOTAL)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "policy de_minimis_ppm %u over 1000000",
				  m->de_minimis_ppm);
	p->de_minimis_ppm = m->has_de_minimis_ppm ? m->de_minimis_ppm : 0;
	if (m->has_de_minimis_basis &&
	    m->de_minimis_basis != LODESTONE__DE_MINIMIS_BASIS__BASIS_MASS &&
	    m->de_minimis_basis != LODESTONE__DE_MINIMIS_BASIS__BASIS_VALUE)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "policy de_minimis_basis %d unknown",
				  (int)m->de_minimis_basis);
	p->de_minimis_basis =
	    m->has_de_minimis_basis &&
		    m->de_minimis_basis == LODESTONE__DE_MINIMIS_BASIS__BASIS_VALUE
		? LS_BASIS_VALUE
		: LS_BASIS_MASS;
	p->applies_to_reexport = m->has_applies_to_reexport && m->applies_to_reexport;
	p->applies_to_foreign_tech = m->has_applies_to_foreign_tech && m->applies_to_foreign_tech;
	sus = ls_record_alloc(r, (m->n_suspends ? m->n_suspends : 1) * sizeof(*sus));
	if (sus == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < m->n_suspends; i++) {
		const Lodestone__Suspension *s = m->suspends[i];
		if ((rc = check_unknown(&s->base, "policy suspension", ctx)) != 0 ||
		    (rc = check_bin(&s->policy, LS_ID_LEN, "policy suspension id", ctx)) != 0)
			return rc;
		if (s->until <= s->from)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "policy suspension ends before it starts");
		memcpy(sus[i].policy, s->policy.data, LS_ID_LEN);
		sus[i].from = s->from;
		sus[i].until = s->until;
	}
	p->n_suspends = m->n_suspends;
	p->suspends = sus;
	return 0;
}

static int
check_items(const struct ls_strlist *items, struct ls_err_ctx *ctx)
{
	for (size_t i = 0; i < items->n; i++) {
		const char *it = items->v[i];
		if (!ls_category_valid(it) && !ls_tech_valid(it) && ls_element_z(it) == 0)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "license item '%s' unknown", it);
	}
	return 0;
}

static int
from_license(struct ls_record *r, const Lodestone__License *m, struct ls_err_ctx *ctx)
{
	struct ls_license *l = &r->license;
	int rc;

	if ((rc = check_unknown(&m->base, "license", ctx)) != 0 ||
	    (rc = check_str(m->number, true, "license number", ctx)) != 0 ||
	    (rc = check_bin(&m->licensee, LS_KEY_LEN, "license licensee", ctx)) != 0 ||
	    (rc = check_str(m->end_use, true, "license end_use", ctx)) != 0 ||
	    (rc = check_grams(m->max_grams, true, "license max_grams", ctx)) != 0)
		return rc;
	if (m->has_kind && m->kind != LODESTONE__LICENSE_KIND__LICENSE_INDIVIDUAL &&
	    m->kind != LODESTONE__LICENSE_KIND__LICENSE_GENERAL)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "license kind %d unknown", (int)m->kind);
	if (m->has_end_user && (rc = check_bin(&m->end_user, LS_KEY_LEN, "license end_user", ctx)))
		return rc;
	if ((l->number = dup(r, m->number)) == NULL || (l->end_use = dup(r, m->end_use)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(l->licensee, m->licensee.data, LS_KEY_LEN);
	l->general = m->has_kind && m->kind == LODESTONE__LICENSE_KIND__LICENSE_GENERAL;
	l->max_grams = m->max_grams;
	l->has_end_user = m->has_end_user;
	if (m->has_end_user)
		memcpy(l->end_user, m->end_user.data, LS_KEY_LEN);
	l->valid_from = m->has_valid_from ? m->valid_from : r->timestamp;
	l->valid_until = m->has_valid_until ? m->valid_until : 0;
	if (m->has_valid_until && l->valid_until <= l->valid_from)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "license valid_until is not after valid_from");
	l->no_military = m->has_no_military && m->no_military;
	if ((rc = copy_strlist(r, &l->items, m->items, m->n_items, "license items", ctx)) ||
	    (rc = copy_strlist(r, &l->destinations, m->destinations, m->n_destinations,
			       "license destinations", ctx)) ||
	    (rc = copy_strlist(r, &l->no_reexport_to, m->no_reexport_to, m->n_no_reexport_to,
			       "license no_reexport_to", ctx)) ||
	    (rc = check_items(&l->items, ctx)) ||
	    (rc = check_countries(&l->destinations, "license destination", ctx)) ||
	    (rc = check_countries(&l->no_reexport_to, "license no_reexport_to", ctx)))
		return rc;
	if (l->items.n == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "license names no items");
	if (l->destinations.n == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "license names no destinations");
	return 0;
}

static int
from_lot(struct ls_record *r, const Lodestone__LotRegistration *m, struct ls_err_ctx *ctx)
{
	int rc;

	if ((rc = check_unknown(&m->base, "lot", ctx)) != 0 ||
	    (rc = check_str(m->site, true, "lot site", ctx)) != 0 ||
	    (rc = check_country(m->country, "lot country", ctx)) != 0 ||
	    (rc = from_lotdef(r, &r->lot.lot, m->label, m->category, m->grams, m->composition,
			      m->n_composition, m->has_value, m->value, ctx)) != 0)
		return rc;
	if ((r->lot.site = dup(r, m->site)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(r->lot.country, m->country, 3);
	return 0;
}

static int
from_transformation(struct ls_record *r, const Lodestone__Transformation *m, struct ls_err_ctx *ctx)
{
	struct ls_transformation *t = &r->transformation;
	struct ls_lot_input *in;
	struct ls_lotdef *out;
	int rc;

	if ((rc = check_unknown(&m->base, "transformation", ctx)) != 0 ||
	    (rc = check_count(m->n_inputs, LS_LIST_MAX, "transformation inputs", ctx)) != 0 ||
	    (rc = check_count(m->n_outputs, LS_LIST_MAX, "transformation outputs", ctx)) != 0 ||
	    (rc = check_str(m->site, false, "transformation site", ctx)) != 0)
		return rc;
	if (m->n_inputs == 0 || m->n_outputs == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "transformation needs at least one input and one output");
	in = ls_record_alloc(r, m->n_inputs * sizeof(*in));
	out = ls_record_alloc(r, m->n_outputs * sizeof(*out));
	if (in == NULL || out == NULL || (t->site = dup(r, m->site)) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < m->n_inputs; i++) {
		const Lodestone__LotInput *x = m->inputs[i];
		if ((rc = check_unknown(&x->base, "transformation input", ctx)) != 0 ||
		    (rc = check_bin(&x->lot, LS_ID_LEN, "transformation input lot", ctx)) != 0 ||
		    (rc = check_grams(x->grams, false, "transformation input grams", ctx)) != 0)
			return rc;
		memcpy(in[i].lot, x->lot.data, LS_ID_LEN);
		in[i].grams = x->grams;
		for (size_t j = 0; j < i; j++)
			if (memcmp(in[j].lot, in[i].lot, LS_ID_LEN) == 0)
				return ls_err_set(ctx, LS_ERR_MALFORMED,
						  "transformation input %zu repeats input %zu", i,
						  j);
	}
	for (size_t i = 0; i < m->n_outputs; i++) {
		const Lodestone__LotOutput *x = m->outputs[i];
		if ((rc = check_unknown(&x->base, "transformation output", ctx)) != 0 ||
		    (rc = from_lotdef(r, &out[i], x->label, x->category, x->grams, x->composition,
				      x->n_composition, x->has_value, x->value, ctx)) != 0)
			return rc;
	}
	t->n_inputs = m->n_inputs;
	t->inputs = in;
	t->n_outputs = m->n_outputs;
	t->outputs = out;
	return 0;
}

static int
from_transfer(struct ls_record *r, const Lodestone__Transfer *m, struct ls_err_ctx *ctx)
{
	struct ls_transfer *t = &r->transfer;
	int rc;

	if ((rc = check_unknown(&m->base, "transfer", ctx)) != 0 ||
	    (rc = check_bin(&m->to, LS_KEY_LEN, "transfer to", ctx)) != 0 ||
	    (rc = check_bin(&m->to_cert, LS_ID_LEN, "transfer to_cert", ctx)) != 0 ||
	    (rc = check_str(m->tech, false, "transfer tech", ctx)) != 0 ||
	    (rc = check_str(m->end_use, false, "transfer end_use", ctx)) != 0 ||
	    (rc = check_str(m->description, false, "transfer description", ctx)) != 0)
		return rc;
	if (m->has_lot == (m->tech != NULL && *m->tech != '\0'))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "transfer must name exactly one of a lot and a tech item");
	if (m->has_lot) {
		if ((rc = check_bin(&m->lot, LS_ID_LEN, "transfer lot", ctx)) != 0 ||
		    (rc = check_grams(m->has_grams ? m->grams : 0, false, "transfer grams", ctx)))
			return rc;
		memcpy(t->lot, m->lot.data, LS_ID_LEN);
		t->grams = m->grams;
	} else {
		if (!ls_tech_valid(m->tech))
			return ls_err_set(ctx, LS_ERR_MALFORMED, "transfer tech '%s' unknown",
					  m->tech);
		if (m->has_grams && m->grams != 0)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "technology transfer carries no grams");
	}
	if (m->has_license) {
		if ((rc = check_bin(&m->license, LS_ID_LEN, "transfer license", ctx)) != 0)
			return rc;
		memcpy(t->license, m->license.data, LS_ID_LEN);
	}
	if (memcmp(m->to.data, r->author, LS_KEY_LEN) == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "transfer to its own author");
	t->has_lot = m->has_lot;
	t->has_license = m->has_license;
	memcpy(t->to, m->to.data, LS_KEY_LEN);
	memcpy(t->to_cert, m->to_cert.data, LS_ID_LEN);
	if ((t->tech = dup(r, m->tech)) == NULL || (t->end_use = dup(r, m->end_use)) == NULL ||
	    (t->description = dup(r, m->description)) == NULL)
		return LS_ERR_NOMEM;
	return 0;
}

static int
from_receipt(struct ls_record *r, const Lodestone__Receipt *m, struct ls_err_ctx *ctx)
{
	int rc;

	if ((rc = check_unknown(&m->base, "receipt", ctx)) != 0 ||
	    (rc = check_bin(&m->transfer, LS_ID_LEN, "receipt transfer", ctx)) != 0 ||
	    (rc = check_grams(m->grams, true, "receipt grams", ctx)) != 0 ||
	    (rc = check_str(m->reason, false, "receipt reason", ctx)) != 0)
		return rc;
	/* A version-1 reader does not know the field: the same bytes must not
	 * mean something to one node and nothing to another. */
	if (m->reason != NULL && r->version < 2)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "receipt reason in a record of format version %u (needs 2)",
				  r->version);
	memcpy(r->receipt.transfer, m->transfer.data, LS_ID_LEN);
	r->receipt.grams = m->grams;
	if ((r->receipt.reason = dup(r, m->reason)) == NULL)
		return LS_ERR_NOMEM;
	return 0;
}

static int
from_ownership(struct ls_record *r, const Lodestone__Ownership *m, struct ls_err_ctx *ctx)
{
	struct ls_ownership *o = &r->ownership;
	int rc;

	if ((rc = check_unknown(&m->base, "ownership", ctx)) != 0 ||
	    (rc = check_str(m->owner, true, "ownership owner", ctx)) != 0 ||
	    (rc = check_str(m->subsidiary, true, "ownership subsidiary", ctx)) != 0)
		return rc;
	/* Version 3's kind: an older reader does not know it. */
	if (r->version < 3)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "ownership in a record of format version %u (needs 3)",
				  r->version);
	if (m->share_ppm == 0 || m->share_ppm > LS_PPM_TOTAL)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "ownership share %u ppm out of 1..1000000",
				  m->share_ppm);
	if (strcmp(m->owner, m->subsidiary) == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "ownership of '%s' by itself", m->owner);
	if (m->jurisdiction == NULL || !ls_country_valid(m->jurisdiction))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "ownership jurisdiction is not an assigned country code");
	if (m->has_from && m->from > (uint64_t)INT64_MAX)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "ownership from out of range");
	if ((o->owner = dup(r, m->owner)) == NULL ||
	    (o->subsidiary = dup(r, m->subsidiary)) == NULL)
		return LS_ERR_NOMEM;
	o->share_ppm = m->share_ppm;
	memcpy(o->jurisdiction, m->jurisdiction, LS_COUNTRY_LEN + 1);
	o->from = m->has_from ? m->from : 0;
	return 0;
}

/* Fills r (header already allocated) from an unpacked body. */
static int
from_message(struct ls_record *r, const Lodestone__Record *m, struct ls_err_ctx *ctx)
{
	int rc;

	if ((rc = check_unknown(&m->base, "record", ctx)) != 0)
		return rc;
	if (m->version < 1 || m->version > LS_FORMAT_VERSION_MAX)
		return ls_err_set(ctx, LS_ERR_VERSION, "record format version %u unsupported",
				  m->version);
	if ((rc = check_bin(&m->author, LS_KEY_LEN, "record author", ctx)) != 0)
		return rc;
	if (m->seq == 0 || m->seq > (uint64_t)INT64_MAX)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "record seq %llu out of range",
				  (unsigned long long)m->seq);
	if (m->has_prev != (m->seq > 1))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  m->seq > 1 ? "record seq %llu lacks prev"
					     : "record seq %llu has prev",
				  (unsigned long long)m->seq);
	if (m->has_prev && (rc = check_bin(&m->prev, LS_ID_LEN, "record prev", ctx)) != 0)
		return rc;
	if (m->has_cert && (rc = check_bin(&m->cert, LS_ID_LEN, "record cert", ctx)) != 0)
		return rc;
	if (m->timestamp > (uint64_t)INT64_MAX)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "record timestamp out of range");
	r->version = m->version;
	memcpy(r->author, m->author.data, LS_KEY_LEN);
	r->seq = m->seq;
	r->has_prev = m->has_prev;
	if (m->has_prev)
		memcpy(r->prev, m->prev.data, LS_ID_LEN);
	r->timestamp = m->timestamp;
	r->has_cert = m->has_cert;
	if (m->has_cert)
		memcpy(r->cert_id, m->cert.data, LS_ID_LEN);

	switch (m->kind_case) {
	case LODESTONE__RECORD__KIND_CERTIFICATE:
		r->type = LS_REC_CERTIFICATE;
		return from_certificate(r, m->certificate, ctx);
	case LODESTONE__RECORD__KIND_REVOCATION:
		r->type = LS_REC_REVOCATION;
		return from_revocation(r, m->revocation, ctx);
	case LODESTONE__RECORD__KIND_POLICY:
		r->type = LS_REC_POLICY;
		return from_policy(r, m->policy, ctx);
	case LODESTONE__RECORD__KIND_LICENSE:
		r->type = LS_REC_LICENSE;
		return from_license(r, m->license, ctx);
	case LODESTONE__RECORD__KIND_LOT: r->type = LS_REC_LOT; return from_lot(r, m->lot, ctx);
	case LODESTONE__RECORD__KIND_TRANSFORMATION:
		r->type = LS_REC_TRANSFORMATION;
		return from_transformation(r, m->transformation, ctx);
	case LODESTONE__RECORD__KIND_TRANSFER:
		r->type = LS_REC_TRANSFER;
		return from_transfer(r, m->transfer, ctx);
	case LODESTONE__RECORD__KIND_RECEIPT:
		r->type = LS_REC_RECEIPT;
		return from_receipt(r, m->receipt, ctx);
	case LODESTONE__RECORD__KIND_OWNERSHIP:
		r->type = LS_REC_OWNERSHIP;
		return from_ownership(r, m->ownership, ctx);
	default: return ls_err_set(ctx, LS_ERR_MALFORMED, "record has no known kind");
	}
}

struct ls_record *
ls_record_new(enum ls_rtype type)
{
	struct ls_record *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->arena = calloc(1, sizeof(*r->arena));
	if (r->arena == NULL) {
		free(r);
		return NULL;
	}
	r->version = LS_FORMAT_VERSION;
	r->type = type;
	return r;
}

void
ls_record_free(struct ls_record *r)
{
	if (r == NULL)
		return;
	arena_free(r->arena);
	free(r);
}

const char *
ls_record_strdup(struct ls_record *r, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(r->arena, n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

void *
ls_record_alloc(struct ls_record *r, size_t n)
{
	return arena_alloc(r->arena, n ? n : 1);
}

static int
unpack_envelope(const uint8_t *buf, size_t len, ProtobufCAllocator *alloc,
		Lodestone__Envelope **out, struct ls_err_ctx *ctx)
{
	Lodestone__Envelope *env;

	env = lodestone__envelope__unpack(alloc, len, buf);
	if (env == NULL)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "envelope does not decode");
	if (env->base.n_unknown_fields != 0 || env->signature.len != LS_SIG_LEN ||
	    env->body.len == 0) {
		int rc = ls_err_set(ctx, LS_ERR_MALFORMED,
				    env->signature.len != LS_SIG_LEN
					? "envelope signature is %zu bytes, not 64"
					: "envelope has an empty body or unknown fields",
				    env->signature.len);
		lodestone__envelope__free_unpacked(env, alloc);
		return rc;
	}
	*out = env;
	return 0;
}

int
ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out, struct ls_err_ctx *ctx)
{
	struct ls_pb_budget bud;
	Lodestone__Envelope *env = NULL;
	Lodestone__Record *msg = NULL;
	struct ls_record *r = NULL;
	uint8_t *body;
	int rc;

	*out = NULL;
	if (buf == NULL || len == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "empty envelope");
	if (len > LS_ENVELOPE_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "envelope of %zu bytes is over %d", len,
				  LS_ENVELOPE_MAX);
	ls_pb_budget_init(&bud, UNPACK_BUDGET(len));
	if ((rc = unpack_envelope(buf, len, &bud.alloc, &env, ctx)) != 0)
		return rc;
	msg = lodestone__record__unpack(&bud.alloc, env->body.len, env->body.data);
	if (msg == NULL) {
		rc = ls_err_set(ctx, bud.left < len ? LS_ERR_TOO_BIG : LS_ERR_MALFORMED,
				"record body does not decode");
		goto out;
	}
	if ((r = ls_record_new(LS_REC_NONE)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	body = ls_record_alloc(r, env->body.len);
	if (body == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	memcpy(body, env->body.data, env->body.len);
	r->body = body;
	r->body_len = env->body.len;
	memcpy(r->signature, env->signature.data, LS_SIG_LEN);
	r->signed_ = true;
	if ((rc = from_message(r, msg, ctx)) != 0) {
		if (rc == LS_ERR_NOMEM)
			ls_err_set(ctx, rc, "out of memory decoding record");
		goto out;
	}
	crypto_generichash(r->id, LS_ID_LEN, r->body, r->body_len, NULL, 0);
	*out = r;
	r = NULL;
out:
	if (msg != NULL)
		lodestone__record__free_unpacked(msg, &bud.alloc);
	lodestone__envelope__free_unpacked(env, &bud.alloc);
	ls_record_free(r);
	return rc;
}

static void
sig_message(const uint8_t *body, size_t len, uint8_t *m)
{
	memcpy(m, LS_SIG_DOMAIN, LS_SIG_DOMAIN_LEN); /* includes the NUL */
	memcpy(m + LS_SIG_DOMAIN_LEN, body, len);
}

int
ls_record_verify(const struct ls_record *r)
{
	uint8_t stackbuf[4096], *m = stackbuf;
	size_t mlen;
	int rc;

	if (r == NULL || !r->signed_ || r->body == NULL)
		return LS_ERR_SIGNATURE;
	mlen = LS_SIG_DOMAIN_LEN + r->body_len;
	if (mlen > sizeof(stackbuf) && (m = malloc(mlen)) == NULL)
		return LS_ERR_NOMEM;
	sig_message(r->body, r->body_len, m);
	rc = crypto_sign_verify_detached(r->signature, m, mlen, r->author) == 0 ? 0
										: LS_ERR_SIGNATURE;
	if (m != stackbuf)
		free(m);
	return rc;
}

/* ---- encoding ---- */

/*
 * Builds the protobuf message of r in a temporary arena and packs it. Every
 * array below lives in `tmp`, which the caller frees.
 */
struct enc {
	struct ls_arena *tmp;
	int err;
};

static void *
enc_alloc(struct enc *e, size_t n)
{
	void *p = arena_alloc(e->tmp, n ? n : 1);
	if (p == NULL)
		e->err = LS_ERR_NOMEM;
	return p;
}

static ProtobufCBinaryData
bin(const uint8_t *p, size_t n)
{
	ProtobufCBinaryData b = {n, (uint8_t *)(uintptr_t)p};
	return b;
}

static char **
enc_strs(struct enc *e, const struct ls_strlist *l)
{
	char **v = enc_alloc(e, l->n * sizeof(char *));
	for (size_t i = 0; v != NULL && i < l->n; i++)
		v[i] = (char *)(uintptr_t)l->v[i];
	return v;
}

static ProtobufCBinaryData *
enc_keys(struct enc *e, const struct ls_keylist *l)
{
	ProtobufCBinaryData *v = enc_alloc(e, l->n * sizeof(*v));
	for (size_t i = 0; v != NULL && i < l->n; i++)
		v[i] = bin(l->v[i], LS_KEY_LEN);
	return v;
}

static Lodestone__ElementShare **
enc_comp(struct enc *e, const struct ls_comp *c)
{
	Lodestone__ElementShare **v = enc_alloc(e, c->n * sizeof(*v));
	Lodestone__ElementShare *s = enc_alloc(e, c->n * sizeof(*s));

	if (v == NULL || s == NULL)
		return NULL;
	for (size_t i = 0; i < c->n; i++) {
		lodestone__element_share__init(&s[i]);
		s[i].z = c->e[i].z;
		s[i].ppm = c->e[i].ppm;
		v[i] = &s[i];
	}
	return v;
}

static char *
cs(const char *s)
{
	return (char *)(uintptr_t)(s ? s : "");
}

/* Optional strings are left out when empty, so that they decode as absent. */
static char *
opt_str(const char *s)
{
	return (s == NULL || *s == '\0') ? NULL : (char *)(uintptr_t)s;
}

static int
pack_body(const struct ls_record *r, uint8_t **out, size_t *out_len)
{
	struct enc e = {NULL, 0};
	Lodestone__Record m = LODESTONE__RECORD__INIT;
	Lodestone__Certificate cert = LODESTONE__CERTIFICATE__INIT;
	Lodestone__Revocation rev = LODESTONE__REVOCATION__INIT;
	Lodestone__Policy pol = LODESTONE__POLICY__INIT;
	Lodestone__License lic = LODESTONE__LICENSE__INIT;
	Lodestone__LotRegistration lot = LODESTONE__LOT_REGISTRATION__INIT;
	Lodestone__Transformation tr = LODESTONE__TRANSFORMATION__INIT;
	Lodestone__Transfer tf = LODESTONE__TRANSFER__INIT;
	Lodestone__Receipt rc = LODESTONE__RECEIPT__INIT;
	Lodestone__Ownership own = LODESTONE__OWNERSHIP__INIT;
	size_t len = 0;
	uint8_t *buf = NULL;

	if ((e.tmp = calloc(1, sizeof(*e.tmp))) == NULL)
		return LS_ERR_NOMEM;
	m.version = r->version;
	m.author = bin(r->author, LS_KEY_LEN);
	m.seq = r->seq;
	m.has_prev = r->has_prev;
	m.prev = bin(r->prev, LS_ID_LEN);
	m.timestamp = r->timestamp;
	m.has_cert = r->has_cert;
	m.cert = bin(r->cert_id, LS_ID_LEN);

	switch (r->type) {
	case LS_REC_CERTIFICATE: {
		const struct ls_certificate *c = &r->certificate;
		cert.subject = bin(c->subject, LS_KEY_LEN);
		cert.org = cs(c->org);
		cert.country = cs(c->country);
		cert.roles = c->roles;
		cert.has_valid_from = c->valid_from != 0;
		cert.valid_from = c->valid_from;
		cert.has_valid_until = c->valid_until != 0;
		cert.valid_until = c->valid_until;
		cert.n_jurisdictions = c->jurisdictions.n;
		cert.jurisdictions = enc_strs(&e, &c->jurisdictions);
		m.kind_case = LODESTONE__RECORD__KIND_CERTIFICATE;
		m.certificate = &cert;
		break;
	}
	case LS_REC_REVOCATION:
		rev.subject = bin(r->revocation.subject, LS_KEY_LEN);
		rev.effective = r->revocation.effective;
		rev.reason = opt_str(r->revocation.reason);
		m.kind_case = LODESTONE__RECORD__KIND_REVOCATION;
		m.revocation = &rev;
		break;
	case LS_REC_POLICY: {
		const struct ls_policy *p = &r->policy;
		Lodestone__Suspension *sus = enc_alloc(&e, p->n_suspends * sizeof(*sus));
		Lodestone__Suspension **susp = enc_alloc(&e, p->n_suspends * sizeof(*susp));
		pol.jurisdiction = cs(p->jurisdiction);
		pol.name = cs(p->name);
		pol.effective_from = p->effective_from;
		pol.has_effective_until = p->effective_until != 0;
		pol.effective_until = p->effective_until;
		pol.n_controlled_elements = p->n_elements;
		pol.controlled_elements = (uint32_t *)(uintptr_t)p->elements;
		pol.n_controlled_categories = p->controlled_categories.n;
		pol.controlled_categories = enc_strs(&e, &p->controlled_categories);
		pol.n_controlled_tech = p->controlled_tech.n;
		pol.controlled_tech = enc_strs(&e, &p->controlled_tech);
		pol.n_exempt_categories = p->exempt_categories.n;
		pol.exempt_categories = enc_strs(&e, &p->exempt_categories);
		pol.n_denied_end_uses = p->denied_end_uses.n;
		pol.denied_end_uses = enc_strs(&e, &p->denied_end_uses);
		pol.n_denied_end_user_keys = p->denied_end_user_keys.n;
		pol.denied_end_user_keys = enc_keys(&e, &p->denied_end_user_keys);
		pol.n_denied_end_user_names = p->denied_end_user_names.n;
		pol.denied_end_user_names = enc_strs(&e, &p->denied_end_user_names);
		pol.has_de_minimis_ppm = p->de_minimis_ppm != 0;
		pol.de_minimis_ppm = p->de_minimis_ppm;
		pol.has_de_minimis_basis = p->de_minimis_basis != LS_BASIS_MASS;
		pol.de_minimis_basis = p->de_minimis_basis == LS_BASIS_VALUE
					   ? LODESTONE__DE_MINIMIS_BASIS__BASIS_VALUE
					   : LODESTONE__DE_MINIMIS_BASIS__BASIS_MASS;
		pol.has_applies_to_reexport = p->applies_to_reexport;
		pol.applies_to_reexport = p->applies_to_reexport;
		pol.has_applies_to_foreign_tech = p->applies_to_foreign_tech;
		pol.applies_to_foreign_tech = p->applies_to_foreign_tech;
		pol.n_supersedes = p->supersedes.n;
		pol.supersedes = enc_keys(&e, &p->supersedes);
		for (size_t i = 0; sus != NULL && susp != NULL && i < p->n_suspends; i++) {
			lodestone__suspension__init(&sus[i]);
			sus[i].policy = bin(p->suspends[i].policy, LS_ID_LEN);
			sus[i].from = p->suspends[i].from;
			sus[i].until = p->suspends[i].until;
			susp[i] = &sus[i];
		}
		pol.n_suspends = p->n_suspends;
		pol.suspends = susp;
		m.kind_case = LODESTONE__RECORD__KIND_POLICY;
		m.policy = &pol;
		break;
	}
	case LS_REC_LICENSE: {
		const struct ls_license *l = &r->license;
		lic.number = cs(l->number);
		lic.licensee = bin(l->licensee, LS_KEY_LEN);
		lic.has_kind = l->general;
		lic.kind = l->general ? LODESTONE__LICENSE_KIND__LICENSE_GENERAL
				      : LODESTONE__LICENSE_KIND__LICENSE_INDIVIDUAL;
		lic.n_items = l->items.n;
		lic.items = enc_strs(&e, &l->items);
		lic.max_grams = l->max_grams;
		lic.n_destinations = l->destinations.n;
		lic.destinations = enc_strs(&e, &l->destinations);
		lic.has_end_user = l->has_end_user;
		lic.end_user = bin(l->end_user, LS_KEY_LEN);
		lic.end_use = cs(l->end_use);
		lic.has_valid_from = l->valid_from != 0;
		lic.valid_from = l->valid_from;
		lic.has_valid_until = l->valid_until != 0;
		lic.valid_until = l->valid_until;
		lic.n_no_reexport_to = l->no_reexport_to.n;
		lic.no_reexport_to = enc_strs(&e, &l->no_reexport_to);
		lic.has_no_military = l->no_military;
		lic.no_military = l->no_military;
		m.kind_case = LODESTONE__RECORD__KIND_LICENSE;
		m.license = &lic;
		break;
	}
	case LS_REC_LOT: {
		const struct ls_lot_registration *l = &r->lot;
		lot.label = cs(l->lot.label);
		lot.site = cs(l->site);
		lot.country = cs(l->country);
		lot.category = cs(l->lot.category);
		lot.grams = l->lot.grams;
		lot.n_composition = l->lot.comp.n;
		lot.composition = enc_comp(&e, &l->lot.comp);
		lot.has_value = l->lot.value != 0;
		lot.value = l->lot.value;
		m.kind_case = LODESTONE__RECORD__KIND_LOT;
		m.lot = &lot;
		break;
	}
	case LS_REC_TRANSFORMATION: {
		const struct ls_transformation *t = &r->transformation;
		Lodestone__LotInput *in = enc_alloc(&e, t->n_inputs * sizeof(*in));
		Lodestone__LotInput **inp = enc_alloc(&e, t->n_inputs * sizeof(*inp));
		Lodestone__LotOutput *outs = enc_alloc(&e, t->n_outputs * sizeof(*outs));
		Lodestone__LotOutput **outp = enc_alloc(&e, t->n_outputs * sizeof(*outp));
		if (e.err != 0)
			break;
		for (size_t i = 0; i < t->n_inputs; i++) {
			lodestone__lot_input__init(&in[i]);
			in[i].lot = bin(t->inputs[i].lot, LS_ID_LEN);
			in[i].grams = t->inputs[i].grams;
			inp[i] = &in[i];
		}
		for (size_t i = 0; i < t->n_outputs; i++) {
			const struct ls_lotdef *d = &t->outputs[i];
			lodestone__lot_output__init(&outs[i]);
			outs[i].label = cs(d->label);
			outs[i].category = cs(d->category);
			outs[i].grams = d->grams;
			outs[i].n_composition = d->comp.n;
			outs[i].composition = enc_comp(&e, &d->comp);
			outs[i].has_value = d->value != 0;
			outs[i].value = d->value;
			outp[i] = &outs[i];
		}
		tr.n_inputs = t->n_inputs;
		tr.inputs = inp;
		tr.n_outputs = t->n_outputs;
		tr.outputs = outp;
		tr.site = opt_str(t->site);
		m.kind_case = LODESTONE__RECORD__KIND_TRANSFORMATION;
		m.transformation = &tr;
		break;
	}
	case LS_REC_TRANSFER: {
		const struct ls_transfer *t = &r->transfer;
		tf.has_lot = t->has_lot;
		tf.lot = bin(t->lot, LS_ID_LEN);
		tf.has_grams = t->has_lot;
		tf.grams = t->grams;
		tf.tech = opt_str(t->tech);
		tf.to = bin(t->to, LS_KEY_LEN);
		tf.to_cert = bin(t->to_cert, LS_ID_LEN);
		tf.has_license = t->has_license;
		tf.license = bin(t->license, LS_ID_LEN);
		tf.end_use = opt_str(t->end_use);
		tf.description = opt_str(t->description);
		m.kind_case = LODESTONE__RECORD__KIND_TRANSFER;
		m.transfer = &tf;
		break;
	}
	case LS_REC_RECEIPT:
		rc.transfer = bin(r->receipt.transfer, LS_ID_LEN);
		rc.grams = r->receipt.grams;
		rc.reason = opt_str(r->receipt.reason);
		m.kind_case = LODESTONE__RECORD__KIND_RECEIPT;
		m.receipt = &rc;
		break;
	case LS_REC_OWNERSHIP:
		own.owner = (char *)r->ownership.owner;
		own.subsidiary = (char *)r->ownership.subsidiary;
		own.share_ppm = r->ownership.share_ppm;
		own.jurisdiction = (char *)r->ownership.jurisdiction;
		own.has_from = r->ownership.from != 0;
		own.from = r->ownership.from;
		m.kind_case = LODESTONE__RECORD__KIND_OWNERSHIP;
		m.ownership = &own;
		break;
	default: e.err = LS_ERR_INVALID; break;
	}
	if (e.err == 0) {
		len = lodestone__record__get_packed_size(&m);
		if (len > LS_ENVELOPE_MAX - 128)
			e.err = LS_ERR_TOO_BIG;
		else if ((buf = malloc(len)) == NULL)
			e.err = LS_ERR_NOMEM;
		else
			lodestone__record__pack(&m, buf);
	}
	arena_free(e.tmp);
	if (e.err != 0)
		return e.err;
	*out = buf;
	*out_len = len;
	return 0;
}

int
ls_record_sign(struct ls_record *r, const uint8_t sk[64], struct ls_err_ctx *ctx)
{
	uint8_t *body = NULL, *env = NULL, *m = NULL, *copy;
	size_t len = 0, env_len = 0;
	struct ls_record *check = NULL;
	int rc;

	if (memcmp(sk + 32, r->author, LS_KEY_LEN) != 0)
		return ls_err_set(ctx, LS_ERR_INVALID, "signing key is not the record's author");
	/* The oldest format version that carries every field of r. */
	if (r->type == LS_REC_RECEIPT && r->receipt.reason != NULL &&
	    r->receipt.reason[0] != '\0' && r->version < 2)
		r->version = 2;
	if (r->type == LS_REC_OWNERSHIP && r->version < 3)
		r->version = 3;
	if ((rc = pack_body(r, &body, &len)) != 0)
		return ls_err_set(ctx, rc, "cannot encode %s record: %s", ls_rtype_name(r->type),
				  ls_strerror(rc));
	if ((m = malloc(LS_SIG_DOMAIN_LEN + len)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	sig_message(body, len, m);
	if (crypto_sign_detached(r->signature, NULL, m, LS_SIG_DOMAIN_LEN + len, sk) != 0) {
		rc = ls_err_set(ctx, LS_ERR_CRYPTO, "signing failed");
		goto out;
	}
	if ((copy = ls_record_alloc(r, len)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	memcpy(copy, body, len);
	r->body = copy;
	r->body_len = len;
	r->signed_ = true;
	crypto_generichash(r->id, LS_ID_LEN, body, len, NULL, 0);
	/* What we sign must decode: run the same checks as a receiving node. */
	if ((rc = ls_record_envelope(r, &env, &env_len)) != 0)
		goto out;
	if ((rc = ls_record_decode(env, env_len, &check, ctx)) != 0) {
		r->signed_ = false;
		rc = LS_ERR_INVALID;
		goto out;
	}
out:
	ls_record_free(check);
	free(env);
	free(m);
	free(body);
	return rc;
}

int
ls_record_envelope(const struct ls_record *r, uint8_t **buf, size_t *len)
{
	Lodestone__Envelope env = LODESTONE__ENVELOPE__INIT;
	uint8_t *b;
	size_t n;

	if (!r->signed_)
		return LS_ERR_INVALID;
	env.body = bin(r->body, r->body_len);
	env.signature = bin(r->signature, LS_SIG_LEN);
	n = lodestone__envelope__get_packed_size(&env);
	if (n > LS_ENVELOPE_MAX)
		return LS_ERR_TOO_BIG;
	if ((b = malloc(n)) == NULL)
		return LS_ERR_NOMEM;
	lodestone__envelope__pack(&env, b);
	*buf = b;
	*len = n;
	return 0;
}

/* ---- bundles ---- */

/*
 * A bundle is scanned by hand rather than unpacked: it is a sequence of
 * field-1 length-delimited entries, so each envelope can stay a slice of the
 * caller's buffer and be decoded (bounded) one at a time.
 */
#define BUNDLE_RECORD   ((1 << 3) | 2)
#define BUNDLE_LOT      ((2 << 3) | 2)
#define BUNDLE_EVIDENCE ((3 << 3) | 2)
#define BUNDLE_LOG      ((4 << 3) | 2)
#define EVIDENCE_A      ((1 << 3) | 2)
#define EVIDENCE_B      ((2 << 3) | 2)

static int
read_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*off >= len)
			return -1;
		uint8_t b = p[(*off)++];
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

int
ls_bundle_decode(const uint8_t *buf, size_t len, size_t max_records, const uint8_t ***envs,
		 size_t **lens, size_t *n, struct ls_err_ctx *ctx)
{
	const uint8_t **e = NULL;
	size_t *l = NULL, cnt = 0, cap = 0, off = 0;
	int rc = 0;

	*envs = NULL;
	*lens = NULL;
	*n = 0;
	while (off < len) {
		uint64_t tag, sz;
		if (read_varint(buf, len, &off, &tag) != 0 ||
		    (tag != BUNDLE_RECORD && tag != BUNDLE_LOT && tag != BUNDLE_EVIDENCE &&
		     tag != BUNDLE_LOG) ||
		    read_varint(buf, len, &off, &sz) != 0 || sz > len - off ||
		    (tag == BUNDLE_LOT && sz != LS_ID_LEN)) {
			rc = ls_err_set(ctx, LS_ERR_MALFORMED,
					"bundle is malformed at byte %zu (record %zu)", off, cnt);
			goto out;
		}
		if (tag != BUNDLE_RECORD) { /* Bundle.lot, Bundle.evidence, Bundle.log */
			off += (size_t)sz;
			continue;
		}
		if (sz > LS_ENVELOPE_MAX) {
			rc = ls_err_set(ctx, LS_ERR_TOO_BIG, "bundle record %zu is over %d bytes",
					cnt, LS_ENVELOPE_MAX);
			goto out;
		}
		if (cnt == max_records) {
			rc = ls_err_set(ctx, LS_ERR_TOO_BIG, "bundle has over %zu records",
					max_records);
			goto out;
		}
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			const uint8_t **ne = realloc(e, ncap * sizeof(*e));
			size_t *nl;
			if (ne == NULL) {
				rc = LS_ERR_NOMEM;
				goto out;
			}
			e = ne;
			if ((nl = realloc(l, ncap * sizeof(*l))) == NULL) {
				rc = LS_ERR_NOMEM;
				goto out;
			}
			l = nl;
			cap = ncap;
		}
		e[cnt] = buf + off;
		l[cnt] = (size_t)sz;
		cnt++;
		off += (size_t)sz;
	}
	*envs = e;
	*lens = l;
	*n = cnt;
	return 0;
out:
	free(e);
	free(l);
	return rc;
}

/* One Evidence message of len bytes: its two envelopes, each once. */
static int
evidence_split(const uint8_t *p, size_t len, struct ls_bundle_evidence *ev)
{
	size_t off = 0;

	memset(ev, 0, sizeof(*ev));
	while (off < len) {
		uint64_t tag, sz;
		if (read_varint(p, len, &off, &tag) != 0 ||
		    (tag != EVIDENCE_A && tag != EVIDENCE_B) ||
		    read_varint(p, len, &off, &sz) != 0 || sz > len - off)
			return LS_ERR_MALFORMED;
		if (sz > LS_ENVELOPE_MAX)
			return LS_ERR_TOO_BIG;
		if (tag == EVIDENCE_A && ev->a == NULL) {
			ev->a = p + off;
			ev->la = (size_t)sz;
		} else if (tag == EVIDENCE_B && ev->b == NULL) {
			ev->b = p + off;
			ev->lb = (size_t)sz;
		} else {
			return LS_ERR_MALFORMED; /* a field twice */
		}
		off += (size_t)sz;
	}
	return ev->a != NULL && ev->b != NULL ? 0 : LS_ERR_MALFORMED;
}

int
ls_bundle_evidence(const uint8_t *buf, size_t len, size_t max_pairs, struct ls_bundle_evidence **ev,
		   size_t *n, struct ls_err_ctx *ctx)
{
	struct ls_bundle_evidence *v = NULL;
	size_t cnt = 0, cap = 0, off = 0;
	int rc = 0;

	*ev = NULL;
	*n = 0;
	while (off < len) {
		uint64_t tag, sz;
		if (read_varint(buf, len, &off, &tag) != 0 || (tag & 7) != 2 ||
		    read_varint(buf, len, &off, &sz) != 0 || sz > len - off) {
			rc = ls_err_set(ctx, LS_ERR_MALFORMED, "bundle is malformed at byte %zu",
					off);
			goto out;
		}
		if (tag != BUNDLE_EVIDENCE) {
			off += (size_t)sz;
			continue;
		}
		if (cnt == max_pairs) {
			rc = ls_err_set(ctx, LS_ERR_TOO_BIG, "bundle has over %zu evidence pairs",
					max_pairs);
			goto out;
		}
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct ls_bundle_evidence *nv = realloc(v, ncap * sizeof(*nv));
			if (nv == NULL) {
				rc = LS_ERR_NOMEM;
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		if ((rc = evidence_split(buf + off, (size_t)sz, &v[cnt])) != 0) {
			rc = ls_err_set(ctx, rc, "bundle evidence pair %zu is %s", cnt,
					rc == LS_ERR_TOO_BIG ? "too big" : "malformed");
			goto out;
		}
		cnt++;
		off += (size_t)sz;
	}
	*ev = v;
	*n = cnt;
	return 0;
out:
	free(v);
	return rc;
}

int
ls_bundle_lot(const uint8_t *buf, size_t len, uint8_t lot[LS_ID_LEN])
{
	size_t off = 0;
	bool found = false;

	while (off < len) {
		uint64_t tag, sz;
		if (read_varint(buf, len, &off, &tag) != 0 || (tag & 7) != 2 ||
		    read_varint(buf, len, &off, &sz) != 0 || sz > len - off)
			return LS_ERR_MALFORMED;
		if (tag == ((2 << 3) | 2) && sz == LS_ID_LEN) {
			memcpy(lot, buf + off, LS_ID_LEN);
			found = true;
		}
		off += (size_t)sz;
	}
	return found ? 0 : LS_ERR_NOT_FOUND;
}

int
ls_bundle_log(const uint8_t *buf, size_t len, const uint8_t **log, size_t *log_len)
{
	size_t off = 0;
	bool found = false;

	*log = NULL;
	*log_len = 0;
	while (off < len) {
		uint64_t tag, sz;
		if (read_varint(buf, len, &off, &tag) != 0 || (tag & 7) != 2 ||
		    read_varint(buf, len, &off, &sz) != 0 || sz > len - off)
			return LS_ERR_MALFORMED;
		if (tag == BUNDLE_LOG) {
			if (found)
				return LS_ERR_MALFORMED; /* one log proof */
			*log = buf + off;
			*log_len = (size_t)sz;
			found = true;
		}
		off += (size_t)sz;
	}
	return found ? 0 : LS_ERR_NOT_FOUND;
}

/* Writes field tag (length-delimited) with len bytes of p at b + *off. */
static void
put_field(uint8_t *b, size_t *off, uint8_t tag, const uint8_t *p, size_t len)
{
	b[(*off)++] = tag;
	*off += ls_uvarint_put(b + *off, len);
	memcpy(b + *off, p, len);
	*off += len;
}

int
ls_bundle_encode_log(const uint8_t *const *envs, const size_t *lens, size_t n, const uint8_t *lot,
		     const struct ls_bundle_evidence *ev, size_t n_ev, const uint8_t *log,
		     size_t log_len, uint8_t **out, size_t *out_len)
{
	size_t total = 2 + LS_ID_LEN + 1 + 10 + log_len, off = 0;
	uint8_t *b;

	for (size_t i = 0; i < n; i++)
		total += 1 + 10 + lens[i];
	for (size_t i = 0; i < n_ev; i++)
		total += 3 * (1 + 10) + ev[i].la + ev[i].lb;
	if ((b = malloc(total)) == NULL)
		return LS_ERR_NOMEM;
	if (lot != NULL)
		put_field(b, &off, BUNDLE_LOT, lot, LS_ID_LEN);
	for (size_t i = 0; i < n; i++)
		put_field(b, &off, BUNDLE_RECORD, envs[i], lens[i]);
	for (size_t i = 0; i < n_ev; i++) {
		size_t inner =
		    2 + ls_uvarint_len(ev[i].la) + ev[i].la + ls_uvarint_len(ev[i].lb) + ev[i].lb;
		b[off++] = BUNDLE_EVIDENCE;
		off += ls_uvarint_put(b + off, inner);
		put_field(b, &off, EVIDENCE_A, ev[i].a, ev[i].la);
		put_field(b, &off, EVIDENCE_B, ev[i].b, ev[i].lb);
	}
	if (log != NULL)
		put_field(b, &off, BUNDLE_LOG, log, log_len);
	*out = b;
	*out_len = off;
	return 0;
}

int
ls_bundle_encode_ev(const uint8_t *const *envs, const size_t *lens, size_t n, const uint8_t *lot,
		    const struct ls_bundle_evidence *ev, size_t n_ev, uint8_t **out,
		    size_t *out_len)
{
	return ls_bundle_encode_log(envs, lens, n, lot, ev, n_ev, NULL, 0, out, out_len);
}

int
ls_bundle_encode(const uint8_t *const *envs, const size_t *lens, size_t n, const uint8_t *lot,
		 uint8_t **out, size_t *out_len)
{
	return ls_bundle_encode_ev(envs, lens, n, lot, NULL, 0, out, out_len);
}

bool
ls_strlist_has(const struct ls_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return true;
	return false;
}
