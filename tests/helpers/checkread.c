/* checkread.c - read a file over and over while others write it.
 *
 *   checkread FILE OLD NEW MS
 *
 * For MS milliseconds, reads the whole of FILE again and again and
 * compares what it got with the files OLD and NEW.  Prints
 * "reads=N old=A new=B partial=P missing=M" and exits 0 only when every
 * read saw exactly the old or exactly the new content (a missing FILE
 * counts as a failure too: the target must never disappear).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX (1 << 20)

static ssize_t slurp(const char *path, char *buf)
{
	int fd = open(path, O_RDONLY);
	ssize_t len = 0, n;

	if (fd < 0)
		return -1;
	while (len < MAX && (n = read(fd, buf + len, MAX - (size_t)len)) > 0)
		len += n;
	close(fd);
	return len;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static char old[MAX], new[MAX], got[MAX];
	long reads = 0, n_old = 0, n_new = 0, partial = 0, missing = 0;
	ssize_t lo, ln, lg;
	double end;

	if (argc != 5) {
		fprintf(stderr, "usage: checkread FILE OLD NEW MS\n");
		return 64;
	}
	if ((lo = slurp(argv[2], old)) < 0 || (ln = slurp(argv[3], new)) < 0) {
		perror("checkread: reading OLD or NEW");
		return 64;
	}
	end = now_ms() + atof(argv[4]);
	while (now_ms() < end) {
		lg = slurp(argv[1], got);
		reads++;
		if (lg < 0)
			missing++;
		else if (lg == lo && memcmp(got, old, (size_t)lg) == 0)
			n_old++;
		else if (lg == ln && memcmp(got, new, (size_t)lg) == 0)
			n_new++;
		else
			partial++;
	}
	printf("reads=%ld old=%ld new=%ld partial=%ld missing=%ld\n",
	       reads, n_old, n_new, partial, missing);
	return partial || missing ? 1 : 0;
}
