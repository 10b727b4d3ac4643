/* lms_counter.c - one load-modify-save increment of a counter file, done
 * the way a careless legacy tool does it, for bats/locks.bats.
 *
 *   lms_counter FILE [PAUSE_MS]
 *
 * stat() FILE: absent (ENOENT) means 0, and nothing is read; otherwise
 * open it O_RDONLY, read it, parse the number, close it.  Then, after
 * PAUSE_MS milliseconds (default 0: a window for the race in the
 * control), open it O_WRONLY|O_CREAT|O_TRUNC, write the number + 1 and a
 * newline, close it.  No lock, no temp, no rename of its own: exactly
 * what loses updates when several copies run at once.
 *
 * The first run, when FILE does not exist yet, goes through stat() too:
 * that is the stat-then-create pattern, which lock = "process" must
 * cover with the stat alone.
 *
 * Exit status: 0; 1 when stat, open, read or close of the load fails
 * (ENOENT at stat excepted); 2 when the open, write or close of the save
 * fails; 3 when the file read is not a whole number (empty, garbage, a
 * torn write): never taken as 0; 64 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* FILE's content as a number; exits 1 on a failed call, 3 when what was
 * read is not "DIGITS\n". */
static long load(const char *file)
{
	char buf[64], *end;
	ssize_t len = 0, n;
	long v;
	int fd;

	if ((fd = open(file, O_RDONLY)) < 0) {
		fprintf(stderr, "lms_counter: open %s for reading: %s\n", file, strerror(errno));
		exit(1);
	}
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "lms_counter: read %s: %s\n", file, strerror(errno));
			exit(1);
		}
		len += n;
	}
	if (close(fd) != 0) {
		fprintf(stderr, "lms_counter: close %s after reading: %s\n", file, strerror(errno));
		exit(1);
	}
	buf[len] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (len == 0 || end == buf || buf[0] < '0' || buf[0] > '9' || errno ||
	    strcmp(end, "\n") != 0) {
		fprintf(stderr, "lms_counter: %s holds no whole number (%zd bytes: \"%.*s\"): "
			"read half-written?\n", file, len, (int)len, buf);
		exit(3);
	}
	return v;
}

static void save(const char *file, long v)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", v);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0) {
		fprintf(stderr, "lms_counter: open %s for writing: %s\n", file, strerror(errno));
		exit(2);
	}
	if (write(fd, buf, (size_t)len) != len) {
		fprintf(stderr, "lms_counter: write %s: %s\n", file, strerror(errno));
		exit(2);
	}
	if (close(fd) != 0) {
		fprintf(stderr, "lms_counter: close %s after writing: %s\n", file, strerror(errno));
		exit(2);
	}
}

int main(int argc, char **argv)
{
	const char *file;
	struct stat st;
	int pause = 0;
	long v = 0;

	if (argc < 2 || argc > 3 || (argc == 3 && (pause = atoi(argv[2])) < 0)) {
		fprintf(stderr, "usage: lms_counter FILE [PAUSE_MS]\n");
		return 64;
	}
	file = argv[1];
	if (stat(file, &st) == 0)
		v = load(file);
	else if (errno != ENOENT) {
		fprintf(stderr, "lms_counter: stat %s: %s\n", file, strerror(errno));
		return 1;
	}
	if (pause)
		pause_ms(pause);
	save(file, v + 1);
	return 0;
}
