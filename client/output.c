/*
 * output.c - text and JSON output shared by the commands: records, verdicts,
 * progress. JSON is built with jansson and printed one document per line.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reason.h"
#include "util.h"

#include "client.h"

void
out_json(json_t *j)
{
	if (j == NULL) {
		cli_err("out of memory building JSON output");
		return;
	}
	json_dumpf(j, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
	fputc('\n', stdout);
	json_decref(j);
}

json_t *
out_json_hex(const uint8_t *bin, size_t len)
{
	char hex[2 * LS_SIG_LEN + 1];

	if (2 * len + 1 > sizeof(hex))
		return json_null();
	return json_string(ls_hex(bin, len, hex));
}

json_t *
out_json_time(uint64_t t)
{
	char buf[40];

	return json_string(ls_time_format(t, buf, sizeof(buf)));
}

void
out_comp(const struct ls_comp *comp, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < comp->n; i++) {
		int w = snprintf(buf + off, len - off, "%s%s=%" PRIu32, i ? "," : "",
				 ls_element_symbol(comp->e[i].z), comp->e[i].ppm);
		if (w < 0 || (size_t)w >= len - off)
			return;
		off += (size_t)w;
	}
}

static json_t *
json_strlist(const struct ls_strlist *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static json_t *
json_keylist(const struct ls_keylist *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, out_json_hex(l->v[i], LS_KEY_LEN));
	return a;
}

const char *
out_json_element(uint32_t z, char buf[4])
{
	snprintf(buf, 4, "%s", ls_element_symbol(z));
	for (char *p = buf; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return buf;
}

static json_t *
json_comp(const struct ls_comp *comp)
{
	json_t *o = json_object();
	char sym[4];

	for (size_t i = 0; i < comp->n; i++)
		json_object_set_new(o, out_json_element(comp->e[i].z, sym),
				    json_integer((json_int_t)comp->e[i].ppm));
	return o;
}

static json_t *
json_lotdef(const struct ls_lotdef *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "label", json_string(d->label));
	json_object_set_new(o, "category", json_string(d->category));
	json_object_set_new(o, "grams", json_integer((json_int_t)d->grams));
	json_object_set_new(o, "composition", json_comp(&d->comp));
	if (d->value != 0)
		json_object_set_new(o, "value", json_integer((json_int_t)d->value));
	return o;
}

static json_t *
json_body(const struct ls_record *r)
{
	json_t *o = json_object();
	char roles[128];

	switch (r->type) {
	case LS_REC_CERTIFICATE: {
		const struct ls_certificate *c = &r->certificate;
		json_t *a = json_array();
		ls_roles_format(c->roles, roles, sizeof(roles));
		for (char *tok = strtok(roles, ","); tok != NULL; tok = strtok(NULL, ","))
			json_array_append_new(a, json_string(tok));
		json_object_set_new(o, "subject", out_json_hex(c->subject, LS_KEY_LEN));
		json_object_set_new(o, "org", json_string(c->org));
		json_object_set_new(o, "country", json_string(c->country));
		json_object_set_new(o, "roles", a);
		json_object_set_new(o, "valid_from", out_json_time(c->valid_from));
		if (c->valid_until != 0)
			json_object_set_new(o, "valid_until", out_json_time(c->valid_until));
		break;
	}
	case LS_REC_REVOCATION:
		json_object_set_new(o, "subject", out_json_hex(r->revocation.subject, LS_KEY_LEN));
		json_object_set_new(o, "effective", out_json_time(r->revocation.effective));
		json_object_set_new(o, "reason", json_string(r->revocation.reason));
		break;
	case LS_REC_POLICY: {
		const struct ls_policy *p = &r->policy;
		json_t *el = json_array(), *sus = json_array();
		char sym[4];
		for (size_t i = 0; i < p->n_elements; i++)
			json_array_append_new(el,
					      json_string(out_json_element(p->elements[i], sym)));
		for (size_t i = 0; i < p->n_suspends; i++) {
			json_t *s = json_object();
			json_object_set_new(s, "policy",
					    out_json_hex(p->suspends[i].policy, LS_ID_LEN));
			json_object_set_new(s, "from", out_json_time(p->suspends[i].from));
			json_object_set_new(s, "until", out_json_time(p->suspends[i].until));
			json_array_append_new(sus, s);
		}
		json_object_set_new(o, "jurisdiction", json_string(p->jurisdiction));
		json_object_set_new(o, "name", json_string(p->name));
		json_object_set_new(o, "effective_from", out_json_time(p->effective_from));
		if (p->effective_until != 0)
			json_object_set_new(o, "effective_until",
					    out_json_time(p->effective_until));
		json_object_set_new(o, "controlled_elements", el);
		json_object_set_new(o, "controlled_categories",
				    json_strlist(&p->controlled_categories));
		json_object_set_new(o, "controlled_tech", json_strlist(&p->controlled_tech));
		json_object_set_new(o, "exempt_categories", json_strlist(&p->exempt_categories));
		json_object_set_new(o, "denied_end_uses", json_strlist(&p->denied_end_uses));
		json_object_set_new(o, "denied_end_user_keys",
				    json_keylist(&p->denied_end_user_keys));
		json_object_set_new(o, "denied_end_user_names",
				    json_strlist(&p->denied_end_user_names));
		json_object_set_new(o, "de_minimis_ppm", json_integer(p->de_minimis_ppm));
		json_object_set_new(
		    o, "de_minimis_basis",
		    json_string(p->de_minimis_basis == LS_BASIS_VALUE ? "value" : "mass"));
		json_object_set_new(o, "applies_to_reexport", json_boolean(p->applies_to_reexport));
		json_object_set_new(o, "applies_to_foreign_tech",
				    json_boolean(p->applies_to_foreign_tech));
		json_object_set_new(o, "supersedes", json_keylist(&p->supersedes));
		json_object_set_new(o, "suspends", sus);
		break;
	}
	case LS_REC_LICENSE: {
		const struct ls_license *l = &r->license;
		json_object_set_new(o, "number", json_string(l->number));
		json_object_set_new(o, "licensee", out_json_hex(l->licensee, LS_KEY_LEN));
		json_object_set_new(o, "kind", json_string(l->general ? "general" : "individual"));
		json_object_set_new(o, "items", json_strlist(&l->items));
		json_object_set_new(o, "max_grams", json_integer((json_int_t)l->max_grams));
		json_object_set_new(o, "destinations", json_strlist(&l->destinations));
		if (l->has_end_user)
			json_object_set_new(o, "end_user", out_json_hex(l->end_user, LS_KEY_LEN));
		json_object_set_new(o, "end_use", json_string(l->end_use));
		if (l->valid_from != 0)
			json_object_set_new(o, "valid_from", out_json_time(l->valid_from));
		if (l->valid_until != 0)
			json_object_set_new(o, "valid_until", out_json_time(l->valid_until));
		json_object_set_new(o, "no_reexport_to", json_strlist(&l->no_reexport_to));
		json_object_set_new(o, "no_military", json_boolean(l->no_military));
		break;
	}
	case LS_REC_LOT:
		json_decref(o);
		o = json_lotdef(&r->lot.lot);
		json_object_set_new(o, "site", json_string(r->lot.site));
		json_object_set_new(o, "country", json_string(r->lot.country));
		break;
	case LS_REC_TRANSFORMATION: {
		const struct ls_transformation *t = &r->transformation;
		json_t *in = json_array(), *out = json_array();
		for (size_t i = 0; i < t->n_inputs; i++) {
			json_t *x = json_object();
			json_object_set_new(x, "lot", out_json_hex(t->inputs[i].lot, LS_ID_LEN));
			json_object_set_new(x, "grams",
					    json_integer((json_int_t)t->inputs[i].grams));
			json_array_append_new(in, x);
		}
		for (size_t i = 0; i < t->n_outputs; i++) {
			uint8_t lot[LS_ID_LEN];
			json_t *x = json_lotdef(&t->outputs[i]);
			ls_lot_id(r->id, (uint32_t)i, lot);
			json_object_set_new(x, "lot", out_json_hex(lot, LS_ID_LEN));
			json_array_append_new(out, x);
		}
		if (t->site[0] != '\0')
			json_object_set_new(o, "site", json_string(t->site));
		json_object_set_new(o, "inputs", in);
		json_object_set_new(o, "outputs", out);
		break;
	}
	case LS_REC_TRANSFER: {
		const struct ls_transfer *t = &r->transfer;
		if (t->has_lot) {
			json_object_set_new(o, "lot", out_json_hex(t->lot, LS_ID_LEN));
			json_object_set_new(o, "grams", json_integer((json_int_t)t->grams));
		} else {
			json_object_set_new(o, "tech", json_string(t->tech));
		}
		json_object_set_new(o, "to", out_json_hex(t->to, LS_KEY_LEN));
		json_object_set_new(o, "to_cert", out_json_hex(t->to_cert, LS_ID_LEN));
		if (t->has_license)
			json_object_set_new(o, "license", out_json_hex(t->license, LS_ID_LEN));
		if (t->end_use[0] != '\0')
			json_object_set_new(o, "end_use", json_string(t->end_use));
		if (t->description[0] != '\0')
			json_object_set_new(o, "description", json_string(t->description));
		break;
	}
	case LS_REC_RECEIPT:
		json_object_set_new(o, "transfer", out_json_hex(r->receipt.transfer, LS_ID_LEN));
		json_object_set_new(o, "grams", json_integer((json_int_t)r->receipt.grams));
		if (r->receipt.reason != NULL && r->receipt.reason[0] != '\0')
			json_object_set_new(o, "reason", json_string(r->receipt.reason));
		break;
	case LS_REC_OWNERSHIP:
		json_object_set_new(o, "owner", json_string(r->ownership.owner));
		json_object_set_new(o, "subsidiary", json_string(r->ownership.subsidiary));
		json_object_set_new(o, "share_ppm", json_integer(r->ownership.share_ppm));
		json_object_set_new(o, "jurisdiction", json_string(r->ownership.jurisdiction));
		if (r->ownership.from != 0)
			json_object_set_new(o, "from", out_json_time(r->ownership.from));
		break;
	default: break;
	}
	return o;
}

json_t *
out_record_json(const struct ls_record *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", out_json_hex(r->id, LS_ID_LEN));
	json_object_set_new(o, "type", json_string(ls_rtype_name(r->type)));
	json_object_set_new(o, "author", out_json_hex(r->author, LS_KEY_LEN));
	json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
	if (r->has_prev)
		json_object_set_new(o, "prev", out_json_hex(r->prev, LS_ID_LEN));
	json_object_set_new(o, "timestamp", json_integer((json_int_t)r->timestamp));
	json_object_set_new(o, "time", out_json_time(r->timestamp));
	if (r->has_cert)
		json_object_set_new(o, "cert", out_json_hex(r->cert_id, LS_ID_LEN));
	json_object_set_new(o, ls_rtype_name(r->type), json_body(r));
	json_object_set_new(o, "signature", out_json_hex(r->signature, LS_SIG_LEN));
	return o;
}

/* ---- text ---- */

static void field(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
field(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%-16s ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
field_hex(const char *name, const uint8_t *bin, size_t len)
{
	char hex[2 * LS_SIG_LEN + 1];

	field(name, "%s", ls_hex(bin, len, hex));
}

static const char *(*key_namer)(void *arg, const uint8_t key[LS_KEY_LEN]);
static const char *(*lot_namer)(void *arg, const uint8_t lot[LS_ID_LEN]);
static void *key_namer_arg;

void
out_set_namers(const char *(*keys)(void *arg, const uint8_t key[LS_KEY_LEN]),
	       const char *(*lots)(void *arg, const uint8_t lot[LS_ID_LEN]), void *arg)
{
	key_namer = keys;
	lot_namer = lots;
	key_namer_arg = arg;
}

/* A lot id, with its label when a namer is set and knows it. */
static void
field_lot(const char *name, const uint8_t lot[LS_ID_LEN], const char *extra)
{
	char hex[LS_HEX_KEY_LEN + 1];
	const char *label = lot_namer != NULL ? lot_namer(key_namer_arg, lot) : NULL;

	ls_hex(lot, LS_ID_LEN, hex);
	if (label != NULL)
		field(name, "%s%s  '%s'", hex, extra, label);
	else
		field(name, "%s%s", hex, extra);
}

/* A key, with the name of its holder when a namer is set and knows it. */
static void
field_key(const char *name, const uint8_t key[LS_KEY_LEN])
{
	char hex[LS_HEX_KEY_LEN + 1];
	const char *who = key_namer != NULL ? key_namer(key_namer_arg, key) : NULL;

	ls_hex(key, LS_KEY_LEN, hex);
	if (who != NULL && strncmp(who, hex, 16) != 0)
		field(name, "%s  %s", hex, who);
	else
		field(name, "%s", hex);
}

static void
field_time(const char *name, uint64_t t)
{
	char buf[40];

	field(name, "%s", ls_time_format(t, buf, sizeof(buf)));
}

static void
field_list(const char *name, const struct ls_strlist *l)
{
	printf("%-16s ", name);
	for (size_t i = 0; i < l->n; i++)
		printf("%s%s", i ? "," : "", l->v[i]);
	if (l->n == 0)
		fputs("-", stdout);
	putchar('\n');
}

static void
lotdef_text(const struct ls_lotdef *d, const char *indent)
{
	char comp[LS_COMP_MAX * 12];

	out_comp(&d->comp, comp, sizeof(comp));
	printf("%slabel %s, %s, %" PRIu64 " g, %s", indent, d->label, d->category, d->grams, comp);
	if (d->value != 0)
		printf(", value %" PRIu64, d->value);
	putchar('\n');
}

void
out_record_text(const struct ls_record *r)
{
	char buf[128];

	field_hex("id", r->id, LS_ID_LEN);
	field("type", "%s", ls_rtype_name(r->type));
	field_key("author", r->author);
	field("seq", "%" PRIu64, r->seq);
	if (r->has_prev)
		field_hex("prev", r->prev, LS_ID_LEN);
	field_time("timestamp", r->timestamp);
	if (r->has_cert)
		field_hex("cert", r->cert_id, LS_ID_LEN);
	else
		field("cert", "none (trust anchor)");
	switch (r->type) {
	case LS_REC_CERTIFICATE:
		field_key("subject", r->certificate.subject);
		field("org", "%s", r->certificate.org);
		field("country", "%s", r->certificate.country);
		ls_roles_format(r->certificate.roles, buf, sizeof(buf));
		field("roles", "%s", buf);
		field_time("valid from", r->certificate.valid_from);
		if (r->certificate.valid_until != 0)
			field_time("valid until", r->certificate.valid_until);
		break;
	case LS_REC_REVOCATION:
		field_hex("subject", r->revocation.subject, LS_KEY_LEN);
		field_time("effective", r->revocation.effective);
		if (r->revocation.reason[0] != '\0')
			field("reason", "%s", r->revocation.reason);
		break;
	case LS_REC_POLICY: {
		const struct ls_policy *p = &r->policy;
		field("jurisdiction", "%s", p->jurisdiction);
		field("name", "%s", p->name);
		field_time("effective from", p->effective_from);
		if (p->effective_until != 0)
			field_time("effective until", p->effective_until);
		printf("%-16s ", "elements");
		for (size_t i = 0; i < p->n_elements; i++)
			printf("%s%s", i ? "," : "", ls_element_symbol(p->elements[i]));
		putchar('\n');
		field_list("categories", &p->controlled_categories);
		field_list("technology", &p->controlled_tech);
		field_list("exempt", &p->exempt_categories);
		field_list("denied end uses", &p->denied_end_uses);
		for (size_t i = 0; i < p->denied_end_user_keys.n; i++)
			field_hex("denied end user", p->denied_end_user_keys.v[i], LS_KEY_LEN);
		if (p->denied_end_user_names.n > 0)
			field_list("denied names", &p->denied_end_user_names);
		field("de minimis", "%" PRIu32 " ppm by %s", p->de_minimis_ppm,
		      p->de_minimis_basis == LS_BASIS_VALUE ? "value" : "mass");
		field("re-export", "%s", p->applies_to_reexport ? "yes" : "no");
		field("foreign tech", "%s", p->applies_to_foreign_tech ? "yes" : "no");
		for (size_t i = 0; i < p->supersedes.n; i++)
			field_hex("supersedes", p->supersedes.v[i], LS_ID_LEN);
		for (size_t i = 0; i < p->n_suspends; i++) {
			char hex[LS_HEX_KEY_LEN + 1], a[40], b[40];
			field("suspends", "%s from %s until %s",
			      ls_hex(p->suspends[i].policy, LS_ID_LEN, hex),
			      ls_time_format(p->suspends[i].from, a, sizeof(a)),
			      ls_time_format(p->suspends[i].until, b, sizeof(b)));
		}
		break;
	}
	case LS_REC_LICENSE: {
		const struct ls_license *l = &r->license;
		field("number", "%s", l->number);
		field_key("licensee", l->licensee);
		field("kind", "%s", l->general ? "general" : "individual");
		field_list("items", &l->items);
		field("max grams", "%" PRIu64, l->max_grams);
		field_list("destinations", &l->destinations);
		if (l->has_end_user)
			field_key("end user", l->end_user);
		field("end use", "%s", l->end_use);
		if (l->valid_from != 0)
			field_time("valid from", l->valid_from);
		if (l->valid_until != 0)
			field_time("valid until", l->valid_until);
		field_list("no re-export to", &l->no_reexport_to);
		field("no military", "%s", l->no_military ? "yes" : "no");
		break;
	}
	case LS_REC_LOT: {
		char comp[LS_COMP_MAX * 12];
		out_comp(&r->lot.lot.comp, comp, sizeof(comp));
		field("label", "%s", r->lot.lot.label);
		field("site", "%s", r->lot.site);
		field("country", "%s", r->lot.country);
		field("category", "%s", r->lot.lot.category);
		field("grams", "%" PRIu64, r->lot.lot.grams);
		field("composition", "%s", comp);
		if (r->lot.lot.value != 0)
			field("value", "%" PRIu64, r->lot.lot.value);
		break;
	}
	case LS_REC_TRANSFORMATION: {
		const struct ls_transformation *t = &r->transformation;
		char hex[LS_HEX_KEY_LEN + 1];
		if (t->site[0] != '\0')
			field("site", "%s", t->site);
		for (size_t i = 0; i < t->n_inputs; i++) {
			char grams[40];
			snprintf(grams, sizeof(grams), " %" PRIu64 " g", t->inputs[i].grams);
			field_lot("input", t->inputs[i].lot, grams);
		}
		for (size_t i = 0; i < t->n_outputs; i++) {
			uint8_t lot[LS_ID_LEN];
			ls_lot_id(r->id, (uint32_t)i, lot);
			field("output", "%s", ls_hex(lot, LS_ID_LEN, hex));
			lotdef_text(&t->outputs[i], "                   ");
		}
		break;
	}
	case LS_REC_TRANSFER: {
		const struct ls_transfer *t = &r->transfer;
		if (t->has_lot) {
			field_lot("lot", t->lot, "");
			field("grams", "%" PRIu64, t->grams);
		} else {
			field("technology", "%s", t->tech);
		}
		field_key("to", t->to);
		field_hex("to cert", t->to_cert, LS_ID_LEN);
		if (t->has_license)
			field_hex("license", t->license, LS_ID_LEN);
		if (t->end_use[0] != '\0')
			field("end use", "%s", t->end_use);
		if (t->description[0] != '\0')
			field("description", "%s", t->description);
		break;
	}
	case LS_REC_RECEIPT:
		field_hex("transfer", r->receipt.transfer, LS_ID_LEN);
		field("grams", "%" PRIu64, r->receipt.grams);
		if (r->receipt.reason != NULL && r->receipt.reason[0] != '\0')
			field("reason", "%s", r->receipt.reason);
		break;
	case LS_REC_OWNERSHIP:
		field("owner", "%s", r->ownership.owner);
		field("subsidiary", "%s", r->ownership.subsidiary);
		field("share", "%u ppm", r->ownership.share_ppm);
		field("jurisdiction", "%s", r->ownership.jurisdiction);
		break;
	default: break;
	}
	field_hex("signature", r->signature, LS_SIG_LEN);
}

void
out_record_summary(const struct ls_record *r, char *buf, size_t len)
{
	char hex[LS_HEX_KEY_LEN + 1], roles[128], mass[32];

	switch (r->type) {
	case LS_REC_CERTIFICATE:
		ls_roles_format(r->certificate.roles, roles, sizeof(roles));
		snprintf(buf, len, "%.16s... is %s (%s) as %s",
			 ls_hex(r->certificate.subject, LS_KEY_LEN, hex), r->certificate.org,
			 r->certificate.country, roles);
		break;
	case LS_REC_REVOCATION:
		snprintf(buf, len, "%.16s... revoked%s%s",
			 ls_hex(r->revocation.subject, LS_KEY_LEN, hex),
			 r->revocation.reason[0] ? ": " : "", r->revocation.reason);
		break;
	case LS_REC_POLICY:
		snprintf(buf, len, "%s policy '%s', %zu elements", r->policy.jurisdiction,
			 r->policy.name, r->policy.n_elements);
		break;
	case LS_REC_LICENSE:
		snprintf(buf, len, "license %s (%s) to %.16s..., %s, %s", r->license.number,
			 r->license.general ? "general" : "individual",
			 ls_hex(r->license.licensee, LS_KEY_LEN, hex),
			 ls_grams_human(r->license.max_grams, mass, sizeof(mass)),
			 r->license.end_use);
		break;
	case LS_REC_LOT:
		snprintf(buf, len, "'%s' %s %s at %s (%s)", r->lot.lot.label,
			 ls_grams_human(r->lot.lot.grams, mass, sizeof(mass)), r->lot.lot.category,
			 r->lot.site, r->lot.country);
		break;
	case LS_REC_TRANSFORMATION: {
		size_t off = (size_t)snprintf(buf, len, "%zu in -> ", r->transformation.n_inputs);
		for (size_t i = 0; i < r->transformation.n_outputs && off < len; i++)
			off += (size_t)snprintf(
			    buf + off, len - off, "%s'%s' %s %s", i ? ", " : "",
			    r->transformation.outputs[i].label,
			    ls_grams_human(r->transformation.outputs[i].grams, mass, sizeof(mass)),
			    r->transformation.outputs[i].category);
		break;
	}
	case LS_REC_TRANSFER:
		if (r->transfer.has_lot)
			snprintf(buf, len, "%s of lot %.16s... to %.16s...%s",
				 ls_grams_human(r->transfer.grams, mass, sizeof(mass)),
				 ls_hex(r->transfer.lot, LS_ID_LEN, hex),
				 ls_hex(r->transfer.to, LS_KEY_LEN, roles),
				 r->transfer.has_license ? " under license" : "");
		else
			snprintf(buf, len, "%s to %.16s...%s", r->transfer.tech,
				 ls_hex(r->transfer.to, LS_KEY_LEN, hex),
				 r->transfer.has_license ? " under license" : "");
		break;
	case LS_REC_RECEIPT:
		snprintf(buf, len, "received %s of transfer %.16s...",
			 ls_grams_human(r->receipt.grams, mass, sizeof(mass)),
			 ls_hex(r->receipt.transfer, LS_ID_LEN, hex));
		break;
	case LS_REC_OWNERSHIP:
		snprintf(buf, len, "ownership: '%s' owns at least %.2f %% of '%s' (for %s)",
			 r->ownership.owner, (double)r->ownership.share_ppm / 10000.0,
			 r->ownership.subsidiary, r->ownership.jurisdiction);
		break;
	default: snprintf(buf, len, "?"); break;
	}
}

/* ---- verdicts ---- */

int
out_verdict_exit(enum ls_verdict_kind k)
{
	switch (k) {
	case LS_V_VALID:
	case LS_V_ALLOWED: return CLI_OK;
	case LS_V_LICENSE_REQUIRED: return CLI_LICENSE;
	default: return CLI_FAIL;
	}
}

/* The reasons of v that are warnings (or not), as a JSON array. */
static json_t *
json_reasons(const struct ls_verdict *v, bool warnings)
{
	json_t *a = json_array();

	for (size_t i = 0; i < v->n; i++) {
		const struct ls_verdict_reason *r = &v->reasons[i];
		json_t *x, *ids;
		if (r->warning != warnings)
			continue;
		x = json_object();
		ids = json_array();
		for (size_t k = 0; k < r->n_ids; k++)
			json_array_append_new(ids, out_json_hex(r->ids[k], LS_ID_LEN));
		json_object_set_new(x, "code", json_string(ls_reason_code(r->code)));
		json_object_set_new(x, "message", json_string(r->message));
		json_object_set_new(x, "records", ids);
		json_array_append_new(a, x);
	}
	return a;
}

static void
text_reasons(const struct ls_verdict *v, const char *indent, bool faults_only)
{
	char hex[LS_HEX_KEY_LEN + 1];

	for (size_t i = 0; i < v->n; i++) {
		const struct ls_verdict_reason *r = &v->reasons[i];
		if (faults_only && (r->warning || r->code == LS_R_OK))
			continue;
		printf("%s%s%s: %s\n", indent, r->warning ? "warning: " : "",
		       ls_reason_code(r->code), r->message);
		for (size_t k = 0; k < r->n_ids; k++)
			printf("%s  record %s\n", indent, ls_hex(r->ids[k], LS_ID_LEN, hex));
	}
	if (v->reasons_more > 0)
		printf("%s(%llu more reasons: ask with --from)\n", indent,
		       (unsigned long long)v->reasons_more);
}

int
out_verdict(struct cli *c, const struct ls_verdict *v, const uint8_t *lot)
{
	return out_verdict_with(c, v, lot, NULL);
}

int
out_verdict_with(struct cli *c, const struct ls_verdict *v, const uint8_t *lot, json_t *extra)
{
	char hex[LS_HEX_KEY_LEN + 1], thex[LS_HEX_KEY_LEN + 1];

	if (c->json) {
		json_t *o = json_object(), *parts = json_array();
		json_object_set_new(o, "verdict", json_string(ls_verdict_name(v->kind)));
		if (extra != NULL)
			json_object_update(o, extra);
		if (lot != NULL)
			json_object_set_new(o, "lot", out_json_hex(lot, LS_ID_LEN));
		json_object_set_new(o, "reasons", json_reasons(v, false));
		json_object_set_new(o, "warnings", json_reasons(v, true));
		json_object_set_new(o, "records_examined", json_integer((json_int_t)v->ancestors));
		for (size_t i = 0; i < v->n_parts; i++) {
			const struct ls_verdict_part *pt = &v->parts[i];
			json_t *x = json_object();
			json_object_set_new(x, "holder", out_json_hex(pt->holder, LS_KEY_LEN));
			json_object_set_new(x, "grams", json_integer((json_int_t)pt->grams));
			json_object_set_new(x, "in_transit", json_boolean(pt->in_transit));
			if (pt->in_transit)
				json_object_set_new(x, "transfer",
						    out_json_hex(pt->transfer, LS_ID_LEN));
			json_object_set_new(x, "verdict", json_string(ls_verdict_name(pt->v.kind)));
			json_object_set_new(x, "reasons", json_reasons(&pt->v, false));
			json_object_set_new(x, "warnings", json_reasons(&pt->v, true));
			if (pt->v.reasons_more > 0)
				json_object_set_new(x, "reasons_not_shown",
						    json_integer((json_int_t)pt->v.reasons_more));
			json_array_append_new(parts, x);
		}
		json_object_set_new(o, "holders", parts);
		json_object_set_new(o, "holders_not_judged",
				    json_integer((json_int_t)v->parts_more));
		out_json(o);
		json_decref(extra);
		return out_verdict_exit(v->kind);
	}
	json_decref(extra);
	printf("%s\n", ls_verdict_name(v->kind));
	if (lot != NULL)
		printf("  lot %s\n", ls_hex(lot, LS_ID_LEN, hex));
	text_reasons(v, "  ", false);
	if (v->n_parts > 1 || v->parts_more > 0) {
		printf("  by holder (the verdict is the worst of them):\n");
		for (size_t i = 0; i < v->n_parts; i++) {
			const struct ls_verdict_part *pt = &v->parts[i];
			ls_hex(pt->holder, LS_KEY_LEN, hex);
			if (pt->in_transit)
				printf("    %s: %llu g in transit to %s by transfer %s\n",
				       ls_verdict_name(pt->v.kind), (unsigned long long)pt->grams,
				       hex, ls_hex(pt->transfer, LS_ID_LEN, thex));
			else
				printf("    %s: %llu g held by %s\n", ls_verdict_name(pt->v.kind),
				       (unsigned long long)pt->grams, hex);
			text_reasons(&pt->v, "      ", true);
		}
		if (v->parts_more > 0)
			printf("    (%llu more holders not judged: ask with --from)\n",
			       (unsigned long long)v->parts_more);
	}
	return out_verdict_exit(v->kind);
}

/* ---- progress ---- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
out_progress_start(struct out_progress *p, const char *what, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO) == 1;
	p->what = what;
	p->total = total;
	p->last_ms = now_ms();
}

void
out_progress_step(struct out_progress *p, uint64_t n)
{
	uint64_t t;

	p->done += n;
	if (!p->on || (t = now_ms()) - p->last_ms < 200)
		return;
	p->last_ms = t;
	p->shown = true;
	if (p->total != 0)
		fprintf(stderr, "\r%s: %" PRIu64 "/%" PRIu64 " records (%" PRIu64 " %%)", p->what,
			p->done, p->total, p->done * 100 / p->total);
	else
		fprintf(stderr, "\r%s: %" PRIu64 " records", p->what, p->done);
}

void
out_progress_end(struct out_progress *p)
{
	if (p->on && p->shown)
		fprintf(stderr, "\r\033[K");
	p->on = false;
}
