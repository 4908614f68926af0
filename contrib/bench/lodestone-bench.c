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
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/wait.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "api.h"
#include "err.h"
#include "record.h"
#include "store.h"
#include "util.h"
#include "verify.h"

#define DEFAULT_BATCH  1000
#define DEFAULT_MINERS 8
#define FIXED_TIME     1748736000ull /* 2025-06-01T00:00:00Z */

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_ingest(int argc, char **argv);
static int cmd_verify(int argc, char **argv);
static int cmd_api(int argc, char **argv);

/* Sorted by name. */
static const struct cmd cmds[] = {
    {"api", cmd_api, "records per second submitted by N clients through a real lodestoned"},
    {"ingest", cmd_ingest, "store ingest throughput against raw signature verification"},
    {"verify", cmd_verify, "provenance, export and origin of a lot with N ancestors"},
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

static int make_cert_roles(struct signer *auth, struct signer *subject, uint32_t roles,
			   struct item *it);

static int
make_cert(struct signer *auth, struct signer *subject, struct item *it)
{
	return make_cert_roles(auth, subject, LS_ROLE_MINER, it);
}

static int
make_cert_roles(struct signer *auth, struct signer *subject, uint32_t roles, struct item *it)
{
	struct ls_record *r = ls_record_new(LS_REC_CERTIFICATE);
	int rc;

	if (r == NULL)
		return LS_ERR_NOMEM;
	memcpy(r->certificate.subject, subject->pk, 32);
	r->certificate.org = ls_record_strdup(r, "Baotou Rare-Earth Mining Co., Ltd.");
	memcpy(r->certificate.country, "CN", 3);
	r->certificate.roles = roles;
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

/* ---- verify: a lot with N ancestors ---- */

/* A transformation consuming all of `in` (grams g) into one lot like it. */
static int
make_step(struct signer *p, const uint8_t in[LS_ID_LEN], uint64_t g, size_t i, struct item *it,
	  uint8_t out[LS_ID_LEN])
{
	struct ls_record *r = ls_record_new(LS_REC_TRANSFORMATION);
	struct ls_lot_input *inp;
	struct ls_lotdef *d;
	char label[64];
	int rc;

	if (r == NULL)
		return LS_ERR_NOMEM;
	inp = ls_record_alloc(r, sizeof(*inp));
	d = ls_record_alloc(r, sizeof(*d));
	snprintf(label, sizeof(label), "step-%zu", i);
	if (inp == NULL || d == NULL || (d->label = ls_record_strdup(r, label)) == NULL ||
	    (d->category = ls_record_strdup(r, "alloy")) == NULL ||
	    ls_comp_parse("La=120000,Ce=250000,Pr=25000,Nd=90000,Sm=6000,Dy=2000,Fe=150000",
			  &d->comp, NULL) != 0) {
		ls_record_free(r);
		return LS_ERR_NOMEM;
	}
	memcpy(inp->lot, in, LS_ID_LEN);
	inp->grams = g;
	d->grams = g;
	r->transformation.inputs = inp;
	r->transformation.n_inputs = 1;
	r->transformation.outputs = d;
	r->transformation.n_outputs = 1;
	r->transformation.site = "";
	rc = sign_next(p, r, it);
	if (rc == 0)
		ls_lot_id(r->id, 0, out);
	ls_record_free(r);
	return rc;
}

static int
cmd_verify(int argc, char **argv)
{
	size_t n = 10000;
	const char *parent = getenv("TMPDIR");
	struct signer *auth = calloc(1, sizeof(*auth)), *p = calloc(1, sizeof(*p));
	struct item *items = NULL;
	struct ls_store *s = NULL;
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	struct ls_verdict v;
	struct ls_export_query q;
	struct ls_origin org;
	char dir[4096];
	bool have_dir = false;
	uint8_t lot[LS_ID_LEN];
	double t0, t_prov, t_exp, t_org;
	size_t bad = 0;
	int c, rc, status = 1;

	optind = 1;
	while ((c = getopt(argc, argv, "n:d:h")) != -1) {
		switch (c) {
		case 'n':
			if (parse_size(optarg, "-n", 1, &n) != 0)
				return 2;
			break;
		case 'd': parent = optarg; break;
		case 'h':
			printf(
			    "usage: lodestone-bench verify [-n ANCESTORS] [-d DIR]\n\n"
			    "Builds a lot with ANCESTORS ancestors (default 10000: a registration\n"
			    "and a chain of transformations), then times provenance, an export\n"
			    "check and the origin computation of the last lot.\n"
			    "figures: ancestors, provenance_ms, export_ms, origin_ms.\n");
			return 0;
		default: return 2;
		}
	}
	if (parent == NULL || *parent == '\0')
		parent = "/tmp";
	if (auth == NULL || p == NULL || (items = calloc(n + 2, sizeof(*items))) == NULL)
		goto out;
	crypto_sign_keypair(auth->pk, auth->sk);
	crypto_sign_keypair(p->pk, p->sk);
	if (make_cert_roles(auth, p, LS_ROLE_MINER | LS_ROLE_PROCESSOR, &items[0]) != 0 ||
	    make_lot(p, 0, &items[1]) != 0)
		goto out;
	{
		struct ls_record *r = NULL;
		if (ls_record_decode(items[1].env, items[1].len, &r, NULL) != 0)
			goto out;
		memcpy(lot, r->id, LS_ID_LEN);
		ls_record_free(r);
	}
	for (size_t i = 1; i < n; i++)
		if (make_step(p, lot, 25000000, i, &items[i + 1], lot) != 0)
			goto out;
	snprintf(dir, sizeof(dir), "%s/lodestone-bench.XXXXXX", parent);
	if (mkdtemp(dir) == NULL)
		goto out;
	have_dir = true;
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[LS_KEY_LEN])auth->pk;
	o.n_anchors = 1;
	if ((rc = ls_store_open(dir, &o, &s, &ctx)) != 0 ||
	    (rc = ingest_all(s, items, n + 1, DEFAULT_BATCH, &bad)) != 0 || bad != 0) {
		fprintf(stderr, "lodestone-bench: cannot build the chain\n");
		goto out;
	}
	t0 = now_s();
	rc = ls_verify_provenance(s, lot, &v);
	t_prov = now_s() - t0;
	if (rc != 0 || v.kind != LS_V_VALID) {
		fprintf(stderr, "lodestone-bench: provenance: %s\n", ls_strerror(rc));
		ls_verdict_release(&v);
		goto out;
	}
	ls_verdict_release(&v);
	memset(&q, 0, sizeof(q));
	memcpy(q.lot, lot, LS_ID_LEN);
	memcpy(q.destination, "DE", 3);
	q.time = FIXED_TIME + n + 10;
	t0 = now_s();
	rc = ls_verify_export(s, &q, &v);
	t_exp = now_s() - t0;
	ls_verdict_release(&v);
	if (rc != 0)
		goto out;
	t0 = now_s();
	rc = ls_verify_origin(s, lot, &org);
	t_org = now_s() - t0;
	ls_origin_release(&org);
	if (rc != 0)
		goto out;
	printf("ancestors %zu records\n", n);
	printf("provenance_ms %.1f ms\n", t_prov * 1000);
	printf("export_ms %.1f ms\n", t_exp * 1000);
	printf("origin_ms %.1f ms\n", t_org * 1000);
	status = 0;
out:
	ls_store_close(&s);
	if (have_dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	items_free(items, n + 2);
	if (auth != NULL)
		sodium_memzero(auth, sizeof(*auth));
	if (p != NULL)
		sodium_memzero(p, sizeof(*p));
	free(auth);
	free(p);
	return status;
}

/* ---- api: clients submitting through a real daemon ---- */

/* Submits items[0..n) through the API in requests of `batch`; 0 when all
 * were accepted. Runs in a child process. */
static int
api_client(const char *endpoint, const struct item *items, size_t n, size_t batch)
{
	struct ls_api *a = NULL;
	struct ls_err_ctx ctx = {{0}};
	const uint8_t **envs = calloc(batch, sizeof(*envs));
	size_t *lens = calloc(batch, sizeof(*lens));
	struct ls_ingest_result *res = calloc(batch, sizeof(*res));
	int rc = 1;

	if (envs == NULL || lens == NULL || res == NULL ||
	    ls_api_open(endpoint, 30000, &a, &ctx) != 0)
		goto out;
	for (size_t i = 0; i < n; i += batch) {
		size_t m = n - i < batch ? n - i : batch;
		for (size_t j = 0; j < m; j++) {
			envs[j] = items[i + j].env;
			lens[j] = items[i + j].len;
		}
		if (ls_api_submit(a, envs, lens, m, res, &ctx) != 0)
			goto out;
		for (size_t j = 0; j < m; j++)
			if (res[j].status != LS_INGEST_ACCEPTED) {
				fprintf(stderr, "lodestone-bench: api: %s\n", res[j].message);
				goto out;
			}
	}
	rc = 0;
out:
	if (rc != 0 && ctx.msg[0])
		fprintf(stderr, "lodestone-bench: api: %s\n", ctx.msg);
	ls_api_close(&a);
	free(envs);
	free(lens);
	free(res);
	return rc;
}

static int
cmd_api(int argc, char **argv)
{
	size_t n = 20000, clients = 4, batch = 100;
	const char *parent = getenv("TMPDIR");
	struct signer *auth = calloc(1, sizeof(*auth)), *ms = NULL;
	struct item *certs = NULL, *lots = NULL;
	struct ls_store *s = NULL;
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	char dir[4096], sdir[4200], node[4200], endpoint[4300], exe[4096], daemon[4200], pubf[4300];
	pid_t dpid = -1;
	bool have_dir = false;
	double t0, t_api, t_ingest;
	size_t bad = 0;
	ssize_t el;
	int c, status = 1;

	optind = 1;
	while ((c = getopt(argc, argv, "n:c:b:d:h")) != -1) {
		switch (c) {
		case 'n':
			if (parse_size(optarg, "-n", 1, &n) != 0)
				return 2;
			break;
		case 'c':
			if (parse_size(optarg, "-c", 1, &clients) != 0)
				return 2;
			break;
		case 'b':
			if (parse_size(optarg, "-b", 1, &batch) != 0)
				return 2;
			break;
		case 'd': parent = optarg; break;
		case 'h':
			printf(
			    "usage: lodestone-bench api [-n N] [-c CLIENTS] [-b BATCH] [-d DIR]\n\n"
			    "Starts lodestoned (next to this program) on a new data dir, then "
			    "CLIENTS\n"
			    "processes submit N signed records in all, BATCH per request; then\n"
			    "ingests the same records into a fresh store in process.\n"
			    "figures: records, clients, api_records_per_s, ingest_records_per_s,\n"
			    "api_vs_ingest.\n");
			return 0;
		default: return 2;
		}
	}
	if (parent == NULL || *parent == '\0')
		parent = "/tmp";
	if ((el = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
		goto out;
	exe[el] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(daemon, sizeof(daemon), "%s/lodestoned", exe);
	if (auth == NULL || (ms = calloc(clients, sizeof(*ms))) == NULL ||
	    (certs = calloc(clients, sizeof(*certs))) == NULL ||
	    (lots = calloc(n, sizeof(*lots))) == NULL)
		goto out;
	crypto_sign_keypair(auth->pk, auth->sk);
	for (size_t i = 0; i < clients; i++) {
		crypto_sign_keypair(ms[i].pk, ms[i].sk);
		if (make_cert(auth, &ms[i], &certs[i]) != 0)
			goto out;
	}
	/* Client k signs records k, k + clients, ...: lay them out per client. */
	for (size_t k = 0, i = 0; k < clients; k++)
		for (size_t j = k; j < n; j += clients, i++)
			if (make_lot(&ms[k], j, &lots[i]) != 0)
				goto out;
	snprintf(dir, sizeof(dir), "%s/lodestone-bench.XXXXXX", parent);
	if (mkdtemp(dir) == NULL)
		goto out;
	have_dir = true;
	snprintf(node, sizeof(node), "%s/node", dir);
	snprintf(endpoint, sizeof(endpoint), "ipc://%s/api.sock", node);
	snprintf(pubf, sizeof(pubf), "%s/auth.pub", dir);
	{
		char hex[LS_HEX_KEY_LEN + 1];
		FILE *f = fopen(pubf, "w");
		if (f == NULL)
			goto out;
		fprintf(f, "lodestone public key v1\n%s\n", ls_hex(auth->pk, 32, hex));
		fclose(f);
	}
	if ((dpid = fork()) == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 2);
		execl(daemon, "lodestoned", "--data-dir", node, "--trust", pubf, "--log-level",
		      "error", (char *)NULL);
		_exit(127);
	}
	{
		struct ls_api *a = NULL;
		struct ls_ingest_result res[64];
		const uint8_t *envs[64];
		size_t lens[64];
		int tries = 0;
		while (ls_api_open(endpoint, 2000, &a, NULL) != 0 && tries++ < 100)
			usleep(50000);
		if (a == NULL) {
			fprintf(stderr, "lodestone-bench: lodestoned did not start (%s)\n", daemon);
			goto out;
		}
		for (size_t i = 0; i < clients; i++) {
			envs[i] = certs[i].env;
			lens[i] = certs[i].len;
		}
		if (ls_api_submit(a, envs, lens, clients, res, NULL) != 0) {
			ls_api_close(&a);
			goto out;
		}
		ls_api_close(&a);
	}
	t0 = now_s();
	for (size_t k = 0, off = 0; k < clients; k++) {
		size_t cnt = (n - k + clients - 1) / clients;
		pid_t pid = fork();
		if (pid == 0)
			_exit(api_client(endpoint, lots + off, cnt, batch));
		off += cnt;
	}
	for (size_t k = 0; k < clients; k++) {
		int st = 0;
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	t_api = now_s() - t0;
	if (bad != 0) {
		fprintf(stderr, "lodestone-bench: %zu clients failed\n", bad);
		goto out;
	}
	snprintf(sdir, sizeof(sdir), "%s/direct", dir);
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[LS_KEY_LEN])auth->pk;
	o.n_anchors = 1;
	if (ls_store_open(sdir, &o, &s, &ctx) != 0 ||
	    ingest_all(s, certs, clients, DEFAULT_BATCH, &bad) != 0)
		goto out;
	t0 = now_s();
	if (ingest_all(s, lots, n, DEFAULT_BATCH, &bad) != 0 || bad != 0)
		goto out;
	t_ingest = now_s() - t0;
	printf("records %zu records\n", n);
	printf("clients %zu clients\n", clients);
	printf("request_batch %zu records\n", batch);
	printf("api_records_per_s %.0f records/s\n", (double)n / t_api);
	printf("ingest_records_per_s %.0f records/s\n", (double)n / t_ingest);
	printf("api_vs_ingest %.2f ratio\n", t_ingest / t_api);
	status = 0;
out:
	if (dpid > 0) {
		kill(dpid, SIGTERM);
		waitpid(dpid, NULL, 0);
	}
	ls_store_close(&s);
	if (have_dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	items_free(certs, clients);
	items_free(lots, n);
	if (auth != NULL)
		sodium_memzero(auth, sizeof(*auth));
	if (ms != NULL)
		sodium_memzero(ms, clients * sizeof(*ms));
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
