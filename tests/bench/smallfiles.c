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
 *   none   the same without the two fsyncs;
 *   floor  the least any writer keeping the SPEC's protocol can do,
 *          durability none, with every saving the library could still
 *          make: one lock file for the directory, opened once and kept,
 *          each target locked as a byte range of it (F_OFD_SETLKW) from
 *          a hash of its name; the target stat'ed under the lock for the
 *          mode to keep; a named temp made with that mode; rename; the
 *          range unlocked.  What the library adds over `none` can go no
 *          lower than what this adds over it (issue 16 item 1).
 * The hand-written modes open the directory once and keep it, as such a
 * program would: the baseline is the best a program can do by itself.
 * Exit status: 0; 1 when a call fails; 64 on bad usage.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* One byte of the directory's lock file per name, as a hash picks it. */
static off_t lock_offset(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 16777619u;
	return (off_t)(h & 0xffffff);
}

static void range_lock(int lfd, const char *name, short type, const char *file)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = lock_offset(name), .l_len = 1 };

	if (fcntl(lfd, F_OFD_SETLKW, &fl) != 0)
		die("fcntl", file);
}

static void write_floor(int dfd, int lfd, const char *name, const char *buf, size_t len)
{
	char tmp[4200];
	struct stat st;
	mode_t mode = 0644;
	int fd;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	range_lock(lfd, name, F_WRLCK, name);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		mode = st.st_mode & 07777;
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) < 0)
		die("open", tmp);
	write_all(fd, buf, len, tmp);
	if (close(fd) != 0)
		die("close", tmp);
	if (renameat(dfd, tmp, dfd, name) != 0)
		die("rename", name);
	range_lock(lfd, name, F_UNLCK, name);
}

int main(int argc, char **argv)
{
	char file[4096], tmp[4096], *buf;
	int first, count, size, sync, floor, dfd = -1, lfd = -1, fd, i;

	if ((argc != 5 && argc != 6) || (strcmp(argv[1], "plain") && strcmp(argv[1], "full") &&
					  strcmp(argv[1], "none") && strcmp(argv[1], "floor"))) {
		fprintf(stderr, "usage: smallfiles plain|full|none|floor DIR COUNT SIZE [FIRST]\n");
		return 64;
	}
	first = argc == 6 ? atoi(argv[5]) : 0;
	count = first + atoi(argv[3]);
	size = atoi(argv[4]);
	sync = !strcmp(argv[1], "full");
	floor = !strcmp(argv[1], "floor");
	if (!(buf = malloc((size_t)size)))
		die("malloc", argv[2]);
	memset(buf, 'x', (size_t)size);
	if (strcmp(argv[1], "plain") && (dfd = open(argv[2], O_RDONLY | O_DIRECTORY)) < 0)
		die("open", argv[2]);
	if (floor && (lfd = openat(dfd, ".dir.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		die("open", ".dir.lock");
	for (i = first; i < count; i++) {
		if (floor) {
			snprintf(file, sizeof(file), "f%04d.json", i);
			write_floor(dfd, lfd, file, buf, (size_t)size);
			continue;
		}
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
	if (lfd >= 0)
		close(lfd);
	if (dfd >= 0)
		close(dfd);
	return 0;
}
