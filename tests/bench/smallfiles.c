/* smallfiles.c - write many small files, plainly or by hand-made atomic
 * replacement: both sides of the small-files benchmark.
 *
 *   smallfiles MODE DIR COUNT SIZE [FIRST]
 *
 * writes DIR/fNNNN.json for NNNN in FIRST..FIRST+COUNT-1 (FIRST: 0), SIZE
 * bytes each.  MODE:
 *   plain  open(O_WRONLY|O_CREAT|O_TRUNC), write, close: a legacy
 *          program, which the library makes atomic when run under it;
 *   full   what a careful program does by hand: write .fNNNN.json.tmp,
 *          fsync it, rename it over the target, fsync the directory;
 *   none   the same without the two fsyncs.
 * The hand-written modes open the directory once and keep it, as such a
 * program would: the baseline is the best a program can do by itself.
 * Exit status: 0; 1 when a call fails; 64 on bad usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(const char *what, const char *file)
{
	perror(file);
	fprintf(stderr, "smallfiles: %s failed\n", what);
	exit(1);
}

static void write_all(int fd, const char *buf, size_t len, const char *file)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0)
			die("write", file);
		buf += n;
		len -= (size_t)n;
	}
}

int main(int argc, char **argv)
{
	char file[4096], tmp[4096], *buf;
	int first, count, size, sync, dfd = -1, fd, i;

	if ((argc != 5 && argc != 6) || (strcmp(argv[1], "plain") && strcmp(argv[1], "full") &&
					  strcmp(argv[1], "none"))) {
		fprintf(stderr, "usage: smallfiles plain|full|none DIR COUNT SIZE [FIRST]\n");
		return 64;
	}
	first = argc == 6 ? atoi(argv[5]) : 0;
	count = first + atoi(argv[3]);
	size = atoi(argv[4]);
	sync = !strcmp(argv[1], "full");
	if (!(buf = malloc((size_t)size)))
		die("malloc", argv[2]);
	memset(buf, 'x', (size_t)size);
	if (strcmp(argv[1], "plain") && (dfd = open(argv[2], O_RDONLY | O_DIRECTORY)) < 0)
		die("open", argv[2]);
	for (i = first; i < count; i++) {
		snprintf(file, sizeof(file), "%s/f%04d.json", argv[2], i);
		if (dfd < 0) {
			if ((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
				die("open", file);
			write_all(fd, buf, (size_t)size, file);
			if (close(fd) != 0)
				die("close", file);
			continue;
		}
		snprintf(tmp, sizeof(tmp), "%s/.f%04d.json.tmp", argv[2], i);
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
			die("open", tmp);
		write_all(fd, buf, (size_t)size, tmp);
		if (sync && fsync(fd) != 0)
			die("fsync", tmp);
		if (close(fd) != 0)
			die("close", tmp);
		if (rename(tmp, file) != 0)
			die("rename", file);
		if (sync && fsync(dfd) != 0)
			die("fsync", argv[2]);
	}
	free(buf);
	if (dfd >= 0)
		close(dfd);
	return 0;
}
