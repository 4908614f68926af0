/*
 * license.c - license issue: an authority lets a licensee export items to
 * destinations, for an end use, up to a quantity, with re-export bindings.
 */
#include <string.h>

#include "util.h"

#include "client.h"

int
cmd_license_issue(struct cli *c, int argc, char **argv)
{
	enum {
		OPT_NUMBER = CLI_OPT_FIRST_LOCAL,
		OPT_LICENSEE,
		OPT_DEST,
		OPT_END_USE,
		OPT_END_USER,
		OPT_ITEMS,
		OPT_MAX,
		OPT_FROM,
		OPT_UNTIL,
		OPT_GENERAL,
		OPT_NO_REEXPORT,
		OPT_NO_MILITARY
	};
	static const struct option longopts[] = {
	    {"number", required_argument, NULL, OPT_NUMBER},
	    {"licensee", required_argument, NULL, OPT_LICENSEE},
	    {"destination", required_argument, NULL, OPT_DEST},
	    {"end-use", required_argument, NULL, OPT_END_USE},
	    {"end-user", required_argument, NULL, OPT_END_USER},
	    {"items", required_argument, NULL, OPT_ITEMS},
	    {"max-grams", required_argument, NULL, OPT_MAX},
	    {"valid-from", required_argument, NULL, OPT_FROM},
	    {"valid-until", required_argument, NULL, OPT_UNTIL},
	    {"general", no_argument, NULL, OPT_GENERAL},
	    {"no-reexport-to", required_argument, NULL, OPT_NO_REEXPORT},
	    {"no-military", no_argument, NULL, OPT_NO_MILITARY},
	    CLI_COMMON_LONGOPTS};
	struct ls_record *r = ls_record_new(LS_REC_LICENSE);
	struct ls_license *l;
	bool has_licensee = false, has_max = false;
	int ch, rc = CLI_USAGE;

	if (r == NULL) {
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	l = &r->license;
	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_NUMBER:
			if (cli_parse_text(c, "--number", optarg, false) != CLI_OK)
				goto out;
			l->number = ls_record_strdup(r, optarg);
			break;
		case OPT_LICENSEE:
			if (cli_parse_key(c, "--licensee", optarg, l->licensee) != CLI_OK)
				goto out;
			has_licensee = true;
			break;
		case OPT_DEST:
			if (cli_parse_countries(c, "--destination", optarg, r, &l->destinations) !=
			    CLI_OK)
				goto out;
			break;
		case OPT_END_USE:
			if (cli_parse_end_use(c, "--end-use", optarg) != CLI_OK)
				goto out;
			l->end_use = ls_record_strdup(r, optarg);
			break;
		case OPT_END_USER:
			if (cli_parse_key(c, "--end-user", optarg, l->end_user) != CLI_OK)
				goto out;
			l->has_end_user = true;
			break;
		case OPT_ITEMS:
			if (cli_parse_list(c, "--items", optarg, r, &l->items, cli_item_valid) !=
			    CLI_OK)
				goto out;
			break;
		case OPT_MAX:
			if (cli_parse_grams(c, "--max-grams", optarg, &l->max_grams) != CLI_OK)
				goto out;
			has_max = true;
			break;
		case OPT_FROM:
			if (cli_parse_date(c, "--valid-from", optarg, &l->valid_from) != CLI_OK)
				goto out;
			break;
		case OPT_UNTIL:
			if (cli_parse_date(c, "--valid-until", optarg, &l->valid_until) != CLI_OK)
				goto out;
			break;
		case OPT_GENERAL: l->general = true; break;
		case OPT_NO_REEXPORT:
			if (cli_parse_countries(c, "--no-reexport-to", optarg, r,
						&l->no_reexport_to) != CLI_OK)
				goto out;
			break;
		case OPT_NO_MILITARY: l->no_military = true; break;
		case CLI_GETOPT_HELP: rc = CLI_OK; goto out;
		default: goto out;
		}
	}
	if (optind < argc) {
		cli_usage_err(c, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	{
		const char *missing = l->number == NULL        ? "--number"
				      : !has_licensee          ? "--licensee"
				      : l->destinations.n == 0 ? "--destination"
				      : l->end_use == NULL     ? "--end-use"
				      : l->items.n == 0        ? "--items"
							       : NULL;
		if (missing != NULL) {
			cli_usage_err(c, "%s is required", missing);
			goto out;
		}
	}
	/* A technology license needs no mass; material needs a maximum. */
	for (size_t i = 0; i < l->items.n && !has_max; i++)
		if (!ls_tech_valid(l->items.v[i])) {
			cli_usage_err(c, "--max-grams is required for the material item '%s'",
				      l->items.v[i]);
			goto out;
		}
	if (l->valid_until != 0 && l->valid_until <= (l->valid_from ? l->valid_from : ls_now())) {
		cli_usage_err(c, "--valid-until must be after --valid-from (or now)");
		goto out;
	}
	if ((rc = cli_write(c, r)) == CLI_OK)
		rc = cli_print_written(c, r->id, NULL, 0);
out:
	ls_record_free(r);
	return rc;
}
