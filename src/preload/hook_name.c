/* hook_name.c - calls that change names: rename onto a matched path
 * (synced and locked) or of a pending file (committed first, so that the
 * name takes what was written), link, symlink, mkdir, rmdir and unlink
 * (a deferred unlink, tombstone.h), and the directory listings, which
 * must not show a deleted file.  The stat family is hook_stat.c. */
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
 * perl -i) gets the sync and the lock a commit would have.  A pending
 * file renamed away is committed first, so that its new name holds what
 * was written; one renamed over is as deleted: its writes would have
 * gone to a file with no name. */
static int do_rename(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	int r = PENDING_PASS, acting = lib_should_act();

	if (acting) {
		tombstone_flush();
		pending_settle_at(fromfd, from);
		if (flags & RENAME_EXCHANGE)
			pending_settle_at(tofd, to);
		r = pending_rename(fromfd, from, tofd, to, flags);
	}
	if (r == PENDING_PASS)
		r = flags ? real.renameat2(fromfd, from, tofd, to, flags)
			  : real.renameat(fromfd, from, tofd, to);
	if (r == 0 && acting && !(flags & RENAME_EXCHANGE))
		pending_unlinked(tofd, to);
	return r;
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

/* A link to a pending file: committed first, so that both names hold
 * what was written. */
EXPORT int link(const char *from, const char *to)
{
	if (lib_should_act()) {
		tombstone_flush();
		pending_settle_at(AT_FDCWD, from);
	}
	return real.link(from, to);
}

EXPORT int linkat(int fromfd, const char *from, int tofd, const char *to, int flags)
{
	if (lib_should_act()) {
		tombstone_flush();
		if (!(flags & AT_EMPTY_PATH))
			pending_settle_at(fromfd, from);
	}
	return real.linkat(fromfd, from, tofd, to, flags);
}
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
	int r;

	if (lib_should_act() && (r = pending_session_unlink(AT_FDCWD, path)) != PENDING_PASS)
		return r;
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
	int r;

	if (lib_should_act() && !(flags & AT_REMOVEDIR) &&
	    (r = pending_session_unlink(dirfd, path)) != PENDING_PASS)
		return r;
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
