/*
 * stages.c - the stages of a lot's elements (origin --stages, check,
 * disclose), as text and as JSON, from one struct ls_origin.
 */
#include <stdio.h>
#include <string.h>

#include "util.h"

#include "client.h"

/* The name a place's country is shown by: "unknown" for material that
 * entered the ledger past the stage. */
const char *
out_place_country(const char *cc)
{
	return cc[0] != '\0' ? cc : "unknown";
}

/* The place's site, or its organisation when the record names none. */
const char *
out_place_site(const struct ls_stage_place *p)
{
	return p->site[0] != '\0' ? p->site : p->org[0] != '\0' ? p->org : "-";
}

json_t *
out_stages_json(const struct ls_origin_elem *e)
{
	json_t *o = json_object();

	for (size_t i = 0; i < e->n_stages; i++) {
		const struct ls_origin_stage *st = &e->stages[i];
		json_t *x = json_object(), *bc = json_object(), *bs = json_object(),
		       *pl = json_array();
		for (size_t k = 0; k < st->n_country; k++)
			json_object_set_new(bc, out_place_country(st->by_country[k].name),
					    json_integer((json_int_t)st->by_country[k].grams));
		for (size_t k = 0; k < st->n_places; k++) {
			const struct ls_stage_place *p = &st->places[k];
			json_t *y = json_object(), *g = json_object_get(bs, out_place_site(p));
			json_int_t prev = g ? json_integer_value(g) : 0;
			if (p->country[0] != '\0')
				json_object_set_new(bs, out_place_site(p),
						    json_integer(prev + (json_int_t)p->grams));
			json_object_set_new(y, "country",
					    p->country[0] ? json_string(p->country) : json_null());
			json_object_set_new(y, "site", json_string(p->site));
			json_object_set_new(y, "org", json_string(p->org));
			json_object_set_new(y, "record", out_json_hex(p->record, LS_ID_LEN));
			json_object_set_new(y, "grams", json_integer((json_int_t)p->grams));
			json_array_append_new(pl, y);
		}
		json_object_set_new(x, "grams", json_integer((json_int_t)st->grams));
		json_object_set_new(x, "by_country", bc);
		json_object_set_new(x, "by_site", bs);
		json_object_set_new(x, "places", pl);
		json_object_set_new(o, ls_stage_name(st->stage), x);
	}
	return o;
}

void
out_stages_text(const struct ls_origin_elem *e)
{
	char mass[32], hex[LS_HEX_KEY_LEN + 1];

	for (size_t i = 0; i < e->n_stages; i++) {
		const struct ls_origin_stage *st = &e->stages[i];
		printf("  %-12s %s:", ls_stage_name(st->stage),
		       ls_grams_human(st->grams, mass, sizeof(mass)));
		for (size_t k = 0; k < st->n_country; k++)
			printf("%s %s %s (%.1f %%)", k ? "," : "",
			       out_place_country(st->by_country[k].name),
			       ls_grams_human(st->by_country[k].grams, mass, sizeof(mass)),
			       st->grams
				   ? 100.0 * (double)st->by_country[k].grams / (double)st->grams
				   : 0.0);
		putchar('\n');
		for (size_t k = 0; k < st->n_places; k++) {
			const struct ls_stage_place *p = &st->places[k];
			if (p->country[0] == '\0')
				printf(
				    "    %-7s %s, entered the ledger past this stage (registration "
				    "%.16s)\n",
				    "unknown", ls_grams_human(p->grams, mass, sizeof(mass)),
				    ls_hex(p->record, LS_ID_LEN, hex));
			else
				printf("    %-7s %s, %s%s%s (record %.16s)\n", p->country,
				       ls_grams_human(p->grams, mass, sizeof(mass)),
				       out_place_site(p), p->site[0] && p->org[0] ? ", " : "",
				       p->site[0] ? p->org : "", ls_hex(p->record, LS_ID_LEN, hex));
		}
	}
}
