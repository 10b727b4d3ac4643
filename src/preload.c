/* preload.c - the interposed entry points.
 *
 * Each hook is a thin door: it decides in a few instructions whether the
 * call concerns a matched file (flags first, then the rules; close needs
 * only one atomic load) and otherwise makes the real call with errno
 * untouched.  The work lives in pending.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "fdtable.h"
#include "handover.h"
#include "lock.h"
#include "ownfd.h"
#include "pending.h"
#include "real.h"
#include "state.h"
#include "tombstone.h"

#define EXPORT __attribute__((visibility("default")))

/* The status this process exits with, once exit() is called (a return
 * from main is turned into a call of exit, see __libc_start_main); -1
 * before. */
static int exit_status = -1;

/* Does a call need the mode argument?  As glibc decides. */
#define NEEDS_MODE(flags) (((flags) & O_CREAT) || ((flags) & __O_TMPFILE) == __O_TMPFILE)

/* ---- opens ---- */

/* The common part of every open hook: the descriptor of a redirected
 * open, -1 for a failed one, PENDING_PASS for the real call. */
static int try_open(int dirfd, const char *path, int flags, mode_t mode)
{
	if (!lib_should_act())
		return PENDING_PASS;
	if (!pending_wants(flags)) {
		tombstone_touch(path);  /* reading a file it deleted? */
		if (pending_touch(dirfd, path) < 0)
			return -1;
		/* Reading a file it is writing: what it wrote so far. */
		return (flags & O_ACCMODE) == O_RDONLY ? pending_read(dirfd, path, flags) :
							 PENDING_PASS;
	}
	return pending_open(dirfd, path, flags, mode);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return NEEDS_MODE(flags) ? (mode_t)va_arg(ap, int) : 0;
}

/* open, open64, openat, openat64: the mode is there only when the flags
 * need one.  The 64 variants add O_LARGEFILE, as libc does for them. */
#define OPEN_HOOK(name, params, dirfd, extra, args)                                  \
	EXPORT int name params                                                       \
	{                                                                            \
		va_list ap;                                                          \
		mode_t mode;                                                         \
		int fd;                                                              \
		va_start(ap, flags);                                                 \
		mode = mode_arg(flags, ap);                                          \
		va_end(ap);                                                          \
		fd = try_open(dirfd, path, flags | (extra), mode);                   \
		return fd != PENDING_PASS ? fd : real.name args;                     \
	}

OPEN_HOOK(open, (const char *path, int flags, ...), AT_FDCWD, 0, (path, flags, mode))
OPEN_HOOK(open64, (const char *path, int flags, ...), AT_FDCWD, O_LARGEFILE, (path, flags, mode))
OPEN_HOOK(openat, (int dirfd, const char *path, int flags, ...), dirfd, 0,
	  (dirfd, path, flags, mode))
OPEN_HOOK(openat64, (int dirfd, const char *path, int flags, ...), dirfd, O_LARGEFILE,
	  (dirfd, path, flags, mode))

EXPORT int creat(const char *path, mode_t mode)
{
	int fd;

	fd = try_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
	return fd != PENDING_PASS ? fd : real.creat(path, mode);
}

EXPORT int creat64(const char *path, mode_t mode)
{
	int fd;

	fd = try_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC | O_LARGEFILE, mode);
	return fd != PENDING_PASS ? fd : real.creat64(path, mode);
}

/* The _FORTIFY_SOURCE entry points: called without a mode, because the
 * compiler saw the flags need none. */
#define FORTIFY_OPEN_HOOK(name, field, params, dirfd, extra, args)                \
	EXPORT int name params                                                    \
	{                                                                         \
		int fd;                                                           \
		fd = try_open(dirfd, path, flags | (extra), 0);                   \
		return fd != PENDING_PASS ? fd : real.field args;                 \
	}

FORTIFY_OPEN_HOOK(__open_2, open_2, (const char *path, int flags), AT_FDCWD, 0, (path, flags))
FORTIFY_OPEN_HOOK(__open64_2, open64_2, (const char *path, int flags), AT_FDCWD, O_LARGEFILE,
		  (path, flags))
FORTIFY_OPEN_HOOK(__openat_2, openat_2, (int dirfd, const char *path, int flags), dirfd, 0,
		  (dirfd, path, flags))
FORTIFY_OPEN_HOOK(__openat64_2, openat64_2, (int dirfd, const char *path, int flags), dirfd,
		  O_LARGEFILE, (dirfd, path, flags))

/* ---- stdio ---- */

/* The open(2) flags of an fopen mode string ("r", "w+", "ae", "wx", ...),
 * as glibc reads it: the first letter, then modifiers. */
static int stdio_flags(const char *mode)
{
	int flags;

	switch (mode[0]) {
	case 'r': flags = O_RDONLY; break;
	case 'w': flags = O_WRONLY | O_CREAT | O_TRUNC; break;
	case 'a': flags = O_WRONLY | O_CREAT | O_APPEND; break;
	default: return -1;
	}
	for (const char *m = mode + 1; *m && *m != ','; m++) {
		switch (*m) {
		case '+': flags = (flags & ~O_ACCMODE) | O_RDWR; break;
		case 'x': flags |= O_EXCL; break;
		case 'e': flags |= O_CLOEXEC; break;
		default: break;
		}
	}
	return flags;
}

/* Open PATH for stdio through pending_open: a FILE on the temp, NULL on
 * failure, or *PASS set for the real fopen. */
static FILE *try_fopen(const char *path, const char *mode, int *pass)
{
	int flags, fd;
	FILE *f;

	*pass = 1;
	if (!lib_should_act() || !mode || (flags = stdio_flags(mode)) < 0)
		return NULL;
	if (!pending_wants(flags)) {
		tombstone_touch(path);
		if (pending_touch(AT_FDCWD, path) < 0) {
			*pass = 0;  /* fail: errno says why */
			return NULL;
		}
		fd = pending_read(AT_FDCWD, path, flags);
	} else {
		fd = pending_open(AT_FDCWD, path, flags, 0666);
	}
	if (fd == PENDING_PASS)
		return NULL;
	*pass = 0;
	if (fd < 0)
		return NULL;
	f = real.fdopen(fd, mode);
	if (!f) {
		struct pending *p = fdtable_take(fd);
		int saved = errno;
		real.close(fd);
		if (p)
			pending_abandon(p);
		errno = saved;
	}
	return f;
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	int pass;
	FILE *f;

	f = try_fopen(path, mode, &pass);
	return pass ? real.fopen(path, mode) : f;
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	int pass;
	FILE *f;

	f = try_fopen(path, mode, &pass);
	return pass ? real.fopen64(path, mode) : f;
}

/* The pending file behind descriptor FD, taken out of the table, when
 * this process may act on it.  A vfork child shares its parent's memory
 * and must leave the table alone. */
static struct pending *take_fd(int fd)
{
	if (!fdtable_get(fd) || getpid() != lib.pid)
		return NULL;
	return fdtable_take(fd);
}

/* Release P after its descriptor was closed with result R. */
static int after_close(struct pending *p, int r)
{
	int close_errno = r < 0 ? errno : 0, saved = errno;

	if (pending_release(p, close_errno) < 0)
		return -1;
	errno = saved;
	return r;
}

static FILE *do_freopen(FILE *(*realf)(const char *, const char *, FILE *),
			const char *path, const char *mode, FILE *stream)
{
	struct pending *old = NULL;
	char proc[32];
	int flags, fd = PENDING_PASS;
	FILE *f;

	if (lib_should_act() && stream) {
		int oldfd = fileno(stream);
		if (oldfd >= 0)
			old = take_fd(oldfd);
		if (path && mode && (flags = stdio_flags(mode)) >= 0 && pending_wants(flags))
			fd = pending_open(AT_FDCWD, path, flags, 0666);
	}
	if (fd == PENDING_PASS) {
		f = realf(path, mode, stream);
	} else if (fd < 0) {
		/* As for a failed freopen: the stream is closed either way. */
		int saved = errno;
		real.fclose(stream);
		errno = saved;
		f = NULL;
	} else {
		/* Reopen the stream on the temp through /proc, so that glibc
		 * keeps the stream's descriptor number (stdout stays 1). */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		lib_guard++;
		f = realf(proc, mode, stream);
		lib_guard--;
		struct pending *p = fdtable_take(fd);
		int saved = errno;
		real.close(fd);
		if (p && f) {
			pending_hold(p, fileno(f));
			pending_release(p, 0);  /* for the descriptor just closed */
		} else if (p) {
			pending_abandon(p);
		}
		errno = saved;
	}
	if (old)
		pending_release(old, 0);
	return f;
}

EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
	return do_freopen(real.freopen, path, mode, stream);
}

EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
	return do_freopen(real.freopen64, path, mode, stream);
}

EXPORT int fclose(FILE *f)
{
	struct pending *p = NULL;
	int r;

	if (f && lib_active() && (p = take_fd(fileno(f))) && ferror(f))
		pending_fail(p, fileno(f), EIO);  /* a write failed earlier, whatever fclose says */
	r = real.fclose(f);
	return p ? after_close(p, r) : r;
}

/* A program that saw a stdio write fail and clears the error (coreutils
 * does, before it reports the error and exits) must not have the stream's
 * file committed: stdio's own writes do not pass through our write hook. */
static void note_stream_error(FILE *f)
{
	struct pending *p;
	int err = errno;

	if (f && lib_should_act() && ferror(f) && (p = fdtable_get(fileno(f))))
		pending_fail(p, fileno(f), err && err != EINTR && err != EAGAIN ? err : EIO);
	errno = err;
}

EXPORT void clearerr(FILE *f)
{
	note_stream_error(f);
	real.clearerr(f);
}

EXPORT void clearerr_unlocked(FILE *f)
{
	note_stream_error(f);
	real.clearerr_unlocked(f);
}

/* glibc's fcloseall flushes every stream and closes no descriptor: the
 * pending files behind them stay open and commit at their close or at
 * exit.  Interposed only so that the SPEC's surface is complete and this
 * stays true if libc ever closes here. */
EXPORT int fcloseall(void)
{
	return real.fcloseall();
}

/* ---- close and aliasing ---- */

EXPORT int close(int fd)
{
	struct pending *p = NULL;
	int r;

	/* The library's own descriptors are not the program's to close: as
	 * far as it can tell, nothing is open there. */
	if (ownfd_is(fd)) {
		errno = EBADF;
		return -1;
	}
	if (lib_active())
		p = take_fd(fd);
	r = real.close(fd);
	/* Linux releases the descriptor even when close fails; EINTR only
	 * means the flush was interrupted, not that fd is still open. */
	if (r < 0 && errno == EINTR)
		r = 0;
	return p ? after_close(p, r) : r;
}

/* Close the pending descriptors in [FIRST, LAST] one by one, before the
 * real call closes the rest. */
static int close_tracked_range(unsigned first, unsigned last)
{
	int max = fdtable_max(), failed = 0;

	if (!lib_active() || max < 0)
		return 0;
	for (unsigned fd = first; fd <= last && (int)fd <= max; fd++) {
		struct pending *p = take_fd((int)fd);
		if (p && after_close(p, real.close((int)fd)) < 0)
			failed = 1;
	}
	return failed;
}

/* close_range(FIRST, LAST, FLAGS) passing over the library's own
 * descriptors: the real call on each span between them. */
static int close_range_around_ours(unsigned first, unsigned last, int flags)
{
	int own;

	while ((own = ownfd_first(first, last)) >= 0) {
		if ((unsigned)own > first && real.close_range(first, (unsigned)own - 1, flags) < 0)
			return -1;
		if ((unsigned)own == last)
			return 0;
		first = (unsigned)own + 1;
	}
	return real.close_range(first, last, flags);
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	if (first > last)
		return real.close_range(first, last, flags);  /* EINVAL */
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		close_tracked_range(first, last);
	return close_range_around_ours(first, last, flags);
}

EXPORT void closefrom(int lowfd)
{
	if (lowfd >= 0)
		close_tracked_range((unsigned)lowfd, ~0u);
	/* glibc's closefrom is close_range (Linux 5.9), with a slow path for
	 * older kernels; with descriptors of ours in the way, close_range. */
	if (lowfd < 0 || ownfd_first((unsigned)lowfd, ~0u) < 0)
		real.closefrom(lowfd);
	else
		close_range_around_ours((unsigned)lowfd, ~0u, 0);
}

/* NEWFD now stands for what OLDFD stands for. */
static void alias(int oldfd, int newfd)
{
	struct pending *p;

	if (newfd >= 0 && lib_active() && (p = fdtable_get(oldfd)) && getpid() == lib.pid)
		pending_hold(p, newfd);
}

EXPORT int dup(int oldfd)
{
	int fd;

	fd = real.dup(oldfd);
	alias(oldfd, fd);
	return fd;
}

/* dup2 and dup3 close NEWFD first: that may be a pending file's last
 * descriptor, and then it commits. */
static int dup_over(int oldfd, int newfd, int flags, int use_dup3)
{
	struct pending *over = NULL;
	int saved, r;

	/* dup2(fd, fd) changes nothing (and dup3 refuses it). */
	if (oldfd != newfd && ownfd_move_away(newfd) < 0)
		return -1;
	if (oldfd == newfd || !lib_active())
		return use_dup3 ? real.dup3(oldfd, newfd, flags) : real.dup2(oldfd, newfd);
	over = take_fd(newfd);
	r = use_dup3 ? real.dup3(oldfd, newfd, flags) : real.dup2(oldfd, newfd);
	saved = errno;
	if (r < 0) {
		if (over)
			fdtable_set(newfd, over);  /* NEWFD was not closed after all */
		errno = saved;
		return r;
	}
	alias(oldfd, r);
	/* What NEWFD stood for is closed: it commits now.  A failed commit
	 * is warned about and counted (failure_exit_code), but the duplication
	 * happened, and the program must be told so (bash restores stdout
	 * this way). */
	if (over)
		pending_release(over, 0);
	errno = saved;
	return r;
}

EXPORT int dup2(int oldfd, int newfd)
{
	return dup_over(oldfd, newfd, 0, 0);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	return dup_over(oldfd, newfd, flags, 1);
}

static int do_fcntl(int (*realf)(int, int, ...), int fd, int cmd, va_list ap)
{
	/* Every fcntl argument fits a pointer-sized register: pass it on as
	 * it came, as glibc's own wrapper does. */
	void *arg = va_arg(ap, void *);
	int r = realf(fd, cmd, arg);

	if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		alias(fd, r);
	return r;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	va_start(ap, cmd);
	r = do_fcntl(real.fcntl, fd, cmd, ap);
	va_end(ap);
	return r;
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	va_start(ap, cmd);
	r = do_fcntl(real.fcntl64, fd, cmd, ap);
	va_end(ap);
	return r;
}

/* ---- writes ---- */

/* A write to a pending file failed for lack of room or of a working disk:
 * its temp does not hold what the program meant, so it must not be
 * committed.  Other errors (EINVAL from copy_file_range on a pipe, EAGAIN,
 * EINTR) mean "try another way" or "try again", and programs do.  Only
 * the failure path does any work: a write that succeeds costs a call. */
static void note_write_error(int fd)
{
	int err = errno;
	struct pending *p;

	if ((err == ENOSPC || err == EDQUOT || err == EIO || err == EFBIG) &&
	    lib_should_act() && (p = fdtable_get(fd)))
		pending_fail(p, fd, err);
	errno = err;
}

#define WRITE_HOOK(name, params, args)            \
	EXPORT ssize_t name params                \
	{                                         \
		ssize_t r;                        \
		r = real.name args;               \
		if (r < 0)                        \
			note_write_error(fd);     \
		else if (r > 0)                   \
			pending_written(fd);      \
		return r;                         \
	}

WRITE_HOOK(write, (int fd, const void *buf, size_t n), (fd, buf, n))
WRITE_HOOK(pwrite, (int fd, const void *buf, size_t n, off_t off), (fd, buf, n, off))
WRITE_HOOK(pwrite64, (int fd, const void *buf, size_t n, off64_t off), (fd, buf, n, off))
WRITE_HOOK(writev, (int fd, const struct iovec *iov, int n), (fd, iov, n))
WRITE_HOOK(pwritev, (int fd, const struct iovec *iov, int n, off_t off), (fd, iov, n, off))
WRITE_HOOK(pwritev64, (int fd, const struct iovec *iov, int n, off64_t off), (fd, iov, n, off))
WRITE_HOOK(pwritev2, (int fd, const struct iovec *iov, int n, off_t off, int flags),
	   (fd, iov, n, off, flags))
WRITE_HOOK(pwritev64v2, (int fd, const struct iovec *iov, int n, off64_t off, int flags),
	   (fd, iov, n, off, flags))

/* The other ways data reaches a descriptor (shutil.copyfile uses
 * sendfile): the same watch on failures. */
#define OUT_HOOK(ret, name, params, outfd, args)         \
	EXPORT ret name params                           \
	{                                                \
		ret r;                                   \
		r = real.name args;                      \
		if (r < 0)                               \
			note_write_error(outfd);         \
		else if (r > 0)                          \
			pending_written(outfd);          \
		return r;                                \
	}

OUT_HOOK(ssize_t, sendfile, (int out, int in, off_t *off, size_t n), out, (out, in, off, n))
OUT_HOOK(ssize_t, sendfile64, (int out, int in, off64_t *off, size_t n), out, (out, in, off, n))
OUT_HOOK(ssize_t, copy_file_range, (int in, off64_t *inoff, int out, off64_t *outoff, size_t n,
				     unsigned flags), out, (in, inoff, out, outoff, n, flags))
OUT_HOOK(ssize_t, splice, (int in, off64_t *inoff, int out, off64_t *outoff, size_t n,
			    unsigned flags), out, (in, inoff, out, outoff, n, flags))

/* ---- looking at names ---- */

/* A look at a name: a program that deleted a matched file must find it
 * gone (the deferred unlink happens first, tombstone.h), and under lock =
 * "process" the look takes the lock (pending_touch). */
static int look_at(int dirfd, const char *path)
{
	if (!lib_should_act())
		return 0;
	tombstone_touch(path);
	return pending_touch(dirfd, path);
}

#define TOUCH_HOOK(ret, name, params, dirfd, path, args)          \
	EXPORT ret name params                                    \
	{                                                         \
		if (look_at(dirfd, path) < 0)                     \
			return -1;                                \
		return real.name args;                            \
	}

TOUCH_HOOK(int, stat, (const char *path, struct stat *st), AT_FDCWD, path, (path, st))
TOUCH_HOOK(int, lstat, (const char *path, struct stat *st), AT_FDCWD, path, (path, st))
TOUCH_HOOK(int, fstatat, (int dirfd, const char *path, struct stat *st, int flags), dirfd, path,
	   (dirfd, path, st, flags))
TOUCH_HOOK(int, stat64, (const char *path, struct stat64 *st), AT_FDCWD, path, (path, st))
TOUCH_HOOK(int, lstat64, (const char *path, struct stat64 *st), AT_FDCWD, path, (path, st))
TOUCH_HOOK(int, fstatat64, (int dirfd, const char *path, struct stat64 *st, int flags), dirfd,
	   path, (dirfd, path, st, flags))
TOUCH_HOOK(int, statx, (int dirfd, const char *path, int flags, unsigned mask, struct statx *st),
	   dirfd, path, (dirfd, path, flags, mask, st))
TOUCH_HOOK(int, access, (const char *path, int mode), AT_FDCWD, path, (path, mode))
TOUCH_HOOK(int, faccessat, (int dirfd, const char *path, int mode, int flags), dirfd, path,
	   (dirfd, path, mode, flags))

/* The stat entry points of glibc before 2.33, which older binaries call. */
int __xstat(int ver, const char *path, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);
#define xstat_hook(name, field, params, dirfd, path, args) \
	EXPORT int name params                             \
	{                                                  \
		if (look_at(dirfd, path) < 0)              \
			return -1;                         \
		return real.field args;                    \
	}
xstat_hook(__xstat, xstat, (int ver, const char *path, struct stat *st), AT_FDCWD, path,
	   (ver, path, st))
xstat_hook(__lxstat, lxstat, (int ver, const char *path, struct stat *st), AT_FDCWD, path,
	   (ver, path, st))
xstat_hook(__fxstatat, fxstatat, (int ver, int dirfd, const char *path, struct stat *st, int fl),
	   dirfd, path, (ver, dirfd, path, st, fl))
xstat_hook(__xstat64, xstat64, (int ver, const char *path, struct stat64 *st), AT_FDCWD, path,
	   (ver, path, st))
xstat_hook(__lxstat64, lxstat64, (int ver, const char *path, struct stat64 *st), AT_FDCWD, path,
	   (ver, path, st))
xstat_hook(__fxstatat64, fxstatat64,
	   (int ver, int dirfd, const char *path, struct stat64 *st, int fl), dirfd, path,
	   (ver, dirfd, path, st, fl))

/* ---- names ---- */

/* Calls that put something at a name: a deferred unlink goes first (it
 * would fail them with EEXIST, or be lost under a rename). */
#define FLUSH_HOOK(name, params, args)                                            \
	EXPORT int name params                                                    \
	{                                                                         \
		if (lib_should_act())                                             \
			tombstone_flush();                                        \
		return real.name args;                                            \
	}

/* A rename onto a matched path: the program's own temp-and-rename (sed -i,
 * perl -i) gets the sync and the lock a commit would have. */
static int do_rename(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	int r;

	if (lib_should_act()) {
		tombstone_flush();
		if ((r = pending_rename(fromfd, from, tofd, to, flags)) != PENDING_PASS)
			return r;
	}
	return flags ? real.renameat2(fromfd, from, tofd, to, flags)
		     : real.renameat(fromfd, from, tofd, to);
}

EXPORT int rename(const char *from, const char *to)
{
	return do_rename(AT_FDCWD, from, AT_FDCWD, to, 0);
}

EXPORT int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	return do_rename(fromfd, from, tofd, to, 0);
}

EXPORT int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	return do_rename(fromfd, from, tofd, to, flags);
}

FLUSH_HOOK(link, (const char *from, const char *to), (from, to))
FLUSH_HOOK(linkat, (int fromfd, const char *from, int tofd, const char *to, int flags),
	   (fromfd, from, tofd, to, flags))
FLUSH_HOOK(symlink, (const char *target, const char *to), (target, to))
FLUSH_HOOK(symlinkat, (const char *target, int tofd, const char *to), (target, tofd, to))
FLUSH_HOOK(mkdir, (const char *path, mode_t mode), (path, mode))
FLUSH_HOOK(mkdirat, (int dirfd, const char *path, mode_t mode), (dirfd, path, mode))


EXPORT int unlink(const char *path)
{
	if (lib_should_act())
		pending_unlinked(AT_FDCWD, path);
	if (lib_should_act() && tombstone_unlink(AT_FDCWD, path) == 0)
		return 0;
	if (lib_should_act() && atomic_load_explicit(&tombstone_active, memory_order_relaxed))
		tombstone_flush();
	return real.unlink(path);
}

EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
	if (lib_should_act() && !(flags & AT_REMOVEDIR))
		pending_unlinked(dirfd, path);
	if (lib_should_act() && !(flags & AT_REMOVEDIR) &&
	    tombstone_unlink(dirfd, path) == 0)
		return 0;
	if (lib_should_act() && atomic_load_explicit(&tombstone_active, memory_order_relaxed))
		tombstone_flush();
	return real.unlinkat(dirfd, path, flags);
}

/* ---- processes ---- */

EXPORT pid_t fork(void)
{
	pid_t pid;

	/* A deferred unlink is done before the child can look for the file. */
	if (lib_should_act() && getpid() == lib.pid)
		tombstone_flush();
	pid = real.fork();
	if (pid == 0) {
		lib_after_fork_child();
		fdtable_after_fork_child();
		pending_after_fork_child();
		lock_forget_all();
		tombstone_forget();
		/* The parent's failures and exit are the parent's. */
		atomic_store(&pending_failures, 0);
		exit_status = -1;
	}
	return pid;
}

/* posix_spawn (and system, popen, which glibc builds on it) starts a
 * process that is not the owner of anything: only a deferred unlink must
 * be done first, so that the child does not find the file. */
EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (lib_should_act())
		tombstone_flush();
	return real.posix_spawn(pid, path, fa, attr, argv, envp);
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (lib_should_act())
		tombstone_flush();
	return real.posix_spawnp(pid, file, fa, attr, argv, envp);
}

/* ---- exec ---- */

/* Before an exec by this process: a deferred unlink happens now, and the
 * pending files are handed to the new image (see handover.h). */
#define EXEC_SCRATCH 16384

static char *const *before_exec(const char *file, int search, char *const envp[],
				char *scratch)
{
	if (!lib_should_act())
		return envp;
	if (getpid() == lib.pid) {  /* not a vfork child: ours to change */
		tombstone_flush();
		pending_commit_deferred();
	}
	return handover_before_exec(file, search, envp, scratch, EXEC_SCRATCH);
}

/* Exec with REALF (execve, or execvpe when SEARCH), handing over first and
 * taking back if the exec fails. */
static int do_exec(int (*realf)(const char *, char *const[], char *const[]),
		   const char *file, int search, char *const argv[], char *const envp[])
{
	char scratch[EXEC_SCRATCH];
	char *const *env = before_exec(file, search, envp, scratch);
	int r = realf(file, argv, env);
	int saved = errno;

	handover_exec_failed(env, envp);
	errno = saved;
	return r;
}

#define do_execve(path, argv, envp) do_exec(real.execve, path, 0, argv, envp)
#define do_execvpe(file, argv, envp) do_exec(real.execvpe, file, 1, argv, envp)

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return do_execve(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
	return do_execve(path, argv, environ);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	return do_execvpe(file, argv, environ);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return do_execvpe(file, argv, envp);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	char proc[32], scratch[EXEC_SCRATCH];
	char *const *env;
	int r, saved;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	env = before_exec(proc, 0, envp, scratch);
	r = real.fexecve(fd, argv, env);
	saved = errno;
	handover_exec_failed(env, envp);
	errno = saved;
	return r;
}

/* The execl family: the arguments into an array on the stack (they were
 * on the caller's stack already), then as execv*. */
#define COLLECT_ARGS(argv, arg0, last)                                       \
	size_t argc_ = 1;                                                     \
	va_list ap_;                                                          \
	va_start(ap_, last);                                                  \
	while (va_arg(ap_, char *))                                           \
		argc_++;                                                      \
	va_end(ap_);                                                          \
	char *argv[argc_ + 1];                                                \
	argv[0] = (char *)(arg0);                                             \
	va_start(ap_, last);                                                  \
	for (size_t i_ = 1; i_ <= argc_; i_++)                                \
		argv[i_] = va_arg(ap_, char *);

EXPORT int execl(const char *path, const char *arg, ...)
{
	COLLECT_ARGS(argv, arg, arg);
	va_end(ap_);
	return do_execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	COLLECT_ARGS(argv, arg, arg);
	va_end(ap_);
	return do_execvpe(file, argv, environ);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	COLLECT_ARGS(argv, arg, arg);
	char *const *envp = va_arg(ap_, char *const *);
	va_end(ap_);
	return do_execve(path, argv, envp);
}

/* ---- exit ---- */

/* STATUS, or failure_exit_code instead of 0 when a commit failed: a
 * program that ignores what close told it must not report success. */
static int status_after_commits(int status)
{
	if (status == 0 && lib.rs.failure_exit_code && atomic_load(&pending_failures) > 0)
		return lib.rs.failure_exit_code;
	return status;
}

/* At exit: the program's stdio buffers are flushed first, then every file
 * still open is committed (a program that never closes what it wrote
 * still gets it written), and a deferred unlink is carried out. */
static void at_exit(int flush_stdio)
{
	if (!lib_should_act() || getpid() != lib.pid)
		return;
	if (fdtable_max() >= 0) {
		if (flush_stdio)
			fflush(NULL);
		pending_commit_all();
	}
	tombstone_flush();
}

/* Runs after the program's atexit handlers, which may still close files. */
__attribute__((destructor)) static void lib_fini(void)
{
	int status;

	at_exit(1);
	if (exit_status < 0 || !lib_should_act())
		return;
	status = status_after_commits(exit_status);
	/* getpid last: a system call in every exit, needed only when a
	 * failed commit changes the status (not in a vfork child). */
	if (status != exit_status && getpid() == lib.pid) {
		fflush(NULL);
		real._exit(status);
	}
}

EXPORT __attribute__((noreturn)) void exit(int status)
{
	exit_status = status;
	real.exit(status);
	__builtin_unreachable();
}

/* glibc returns from main into exit() inside libc, where a preload cannot
 * see the status: run main ourselves and call exit() with what it
 * returns, as libc would. */
static int (*program_main)(int, char **, char **);

static int main_then_exit(int argc, char **argv, char **envp)
{
	exit(program_main(argc, argv, envp));
}

EXPORT int __libc_start_main(int (*main)(int, char **, char **), int argc, char **argv,
			     void (*init)(void), void (*fini)(void),
			     void (*rtld_fini)(void), void *stack_end)
{
	program_main = main;
	return real.libc_start_main(main_then_exit, argc, argv, init, fini, rtld_fini, stack_end);
}

EXPORT __attribute__((noreturn)) void _exit(int status)
{
	at_exit(0);  /* _exit does not flush stdio: neither do we */
	real._exit(status_after_commits(status));
	__builtin_unreachable();
}

/* quick_exit runs the at_quick_exit handlers, which may still write and
 * close files: the commit comes after them, from a handler of ours
 * registered at start, which therefore runs last. */
static void after_quick_exit_handlers(void)
{
	int status;

	at_exit(0);  /* quick_exit does not flush stdio: neither do we */
	if (exit_status < 0 || !lib_should_act() || getpid() != lib.pid)
		return;
	status = status_after_commits(exit_status);
	if (status != exit_status)
		real._exit(status);
}

void lib_register_quick_exit(void)
{
	at_quick_exit(after_quick_exit_handlers);
}

EXPORT __attribute__((noreturn)) void quick_exit(int status)
{
	exit_status = status;
	real.quick_exit(status);
	__builtin_unreachable();
}

EXPORT __attribute__((noreturn)) void _Exit(int status)
{
	at_exit(0);  /* _exit does not flush stdio: neither do we */
	real._exit(status_after_commits(status));
	__builtin_unreachable();
}
