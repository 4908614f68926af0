/*
 * holdings.c - holdings [HEX]: what a participant holds and what is in
 * transit to it and from it, per lot, in grams.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "keyfile.h"
#include "util.h"

#include "client.h"

static json_t *
flows_json(const struct ls_flow *f, size_t n, const char *party)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "transfer", out_json_hex(f[i].transfer, LS_ID_LEN));
		json_object_set_new(x, "lot", out_json_hex(f[i].lot, LS_ID_LEN));
		json_object_set_new(x, "label", json_string(f[i].label));
		json_object_set_new(x, party, out_json_hex(f[i].party, LS_KEY_LEN));
		json_object_set_new(x, "grams", json_integer((json_int_t)f[i].grams));
		json_object_set_new(x, "return", json_boolean(f[i].is_return));
		if (f[i].is_return) {
			json_object_set_new(x, "receipt", out_json_hex(f[i].id, LS_ID_LEN));
			json_object_set_new(x, "reason", json_string(f[i].reason));
		}
		json_array_append_new(a, x);
	}
	return a;
}

static void
holdings_json(const struct ls_holdings *h)
{
	json_t *j = json_object(), *holds = json_array(), *more = json_object();

	for (size_t i = 0; i < h->n_holds; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "lot", out_json_hex(h->holds[i].lot, LS_ID_LEN));
		json_object_set_new(x, "label", json_string(h->holds[i].label));
		json_object_set_new(x, "category", json_string(h->holds[i].category));
		json_object_set_new(x, "grams", json_integer((json_int_t)h->holds[i].grams));
		json_array_append_new(holds, x);
	}
	json_object_set_new(more, "holds", json_boolean(h->more_holds));
	json_object_set_new(more, "incoming", json_boolean(h->more_in));
	json_object_set_new(more, "outgoing", json_boolean(h->more_out));
	json_object_set_new(j, "holder", out_json_hex(h->holder, LS_KEY_LEN));
	json_object_set_new(j, "holds", holds);
	json_object_set_new(j, "incoming", flows_json(h->in, h->n_in, "from"));
	json_object_set_new(j, "outgoing", flows_json(h->out, h->n_out, "to"));
	json_object_set_new(j, "more", more);
	out_json(j);
}

static void
flows_text(struct cli *c, const char *title, const struct ls_flow *f, size_t n, bool in, bool more)
{
	char hex[LS_HEX_KEY_LEN + 1];

	printf("%s:\n", title);
	if (n == 0)
		puts("  (none)");
	for (size_t i = 0; i < n; i++) {
		const char *who = cli_key_name(c, f[i].party);
		char mass[32];
		printf("  %.16s  '%s'  %s  ", ls_hex(f[i].transfer, LS_ID_LEN, hex), f[i].label,
		       ls_grams_human(f[i].grams, mass, sizeof(mass)));
		if (f[i].is_return)
			printf("%s %s, short on receipt %.16s%s%s\n",
			       in ? "returned by" : "returned to", who,
			       ls_hex(f[i].id, LS_ID_LEN, hex), f[i].reason[0] ? ": " : "",
			       f[i].reason);
		else
			printf("%s %s\n", in ? "from" : "to", who);
	}
	if (more)
		printf("  ... more: go on with --after %s\n", ls_hex(f[n - 1].id, LS_ID_LEN, hex));
}

static void
holdings_text(struct cli *c, const struct ls_holdings *h)
{
	char hex[LS_HEX_KEY_LEN + 1];

	printf("holdings of %s", ls_hex(h->holder, LS_KEY_LEN, hex));
	printf(" (%s)\n", cli_key_name(c, h->holder));
	puts("holds:");
	if (h->n_holds == 0)
		puts("  (none)");
	for (size_t i = 0; i < h->n_holds; i++) {
		char mass[32];
		printf("  %.16s  '%s' %s  %s\n", ls_hex(h->holds[i].lot, LS_ID_LEN, hex),
		       h->holds[i].label, h->holds[i].category,
		       ls_grams_human(h->holds[i].grams, mass, sizeof(mass)));
	}
	if (h->more_holds)
		printf("  ... more: go on with --after %s\n",
		       ls_hex(h->holds[h->n_holds - 1].lot, LS_ID_LEN, hex));
	flows_text(c, "in transit to it", h->in, h->n_in, true, h->more_in);
	flows_text(c, "in transit from it", h->out, h->n_out, false, h->more_out);
}

int
cmd_holdings(struct cli *c, int argc, char **argv)
{
	enum { OPT_LIMIT = CLI_OPT_FIRST_LOCAL, OPT_AFTER };
	static const struct option longopts[] = {{"limit", required_argument, NULL, OPT_LIMIT},
						 {"after", required_argument, NULL, OPT_AFTER},
						 CLI_COMMON_LONGOPTS};
	struct ls_holdings h;
	struct ls_err_ctx ctx = {{0}};
	uint8_t holder[LS_KEY_LEN], after[LS_ID_LEN];
	bool has_after = false;
	uint64_t limit = 0;
	size_t n;
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_LIMIT:
			if ((rc = cli_parse_u64(c, "--limit", optarg, &limit)) != CLI_OK)
				return rc;
			if (limit == 0 || limit > LS_HOLDINGS_MAX)
				return cli_usage_err(c, "--limit %s is not between 1 and %d",
						     optarg, LS_HOLDINGS_MAX);
			break;
		case OPT_AFTER:
			if (strlen(optarg) != 2 * LS_ID_LEN ||
			    sodium_hex2bin(after, sizeof(after), optarg, strlen(optarg), NULL, &n,
					   NULL) != 0 ||
			    n != LS_ID_LEN)
				return cli_usage_err(
				    c, "--after '%s' is not an id of 64 hex digits", optarg);
			has_after = true;
			break;
		case CLI_GETOPT_HELP: return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	if (optind < argc) {
		if ((rc = cli_parse_key(c, "HEX", argv[optind], holder)) != CLI_OK)
			return rc;
	} else if (c->key_path != NULL) {
		/* The public half is enough: no passphrase for a question. */
		if (ls_pubkey_load(c->key_path, holder, &ctx) != 0) {
			cli_err("%s: %s", c->cmd, ctx.msg);
			return CLI_USAGE;
		}
	} else {
		return cli_usage_err(c, "whose holdings? give HEX or -k KEY");
	}
	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	memset(&h, 0, sizeof(h));
	if ((rc = ls_api_holdings(c->api, holder, has_after ? after : NULL, (uint32_t)limit, &h,
				  &ctx)) != 0)
		return cli_api_fail(c, rc, &ctx, "holdings");
	if (c->json)
		holdings_json(&h);
	else
		holdings_text(c, &h);
	ls_holdings_release(&h);
	return CLI_OK;
}
