/* hook_name.c - calls that name a file: the stat and access families
 * (a deleted file must look deleted; lock = "process" takes its lock at
 * the first look), rename onto a matched path (synced and locked), link,
 * symlink, mkdir and unlink (a deferred unlink, tombstone.h). */
#include <dirent.h>
#include <errno.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
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
int hook_look_at(int dirfd, const char *path)
{
	if (!lib_should_act())
		return 0;
	tombstone_touch(path);
	return pending_touch(dirfd, path);
}

#define TOUCH_HOOK(ret, name, params, dirfd, path, args)          \
	EXPORT ret name params                                    \
	{                                                         \
		if (hook_look_at(dirfd, path) < 0)                     \
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
		if (hook_look_at(dirfd, path) < 0)              \
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
/* A directory a deferred unlink was in must be found empty when it is,
 * and listed without the deleted file: rmdir (Python's os.rmdir, git
 * clean, node's fs.rmSync), and the listings (opendir, fdopendir, which
 * readdir, scandir, os.listdir and os.scandir start with). */
FLUSH_HOOK(rmdir, (const char *path), (path))

EXPORT DIR *opendir(const char *path)
{
	if (lib_should_act())
		tombstone_flush();
	return real.opendir(path);
}

EXPORT DIR *fdopendir(int fd)
{
	if (lib_should_act())
		tombstone_flush();
	return real.fdopendir(fd);
}

/* The listings glibc builds on its own opendir, which no hook sees, and
 * remove(), on its own unlink and rmdir: the deferred unlink first. */
#define LISTING_HOOK(ret, name, params, args)                                 \
	EXPORT ret name params                                                \
	{                                                                     \
		if (lib_should_act())                                         \
			tombstone_flush();                                    \
		return real.name args;                                        \
	}

LISTING_HOOK(int, remove, (const char *path), (path))
LISTING_HOOK(int, scandir, (const char *dir, struct dirent ***list,
			    int (*filter)(const struct dirent *),
			    int (*cmp)(const struct dirent **, const struct dirent **)),
	     (dir, list, filter, cmp))
LISTING_HOOK(int, scandir64, (const char *dir, struct dirent64 ***list,
			      int (*filter)(const struct dirent64 *),
			      int (*cmp)(const struct dirent64 **, const struct dirent64 **)),
	     (dir, list, filter, cmp))
LISTING_HOOK(int, scandirat, (int dirfd, const char *dir, struct dirent ***list,
			      int (*filter)(const struct dirent *),
			      int (*cmp)(const struct dirent **, const struct dirent **)),
	     (dirfd, dir, list, filter, cmp))
LISTING_HOOK(int, scandirat64, (int dirfd, const char *dir, struct dirent64 ***list,
				int (*filter)(const struct dirent64 *),
				int (*cmp)(const struct dirent64 **, const struct dirent64 **)),
	     (dirfd, dir, list, filter, cmp))
LISTING_HOOK(int, nftw, (const char *dir,
			 int (*fn)(const char *, const struct stat *, int, struct FTW *),
			 int fds, int flags), (dir, fn, fds, flags))
LISTING_HOOK(int, nftw64, (const char *dir,
			   int (*fn)(const char *, const struct stat64 *, int, struct FTW *),
			   int fds, int flags), (dir, fn, fds, flags))
LISTING_HOOK(int, ftw, (const char *dir, int (*fn)(const char *, const struct stat *, int),
			int fds), (dir, fn, fds))
LISTING_HOOK(int, ftw64, (const char *dir, int (*fn)(const char *, const struct stat64 *, int),
			  int fds), (dir, fn, fds))
LISTING_HOOK(FTS *, fts_open, (char *const *paths, int options,
			       int (*cmp)(const FTSENT **, const FTSENT **)),
	     (paths, options, cmp))
LISTING_HOOK(int, glob, (const char *pattern, int flags, int (*err)(const char *, int),
			 glob_t *g), (pattern, flags, err, g))
LISTING_HOOK(int, glob64, (const char *pattern, int flags, int (*err)(const char *, int),
			   glob64_t *g), (pattern, flags, err, g))


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

/* For syscall() (hook_syscall.c). */
HOOK_ALIAS(rename);
HOOK_ALIAS(renameat);
HOOK_ALIAS(renameat2);
HOOK_ALIAS(unlink);
HOOK_ALIAS(unlinkat);
HOOK_ALIAS(rmdir);
HOOK_ALIAS(mkdir);
HOOK_ALIAS(mkdirat);
HOOK_ALIAS(link);
HOOK_ALIAS(linkat);
HOOK_ALIAS(symlink);
HOOK_ALIAS(symlinkat);
