/*
 * ackshim.c - an LD_PRELOAD shim for tests/reliability/ack_durable.sh. It
 * wraps fdatasync(2) and fsync(2) of the process it is loaded into (the
 * daemon) and appends one line per call to $ACKSHIM_LOG:
 *
 *   sync START_NS END_NS RC
 *
 * (CLOCK_REALTIME, so that the test can compare with the client's times).
 * $ACKSHIM_DELAY_MS makes each call take that much longer, before the real
 * call; while the file $ACKSHIM_FAIL exists, each call fails with EIO
 * without syncing (a disk that loses writes).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int fdatasync(int fd);
int fsync(int fd);

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
note(uint64_t start, uint64_t end, int rc)
{
	const char *path = getenv("ACKSHIM_LOG");
	char line[96];
	int fd, n;

	if (path == NULL || (fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600)) < 0)
		return;
	n = snprintf(line, sizeof(line), "sync %llu %llu %d\n", (unsigned long long)start,
		     (unsigned long long)end, rc);
	if (write(fd, line, (size_t)n) != n) {
		/* the test will miss a line and fail: nothing else to do */
	}
	close(fd);
}

static int
wrapped(const char *name, int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, name);
	const char *delay = getenv("ACKSHIM_DELAY_MS"), *fail = getenv("ACKSHIM_FAIL");
	uint64_t start = now_ns();
	int rc, err;

	if (delay != NULL && atoi(delay) > 0) {
		struct timespec d = {atoi(delay) / 1000, (long)(atoi(delay) % 1000) * 1000000};
		nanosleep(&d, NULL);
	}
	if (fail != NULL && access(fail, F_OK) == 0) {
		rc = -1;
		err = EIO;
	} else {
		rc = real != NULL ? real(fd) : -1;
		err = real != NULL ? errno : ENOSYS;
	}
	note(start, now_ns(), rc == 0 ? 0 : err);
	errno = err;
	return rc;
}

int
fdatasync(int fd)
{
	return wrapped("fdatasync", fd);
}

int
fsync(int fd)
{
	return wrapped("fsync", fd);
}
