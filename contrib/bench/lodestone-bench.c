/*
 * lodestone-bench - measurements of the library on this machine.
 *
 * Each subcommand prints one line per figure, "name value unit", so that
 * scripts can pick figures with awk. Subcommands live in the table `cmds`
 * below: add one by writing a cmd_NAME(argc, argv) that parses its own
 * options and returns the exit status, and a row in the table.
 *
 * Exit status: 0 measured, 1 the measurement failed (a store error, a record
 * rejected), 2 bad usage.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "record.h"
#include "store.h"

#define DEFAULT_BATCH  1000
#define DEFAULT_MINERS 8
#define FIXED_TIME     1748736000ull /* 2025-06-01T00:00:00Z */

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_ingest(int argc, char **argv);

/* Sorted by name. */
static const struct cmd cmds[] = {
    {"ingest", cmd_ingest, "store ingest throughput against raw signature verification"},
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: lodestone-bench COMMAND [OPTIONS]\n"
		    "       lodestone-bench --help\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(fp, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(fp, "\nlodestone-bench COMMAND --help describes a command's options.\n"
		    "Each figure is printed as one line: NAME VALUE UNIT.\n");
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int
parse_size(const char *s, const char *what, size_t min, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *s == '-' || *s == '\0' || v < min || v > 100000000ull) {
		fprintf(stderr, "lodestone-bench: %s '%s' must be a number from %zu to 100000000\n",
			what, s, min);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

/* ---- ingest ---- */

/* A signer with its own feed. */
struct signer {
	uint8_t pk[32];
	uint8_t sk[64];
	uint8_t cert[LS_ID_LEN];
	bool has_cert;
	uint64_t seq;
	uint8_t head[LS_ID_LEN];
};

/* An envelope to ingest, with what the raw loop needs to check its signature. */
struct item {
	uint8_t *env;
	size_t len;
	uint8_t *msg; /* domain || body */
	size_t msg_len;
	uint8_t sig[LS_SIG_LEN];
	const uint8_t *pk;
};

/* Signs r as s's next record; fills it (env, and the raw verify message). */
static int
sign_next(struct signer *s, struct ls_record *r, struct item *it)
{
	struct ls_err_ctx ctx = {{0}};
	int rc;

	memcpy(r->author, s->pk, 32);
	r->seq = ++s->seq;
	r->has_prev = r->seq > 1;
	memcpy(r->prev, s->head, LS_ID_LEN);
	r->timestamp = FIXED_TIME + r->seq;
	r->has_cert = s->has_cert;
	memcpy(r->cert_id, s->cert, LS_ID_LEN);
	if ((rc = ls_record_sign(r, s->sk, &ctx)) != 0 ||
	    (rc = ls_record_envelope(r, &it->env, &it->len)) != 0) {
		fprintf(stderr, "lodestone-bench: cannot sign: %s\n", ls_err_msg(&ctx, rc));
		return rc;
	}
	memcpy(s->head, r->id, LS_ID_LEN);
	it->msg_len = LS_SIG_DOMAIN_LEN + r->body_len;
	if ((it->msg = malloc(it->msg_len)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(it->msg, LS_SIG_DOMAIN, LS_SIG_DOMAIN_LEN); /* with its NUL */
	memcpy(it->msg + LS_SIG_DOMAIN_LEN, r->body, r->body_len);
	memcpy(it->sig, r->signature, LS_SIG_LEN);
	it->pk = s->pk;
	return 0;
}

static int
make_cert(struct signer *auth, struct signer *subject, struct item *it)
{
	struct ls_record *r = ls_record_new(LS_REC_CERTIFICATE);
	int rc;

	if (r == NULL)
		return LS_ERR_NOMEM;
	memcpy(r->certificate.subject, subject->pk, 32);
	r->certificate.org = ls_record_strdup(r, "Baotou Rare-Earth Mining Co., Ltd.");
	memcpy(r->certificate.country, "CN", 3);
	r->certificate.roles = LS_ROLE_MINER;
	r->certificate.valid_from = FIXED_TIME;
	if (r->certificate.org == NULL)
		rc = LS_ERR_NOMEM;
	else
		rc = sign_next(auth, r, it);
	if (rc == 0) {
		memcpy(subject->cert, r->id, LS_ID_LEN);
		subject->has_cert = true;
	}
	ls_record_free(r);
	return rc;
}

/* A realistic lot registration of about 250 bytes. */
static int
make_lot(struct signer *m, size_t i, struct item *it)
{
	struct ls_record *r = ls_record_new(LS_REC_LOT);
	char label[64];
	int rc;

	if (r == NULL)
		return LS_ERR_NOMEM;
	snprintf(label, sizeof(label), "BO-2025-06-%08zu", i);
	r->lot.lot.label = ls_record_strdup(r, label);
	r->lot.lot.category = ls_record_strdup(r, "concentrate");
	r->lot.lot.grams = 25000000 + i;
	r->lot.lot.value = 180000000;
	r->lot.site = ls_record_strdup(r, "Bayan Obo East Pit");
	memcpy(r->lot.country, "CN", 3);
	if (r->lot.lot.label == NULL || r->lot.lot.category == NULL || r->lot.site == NULL ||
	    ls_comp_parse("La=120000,Ce=250000,Pr=25000,Nd=90000,Sm=6000,Dy=2000,Fe=150000",
			  &r->lot.lot.comp, NULL) != 0)
		rc = LS_ERR_NOMEM;
	else
		rc = sign_next(m, r, it);
	ls_record_free(r);
	return rc;
}

static void
items_free(struct item *items, size_t n)
{
	for (size_t i = 0; items != NULL && i < n; i++) {
		free(items[i].env);
		free(items[i].msg);
	}
	free(items);
}

/* Ingests items[0..n) in batches; counts what was not accepted. */
static int
ingest_all(struct ls_store *s, const struct item *items, size_t n, size_t batch,
	   size_t *not_accepted)
{
	const uint8_t **envs = calloc(batch, sizeof(*envs));
	size_t *lens = calloc(batch, sizeof(*lens));
	struct ls_ingest_result *res = calloc(batch, sizeof(*res));
	int rc = 0;

	*not_accepted = 0;
	if (envs == NULL || lens == NULL || res == NULL)
		rc = LS_ERR_NOMEM;
	for (size_t i = 0; rc == 0 && i < n; i += batch) {
		size_t m = n - i < batch ? n - i : batch;
		for (size_t j = 0; j < m; j++) {
			envs[j] = items[i + j].env;
			lens[j] = items[i + j].len;
		}
		if ((rc = ls_store_ingest(s, envs, lens, m, res, NULL)) != 0)
			break;
		for (size_t j = 0; j < m; j++)
			if (res[j].status != LS_INGEST_ACCEPTED) {
				if (*not_accepted == 0)
					fprintf(stderr,
						"lodestone-bench: record %zu not accepted: %s\n",
						i + j, res[j].message);
				(*not_accepted)++;
			}
	}
	free(envs);
	free(lens);
	free(res);
	return rc;
}

static void
ingest_usage(FILE *fp)
{
	fprintf(fp,
		"usage: lodestone-bench ingest -n N [-b BATCH] [-t THREADS] [-m MINERS] [-d DIR]\n"
		"\n"
		"Signs N lot registrations up front (spread over MINERS certified miners'\n"
		"feeds, default %d), ingests them into a new store in a temporary directory\n"
		"under DIR (default $TMPDIR or /tmp) in batches of BATCH (default %d; durable\n"
		"commits) with THREADS signature threads (default: the store's, one per\n"
		"core, at most 4), then times a bare single-threaded Ed25519 verify loop over\n"
		"the same records.\n"
		"\n"
		"figures: records, batch, threads, elapsed (ingest, s), ingest_records_per_s,\n"
		"verify_raw_per_s, ingest_vs_raw_verify (ratio of the two).\n",
		DEFAULT_MINERS, DEFAULT_BATCH);
}

static int
cmd_ingest(int argc, char **argv)
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	size_t n = 0, batch = DEFAULT_BATCH, threads = 0, miners = DEFAULT_MINERS;
	const char *parent = getenv("TMPDIR");
	struct signer *auth = NULL, *ms = NULL;
	struct item *certs = NULL, *lots = NULL;
	struct ls_store *s = NULL;
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	char dir[4096];
	bool have_dir = false;
	double t0, t_ingest, t_raw, ingest_rate, raw_rate;
	size_t bad = 0, raw_bad = 0;
	int c, rc, status = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:b:t:m:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_size(optarg, "-n", 1, &n) != 0)
				return 2;
			break;
		case 'b':
			if (parse_size(optarg, "-b", 1, &batch) != 0)
				return 2;
			break;
		case 't':
			if (parse_size(optarg, "-t", 1, &threads) != 0)
				return 2;
			break;
		case 'm':
			if (parse_size(optarg, "-m", 1, &miners) != 0)
				return 2;
			break;
		case 'd': parent = optarg; break;
		case 'h': ingest_usage(stdout); return 0;
		default: ingest_usage(stderr); return 2;
		}
	}
	if (optind != argc || n == 0) {
		fprintf(stderr,
			optind != argc ? "lodestone-bench: unexpected argument '%s'\n"
				       : "lodestone-bench: ingest needs -n N\n",
			optind < argc ? argv[optind] : "");
		ingest_usage(stderr);
		return 2;
	}
	if (parent == NULL || *parent == '\0')
		parent = "/tmp";
	if (threads == 0) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		threads = ncpu < 1 ? 1 : ncpu > 4 ? 4 : (size_t)ncpu;
	}

	/* Keys, certificates and records, before any clock starts. */
	auth = calloc(1, sizeof(*auth));
	ms = calloc(miners, sizeof(*ms));
	certs = calloc(miners, sizeof(*certs));
	lots = calloc(n, sizeof(*lots));
	if (auth == NULL || ms == NULL || certs == NULL || lots == NULL) {
		fprintf(stderr, "lodestone-bench: out of memory\n");
		goto out;
	}
	crypto_sign_keypair(auth->pk, auth->sk);
	for (size_t i = 0; i < miners; i++) {
		crypto_sign_keypair(ms[i].pk, ms[i].sk);
		if (make_cert(auth, &ms[i], &certs[i]) != 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (make_lot(&ms[i % miners], i, &lots[i]) != 0)
			goto out;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/lodestone-bench.XXXXXX", parent) >=
		sizeof(dir) ||
	    mkdtemp(dir) == NULL) {
		fprintf(stderr, "lodestone-bench: cannot make a directory under '%s': %s\n", parent,
			strerror(errno));
		goto out;
	}
	have_dir = true;
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[LS_KEY_LEN])auth->pk;
	o.n_anchors = 1;
	o.verify_threads = (unsigned)threads;
	o.max_pending = n + miners;
	if ((rc = ls_store_open(dir, &o, &s, &ctx)) != 0) {
		fprintf(stderr, "lodestone-bench: %s\n", ls_err_msg(&ctx, rc));
		goto out;
	}
	if ((rc = ingest_all(s, certs, miners, batch, &bad)) != 0 || bad != 0) {
		fprintf(stderr, "lodestone-bench: certificates: %s\n",
			rc ? ls_strerror(rc) : "not accepted");
		goto out;
	}

	t0 = now_s();
	rc = ingest_all(s, lots, n, batch, &bad);
	t_ingest = now_s() - t0;
	if (rc != 0 || bad != 0) {
		fprintf(stderr, "lodestone-bench: ingest: %s\n",
			rc ? ls_strerror(rc) : "records not accepted");
		goto out;
	}

	t0 = now_s();
	for (size_t i = 0; i < n; i++)
		if (crypto_sign_verify_detached(lots[i].sig, lots[i].msg, lots[i].msg_len,
						lots[i].pk) != 0)
			raw_bad++;
	t_raw = now_s() - t0;
	if (raw_bad != 0) {
		fprintf(stderr, "lodestone-bench: %zu signatures do not verify\n", raw_bad);
		goto out;
	}

	ingest_rate = (double)n / t_ingest;
	raw_rate = (double)n / t_raw;
	printf("records %zu records\n", n);
	printf("record_bytes %zu bytes\n", lots[0].len);
	printf("batch %zu records\n", batch);
	printf("threads %zu threads\n", threads);
	printf("elapsed %.3f s\n", t_ingest);
	printf("ingest_records_per_s %.0f records/s\n", ingest_rate);
	printf("verify_raw_per_s %.0f verifies/s\n", raw_rate);
	printf("ingest_vs_raw_verify %.2f ratio\n", ingest_rate / raw_rate);
	status = 0;
out:
	ls_store_close(&s);
	if (have_dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	items_free(certs, miners);
	items_free(lots, n);
	if (auth != NULL)
		sodium_memzero(auth, sizeof(*auth));
	if (ms != NULL)
		sodium_memzero(ms, miners * sizeof(*ms));
	free(auth);
	free(ms);
	return status;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "lodestone-bench: cannot initialise libsodium\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "lodestone-bench: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
