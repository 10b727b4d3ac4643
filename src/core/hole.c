/* hole.c - an append's temp with a hole for the target's content. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "hole.h"
#include "sys.h"

/* The page an append must not reach below (hole_intact): one on every
 * machine, and within one of a machine with larger ones. */
#define PAGE 4096

/* The mark: "BASE DEV INO PATH". */
struct mark {
	off_t base;
	dev_t dev;
	ino_t ino;
	char path[PATH_MAX];
};

/* The absolute path of NAME in the directory DFD into BUF, or -1. */
static int full_path(int dfd, const char *name, char *buf, size_t size)
{
	char proc[32];
	ssize_t n;
	int m;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dfd);
	n = sys_readlinkat(AT_FDCWD, proc, buf, size);
	if (n <= 0 || (size_t)n >= size || buf[0] != '/')
		return -1;
	m = snprintf(buf + n, size - (size_t)n, "%s%s", n > 1 ? "/" : "", name);
	return m < 0 || (size_t)m >= size - (size_t)n ? -1 : 0;
}

/* The mark of the temp open as FD into M: 1, 0 when it has none, or -1
 * with errno. */
static int read_mark(int fd, struct mark *m)
{
	char v[PATH_MAX + 64], *p, *end;
	ssize_t n = sys_fgetxattr(fd, HOLE_XATTR, v, sizeof(v) - 1);
	unsigned long long dev, ino;

	if (n < 0)
		return errno == ENODATA || errno == ENOTSUP ? 0 : -1;
	v[n] = '\0';
	m->base = strtoll(v, &end, 10);
	dev = strtoull(p = end, &end, 10);
	ino = strtoull(p = end, &end, 10);
	if (end == p || *end != ' ' || m->base <= 0 || strlen(end + 1) >= sizeof(m->path)) {
		errno = EINVAL;
		return -1;
	}
	m->dev = (dev_t)dev;
	m->ino = (ino_t)ino;
	strcpy(m->path, end + 1);
	return 1;
}

int hole_make(int tfd, int dfd, const char *name, const struct stat *target)
{
	char v[PATH_MAX + 64], path[PATH_MAX];
	int n;

	/* A block larger than a page (tmpfs with huge pages): the first
	 * append would take the blocks below BASE too, and hole_intact could
	 * not tell them from the program's writes. */
	if (target->st_blksize > PAGE || full_path(dfd, name, path, sizeof(path)) < 0)
		return -1;
	n = snprintf(v, sizeof(v), "%lld %llu %llu %s", (long long)target->st_size,
		     (unsigned long long)target->st_dev, (unsigned long long)target->st_ino, path);
	/* The file system must keep the mark, and say where the hole is:
	 * tmpfs, ext4, xfs, btrfs do.  The mark first: the truncation then
	 * sets mtime and ctime to one time, as a write does, which a
	 * futimens or fsetxattr of the program would set apart (commit.c). */
	if (n < 0 || (size_t)n >= sizeof(v) || sys_fsetxattr(tfd, HOLE_XATTR, v, (size_t)n, 0) < 0)
		return -1;
	if (sys_ftruncate(tfd, target->st_size) < 0 || sys_lseek(tfd, 0, SEEK_DATA) >= 0 ||
	    errno != ENXIO) {
		sys_fremovexattr(tfd, HOLE_XATTR);
		sys_ftruncate(tfd, 0);
		return -1;
	}
	return 0;
}

int hole_marked(int fd)
{
	if (sys_fgetxattr(fd, HOLE_XATTR, NULL, 0) >= 0)
		return 1;
	return errno == ENODATA || errno == ENOTSUP ? 0 : -1;
}

int hole_intact(int fd, off_t base)
{
	char buf[PAGE];
	off_t below = base & ~(off_t)(PAGE - 1), data = sys_lseek(fd, 0, SEEK_DATA);
	struct stat st;

	if (sys_fstat(fd, &st) < 0 || st.st_size < base)
		return 0;  /* cut below BASE */
	if (data < 0)
		return errno == ENXIO;  /* all hole: nothing appended */
	if (data < below)
		return 0;
	if (below == base)
		return 1;
	/* The block the first append took begins below BASE: its bytes there
	 * are the hole's zeros, unless something wrote them. */
	if (sys_pread(fd, buf, (size_t)(base - below), below) != base - below)
		return 0;
	for (off_t i = 0; i < base - below; i++)
		if (buf[i])
			return 0;
	return 1;
}

/* Take turns with other fills of the temp open as OWN (a description of
 * our own: its close lets go). */
static int take_turn(int own)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int r;

	while ((r = sys_fcntl_lock(own, F_OFD_SETLKW, &fl)) < 0 && errno == EINTR)
		;
	return r;
}

/* The target's first M->base bytes into the hole of the temp OWN. */
static int fill_from(int own, int dfd, const char *name, const struct mark *m)
{
	const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	int from = dfd >= 0 ? sys_openat(dfd, name, flags, 0) : sys_openat(AT_FDCWD, m->path, flags, 0);
	struct stat st;
	int r = -1, err;

	if (from < 0)
		return -1;
	if (sys_fstat(from, &st) < 0)
		err = errno;
	else if (st.st_dev != m->dev || st.st_ino != m->ino || st.st_size < m->base)
		err = ESTALE;  /* replaced or cut by a writer without our lock */
	else if (!hole_intact(own, m->base))
		err = EIO;  /* written below its end by a way we did not see */
	else if (copy_prefix(from, own, m->base) < 0)
		err = errno;
	else if (sys_fremovexattr(own, HOLE_XATTR) < 0)
		err = errno;
	else
		r = 0;
	sys_close(from);
	if (r < 0)
		errno = err;
	return r;
}

int hole_fill(int tfd, int dfd, const char *name)
{
	int saved = errno, own, r;
	char proc[32];
	struct mark m;

	if ((r = hole_marked(tfd)) <= 0)
		return r == 0 ? (errno = saved, 0) : -1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tfd);
	own = sys_openat(AT_FDCWD, proc, O_RDWR | O_CLOEXEC | O_NOCTTY, 0);
	if (own < 0)
		return -1;
	/* Another thread or process may be filling it: once our turn comes,
	 * the mark says whether there is still anything to do. */
	if (take_turn(own) < 0 || (r = read_mark(own, &m)) < 0 ||
	    (r == 1 && fill_from(own, dfd, name, &m) < 0))
		r = -1;
	saved = r < 0 ? errno : saved;
	sys_close(own);  /* lets go of our turn */
	errno = saved;
	return r < 0 ? -1 : 0;
}
