/* hook_write.c - the write family: a write that fails spoils its pending
 * file, one that succeeds marks it modified; only the failure path does
 * any work. */
#include <errno.h>
#include <sys/sendfile.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdtable.h"
#include "hooks.h"
#include "pending.h"
#include "real.h"
#include "state.h"

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

void hook_wrote(int fd, long r)
{
	if (r < 0)
		note_write_error(fd);
	else if (r > 0)
		pending_written(fd);
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

/* ---- what may write below an append's end ---- */

/* An append's temp holds a hole for the target's content (core/hole.h);
 * the calls that can write into it, or cut it, fill it first.  Only for
 * a descriptor of a pending file: one load of the fd table otherwise. */
void hook_before_overwrite(int fd)
{
	int saved = errno;

	if (lib_should_act())
		pending_whole(fd);
	errno = saved;
}

#define WRITE_AT_HOOK(name, params, args)              \
	EXPORT ssize_t name params                     \
	{                                              \
		ssize_t r;                             \
		if (flags & HOOK_RWF_NOAPPEND)         \
			hook_before_overwrite(fd);     \
		r = real.name args;                    \
		hook_wrote(fd, r);                     \
		return r;                              \
	}

WRITE_AT_HOOK(pwritev2, (int fd, const struct iovec *iov, int n, off_t off, int flags),
	      (fd, iov, n, off, flags))
WRITE_AT_HOOK(pwritev64v2, (int fd, const struct iovec *iov, int n, off64_t off, int flags),
	      (fd, iov, n, off, flags))

#define SIZE_HOOK(name, params, args)          \
	EXPORT int name params                 \
	{                                      \
		hook_before_overwrite(fd);     \
		return real.name args;         \
	}

SIZE_HOOK(ftruncate, (int fd, off_t n), (fd, n))
SIZE_HOOK(ftruncate64, (int fd, off64_t n), (fd, n))
SIZE_HOOK(fallocate, (int fd, int mode, off_t off, off_t n), (fd, mode, off, n))
SIZE_HOOK(fallocate64, (int fd, int mode, off64_t off, off64_t n), (fd, mode, off, n))
SIZE_HOOK(posix_fallocate, (int fd, off_t off, off_t n), (fd, off, n))
SIZE_HOOK(posix_fallocate64, (int fd, off64_t off, off64_t n), (fd, off, n))

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

/* ---- fsync ---- */

/* A program's fsync asks that what it wrote survive a crash: under
 * fsync = "commit" (the default) its pending file is committed now, and
 * the program goes on writing the committed file; under "temp" only the
 * temp is synced, and the commit waits for the close (DESIGN.md). */
#define SYNC_HOOK(name)                                                     \
	EXPORT int name(int fd)                                             \
	{                                                                   \
		if (lib_should_act() && pending_sync(fd) < 0)               \
			return -1;                                          \
		return real.name(fd);                                       \
	}

SYNC_HOOK(fsync)
SYNC_HOOK(fdatasync)

/* For syscall() (hook_syscall.c). */
HOOK_ALIAS(fsync);
HOOK_ALIAS(fdatasync);

