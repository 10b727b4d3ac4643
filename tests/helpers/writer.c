/* writer.c - a plain C program that writes a file the way legacy tools
 * do, slowly if asked, for the bats suites.
 *
 *   writer METHOD FILE TEXT [CHUNKS [DELAY_MS]]
 *
 * writes TEXT into FILE in CHUNKS pieces with DELAY_MS between them, then
 * closes it.  METHOD: open, openat, creat, fopen, freopen (stdout
 * reopened), append (O_APPEND), rdwr and rdwrat (O_RDWR without
 * O_TRUNC, flags unknown to the compiler: TEXT overwrites the start),
 * rplus (fopen "r+": stdio's own writes, which no hook sees, overwrite
 * the start), excl (O_CREAT|O_EXCL), stdout (FILE ignored:
 * TEXT to standard output), noclose (open, write, exit without close).
 * Exit status: 0, 1 when an open fails, 2 when a write or close fails,
 * 64 on bad usage.  Built both plain and with _FORTIFY_SOURCE=2 and
 * _FILE_OFFSET_BITS=64, so that every entry point gets called.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int open_fd(const char *method, const char *file)
{
	if (!strcmp(method, "open"))
		return open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (!strcmp(method, "openat")) {
		const char *slash = strrchr(file, '/');
		char dir[4096];
		int dfd, fd;
		if (!slash)
			return openat(AT_FDCWD, file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file) + 1, file);
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
			return -1;
		fd = openat(dfd, slash + 1, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		close(dfd);
		return fd;
	}
	if (!strcmp(method, "creat"))
		return creat(file, 0644);
	if (!strcmp(method, "append"))
		return open(file, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (!strcmp(method, "rdwr")) {
		/* Flags the compiler cannot see through: with _FORTIFY_SOURCE
		 * this calls __open_2 (__open64_2). */
		volatile int flags = O_RDWR;
		return open(file, flags);
	}
	if (!strcmp(method, "rdwrat")) {
		volatile int flags = O_RDWR;
		return openat(AT_FDCWD, file, flags);
	}
	if (!strcmp(method, "excl"))
		return open(file, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (!strcmp(method, "noclose"))
		return open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (!strcmp(method, "stdout"))
		return STDOUT_FILENO;
	return -2;
}

int main(int argc, char **argv)
{
	const char *method, *file, *text;
	int chunks = 1, delay = 0, stdio;
	size_t len, step;
	FILE *f = NULL;
	int fd = -1;

	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: writer METHOD FILE TEXT [CHUNKS [DELAY_MS]]\n");
		return 64;
	}
	method = argv[1];
	file = argv[2];
	text = argv[3];
	if (argc > 4)
		chunks = atoi(argv[4]) > 0 ? atoi(argv[4]) : 1;
	if (argc > 5)
		delay = atoi(argv[5]);
	len = strlen(text);
	step = (len + (size_t)chunks - 1) / (size_t)chunks;
	stdio = !strcmp(method, "fopen") || !strcmp(method, "freopen") || !strcmp(method, "rplus");

	if (!strcmp(method, "fopen"))
		f = fopen(file, "w");
	else if (!strcmp(method, "rplus"))
		f = fopen(file, "r+");
	else if (!strcmp(method, "freopen"))
		f = freopen(file, "w", stdout);
	else if ((fd = open_fd(method, file)) == -2) {
		fprintf(stderr, "writer: unknown method %s\n", method);
		return 64;
	}
	if (stdio ? !f : fd < 0) {
		perror(file);
		return 1;
	}
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		if (off && delay)
			pause_ms(delay);
		if (stdio ? fwrite(text + off, 1, n, f) != n || fflush(f) != 0
			  : write(fd, text + off, n) != (ssize_t)n) {
			perror("write");
			return 2;
		}
	}
	if (!strcmp(method, "noclose") || !strcmp(method, "stdout"))
		return 0;
	if (stdio ? fclose(f) != 0 : close(fd) != 0) {
		perror("close");
		return 2;
	}
	return 0;
}
