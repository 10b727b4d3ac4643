/* hook_fd.c - close, and the calls that alias a descriptor: a pending
 * file commits when the last of its descriptors goes.  The library's own
 * descriptors are not the program's to close (ownfd.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "fdtable.h"
#include "held.h"
#include "hooks.h"
#include "ownfd.h"
#include "pending.h"
#include "real.h"
#include "state.h"

struct pending *take_fd(int fd)
{
	if (!fdtable_get(fd) || getpid() != lib.pid)
		return NULL;
	return fdtable_take(fd);
}

int after_close(struct pending *p, int r)
{
	int close_errno = r < 0 ? errno : 0, saved = errno;

	if (pending_release(p, close_errno) < 0)
		return -1;
	errno = saved;
	return r;
}


/* ---- close and aliasing ---- */

int hook_close(int fd, int (*close_fd)(int))
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
	r = close_fd(fd);
	/* Linux releases the descriptor even when close fails; EINTR only
	 * means the flush was interrupted, not that fd is still open. */
	if (r < 0 && errno == EINTR)
		r = 0;
	return p ? after_close(p, r) : r;
}

static int libc_close(int fd)
{
	return real.close(fd);
}

EXPORT int close(int fd)
{
	return hook_close(fd, libc_close);
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
	int r;

	/* Writes at offsets from now on: an append's hole is filled first. */
	if (cmd == F_SETFL && !((long)arg & O_APPEND))
		hook_before_overwrite(fd);
	r = realf(fd, cmd, arg);

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

/* For syscall() (hook_syscall.c). */
HOOK_ALIAS(close_range);
HOOK_ALIAS(dup);
HOOK_ALIAS(dup2);
HOOK_ALIAS(dup3);
HOOK_ALIAS(fcntl);

/* ---- flock ---- */

/* A program's LOCK_UN drops whatever flock its file description held,
 * the library's mark of a pending file among them (holders.h): it is put
 * back. */
void hook_flocked(int fd, int op)
{
	if ((op & LOCK_UN) && lib_active())
		held_flocked(fd, op);
}

EXPORT int flock(int fd, int op)
{
	int r = real.flock(fd, op);

	if (r == 0)
		hook_flocked(fd, op);
	return r;
}
