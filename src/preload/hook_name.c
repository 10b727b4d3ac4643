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
#include "sessionlist.h"
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
 * clean, node's fs.rmSync), and the listings. */
FLUSH_HOOK(rmdir, (const char *path), (path))

/* ---- listings ----
 *
 * A listing must not show a deferred unlink's file (tombstone.h), and,
 * in a session, shows the session's view (sessionlist.h): opendir and
 * fdopendir, which readdir, os.listdir, os.scandir, ls, find and git
 * start with, ask for it; readdir and readdir_r give it; closedir lets
 * it go. */

#ifdef __GLIBC__  /* musl has one structure of each under both names */
_Static_assert(_DIRENT_MATCHES_DIRENT64 && sizeof(struct dirent) == sizeof(struct dirent64) &&
		       sizeof(struct stat) == sizeof(struct stat64),
	       "the 64 variants are taken for the plain ones, as glibc does on this ABI");
#endif

/* D, just opened for the program: with the session's view of it. */
static DIR *opened(DIR *d)
{
	if (d && lib.session_files && lib_should_act())
		sessionlist_opened(d);
	return d;
}

EXPORT DIR *opendir(const char *path)
{
	if (lib_should_act())
		tombstone_flush();
	return opened(real.opendir(path));
}

EXPORT DIR *fdopendir(int fd)
{
	if (lib_should_act())
		tombstone_flush();
	return opened(real.fdopendir(fd));
}

static struct dirent *next_entry(DIR *d)
{
	return real.readdir(d);
}

static struct dirent *next_entry64(DIR *d)
{
	return (struct dirent *)real.readdir64(d);
}

/* readdir, as the program's own calls and scandir and glob read. */
static struct dirent *read_entry(DIR *d)
{
	if (!sessionlist_any())
		return real.readdir(d);
	return sessionlist_read(d, next_entry);
}

EXPORT struct dirent *readdir(DIR *d)
{
	return read_entry(d);
}

EXPORT struct dirent64 *readdir64(DIR *d)
{
	if (!sessionlist_any())
		return real.readdir64(d);
	return (struct dirent64 *)sessionlist_read(d, next_entry64);
}

static int next_entry_r(DIR *d, struct dirent *e, struct dirent **r)
{
	return real.readdir_r(d, e, r);
}

static int next_entry64_r(DIR *d, struct dirent *e, struct dirent **r)
{
	return real.readdir64_r(d, (struct dirent64 *)e, (struct dirent64 **)r);
}

EXPORT int readdir_r(DIR *d, struct dirent *e, struct dirent **r)
{
	if (!sessionlist_any())
		return real.readdir_r(d, e, r);
	return sessionlist_read_r(d, e, r, next_entry_r);
}

EXPORT int readdir64_r(DIR *d, struct dirent64 *e, struct dirent64 **r)
{
	if (!sessionlist_any())
		return real.readdir64_r(d, e, r);
	return sessionlist_read_r(d, (struct dirent *)e, (struct dirent **)r, next_entry64_r);
}

EXPORT void rewinddir(DIR *d)
{
	real.rewinddir(d);
	if (sessionlist_any())
		sessionlist_rewound(d);
}

static int close_dir(DIR *d)
{
	if (sessionlist_any())
		sessionlist_closing(d);
	return real.closedir(d);
}

EXPORT int closedir(DIR *d)
{
	return close_dir(d);
}

/* The listings glibc builds on its own opendir, which no hook sees: the
 * deferred unlink first. */
#define LISTING_HOOK(ret, name, params, args)                                 \
	EXPORT ret name params                                                \
	{                                                                     \
		if (lib_should_act())                                         \
			tombstone_flush();                                    \
		return real.name args;                                        \
	}

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

/* ---- scandir: made here on the hooked opendir and readdir in a
 * session (glibc's reads with its own, and node's fs.readdir is libuv's
 * scandir), glibc's elsewhere. ---- */

/* PATH (relative to DIRFD) opened as scandirat opens it, for the
 * program. */
static DIR *open_at(int dirfd, const char *path)
{
	DIR *d;
	int fd, err;

	if (dirfd == AT_FDCWD)
		return opened(real.opendir(path));
	fd = real.openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (!(d = real.fdopendir(fd))) {
		err = errno;
		real.close(fd);
		errno = err;
	}
	return opened(d);
}

typedef int (*scan_filter)(const struct dirent *);
typedef int (*scan_cmp)(const struct dirent **, const struct dirent **);

static int scan(int dirfd, const char *path, struct dirent ***list, scan_filter filter,
		scan_cmp cmp)
{
	DIR *d;
	int n, err;

	tombstone_flush();
	if (!(d = open_at(dirfd, path)))
		return -1;
	n = sessionlist_scandir(d, list, filter, cmp, read_entry);
	err = errno;
	close_dir(d);
	errno = err;
	return n;
}

/* Each of the four: in a session, scan; else the deferred unlink first,
 * then glibc's.  The 64 ones are the plain ones on this ABI (the
 * assertion above), as glibc itself aliases them. */
#define SCANDIR_HOOK(name, params, dirfd, dir, args)                                  \
	EXPORT int name params                                                        \
	{                                                                             \
		if (sessionlist_wanted())                                             \
			return scan(dirfd, dir, (struct dirent ***)list, (scan_filter)filter, \
				    (scan_cmp)cmp);                                   \
		if (lib_should_act())                                                 \
			tombstone_flush();                                            \
		return real.name args;                                                \
	}
SCANDIR_HOOK(scandir, (const char *dir, struct dirent ***list,
			       int (*filter)(const struct dirent *),
			       int (*cmp)(const struct dirent **, const struct dirent **)),
	     AT_FDCWD, dir, (dir, list, filter, cmp))
SCANDIR_HOOK(scandir64, (const char *dir, struct dirent64 ***list,
				   int (*filter)(const struct dirent64 *),
				   int (*cmp)(const struct dirent64 **, const struct dirent64 **)),
	     AT_FDCWD, dir, (dir, list, filter, cmp))
SCANDIR_HOOK(scandirat, (int dirfd, const char *dir, struct dirent ***list,
				 int (*filter)(const struct dirent *),
				 int (*cmp)(const struct dirent **, const struct dirent **)),
	     dirfd, dir, (dirfd, dir, list, filter, cmp))
SCANDIR_HOOK(scandirat64, (int dirfd, const char *dir, struct dirent64 ***list,
				     int (*filter)(const struct dirent64 *),
				     int (*cmp)(const struct dirent64 **, const struct dirent64 **)),
	     dirfd, dir, (dirfd, dir, list, filter, cmp))

/* ---- glob: in a session, glibc's with GLOB_ALTDIRFUNC, which makes it
 * read directories through the functions it is given: ours. musl's glob has no
 * GLOB_ALTDIRFUNC, and reads directories inside libc: there a glob
 * sees the directories as they are on disk (the deferred unlinks carried
 * out first), not the session's view. ---- */

#ifdef GLOB_ALTDIRFUNC

static void *glob_opendir(const char *path)
{
	return opened(real.opendir(path));
}

static struct dirent *glob_readdir(void *d)
{
	return read_entry(d);
}

static struct dirent64 *glob_readdir64(void *d)
{
	return (struct dirent64 *)read_entry(d);
}

static void glob_closedir(void *d)
{
	close_dir(d);
}

static int glob_stat(const char *restrict path, struct stat *restrict st)
{
	return hook_stat(path, st);
}

static int glob_lstat(const char *restrict path, struct stat *restrict st)
{
	return hook_lstat(path, st);
}

static int glob_stat64(const char *restrict path, struct stat64 *restrict st)
{
	return hook_stat(path, (struct stat *)st);
}

static int glob_lstat64(const char *restrict path, struct stat64 *restrict st)
{
	return hook_lstat(path, (struct stat *)st);
}

/* The program's own GLOB_ALTDIRFUNC is left alone; ours is taken off
 * gl_flags again, which the program may look at. */
#define GLOB_HOOK(name, glob_t_, readdir_fn, stat_fn, lstat_fn)                     \
	EXPORT int name(const char *pattern, int flags, int (*err)(const char *, int), \
			glob_t_ *g)                                                 \
	{                                                                           \
		int r;                                                              \
		if (lib_should_act())                                               \
			tombstone_flush();                                          \
		if ((flags & GLOB_ALTDIRFUNC) || !sessionlist_wanted())             \
			return real.name(pattern, flags, err, g);                   \
		g->gl_opendir = glob_opendir;                                       \
		g->gl_readdir = readdir_fn;                                         \
		g->gl_closedir = glob_closedir;                                     \
		g->gl_stat = stat_fn;                                               \
		g->gl_lstat = lstat_fn;                                             \
		r = real.name(pattern, flags | GLOB_ALTDIRFUNC, err, g);            \
		g->gl_flags &= ~GLOB_ALTDIRFUNC;                                    \
		return r;                                                           \
	}
GLOB_HOOK(glob, glob_t, glob_readdir, glob_stat, glob_lstat)
GLOB_HOOK(glob64, glob64_t, glob_readdir64, glob_stat64, glob_lstat64)
#else
#define GLOB_HOOK(name, glob_t_)                                                    \
	EXPORT int name(const char *pattern, int flags, int (*err)(const char *, int), \
			glob_t_ *g)                                                 \
	{                                                                           \
		if (lib_should_act())                                               \
			tombstone_flush();                                          \
		return real.name(pattern, flags, err, g);                           \
	}
GLOB_HOOK(glob, glob_t)
GLOB_HOOK(glob64, glob64_t)
#endif


/* The real unlink's result, when the name was that of a file pending in
 * this process (PENDING, from pending_unlinked): a file the program made
 * has no name on disk before its commit, and unwrapped its unlink would
 * have succeeded. */
static int unlinked_pending(int r, int pending, int saved)
{
	if (r < 0 && errno == ENOENT && pending > 0) {
		errno = saved;
		return 0;
	}
	return r;
}

EXPORT int unlink(const char *path)
{
	int r, pending = 0, saved = errno;

	if (lib_should_act() && (r = pending_session_unlink(AT_FDCWD, path)) != PENDING_PASS)
		return r;
	if (lib_should_act())
		pending = pending_unlinked(AT_FDCWD, path);
	if (lib_should_act() && tombstone_unlink(AT_FDCWD, path) == 0)
		return 0;
	if (lib_should_act() && atomic_load_explicit(&tombstone_active, memory_order_relaxed))
		tombstone_flush();
	return unlinked_pending(real.unlink(path), pending, saved);
}

EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
	int r, pending = 0, saved = errno;

	if (lib_should_act() && !(flags & AT_REMOVEDIR) &&
	    (r = pending_session_unlink(dirfd, path)) != PENDING_PASS)
		return r;
	if (lib_should_act() && !(flags & AT_REMOVEDIR))
		pending = pending_unlinked(dirfd, path);
	if (lib_should_act() && !(flags & AT_REMOVEDIR) &&
	    tombstone_unlink(dirfd, path) == 0)
		return 0;
	if (lib_should_act() && atomic_load_explicit(&tombstone_active, memory_order_relaxed))
		tombstone_flush();
	return unlinked_pending(real.unlinkat(dirfd, path, flags), pending, saved);
}

/* remove(), as glibc makes it (unlink, then rmdir for a directory), but
 * on the hooks: glibc's calls its own unlink, which no hook sees, so a
 * file pending here would be committed after the program removed it, or
 * a new one's removal fail with ENOENT. */
EXPORT int remove(const char *path)
{
	if (!lib_should_act())
		return real.remove(path);
	if (hook_unlink(path) == 0)
		return 0;
	if (errno != EISDIR)
		return -1;
	return hook_rmdir(path);
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
