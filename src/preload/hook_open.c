/* hook_open.c - the open family, and stdio's opens and closes: a matched
 * open for writing gets a temp (pending.c), a read of a file this
 * process is writing reads what it wrote. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdtable.h"
#include "hooks.h"
#include "pending.h"
#include "real.h"
#include "state.h"
#include "tombstone.h"

/* Does a call need the mode argument?  As glibc decides. */
#define NEEDS_MODE(flags) (((flags) & O_CREAT) || ((flags) & __O_TMPFILE) == __O_TMPFILE)

/* ---- opens ---- */

/* The number N in the name of a descriptor's own file (/proc/self/fd/N,
 * /dev/fd/N, /dev/stdin, /dev/stdout, /dev/stderr), or -1. */
static int descriptor_named(const char *path)
{
	const char *n = NULL;
	long v = 0;

	if (!path || path[0] != '/')
		return -1;
	if (strncmp(path, "/proc/self/fd/", 14) == 0)
		n = path + 14;
	else if (strncmp(path, "/dev/fd/", 8) == 0)
		n = path + 8;
	else if (strncmp(path, "/dev/std", 8) == 0)
		return !strcmp(path + 8, "in") ? 0 : !strcmp(path + 8, "out") ? 1 :
		       !strcmp(path + 8, "err") ? 2 : -1;
	if (!n || !*n)
		return -1;
	for (; *n >= '0' && *n <= '9' && v < 1 << 24; n++)
		v = v * 10 + (*n - '0');
	return *n ? -1 : (int)v;
}

/* An open of a descriptor's own file is a new description of what the
 * descriptor is: one that may read, or write below the end, must find an
 * append's temp whole (hole.h); one that only appends needs nothing. */
static void open_of_descriptor(const char *path, int flags)
{
	int fd = descriptor_named(path);

	if (fd >= 0 && (flags & (O_ACCMODE | O_APPEND | O_TRUNC)) != (O_WRONLY | O_APPEND))
		hook_before_overwrite(fd);
}

/* The common part of every open hook: the descriptor of a redirected
 * open, -1 for a failed one, PENDING_PASS for the real call. */
static int try_open(int dirfd, const char *path, int flags, mode_t mode)
{
	if (!lib_should_act())
		return PENDING_PASS;
	open_of_descriptor(path, flags);
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
	open_of_descriptor(path, flags);
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

/* For syscall() (hook_syscall.c). */
HOOK_ALIAS(open);
HOOK_ALIAS(openat);
HOOK_ALIAS(creat);
