/* crash_writer.c - a legacy tool's save, for the crash test
 * (bats/crash.bats, driven by tests/helpers/crash_kill.c).
 *
 *   crash_writer [-l LINES] [-k CHUNKS] [-p PAUSE_US] FILE VERSION
 *
 * Rewrites FILE in place the way an old program does: open(O_WRONLY |
 * O_CREAT | O_TRUNC), CHUNKS write()s with PAUSE_US microseconds of
 * "work" between them, close().  The content is version VERSION of the
 * text form of tests/helpers/crash_content.h, LINES lines of 64 bytes (default
 * 2048: 128 KiB, in 8 chunks 250 us apart), so a kill between the open
 * and the close leaves an unprotected file empty or cut short.
 *
 * When CRASH_STATUS_FD names a descriptor, one byte is written there at
 * each step, for the driver to know where a kill landed: 'o' just before
 * the open, 'w' once the last write returned, 'c' once the close returned.
 *
 * Exit status: 0; 1 when the open fails; 2 when a write or the close
 * fails; 64 on bad usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "crash_content.h"

static int status_fd = -1;

static void mark(char c)
{
	if (status_fd >= 0 && write(status_fd, &c, 1) != 1)
		status_fd = -1;
}

static long number(const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < min || v > max) {
		fprintf(stderr, "crash_writer: bad number: %s\n", s);
		exit(64);
	}
	return v;
}

int main(int argc, char **argv)
{
	long lines = 2048, chunks = 8, pause_us = 250, version;
	const char *file, *env;
	size_t len, step;
	char *buf;
	int opt, fd;

	while ((opt = getopt(argc, argv, "l:k:p:")) != -1) {
		switch (opt) {
		case 'l': lines = number(optarg, 0, CRASH_MAX_LINES); break;
		case 'k': chunks = number(optarg, 1, 4096); break;
		case 'p': pause_us = number(optarg, 0, 999999); break;
		default: goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	file = argv[optind];
	version = number(argv[optind + 1], 1, 99999999);
	if ((env = getenv("CRASH_STATUS_FD")))
		status_fd = (int)number(env, 0, 1 << 20);

	len = crash_text(NULL, version, lines);
	if (!(buf = malloc(len))) {
		perror("malloc");
		return 2;
	}
	crash_text(buf, version, lines);
	step = (len + (size_t)chunks - 1) / (size_t)chunks;

	mark('o');
	if ((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		perror(file);
		return 1;
	}
	for (size_t off = 0; off < len;) {
		size_t want = len - off < step ? len - off : step;
		ssize_t n;

		if (off && pause_us) {
			struct timespec ts = { 0, pause_us * 1000L };
			nanosleep(&ts, NULL);
		}
		for (size_t done = 0; done < want; done += (size_t)n) {
			if ((n = write(fd, buf + off + done, want - done)) <= 0) {
				perror("write");
				return 2;
			}
		}
		off += want;
	}
	mark('w');
	if (close(fd) != 0) {
		perror("close");
		return 2;
	}
	mark('c');
	free(buf);
	return 0;

usage:
	fprintf(stderr, "usage: crash_writer [-l LINES] [-k CHUNKS] [-p PAUSE_US] FILE VERSION\n");
	return 64;
}
