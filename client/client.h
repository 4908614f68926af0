/*
 * client.h - what the files of the lodestone client share: the command
 * context, option parsing, errors, keys, the daemon connection, writing
 * records and the output helpers.
 *
 * Prototypes are grouped by the file that defines them. Every cmd_* function
 * parses its own options and returns an exit code of CLI.md (enum cli_exit).
 */
#ifndef LS_CLIENT_H
#define LS_CLIENT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "record.h"
#include "verify.h"

/* Exit codes of CLI.md. */
enum cli_exit {
	CLI_OK = 0,          /* success; verify: valid / allowed */
	CLI_FAIL = 1,        /* rejected record; verify: broken / denied */
	CLI_USAGE = 2,       /* usage error, unreadable file, bad key or passphrase */
	CLI_LICENSE = 3,     /* verify: a license is required and not present */
	CLI_UNREACHABLE = 4, /* the daemon cannot be reached */
	CLI_TIMEOUT = 5,     /* connected, but no answer within --timeout */
	CLI_BUSY = 6,        /* the daemon refused the query unrun: too many waiting */
};

/* How long the client tries to get a connection to the daemon. */
#define CLI_CONNECT_MS 5000

struct ls_api;
struct ls_keypair;

/* The state of one invocation, shared by main and the command. */
struct cli {
	const char *cmd;             /* "lot register": prefixes messages */
	const char *usage;           /* the command's usage text */
	const char *api_endpoint;    /* --api, $LODESTONE_API or the default */
	bool json;                   /* --json */
	const char *key_path;        /* -k/--key, or $LODESTONE_KEY */
	const char *passphrase_file; /* --passphrase-file */
	const char *timeout_arg;     /* --timeout, else $LODESTONE_TIMEOUT; NULL: none */
	struct ls_api *api;          /* opened by cli_connect, closed by main */
	struct ls_keypair *key;      /* loaded by cli_key, freed by main */
	int lock_fd;                 /* the key file, locked while writing; -1 */
	bool record_violation;       /* --record-violation: store an unlawful transfer */
	char default_api[4096];
};

/* ---- main.c ---- */

/* Options every command accepts, after its own, before the terminator. */
enum {
	CLI_OPT_API = 0x1000,
	CLI_OPT_JSON,
	CLI_OPT_PASSFILE,
	CLI_OPT_TIMEOUT,
	/* The export-query options of verify and verify-bundle (cli_query_opt). */
	CLI_OPT_Q_FROM,
	CLI_OPT_Q_EXPORT_TO,
	CLI_OPT_Q_END_USER,
	CLI_OPT_Q_END_USE,
	CLI_OPT_Q_AT,
	CLI_OPT_FIRST_LOCAL /* commands number their long-only options from here */
};
#define CLI_QUERY_LONGOPTS                                                                         \
	{"from", required_argument, NULL, CLI_OPT_Q_FROM},                                         \
	    {"export-to", required_argument, NULL, CLI_OPT_Q_EXPORT_TO},                           \
	    {"end-user", required_argument, NULL, CLI_OPT_Q_END_USER},                             \
	    {"end-use", required_argument, NULL, CLI_OPT_Q_END_USE},                               \
	{                                                                                          \
		"at", required_argument, NULL, CLI_OPT_Q_AT                                        \
	}
#define CLI_COMMON_LONGOPTS                                                                        \
	{"api", required_argument, NULL, CLI_OPT_API}, {"json", no_argument, NULL, CLI_OPT_JSON},  \
	    {"key", required_argument, NULL, 'k'},                                                 \
	    {"passphrase-file", required_argument, NULL, CLI_OPT_PASSFILE},                        \
	    {"timeout", required_argument, NULL, CLI_OPT_TIMEOUT},                                 \
	    {"help", no_argument, NULL, 'h'},                                                      \
	{                                                                                          \
		NULL, 0, NULL, 0                                                                   \
	}

/* Returned by cli_getopt besides the command's own option values. */
#define CLI_GETOPT_HELP (-2) /* --help: usage printed on stdout; return CLI_OK */
#define CLI_GETOPT_ERR  (-3) /* bad option: message printed; return CLI_USAGE */

/*
 * getopt_long over argv (argv[0] is the command word) that handles the
 * common options itself and reports errors as one `lodestone:` line.
 * shortopts lists the command's own short options (-k and -h are added).
 * Returns an option value, -1 at the end, CLI_GETOPT_HELP or CLI_GETOPT_ERR.
 */
int cli_getopt(struct cli *c, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/* Prints `lodestone: CMD: MESSAGE` on stderr. Returns CLI_USAGE. */
int cli_usage_err(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints `lodestone: MESSAGE` on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- args.c: parsing option values (each prints its error, returns CLI_USAGE) ---- */

int cli_parse_u64(struct cli *c, const char *flag, const char *s, uint64_t *v);
int cli_parse_grams(struct cli *c, const char *flag, const char *s, uint64_t *v);
int cli_parse_date(struct cli *c, const char *flag, const char *s, uint64_t *t);
/* Upper-cases a two-letter country code into out (3 bytes). */
int cli_parse_country(struct cli *c, const char *flag, const char *s, char out[3]);
/* Splits "DE,FR" into country codes in r's arena. */
int cli_parse_countries(struct cli *c, const char *flag, const char *s, struct ls_record *r,
			struct ls_strlist *out);
/* Splits a comma list into r's arena, checking each with ok (NULL: any). */
int cli_parse_list(struct cli *c, const char *flag, const char *s, struct ls_record *r,
		   struct ls_strlist *out, bool (*ok)(const char *));
/* A public key: 64 hex digits or a key file. */
int cli_parse_key(struct cli *c, const char *flag, const char *s, uint8_t pk[LS_KEY_LEN]);
/* A plain text field: non-empty, at most LS_STR_MAX bytes, no control characters. */
int cli_parse_text(struct cli *c, const char *flag, const char *s, bool allow_empty);
/* End use: a lower-case word ("civilian", "military", ...). */
int cli_parse_end_use(struct cli *c, const char *flag, const char *s);
/*
 * Parses the value of export-query option ch (a CLI_OPT_Q_* value) into q.
 * Returns CLI_OK, or the exit code of a bad value (message printed).
 */
int cli_query_opt(struct cli *c, int ch, const char *arg, struct ls_export_query *q);
/* A duration: seconds, or a number with s, m, h, d or w ("10m", "7d"). */
int cli_parse_duration(struct cli *c, const char *flag, const char *s, uint64_t *secs);
/*
 * A verifier key (note.h) of the given type (LS_NOTE_COSIG for a witness):
 * the key text, or a file whose first line that is not a '#' comment holds
 * it (as `lodestone status` prints it).
 */
struct ls_vkey;
int cli_parse_vkey(struct cli *c, const char *flag, const char *s, uint8_t type, struct ls_vkey *k);
/* A license item: element, category or tech category. */
bool cli_item_valid(const char *s);
/* A composition "EL=PPM,..." for flag. */
int cli_parse_comp(struct cli *c, const char *flag, const char *s, struct ls_comp *comp);

/* ---- session.c: keys, the daemon, writing records ---- */

/* Loads the -k key (asking for the passphrase when it is encrypted). */
int cli_key(struct cli *c, struct ls_keypair **kp);

/* Opens the API connection once; CLI_UNREACHABLE when the daemon is not there,
 * CLI_USAGE when the timeout is not a duration. */
int cli_connect(struct cli *c);

/*
 * Maps an ls_api_* error to an exit code and prints the message: LS_ERR_NET
 * is CLI_UNREACHABLE, LS_ERR_TIMEOUT (connected, no answer in time)
 * CLI_TIMEOUT, LS_ERR_NOT_FOUND / LS_ERR_AMBIGUOUS /
 * LS_ERR_INVALID name `what` and are CLI_USAGE, others CLI_FAIL.
 */
int cli_api_fail(struct cli *c, int err, const struct ls_err_ctx *ctx, const char *what);

/* Resolves a lot name (id, prefix, label) to a lot id via the daemon. */
int cli_resolve_lot(struct cli *c, const char *name, uint8_t id[LS_ID_LEN]);
/* Resolves a record id or prefix. */
int cli_resolve_record(struct cli *c, const char *name, uint8_t id[LS_ID_LEN]);
/* Resolves a license number (or id). */
int cli_resolve_license(struct cli *c, const char *number, uint8_t id[LS_ID_LEN]);
/* The certificate of key at time t: CLI_FAIL with a message when it has none. */
int cli_cert_of(struct cli *c, const uint8_t key[LS_KEY_LEN], uint64_t t, const char *who,
		uint8_t cert[LS_ID_LEN]);

/*
 * Completes r (author, seq, prev, timestamp, cert) from the daemon's view of
 * the author's feed, signs it locally with the -k key and submits it.
 * Prints nothing on success; on rejection prints the reason and returns
 * CLI_FAIL. r->id is the record id afterwards.
 */
int cli_write(struct cli *c, struct ls_record *r);

/* Prints a written record: its id and the n_lots lot ids (LS_ID_LEN bytes
 * each, back to back) it made. Returns CLI_OK. */
int cli_print_written(struct cli *c, const uint8_t id[LS_ID_LEN], const uint8_t *lots,
		      size_t n_lots);

/* ---- output.c ---- */

/* Prints j on one line (compact) and takes it (decref). */
void out_json(json_t *j);
/* A JSON string of hex. */
json_t *out_json_hex(const uint8_t *bin, size_t len);
/* An element symbol as JSON spells it everywhere: lower case ("dy"), the
 * published origin format (CLI.md); text output keeps "Dy". buf: 4 bytes. */
const char *out_json_element(uint32_t z, char buf[4]);
/* RFC 3339 string of t. */
json_t *out_json_time(uint64_t t);
/* A record as a JSON object (every field). */
json_t *out_record_json(const struct ls_record *r);
/* A record as text, several lines, for `show`. */
void out_record_text(const struct ls_record *r);
/* Names keys ("Org (CC)") and lots (their label) next to their hex in
 * out_record_text: each namer returns the name or NULL. NULL: hex only. */
void out_set_namers(const char *(*keys)(void *arg, const uint8_t key[LS_KEY_LEN]),
		    const char *(*lots)(void *arg, const uint8_t lot[LS_ID_LEN]), void *arg);
/* The label of lot, from the record that made it, or NULL (session.c). */
const char *cli_lot_label(struct cli *c, const uint8_t lot[LS_ID_LEN]);
/* The holder of key as "Org (CC)" from its newest certificate, or its first
 * 16 hex digits; remembered for the run (session.c). */
const char *cli_key_name(struct cli *c, const uint8_t key[LS_KEY_LEN]);

/*
 * Ctrl-C (and SIGTERM, SIGHUP) during a command: the temporary file or
 * directory named by cli_temp_file / cli_temp_dir is removed, a progress
 * line on the terminal is cleared, and the client dies of the signal (exit
 * status 130 for Ctrl-C in a shell). NULL: nothing to remove (session.c).
 */
void cli_signals_setup(void);
void cli_temp_file(const char *path);
void cli_temp_dir(const char *dir);
/* One-line summary of a record ("lot 'ore-1' 1000000 g ore at Bayan Obo (CN)"). */
void out_record_summary(const struct ls_record *r, char *buf, size_t len);
/* A composition "Nd=300000,Dy=50000" into buf. */
void out_comp(const struct ls_comp *comp, char *buf, size_t len);
/* A verdict, as text or JSON. Returns the exit code that goes with it. */
/* lot (may be NULL) is named in the JSON output. */
int out_verdict(struct cli *c, const struct ls_verdict *v, const uint8_t *lot);
/* As out_verdict, with the members of the JSON object extra (taken; may be
 * NULL) added to the JSON output. */
int out_verdict_with(struct cli *c, const struct ls_verdict *v, const uint8_t *lot, json_t *extra);
/* The exit code of a verdict kind. */
int out_verdict_exit(enum ls_verdict_kind k);

/* Progress on stderr when it is a terminal; silent otherwise. */
struct out_progress {
	bool on;
	bool shown; /* something is on the line */
	const char *what;
	uint64_t total; /* 0: unknown */
	uint64_t done;
	uint64_t last_ms;
};
void out_progress_start(struct out_progress *p, const char *what, uint64_t total);
void out_progress_step(struct out_progress *p, uint64_t n);
void out_progress_end(struct out_progress *p);

/* ---- bundle.c ---- */

/* Writes the daemon's proof bundle of lot to file out (atomically: a
 * temporary file renamed over it); name is the lot as the user gave it, for
 * messages. *records, *bytes: what was written. An exit code. */
int cli_bundle_to_file(struct cli *c, const char *name, const uint8_t lot[LS_ID_LEN],
		       const char *out, uint64_t *records, uint64_t *bytes);
/* Reads and splits bundle file path: *buf (free) holds *n envelopes
 * (*envs, *lens: free). CLI_USAGE with a message when it cannot. */
int cli_bundle_read(struct cli *c, const char *path, uint8_t **buf, size_t *buf_len,
		    const uint8_t ***envs, size_t **lens, size_t *n);

/* ---- stages.c: the stages of an origin (origin --stages, check, disclose) ---- */

/* "unknown" for "" (material that entered the ledger past the stage). */
const char *out_place_country(const char *cc);
/* The place's site, else its organisation, else "-". */
const char *out_place_site(const struct ls_stage_place *p);
/* {"mining": {"grams", "by_country", "by_site", "places": [...]}, ...} (new reference). */
json_t *out_stages_json(const struct ls_origin_elem *e);
/* Two-space indented lines, one per stage and one per place. */
void out_stages_text(const struct ls_origin_elem *e);

/* ---- profile.c: compliance profiles ---- */

struct ls_profile;
struct ls_compliance_result;
/* Reads a lodestone-profile/1 file (errors name file, line and field):
 * *out malloc'd (free). CLI_OK or CLI_USAGE. */
int cli_profile_load(struct cli *c, const char *path, struct ls_profile **out);
/* The verdict and findings of a check as JSON (new reference) or text. */
json_t *out_compliance_json(const struct ls_profile *p, const struct ls_compliance_result *r);
void out_compliance_text(const struct ls_profile *p, const struct ls_compliance_result *r);

/* ---- the commands ---- */

int cmd_bundle(struct cli *c, int argc, char **argv);
int cmd_bundle_inspect(struct cli *c, int argc, char **argv);
int cmd_cert_issue(struct cli *c, int argc, char **argv);
int cmd_check(struct cli *c, int argc, char **argv);
int cmd_checkpoint(struct cli *c, int argc, char **argv);
int cmd_disclose(struct cli *c, int argc, char **argv);
int cmd_cert_revoke(struct cli *c, int argc, char **argv);
int cmd_epcis_export(struct cli *c, int argc, char **argv);
int cmd_epcis_import(struct cli *c, int argc, char **argv);
int cmd_holdings(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_keygen(struct cli *c, int argc, char **argv);
int cmd_license_issue(struct cli *c, int argc, char **argv);
int cmd_ownership_state(struct cli *c, int argc, char **argv);
int cmd_log(struct cli *c, int argc, char **argv);
int cmd_lot_receive(struct cli *c, int argc, char **argv);
int cmd_lot_register(struct cli *c, int argc, char **argv);
int cmd_lot_transfer(struct cli *c, int argc, char **argv);
int cmd_lot_transform(struct cli *c, int argc, char **argv);
int cmd_origin(struct cli *c, int argc, char **argv);
int cmd_policy_publish(struct cli *c, int argc, char **argv);
int cmd_prove(struct cli *c, int argc, char **argv);
int cmd_pubkey(struct cli *c, int argc, char **argv);
int cmd_show(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_tech_transfer(struct cli *c, int argc, char **argv);
int cmd_trace(struct cli *c, int argc, char **argv);
int cmd_verify(struct cli *c, int argc, char **argv);
int cmd_verify_bundle(struct cli *c, int argc, char **argv);
int cmd_verify_proof(struct cli *c, int argc, char **argv);

#endif
