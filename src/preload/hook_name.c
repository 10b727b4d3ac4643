/* hook_name.c - calls that name a file: the stat and access families
 * (a deleted file must look deleted; lock = "process" takes its lock at
 * the first look), rename onto a matched path (synced and locked), link,
 * symlink, mkdir and unlink (a deferred unlink, tombstone.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hooks.h"
#include "pending.h"
#include "real.h"
#include "state.h"
#include "tombstone.h"

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
