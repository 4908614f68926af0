/*
 * main.c - the lodestone client: global options and the command table.
 *
 * Commands are found in a sorted table { name, fn, summary, usage } as in
 * git.c; a group command ("lot register") is two words. Global options
 * (--api, --json, -k/--key, --passphrase-file) are valid before the command
 * and, through cli_getopt, after it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "api.h"
#include "keyfile.h"

#include "client.h"
#include "util.h"

#define GLOBAL_USAGE                                                                               \
	"usage: lodestone [--api ENDPOINT] [--json] [-k KEY] [--passphrase-file FILE]\n"           \
	"                 [--timeout DURATION] COMMAND [ARGS...]\n"

struct cmd {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *summary;
	const char *usage;
};

/* Sorted by name (strcmp): looked up with bsearch. */
static const struct cmd commands[] = {
    {"bundle", cmd_bundle, "write every record needed to verify a lot to a file",
     "lodestone bundle LOT -o FILE\n"},
    {"bundle inspect", cmd_bundle_inspect, "list a bundle file's records, no daemon needed",
     "lodestone bundle inspect FILE\n"},
    {"cert issue", cmd_cert_issue, "certify a key for an organisation, country and roles",
     "lodestone cert issue -k KEY --subject HEX --org NAME --country CC\n"
     "                     --roles ROLE[,ROLE...] [--valid-from DATE] [--valid-until DATE]\n"
     "                     [--jurisdiction CC[,CC...]]\n"
     "roles: authority miner processor exporter importer auditor recycler\n"
     "a transfer between countries needs an exporter sender and an importer receiver\n"
     "an authority acts for its --jurisdiction list (default: its --country)\n"
     "countries: assigned ISO 3166-1 alpha-2 codes (GB, not UK)\n"},
    {"cert revoke", cmd_cert_revoke, "revoke every certificate of a key",
     "lodestone cert revoke -k KEY --subject HEX [--reason TEXT] [--effective DATE]\n"},
    {"check", cmd_check,
     "whether a lot meets a compliance profile (which countries did each stage)",
     "lodestone check LOT --profile FILE [--from HEX] [--at DATE]\n"
     "exit 0: compliant (or the profile does not cover the lot's category);\n"
     "1: non-compliant, or unknown (material from outside the ledger at a stage it watches)\n"},
    {"checkpoint", cmd_checkpoint, "the latest signed checkpoint of the daemon's log",
     "lodestone checkpoint [--log-key VKEY] [--json]\n"
     "--log-key: check the log's signature first (the log vkey of 'lodestone status',\n"
     "or a file holding it)\n"},
    {"disclose", cmd_disclose, "the provenance report of a lot, with its proof bundle",
     "lodestone disclose LOT [--from HEX] [-o FILE] [--json|--html]\n"
     "per element and stage: countries, sites, organisations, shares; the certificates,\n"
     "licenses and border crossings of the chain; the proof bundle (FILE.bundle with -o,\n"
     "inside the document with --json and --html) that checks every line offline\n"},
    {"epcis export", cmd_epcis_export, "a lot's records (or all) as a GS1 EPCIS 2.0 document",
     "lodestone epcis export LOT [--down] [-o FILE]\n"
     "lodestone epcis export --all | --since DATE [-o FILE]\n"
     "one event per lot registration, transformation, transfer and receipt; eventID:\n"
     "the CBV 2.0 event hash; ls:recordID names the signed record\n"},
    {"epcis import", cmd_epcis_import, "sign and submit the events of an EPCIS 2.0 document",
     "lodestone epcis import FILE -k KEY [--dry-run]\n"
     "each event becomes the record it maps to, signed with KEY (events whose ls:signer\n"
     "is another participant are left to them); what has no record is reported with\n"
     "its position and reason; --dry-run prints the records instead of submitting them\n"},
    {"holdings", cmd_holdings, "what a participant holds and has in transit, per lot",
     "lodestone holdings [HEX] [--limit N] [--after ID]\n"
     "HEX: the participant (default: the public key of -k KEY)\n"},
    {"import", cmd_import, "submit every record of a bundle file to the daemon",
     "lodestone import FILE\n"},
    {"keygen", cmd_keygen, "make a new signing key pair",
     "lodestone keygen -o FILE [--no-passphrase | --authority | --cost COST]\n"
     "--authority: Argon2id cost 'moderate' (3 passes, 256 MiB) for an authority's key;\n"
     "--cost interactive (default: 2, 64 MiB), moderate, or sensitive (4, 1 GiB)\n"},
    {"license issue", cmd_license_issue, "issue an export license",
     "lodestone license issue -k KEY --number NO --licensee HEX --destination CC[,CC...]\n"
     "                     --end-use USE [--end-user HEX] --items ITEM[,ITEM...] [--max-grams N]\n"
     "                     [--valid-from DATE] [--valid-until DATE] [--general]\n"
     "                     [--no-reexport-to CC[,CC...]] [--no-military]\n"
     "--max-grams is required for material items, not for technology (tech:CAT) alone\n"},
    {"log", cmd_log, "list records, the newest the daemon accepted first",
     "lodestone log [--author HEX] [--type TYPE] [--since DATE] [--limit N] [--reverse]\n"
     "the filters combine; --reverse: the oldest first\n"},
    {"lot receive", cmd_lot_receive, "accept a transfer addressed to you, or take back a shortfall",
     "lodestone lot receive -k KEY TRANSFER_ID|RECEIPT_ID [--grams N] [--reason TEXT]\n"
     "fewer grams than sent need --reason; the rest goes back to the sender, who takes\n"
     "it back by receiving the receipt (RECEIPT_ID); what the sender does not take back is lost\n"},
    {"lot register", cmd_lot_register, "register a new lot at its origin",
     "lodestone lot register -k KEY --label LABEL --site NAME --country CC --category CAT\n"
     "                       --grams N --composition EL=PPM[,EL=PPM...] [--value N]\n"
     "categories: ore concentrate oxide metal alloy magnet component product scrap\n"},
    {"lot transfer", cmd_lot_transfer, "ship a quantity of a lot to another participant",
     "lodestone lot transfer -k KEY LOT --grams N --to HEX [--license NO] [--end-use USE]\n"
     "                       [--description TEXT] [--record-violation]\n"},
    {"lot transform", cmd_lot_transform, "consume input lots and produce output lots",
     "lodestone lot transform -k KEY --in LOT=GRAMS [--in LOT=GRAMS...]\n"
     "                        --out LABEL:CAT:GRAMS:EL=PPM[,EL=PPM...] [--out ...]\n"
     "                        [--site NAME]\n"},
    {"origin", cmd_origin, "where each element of a lot was mined and processed",
     "lodestone origin LOT [--from HEX] [--stages]\n"
     "--stages: per element, grams by country, site and organisation for every stage\n"},
    {"ownership state", cmd_ownership_state,
     "an authority states that one organisation owns a share of another",
     "lodestone ownership state -k KEY --owner ORG --subsidiary ORG --share PERCENT\n"
     "                          --jurisdiction CC [--from DATE]\n"
     "organisations as certified; a denial of the owner by name under a policy of CC\n"
     "extends to the subsidiary when the share is at least 50 %\n"},
    {"policy publish", cmd_policy_publish, "publish a control policy (JSON file)",
     "lodestone policy publish -k KEY FILE.json\n"},
    {"prove", cmd_prove, "a record's inclusion proof in the daemon's latest checkpoint",
     "lodestone prove ID [-o FILE] [--log-key VKEY]\n"
     "prints (or writes to FILE) a c2sp.org/tlog-proof; --log-key checks it first\n"},
    {"pubkey", cmd_pubkey, "print the public key of a key file", "lodestone pubkey FILE\n"},
    {"show", cmd_show, "print one record", "lodestone show ID\n"},
    {"status", cmd_status, "the daemon's record count, peers and equivocations",
     "lodestone status\n"},
    {"tech transfer", cmd_tech_transfer, "record a transfer of technology",
     "lodestone tech transfer -k KEY --item tech:CAT --to HEX [--license NO] [--end-use USE]\n"
     "                        [--description TEXT] [--record-violation]\n"
     "technology categories: tech:mining tech:separation tech:smelting tech:magnet "
     "tech:recycling\n"},
    {"trace", cmd_trace, "ancestors (or descendants) of a lot",
     "lodestone trace LOT [--down] [--format text|json|dot|svg|png] [-o FILE]\n"
     "svg and png are drawn by Graphviz's dot (sudo apt-get install graphviz)\n"},
    {"verify", cmd_verify, "check a lot's provenance and, optionally, an export",
     "lodestone verify LOT [--from HEX] [--export-to CC] [--end-user HEX] [--end-use USE]\n"
     "                 [--license NO] [--at DATE]\n"},
    {"verify-bundle", cmd_verify_bundle, "check a bundle file offline, without a daemon",
     "lodestone verify-bundle FILE --trust FILE.pub [--trust ...] [--lot LOT] [--from HEX]\n"
     "                        [--export-to CC] [--end-user HEX] [--end-use USE] [--at DATE]\n"
     "                        [--witness VKEY|FILE]... [--quorum K] [--max-age DURATION]\n"
     "  --witness: a witness's verifier key (as `lodestone status` prints it), or a\n"
     "  file holding one; --quorum: cosignatures needed (default: a majority of the\n"
     "  witnesses given); --max-age: how old the checkpoint's quorum time may be\n"
     "  (90s, 10m, 2h, 7d)\n"},
    {"verify-proof", cmd_verify_proof, "check a record's inclusion proof offline",
     "lodestone verify-proof FILE --log-key VKEY --record ID\n"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

void
cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("lodestone: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_usage_err(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lodestone: %s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'lodestone %s --help')\n", c->cmd);
	return CLI_USAGE;
}

/* Handles an option every command takes. True when ch was one. */
static bool
common_opt(struct cli *c, int ch, const char *arg)
{
	switch (ch) {
	case CLI_OPT_API: c->api_endpoint = arg; return true;
	case CLI_OPT_JSON: c->json = true; return true;
	case 'k': c->key_path = arg; return true;
	case CLI_OPT_PASSFILE: c->passphrase_file = arg; return true;
	case CLI_OPT_TIMEOUT: c->timeout_arg = arg; return true;
	default: return false;
	}
}

/* The name under which the option at argv[optind - 1] was given. */
static void
bad_option(struct cli *c, char **argv, const struct option *longopts, int ch)
{
	const char *arg = argv[optind - 1];

	if (ch == ':') {
		if (optopt != 0 && strncmp(arg, "--", 2) != 0) {
			cli_usage_err(c, "option '-%c' needs a value", optopt);
			return;
		}
		for (const struct option *o = longopts; o->name != NULL; o++)
			if (o->val == optopt && optopt != 0) {
				cli_usage_err(c, "option '--%s' needs a value", o->name);
				return;
			}
		cli_usage_err(c, "option '%s' needs a value", arg);
		return;
	}
	if (optopt != 0 && strncmp(arg, "--", 2) != 0)
		cli_usage_err(c, "unknown option '-%c'", optopt);
	else
		cli_usage_err(c, "unknown option '%s'", arg);
}

int
cli_getopt(struct cli *c, int argc, char **argv, const char *shortopts,
	   const struct option *longopts)
{
	char opts[64];
	int ch;

	/* ':' first: report a missing value as ':' and print nothing ourselves. */
	snprintf(opts, sizeof(opts), ":%sk:h", shortopts);
	opterr = 0;
	for (;;) {
		ch = getopt_long(argc, argv, opts, longopts, NULL);
		if (ch == -1)
			return -1;
		if (common_opt(c, ch, optarg))
			continue;
		if (ch == 'h') {
			fputs("usage: ", stdout);
			fputs(c->usage, stdout);
			return CLI_GETOPT_HELP;
		}
		if (ch == '?' || ch == ':') {
			bad_option(c, argv, longopts, ch);
			return CLI_GETOPT_ERR;
		}
		return ch;
	}
}

static int
cmd_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct cmd *)elem)->name);
}

static const struct cmd *
find_cmd(const char *name)
{
	return bsearch(name, commands, N_COMMANDS, sizeof(commands[0]), cmd_cmp);
}

/* True when name is the first word of a group command ("lot"). */
static bool
is_group(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strncmp(commands[i].name, name, n) == 0 && commands[i].name[n] == ' ')
			return true;
	return false;
}

static void
list_group(const char *group, FILE *f)
{
	size_t n = strlen(group);
	const char *sep = "";

	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strncmp(commands[i].name, group, n) == 0 && commands[i].name[n] == ' ') {
			fprintf(f, "%s%s", sep, commands[i].name + n + 1);
			sep = ", ";
		}
}

static void
print_help(FILE *f)
{
	fputs(GLOBAL_USAGE "\ncommands:\n", f);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'lodestone COMMAND --help' shows a command's options; "
	      "man lodestone tells the rest.\n",
	      f);
}

/* Self-check of the table order; bsearch depends on it. */
static bool
table_sorted(void)
{
	for (size_t i = 1; i < N_COMMANDS; i++)
		if (strcmp(commands[i - 1].name, commands[i].name) >= 0)
			return false;
	return true;
}

static void
defaults(struct cli *c)
{
	const char *env;

	if ((env = getenv("LODESTONE_TIMEOUT")) != NULL && *env != '\0')
		c->timeout_arg = env;
	if ((env = getenv("LODESTONE_KEY")) != NULL && *env != '\0')
		c->key_path = env;
	if ((env = getenv("LODESTONE_API")) != NULL && *env != '\0') {
		c->api_endpoint = env;
		return;
	}
	/* The daemon's default socket is in its data dir: follow $LODESTONE_HOME too. */
	if ((env = getenv("LODESTONE_HOME")) != NULL && *env != '\0')
		snprintf(c->default_api, sizeof(c->default_api), "ipc://%s/api.sock", env);
	else
		snprintf(c->default_api, sizeof(c->default_api), "ipc://%s/.lodestone/api.sock",
			 getenv("HOME") != NULL ? getenv("HOME") : ".");
	c->api_endpoint = c->default_api;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {{"version", no_argument, NULL, 'V'},
						 CLI_COMMON_LONGOPTS};
	struct cli c;
	const struct cmd *cmd;
	char name[64];
	int ch, rc, first;

	memset(&c, 0, sizeof(c));
	c.lock_fd = -1;
	if (!table_sorted()) {
		cli_err("internal error: command table is not sorted");
		return CLI_USAGE;
	}
	if (sodium_init() < 0) {
		cli_err("cannot initialise libsodium");
		return CLI_USAGE;
	}
	defaults(&c);
	cli_signals_setup();
	c.cmd = "lodestone";
	c.usage = GLOBAL_USAGE;
	opterr = 0;
	/* '+': stop at the command word; its options are its own. */
	while ((ch = getopt_long(argc, argv, "+:k:hV", longopts, NULL)) != -1) {
		if (common_opt(&c, ch, optarg))
			continue;
		switch (ch) {
		case 'h': print_help(stdout); return CLI_OK;
		case 'V': puts("lodestone " LS_VERSION); return CLI_OK;
		default:
			if (ch == ':')
				cli_err("option '%s' needs a value", argv[optind - 1]);
			else
				cli_err("unknown option '%s' (see 'lodestone --help')",
					argv[optind - 1]);
			return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		print_help(stderr);
		return CLI_USAGE;
	}
	first = optind;
	if (strcmp(argv[first], "help") == 0) {
		if (first + 1 >= argc) {
			print_help(stdout);
			return CLI_OK;
		}
		snprintf(name, sizeof(name), "%s%s%s", argv[first + 1], first + 2 < argc ? " " : "",
			 first + 2 < argc ? argv[first + 2] : "");
		if ((cmd = find_cmd(name)) == NULL && (cmd = find_cmd(argv[first + 1])) == NULL) {
			cli_err("unknown command '%s' (see 'lodestone --help')", name);
			return CLI_USAGE;
		}
		printf("usage: %s", cmd->usage);
		return CLI_OK;
	}
	/* A command that is also a group ("bundle LOT", "bundle inspect FILE"):
	 * the subcommand when the next word names one. */
	snprintf(name, sizeof(name), "%s %s", argv[first], first + 1 < argc ? argv[first + 1] : "");
	if (find_cmd(argv[first]) != NULL && first + 1 < argc && (cmd = find_cmd(name)) != NULL) {
		first++;
	} else if (find_cmd(argv[first]) == NULL && is_group(argv[first])) {
		if (first + 1 >= argc || argv[first + 1][0] == '-') {
			fprintf(stderr, "lodestone: %s: which one? ", argv[first]);
			list_group(argv[first], stderr);
			fputc('\n', stderr);
			return CLI_USAGE;
		}
		snprintf(name, sizeof(name), "%s %s", argv[first], argv[first + 1]);
		if ((cmd = find_cmd(name)) == NULL) {
			fprintf(stderr,
				"lodestone: %s: unknown subcommand '%s' (one of: ", argv[first],
				argv[first + 1]);
			list_group(argv[first], stderr);
			fputs(")\n", stderr);
			return CLI_USAGE;
		}
		first++;
	} else if ((cmd = find_cmd(argv[first])) == NULL) {
		cli_err("unknown command '%s' (see 'lodestone --help')", argv[first]);
		return CLI_USAGE;
	}
	c.cmd = cmd->name;
	c.usage = cmd->usage;
	optind = 0; /* GNU getopt: start afresh for the command's own options */
	rc = cmd->fn(&c, argc - first, argv + first);
	ls_api_close(&c.api);
	ls_key_free(&c.key);
	if (c.lock_fd >= 0)
		close(c.lock_fd); /* releases the feed lock */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_err("cannot write the output");
		if (rc == CLI_OK)
			rc = CLI_FAIL;
	}
	return rc;
}
