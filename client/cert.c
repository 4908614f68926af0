/*
 * cert.c - cert issue and cert revoke: an authority binds keys to
 * organisations and roles, and takes them back.
 */
#include <string.h>

#include "util.h"

#include "client.h"

int
cmd_cert_issue(struct cli *c, int argc, char **argv)
{
	enum {
		OPT_SUBJECT = CLI_OPT_FIRST_LOCAL,
		OPT_ORG,
		OPT_COUNTRY,
		OPT_ROLES,
		OPT_FROM,
		OPT_UNTIL,
		OPT_JURISDICTION
	};
	static const struct option longopts[] = {
	    {"subject", required_argument, NULL, OPT_SUBJECT},
	    {"org", required_argument, NULL, OPT_ORG},
	    {"country", required_argument, NULL, OPT_COUNTRY},
	    {"roles", required_argument, NULL, OPT_ROLES},
	    {"valid-from", required_argument, NULL, OPT_FROM},
	    {"valid-until", required_argument, NULL, OPT_UNTIL},
	    {"jurisdiction", required_argument, NULL, OPT_JURISDICTION},
	    CLI_COMMON_LONGOPTS};
	struct ls_record *r = ls_record_new(LS_REC_CERTIFICATE);
	struct ls_certificate *cert;
	struct ls_err_ctx ctx = {{0}};
	bool has_subject = false;
	int ch, rc = CLI_USAGE;

	if (r == NULL) {
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	cert = &r->certificate;
	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_SUBJECT:
			if (cli_parse_key(c, "--subject", optarg, cert->subject) != CLI_OK)
				goto out;
			has_subject = true;
			break;
		case OPT_ORG:
			if (cli_parse_text(c, "--org", optarg, false) != CLI_OK)
				goto out;
			cert->org = ls_record_strdup(r, optarg);
			break;
		case OPT_COUNTRY:
			if (cli_parse_country(c, "--country", optarg, cert->country) != CLI_OK)
				goto out;
			break;
		case OPT_ROLES:
			if (ls_roles_parse(optarg, &cert->roles, &ctx) != 0) {
				cli_usage_err(c, "--roles: %s", ctx.msg);
				goto out;
			}
			break;
		case OPT_FROM:
			if (cli_parse_date(c, "--valid-from", optarg, &cert->valid_from) != CLI_OK)
				goto out;
			break;
		case OPT_UNTIL:
			if (cli_parse_date(c, "--valid-until", optarg, &cert->valid_until) !=
			    CLI_OK)
				goto out;
			break;
		case OPT_JURISDICTION:
			if (cli_parse_countries(c, "--jurisdiction", optarg, r,
						&cert->jurisdictions) != CLI_OK)
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
	if (cert->jurisdictions.n > 0 && (cert->roles & LS_ROLE_AUTHORITY) == 0) {
		cli_usage_err(c, "--jurisdiction is for a key with the authority role");
		goto out;
	}
	if (!has_subject || cert->org == NULL || cert->country[0] == '\0' || cert->roles == 0) {
		cli_usage_err(c, "%s is required",
			      !has_subject            ? "--subject"
			      : cert->org == NULL     ? "--org"
			      : cert->country[0] == 0 ? "--country"
						      : "--roles");
		goto out;
	}
	if (cert->valid_until != 0 && cert->valid_until <= cert->valid_from) {
		cli_usage_err(c, "--valid-until must be after --valid-from");
		goto out;
	}
	if (cert->valid_until != 0 && cert->valid_from == 0 && cert->valid_until <= ls_now()) {
		cli_usage_err(c, "--valid-until is in the past");
		goto out;
	}
	if ((rc = cli_write(c, r)) == CLI_OK)
		rc = cli_print_written(c, r->id, NULL, 0);
out:
	ls_record_free(r);
	return rc;
}

int
cmd_cert_revoke(struct cli *c, int argc, char **argv)
{
	enum { OPT_SUBJECT = CLI_OPT_FIRST_LOCAL, OPT_REASON, OPT_EFFECTIVE };
	static const struct option longopts[] = {
	    {"subject", required_argument, NULL, OPT_SUBJECT},
	    {"reason", required_argument, NULL, OPT_REASON},
	    {"effective", required_argument, NULL, OPT_EFFECTIVE},
	    CLI_COMMON_LONGOPTS};
	struct ls_record *r = ls_record_new(LS_REC_REVOCATION);
	bool has_subject = false;
	int ch, rc = CLI_USAGE;

	if (r == NULL) {
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	r->revocation.reason = "";
	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_SUBJECT:
			if (cli_parse_key(c, "--subject", optarg, r->revocation.subject) != CLI_OK)
				goto out;
			has_subject = true;
			break;
		case OPT_REASON:
			if (cli_parse_text(c, "--reason", optarg, true) != CLI_OK)
				goto out;
			r->revocation.reason = ls_record_strdup(r, optarg);
			break;
		case OPT_EFFECTIVE:
			if (cli_parse_date(c, "--effective", optarg, &r->revocation.effective) !=
			    CLI_OK)
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
	if (!has_subject) {
		cli_usage_err(c, "--subject is required");
		goto out;
	}
	if (r->revocation.effective == 0)
		r->revocation.effective = ls_now();
	if ((rc = cli_write(c, r)) == CLI_OK)
		rc = cli_print_written(c, r->id, NULL, 0);
out:
	ls_record_free(r);
	return rc;
}
