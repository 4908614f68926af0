/*
 * keys.c - keygen and pubkey.
 */
#include <stdio.h>
#include <string.h>

#include "keyfile.h"
#include "passphrase.h"
#include "util.h"

#include "client.h"

int
cmd_keygen(struct cli *c, int argc, char **argv)
{
	enum { OPT_NO_PASS = CLI_OPT_FIRST_LOCAL, OPT_AUTHORITY, OPT_COST };
	static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
						 {"no-passphrase", no_argument, NULL, OPT_NO_PASS},
						 {"authority", no_argument, NULL, OPT_AUTHORITY},
						 {"cost", required_argument, NULL, OPT_COST},
						 CLI_COMMON_LONGOPTS};
	enum ls_key_cost cost = LS_KEY_COST_INTERACTIVE;
	struct ls_keypair *kp = NULL;
	struct ls_err_ctx ctx = {{0}};
	const char *out = NULL;
	char *pass = NULL;
	char hex[LS_HEX_KEY_LEN + 1];
	bool no_pass = false;
	int ch, rc = CLI_USAGE;

	while ((ch = cli_getopt(c, argc, argv, "o:", longopts)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case OPT_NO_PASS: no_pass = true; break;
		case OPT_AUTHORITY: cost = LS_KEY_COST_MODERATE; break;
		case OPT_COST:
			if (ls_key_cost_parse(optarg, &cost) != 0)
				return cli_usage_err(
				    c, "--cost '%s': interactive, moderate or sensitive", optarg);
			break;
		case CLI_GETOPT_HELP: return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind]);
	if (out == NULL)
		return cli_usage_err(c, "-o FILE is required");
	if (no_pass && cost != LS_KEY_COST_INTERACTIVE)
		return cli_usage_err(c, "--authority and --cost protect a passphrase: not with "
					"--no-passphrase");
	if (!no_pass) {
		if (ls_passphrase_get(c->passphrase_file, "New passphrase: ", true, &pass, &ctx) !=
		    0) {
			cli_err("keygen: %s", ctx.msg);
			goto out;
		}
		if (pass[0] == '\0') {
			cli_err("keygen: empty passphrase refused: use --no-passphrase for a key "
				"file in the clear");
			goto out;
		}
	}
	if (ls_key_generate(&kp) != 0) {
		cli_err("keygen: cannot make a key: out of memory");
		goto out;
	}
	if (ls_key_save_cost(kp, out, pass, cost, &ctx) != 0) {
		cli_err("keygen: %s", ctx.msg);
		goto out;
	}
	if (c->json) {
		json_t *j = json_object();
		json_object_set_new(j, "public_key", json_string(ls_hex(kp->pk, LS_KEY_LEN, hex)));
		json_object_set_new(j, "file", json_string(out));
		out_json(j);
	} else {
		puts(ls_hex(kp->pk, LS_KEY_LEN, hex));
	}
	rc = CLI_OK;
out:
	ls_passphrase_free(&pass);
	ls_key_free(&kp);
	return rc;
}

int
cmd_pubkey(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS};
	struct ls_err_ctx ctx = {{0}};
	uint8_t pk[LS_KEY_LEN];
	char hex[LS_HEX_KEY_LEN + 1];
	const char *path;
	int ch;

	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		if (ch == CLI_GETOPT_HELP)
			return CLI_OK;
		return CLI_USAGE;
	}
	if (optind >= argc) {
		if (c->key_path == NULL)
			return cli_usage_err(c, "which key file?");
		path = c->key_path;
	} else {
		path = argv[optind++];
	}
	if (optind < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind]);
	if (ls_pubkey_load(path, pk, &ctx) != 0) {
		cli_err("pubkey: %s", ctx.msg);
		return CLI_USAGE;
	}
	if (c->json) {
		json_t *j = json_object();
		json_object_set_new(j, "public_key", json_string(ls_hex(pk, LS_KEY_LEN, hex)));
		out_json(j);
	} else {
		puts(ls_hex(pk, LS_KEY_LEN, hex));
	}
	return CLI_OK;
}
