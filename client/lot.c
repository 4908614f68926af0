/*
 * lot.c - the physical chain: lot register, lot transform, lot transfer,
 * lot receive, and tech transfer (an intangible export).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "keyfile.h"
#include "util.h"

#include "client.h"

int
cmd_lot_register(struct cli *c, int argc, char **argv)
{
	enum {
		OPT_LABEL = CLI_OPT_FIRST_LOCAL,
		OPT_SITE,
		OPT_COUNTRY,
		OPT_CATEGORY,
		OPT_GRAMS,
		OPT_COMP,
		OPT_VALUE
	};
	static const struct option longopts[] = {
	    {"label", required_argument, NULL, OPT_LABEL},
	    {"site", required_argument, NULL, OPT_SITE},
	    {"country", required_argument, NULL, OPT_COUNTRY},
	    {"category", required_argument, NULL, OPT_CATEGORY},
	    {"grams", required_argument, NULL, OPT_GRAMS},
	    {"composition", required_argument, NULL, OPT_COMP},
	    {"value", required_argument, NULL, OPT_VALUE},
	    CLI_COMMON_LONGOPTS};
	struct ls_record *r = ls_record_new(LS_REC_LOT);
	struct ls_lot_registration *lot;
	bool has_comp = false;
	int ch, rc = CLI_USAGE;

	if (r == NULL) {
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	lot = &r->lot;
	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_LABEL:
			if (cli_parse_text(c, "--label", optarg, false) != CLI_OK)
				goto out;
			lot->lot.label = ls_record_strdup(r, optarg);
			break;
		case OPT_SITE:
			if (cli_parse_text(c, "--site", optarg, false) != CLI_OK)
				goto out;
			lot->site = ls_record_strdup(r, optarg);
			break;
		case OPT_COUNTRY:
			if (cli_parse_country(c, "--country", optarg, lot->country) != CLI_OK)
				goto out;
			break;
		case OPT_CATEGORY:
			if (!ls_category_valid(optarg)) {
				cli_usage_err(
				    c,
				    "--category '%s' unknown: ore concentrate oxide metal "
				    "alloy magnet component product scrap",
				    optarg);
				goto out;
			}
			lot->lot.category = ls_record_strdup(r, optarg);
			break;
		case OPT_GRAMS:
			if (cli_parse_grams(c, "--grams", optarg, &lot->lot.grams) != CLI_OK)
				goto out;
			break;
		case OPT_COMP:
			if (cli_parse_comp(c, "--composition", optarg, &lot->lot.comp) != CLI_OK)
				goto out;
			has_comp = true;
			break;
		case OPT_VALUE:
			if (cli_parse_u64(c, "--value", optarg, &lot->lot.value) != CLI_OK)
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
		const char *missing = lot->lot.label == NULL      ? "--label"
				      : lot->site == NULL         ? "--site"
				      : lot->country[0] == '\0'   ? "--country"
				      : lot->lot.category == NULL ? "--category"
				      : lot->lot.grams == 0       ? "--grams"
				      : !has_comp                 ? "--composition"
								  : NULL;
		if (missing != NULL) {
			cli_usage_err(c, "%s is required", missing);
			goto out;
		}
	}
	if ((rc = cli_write(c, r)) == CLI_OK)
		rc = cli_print_written(c, r->id, r->id, 1);
out:
	ls_record_free(r);
	return rc;
}

/* --in LOT=GRAMS: the lot name may itself hold '=': split at the last one. */
static int
parse_input(struct cli *c, const char *arg, struct ls_lot_input *in)
{
	const char *eq = strrchr(arg, '=');
	char name[LS_STR_MAX + 1];
	size_t n;
	int rc;

	if (eq == NULL || eq == arg)
		return cli_usage_err(c, "--in '%s': expected LOT=GRAMS", arg);
	n = (size_t)(eq - arg);
	if (n > LS_STR_MAX)
		return cli_usage_err(c, "--in '%s': lot name too long", arg);
	memcpy(name, arg, n);
	name[n] = '\0';
	if ((rc = cli_parse_grams(c, "--in", eq + 1, &in->grams)) != CLI_OK)
		return rc;
	return cli_resolve_lot(c, name, in->lot);
}

/*
 * --out LABEL:CAT:GRAMS:EL=PPM[,...]: split from the right, so that the label
 * may hold ':' (the other fields cannot).
 */
static int
parse_output(struct cli *c, struct ls_record *r, const char *arg, struct ls_lotdef *d)
{
	char *s = ls_record_alloc(r, strlen(arg) + 1), *comp, *grams, *cat;
	int rc;

	if (s == NULL)
		return cli_usage_err(c, "out of memory");
	strcpy(s, arg);
	if ((comp = strrchr(s, ':')) == NULL)
		goto bad;
	*comp++ = '\0';
	if ((grams = strrchr(s, ':')) == NULL)
		goto bad;
	*grams++ = '\0';
	if ((cat = strrchr(s, ':')) == NULL)
		goto bad;
	*cat++ = '\0';
	if ((rc = cli_parse_text(c, "--out label", s, false)) != CLI_OK)
		return rc;
	if (!ls_category_valid(cat))
		return cli_usage_err(c, "--out '%s': category '%s' unknown", arg, cat);
	if ((rc = cli_parse_grams(c, "--out grams", grams, &d->grams)) != CLI_OK ||
	    (rc = cli_parse_comp(c, "--out composition", comp, &d->comp)) != CLI_OK)
		return rc;
	d->label = s;
	d->category = cat;
	return CLI_OK;
bad:
	return cli_usage_err(c, "--out '%s': expected LABEL:CAT:GRAMS:EL=PPM[,EL=PPM...]", arg);
}

int
cmd_lot_transform(struct cli *c, int argc, char **argv)
{
	enum { OPT_IN = CLI_OPT_FIRST_LOCAL, OPT_OUT, OPT_SITE };
	static const struct option longopts[] = {{"in", required_argument, NULL, OPT_IN},
						 {"out", required_argument, NULL, OPT_OUT},
						 {"site", required_argument, NULL, OPT_SITE},
						 CLI_COMMON_LONGOPTS};
	struct ls_record *r = ls_record_new(LS_REC_TRANSFORMATION);
	struct ls_transformation *t;
	struct ls_lot_input *in = NULL;
	struct ls_lotdef *out = NULL;
	const char *ins[LS_LIST_MAX];
	uint8_t *lots = NULL;
	size_t n_in = 0;
	int ch, rc = CLI_USAGE;

	if (r == NULL || (in = ls_record_alloc(r, LS_LIST_MAX * sizeof(*in))) == NULL ||
	    (out = ls_record_alloc(r, LS_LIST_MAX * sizeof(*out))) == NULL) {
		cli_err("%s: out of memory", c->cmd);
		ls_record_free(r);
		return CLI_FAIL;
	}
	t = &r->transformation;
	t->site = "";
	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_IN:
			if (n_in == LS_LIST_MAX) {
				cli_usage_err(c, "over %d --in", LS_LIST_MAX);
				goto out;
			}
			ins[n_in++] = optarg; /* resolved below, once the options are right */
			break;
		case OPT_OUT:
			if (t->n_outputs == LS_LIST_MAX) {
				cli_usage_err(c, "over %d --out", LS_LIST_MAX);
				goto out;
			}
			if (parse_output(c, r, optarg, &out[t->n_outputs]) != CLI_OK)
				goto out;
			t->n_outputs++;
			break;
		case OPT_SITE:
			if (cli_parse_text(c, "--site", optarg, false) != CLI_OK)
				goto out;
			t->site = ls_record_strdup(r, optarg);
			break;
		case CLI_GETOPT_HELP: rc = CLI_OK; goto out;
		default: goto out;
		}
	}
	if (optind < argc) {
		cli_usage_err(c, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (n_in == 0 || t->n_outputs == 0) {
		cli_usage_err(c, "%s is required", n_in == 0 ? "--in" : "--out");
		goto out;
	}
	for (size_t i = 0; i < n_in; i++) {
		if ((rc = parse_input(c, ins[i], &in[i])) != CLI_OK)
			goto out;
		for (size_t j = 0; j < i; j++)
			if (memcmp(in[j].lot, in[i].lot, LS_ID_LEN) == 0) {
				rc = cli_usage_err(c, "--in '%s' names the same lot as --in '%s'",
						   ins[i], ins[j]);
				goto out;
			}
	}
	t->n_inputs = n_in;
	t->inputs = in;
	t->outputs = out;
	if ((rc = cli_write(c, r)) != CLI_OK)
		goto out;
	if ((lots = calloc(t->n_outputs, LS_ID_LEN)) == NULL) {
		cli_err("%s: out of memory", c->cmd);
		rc = CLI_FAIL;
		goto out;
	}
	for (size_t i = 0; i < t->n_outputs; i++)
		ls_lot_id(r->id, (uint32_t)i, lots + i * LS_ID_LEN);
	rc = cli_print_written(c, r->id, lots, t->n_outputs);
out:
	free(lots);
	ls_record_free(r);
	return rc;
}

/* Options shared by lot transfer and tech transfer. */
struct transfer_opts {
	const char *license;
	const char *to;
};

static int
finish_transfer(struct cli *c, struct ls_record *r, const struct transfer_opts *o)
{
	struct ls_transfer *t = &r->transfer;
	int rc;

	if (o->to == NULL)
		return cli_usage_err(c, "--to is required");
	if ((rc = cli_parse_key(c, "--to", o->to, t->to)) != CLI_OK)
		return rc;
	if ((rc = cli_cert_of(c, t->to, 0, "--to", t->to_cert)) != CLI_OK)
		return rc;
	if (o->license != NULL) {
		if ((rc = cli_resolve_license(c, o->license, t->license)) != CLI_OK)
			return rc;
		t->has_license = true;
	}
	if ((rc = cli_write(c, r)) != CLI_OK)
		return rc;
	return cli_print_written(c, r->id, NULL, 0);
}

int
cmd_lot_transfer(struct cli *c, int argc, char **argv)
{
	enum {
		OPT_GRAMS = CLI_OPT_FIRST_LOCAL,
		OPT_TO,
		OPT_LICENSE,
		OPT_END_USE,
		OPT_DESC,
		OPT_VIOLATION
	};
	static const struct option longopts[] = {
	    {"grams", required_argument, NULL, OPT_GRAMS},
	    {"to", required_argument, NULL, OPT_TO},
	    {"license", required_argument, NULL, OPT_LICENSE},
	    {"end-use", required_argument, NULL, OPT_END_USE},
	    {"description", required_argument, NULL, OPT_DESC},
	    {"record-violation", no_argument, NULL, OPT_VIOLATION},
	    CLI_COMMON_LONGOPTS};
	struct ls_record *r = ls_record_new(LS_REC_TRANSFER);
	struct transfer_opts o = {NULL, NULL};
	struct ls_transfer *t;
	int ch, rc = CLI_USAGE;

	if (r == NULL) {
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	t = &r->transfer;
	t->tech = t->end_use = t->description = "";
	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_GRAMS:
			if (cli_parse_grams(c, "--grams", optarg, &t->grams) != CLI_OK)
				goto out;
			break;
		case OPT_TO: o.to = optarg; break;
		case OPT_LICENSE: o.license = optarg; break;
		case OPT_END_USE:
			if (cli_parse_end_use(c, "--end-use", optarg) != CLI_OK)
				goto out;
			t->end_use = ls_record_strdup(r, optarg);
			break;
		case OPT_DESC:
			if (cli_parse_text(c, "--description", optarg, true) != CLI_OK)
				goto out;
			t->description = ls_record_strdup(r, optarg);
			break;
		case OPT_VIOLATION: c->record_violation = true; break;
		case CLI_GETOPT_HELP: rc = CLI_OK; goto out;
		default: goto out;
		}
	}
	if (optind >= argc) {
		cli_usage_err(c, "which lot? give LOT");
		goto out;
	}
	if (optind + 1 < argc) {
		cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
		goto out;
	}
	if (t->grams == 0) {
		cli_usage_err(c, "--grams is required");
		goto out;
	}
	if (o.to == NULL) {
		cli_usage_err(c, "--to is required");
		goto out;
	}
	if ((rc = cli_resolve_lot(c, argv[optind], t->lot)) != CLI_OK)
		goto out;
	t->has_lot = true;
	rc = finish_transfer(c, r, &o);
out:
	ls_record_free(r);
	return rc;
}

int
cmd_tech_transfer(struct cli *c, int argc, char **argv)
{
	enum {
		OPT_ITEM = CLI_OPT_FIRST_LOCAL,
		OPT_TO,
		OPT_LICENSE,
		OPT_END_USE,
		OPT_DESC,
		OPT_VIOLATION
	};
	static const struct option longopts[] = {
	    {"item", required_argument, NULL, OPT_ITEM},
	    {"to", required_argument, NULL, OPT_TO},
	    {"license", required_argument, NULL, OPT_LICENSE},
	    {"end-use", required_argument, NULL, OPT_END_USE},
	    {"description", required_argument, NULL, OPT_DESC},
	    {"record-violation", no_argument, NULL, OPT_VIOLATION},
	    CLI_COMMON_LONGOPTS};
	struct ls_record *r = ls_record_new(LS_REC_TRANSFER);
	struct transfer_opts o = {NULL, NULL};
	struct ls_transfer *t;
	int ch, rc = CLI_USAGE;

	if (r == NULL) {
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	t = &r->transfer;
	t->tech = t->end_use = t->description = "";
	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_ITEM:
			if (!ls_tech_valid(optarg)) {
				cli_usage_err(c,
					      "--item '%s' unknown: tech:mining tech:separation "
					      "tech:smelting tech:magnet tech:recycling",
					      optarg);
				goto out;
			}
			t->tech = ls_record_strdup(r, optarg);
			break;
		case OPT_TO: o.to = optarg; break;
		case OPT_LICENSE: o.license = optarg; break;
		case OPT_END_USE:
			if (cli_parse_end_use(c, "--end-use", optarg) != CLI_OK)
				goto out;
			t->end_use = ls_record_strdup(r, optarg);
			break;
		case OPT_DESC:
			if (cli_parse_text(c, "--description", optarg, true) != CLI_OK)
				goto out;
			t->description = ls_record_strdup(r, optarg);
			break;
		case OPT_VIOLATION: c->record_violation = true; break;
		case CLI_GETOPT_HELP: rc = CLI_OK; goto out;
		default: goto out;
		}
	}
	if (optind < argc) {
		cli_usage_err(c, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (t->tech[0] == '\0') {
		cli_usage_err(c, "--item is required");
		goto out;
	}
	rc = finish_transfer(c, r, &o);
out:
	ls_record_free(r);
	return rc;
}

/*
 * lot receive ID: a transfer addressed to the key, or (the sender) a receipt
 * that returns grams short of the key's transfer.
 */
int
cmd_lot_receive(struct cli *c, int argc, char **argv)
{
	enum { OPT_GRAMS = CLI_OPT_FIRST_LOCAL, OPT_REASON };
	static const struct option longopts[] = {{"grams", required_argument, NULL, OPT_GRAMS},
						 {"reason", required_argument, NULL, OPT_REASON},
						 CLI_COMMON_LONGOPTS};
	struct ls_record *r = ls_record_new(LS_REC_RECEIPT), *named = NULL, *tr = NULL;
	struct ls_keypair *kp;
	struct ls_err_ctx ctx = {{0}};
	uint8_t *env = NULL;
	size_t len = 0;
	uint64_t grams = 0, sent;
	bool has_grams = false, back;
	const char *reason = NULL, *what;
	char hex[LS_HEX_KEY_LEN + 1];
	int ch, rc = CLI_USAGE;

	if (r == NULL) {
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_GRAMS:
			if (cli_parse_u64(c, "--grams", optarg, &grams) != CLI_OK)
				goto out;
			has_grams = true;
			break;
		case OPT_REASON:
			if (cli_parse_text(c, "--reason", optarg, false) != CLI_OK)
				goto out;
			reason = optarg;
			break;
		case CLI_GETOPT_HELP: rc = CLI_OK; goto out;
		default: goto out;
		}
	}
	if (optind >= argc) {
		cli_usage_err(c, "which transfer? give TRANSFER_ID");
		goto out;
	}
	if (optind + 1 < argc) {
		cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
		goto out;
	}
	/* Check the key first: no daemon round trip for a key that will not load. */
	if ((rc = cli_key(c, &kp)) != CLI_OK ||
	    (rc = cli_resolve_record(c, argv[optind], r->receipt.transfer)) != CLI_OK)
		goto out;
	if ((rc = ls_api_get(c->api, r->receipt.transfer, &env, &len, &ctx)) != 0) {
		rc = cli_api_fail(c, rc, &ctx, argv[optind]);
		goto out;
	}
	if (ls_record_decode(env, len, &named, &ctx) != 0) {
		cli_err("%s: record '%s' does not decode: %s", c->cmd, argv[optind], ctx.msg);
		rc = CLI_FAIL;
		goto out;
	}
	free(env);
	env = NULL;
	rc = CLI_USAGE;
	back = named->type == LS_REC_RECEIPT;
	if (named->type != LS_REC_TRANSFER && !back) {
		cli_err("%s: record '%s' is a %s, not a transfer or a receipt", c->cmd,
			argv[optind], ls_rtype_name(named->type));
		goto out;
	}
	if (back) {
		/* The sender takes back what the receipt left short. */
		if ((rc = ls_api_get(c->api, named->receipt.transfer, &env, &len, &ctx)) != 0) {
			rc = cli_api_fail(c, rc, &ctx, argv[optind]);
			goto out;
		}
		rc = CLI_USAGE;
		if (ls_record_decode(env, len, &tr, &ctx) != 0 || tr->type != LS_REC_TRANSFER) {
			cli_err("%s: receipt '%s' does not receive a transfer: it returns nothing",
				c->cmd, argv[optind]);
			goto out;
		}
		if (memcmp(tr->author, kp->pk, LS_KEY_LEN) != 0) {
			cli_err("%s: receipt '%s' returns grams to %s, not to the key in '%s'",
				c->cmd, argv[optind], ls_hex(tr->author, LS_KEY_LEN, hex),
				c->key_path);
			goto out;
		}
		sent = tr->transfer.grams - named->receipt.grams;
		what = "returned";
		if (sent == 0) {
			cli_err("%s: receipt '%s' returns nothing (every gram sent was received)",
				c->cmd, argv[optind]);
			goto out;
		}
	} else {
		tr = named;
		named = NULL;
		if (memcmp(tr->transfer.to, kp->pk, LS_KEY_LEN) != 0) {
			cli_err("%s: transfer '%s' is addressed to %s, not to the key in '%s'",
				c->cmd, argv[optind], ls_hex(tr->transfer.to, LS_KEY_LEN, hex),
				c->key_path);
			goto out;
		}
		sent = tr->transfer.grams;
		what = "shipped";
	}
	if (has_grams && grams > sent) {
		cli_usage_err(c, "--grams %" PRIu64 " is more than the %" PRIu64 " g %s", grams,
			      sent, what);
		goto out;
	}
	r->receipt.grams = has_grams ? grams : sent;
	if (r->receipt.grams < sent && reason == NULL) {
		cli_usage_err(c,
			      "--grams %" PRIu64 " is %" PRIu64 " g short of the %" PRIu64
			      " g %s: say why with --reason (%s)",
			      r->receipt.grams, sent - r->receipt.grams, sent, what,
			      back ? "the rest is lost" : "the rest goes back to the sender");
		goto out;
	}
	if (reason != NULL && (r->receipt.reason = ls_record_strdup(r, reason)) == NULL) {
		cli_err("%s: out of memory", c->cmd);
		rc = CLI_FAIL;
		goto out;
	}
	if ((rc = cli_write(c, r)) == CLI_OK)
		rc = cli_print_written(c, r->id, NULL, 0);
out:
	ls_record_free(named);
	ls_record_free(tr);
	free(env);
	ls_record_free(r);
	return rc;
}
