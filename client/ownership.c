/*
 * ownership.c - ownership state: an authority states that one organisation
 * owns at least a share of another, for the policies of a jurisdiction
 * (an Ownership record, format version 3). A denial of the owner by name
 * then extends to the subsidiary when the share is at least 50 %.
 */
#include <ctype.h>
#include <string.h>

#include "util.h"

#include "client.h"

/* "60", "60%", "50.5 %", "33.3333": a percentage with at most four
 * decimals, into ppm 1..1000000. */
static int
parse_share(struct cli *c, const char *s, uint32_t *ppm)
{
	uint64_t whole = 0, frac = 0;
	int digits = 0, fd = 0;
	const char *p = s;

	for (; isdigit((unsigned char)*p) && digits < 4; p++, digits++)
		whole = whole * 10 + (uint64_t)(*p - '0');
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p) && fd < 4; p++, fd++)
			frac = frac * 10 + (uint64_t)(*p - '0');
	for (int k = fd; k < 4; k++)
		frac *= 10;
	while (*p == ' ')
		p++;
	if (*p == '%')
		p++;
	if (digits == 0 || *p != '\0' || whole * 10000 + frac == 0 ||
	    whole * 10000 + frac > 1000000)
		return cli_usage_err(c, "--share '%s' is not a percentage above 0 and at most 100",
				     s);
	*ppm = (uint32_t)(whole * 10000 + frac);
	return CLI_OK;
}

int
cmd_ownership_state(struct cli *c, int argc, char **argv)
{
	enum { OPT_OWNER = CLI_OPT_FIRST_LOCAL, OPT_SUB, OPT_SHARE, OPT_JUR, OPT_FROM };
	static const struct option longopts[] = {{"owner", required_argument, NULL, OPT_OWNER},
						 {"subsidiary", required_argument, NULL, OPT_SUB},
						 {"share", required_argument, NULL, OPT_SHARE},
						 {"jurisdiction", required_argument, NULL, OPT_JUR},
						 {"from", required_argument, NULL, OPT_FROM},
						 CLI_COMMON_LONGOPTS};
	struct ls_record *r = ls_record_new(LS_REC_OWNERSHIP);
	struct ls_ownership *o;
	int ch, rc = CLI_USAGE;

	if (r == NULL) {
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	o = &r->ownership;
	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_OWNER:
			if (cli_parse_text(c, "--owner", optarg, false) != CLI_OK)
				goto out;
			o->owner = ls_record_strdup(r, optarg);
			break;
		case OPT_SUB:
			if (cli_parse_text(c, "--subsidiary", optarg, false) != CLI_OK)
				goto out;
			o->subsidiary = ls_record_strdup(r, optarg);
			break;
		case OPT_SHARE:
			if (parse_share(c, optarg, &o->share_ppm) != CLI_OK)
				goto out;
			break;
		case OPT_JUR:
			if (cli_parse_country(c, "--jurisdiction", optarg, o->jurisdiction) !=
			    CLI_OK)
				goto out;
			break;
		case OPT_FROM:
			if (cli_parse_date(c, "--from", optarg, &o->from) != CLI_OK)
				goto out;
			break;
		case CLI_GETOPT_HELP: rc = CLI_OK; goto out;
		default: goto out;
		}
	}
	if (optind < argc) {
		cli_usage_err(c, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	{
		const char *missing = o->owner == NULL          ? "--owner"
				      : o->subsidiary == NULL   ? "--subsidiary"
				      : o->share_ppm == 0       ? "--share"
				      : o->jurisdiction[0] == 0 ? "--jurisdiction"
								: NULL;
		if (missing != NULL) {
			cli_usage_err(c, "%s is required", missing);
			goto out;
		}
	}
	if (strcmp(o->owner, o->subsidiary) == 0) {
		cli_usage_err(c, "--owner and --subsidiary name the same organisation");
		goto out;
	}
	if ((rc = cli_write(c, r)) == CLI_OK)
		rc = cli_print_written(c, r->id, NULL, 0);
out:
	ls_record_free(r);
	return rc;
}
