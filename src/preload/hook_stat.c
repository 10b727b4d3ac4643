/* hook_stat.c - the stat and access families: a name or a descriptor of
 * a file this process is writing describes the pending file, as the
 * commit will leave it (record_view): one inode for the name and the
 * descriptor, one link, the old file's mode and owner.  vim compares the
 * two before it saves, logrotate refuses a file without exactly one
 * link, sqlite one with none.  A look at a name also carries out a
 * deferred unlink of it and takes a lock = "process" (hook_look_at). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fdtable.h"
#include "hooks.h"
#include "pending.h"
#include "real.h"
#include "state.h"
#include "tombstone.h"

/* The 64-bit structures are the same on the 64-bit ABIs we build for
 * (musl has one structure under both names: src/preload/musl.h). */
#ifdef __GLIBC__
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "struct stat64 differs");
#endif

int hook_look_at(int dirfd, const char *path)
{
	if (!lib_should_act())
		return 0;
	tombstone_touch(path);
	return pending_touch(dirfd, path);
}

/* The look at PATH, then its pending file's view: 0 or -1 when the call
 * is answered, PENDING_PASS when the real call must be made. */
static int view_at(int dirfd, const char *path, int nofollow, struct stat *st)
{
	if (hook_look_at(dirfd, path) < 0)
		return -1;
	if (!lib_should_act())
		return PENDING_PASS;
	return pending_stat_at(dirfd, path, nofollow, st);
}

/* A call by name: the view, or the real call. */
#define STAT_HOOK(ret, name, field, params, dirfd, path, nofollow, st, args) \
	EXPORT ret name params                                               \
	{                                                                    \
		int r_ = view_at(dirfd, path, nofollow, (struct stat *)(st)); \
		return r_ != PENDING_PASS ? r_ : real.field args;            \
	}

STAT_HOOK(int, stat, stat, (const char *path, struct stat *st), AT_FDCWD, path, 0, st, (path, st))
STAT_HOOK(int, lstat, lstat, (const char *path, struct stat *st), AT_FDCWD, path, 1, st, (path, st))
STAT_HOOK(int, stat64, stat64, (const char *path, struct stat64 *st), AT_FDCWD, path, 0, st, (path, st))
STAT_HOOK(int, lstat64, lstat64, (const char *path, struct stat64 *st), AT_FDCWD, path, 1, st,
	  (path, st))
/* The entry points of glibc before 2.33, which older binaries call. */
int __xstat(int ver, const char *path, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
STAT_HOOK(int, __xstat, xstat, (int ver, const char *path, struct stat *st), AT_FDCWD, path, 0, st,
	  (ver, path, st))
STAT_HOOK(int, __lxstat, lxstat, (int ver, const char *path, struct stat *st), AT_FDCWD, path, 1, st,
	  (ver, path, st))
STAT_HOOK(int, __xstat64, xstat64, (int ver, const char *path, struct stat64 *st), AT_FDCWD, path, 0, st,
	  (ver, path, st))
STAT_HOOK(int, __lxstat64, lxstat64, (int ver, const char *path, struct stat64 *st), AT_FDCWD, path, 1,
	  st, (ver, path, st))

/* ---- by descriptor ---- */

#define FSTAT_HOOK(name, field, params, fd, st, args)                        \
	EXPORT int name params                                               \
	{                                                                    \
		int r_ = real.field args;                                    \
		if (r_ == 0)                                                 \
			pending_fstat_view(fd, (struct stat *)(st));         \
		return r_;                                                   \
	}

FSTAT_HOOK(fstat, fstat, (int fd, struct stat *st), fd, st, (fd, st))
FSTAT_HOOK(fstat64, fstat64, (int fd, struct stat64 *st), fd, st, (fd, st))
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
FSTAT_HOOK(__fxstat, fxstat, (int ver, int fd, struct stat *st), fd, st, (ver, fd, st))
FSTAT_HOOK(__fxstat64, fxstat64, (int ver, int fd, struct stat64 *st), fd, st, (ver, fd, st))

/* ---- at a directory: by name, or (AT_EMPTY_PATH, "") by descriptor ---- */

static int by_descriptor(const char *path, int flags)
{
	return (flags & AT_EMPTY_PATH) && path && !path[0];
}

static int do_fstatat(int (*real_call)(int, const char *, struct stat *, int), int dirfd,
		      const char *path, struct stat *st, int flags)
{
	int r;

	if (by_descriptor(path, flags)) {
		if ((r = real_call(dirfd, path, st, flags)) == 0)
			pending_fstat_view(dirfd, st);
		return r;
	}
	r = view_at(dirfd, path, flags & AT_SYMLINK_NOFOLLOW, st);
	return r != PENDING_PASS ? r : real_call(dirfd, path, st, flags);
}

static int real_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return real.fstatat(dirfd, path, st, flags);
}

static int real_fstatat64(int dirfd, const char *path, struct stat *st, int flags)
{
	return real.fstatat64(dirfd, path, (struct stat64 *)st, flags);
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return do_fstatat(real_fstatat, dirfd, path, st, flags);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return do_fstatat(real_fstatat64, dirfd, path, (struct stat *)st, flags);
}

int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);

EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	int r;

	if (by_descriptor(path, flags)) {
		if ((r = real.fxstatat(ver, dirfd, path, st, flags)) == 0)
			pending_fstat_view(dirfd, st);
		return r;
	}
	r = view_at(dirfd, path, flags & AT_SYMLINK_NOFOLLOW, st);
	return r != PENDING_PASS ? r : real.fxstatat(ver, dirfd, path, st, flags);
}

EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags)
{
	int r;

	if (by_descriptor(path, flags)) {
		if ((r = real.fxstatat64(ver, dirfd, path, st, flags)) == 0)
			pending_fstat_view(dirfd, (struct stat *)st);
		return r;
	}
	r = view_at(dirfd, path, flags & AT_SYMLINK_NOFOLLOW, (struct stat *)st);
	return r != PENDING_PASS ? r : real.fxstatat64(ver, dirfd, path, st, flags);
}

/* statx: by name, the whole answer from the view (the basic fields);
 * by descriptor, the kernel's answer with the fields the view changes. */
static void statx_from(struct statx *sx, const struct stat *st)
{
	memset(sx, 0, sizeof(*sx));
	sx->stx_mask = STATX_BASIC_STATS;
	sx->stx_blksize = (unsigned)st->st_blksize;
	sx->stx_nlink = (unsigned)st->st_nlink;
	sx->stx_uid = st->st_uid;
	sx->stx_gid = st->st_gid;
	sx->stx_mode = (unsigned short)st->st_mode;
	sx->stx_ino = st->st_ino;
	sx->stx_size = (unsigned long long)st->st_size;
	sx->stx_blocks = (unsigned long long)st->st_blocks;
	sx->stx_atime.tv_sec = st->st_atim.tv_sec;
	sx->stx_atime.tv_nsec = (unsigned)st->st_atim.tv_nsec;
	sx->stx_mtime.tv_sec = st->st_mtim.tv_sec;
	sx->stx_mtime.tv_nsec = (unsigned)st->st_mtim.tv_nsec;
	sx->stx_ctime.tv_sec = st->st_ctim.tv_sec;
	sx->stx_ctime.tv_nsec = (unsigned)st->st_ctim.tv_nsec;
	sx->stx_dev_major = major(st->st_dev);
	sx->stx_dev_minor = minor(st->st_dev);
}

static void statx_view_fd(int fd, struct statx *sx)
{
	struct stat st;

	if (!fdtable_get(fd) || real.fstat(fd, &st) < 0)
		return;
	pending_fstat_view(fd, &st);
	sx->stx_dev_major = major(st.st_dev);
	sx->stx_dev_minor = minor(st.st_dev);
	sx->stx_ino = st.st_ino;
	sx->stx_nlink = (unsigned)st.st_nlink;
	sx->stx_uid = st.st_uid;
	sx->stx_gid = st.st_gid;
	sx->stx_mode = (unsigned short)st.st_mode;
}

EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *sx)
{
	struct stat st;
	int r;

	if (by_descriptor(path, flags)) {
		if ((r = real.statx(dirfd, path, flags, mask, sx)) == 0)
			statx_view_fd(dirfd, sx);
		return r;
	}
	r = view_at(dirfd, path, flags & AT_SYMLINK_NOFOLLOW, &st);
	if (r == PENDING_PASS)
		return real.statx(dirfd, path, flags, mask, sx);
	if (r == 0)
		statx_from(sx, &st);
	return r;
}

/* ---- access ---- */

static int in_group(gid_t gid, int effective)
{
	gid_t groups[256];
	int n;

	if (gid == (effective ? getegid() : getgid()))
		return 1;
	n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

/* May the program MODE (R_OK, W_OK, X_OK) the file ST describes, by its
 * real (or EFFECTIVE) ids?  As the kernel decides for a file's mode bits:
 * the owner's bits, else the group's, else the others'; root reads and
 * writes anything, and executes what anyone may. */
static int may(const struct stat *st, int mode, int effective)
{
	uid_t uid = effective ? geteuid() : getuid();
	int bits;

	if (mode == F_OK)
		return 0;
	if (uid == 0)
		bits = (st->st_mode & 0111) ? 7 : 6;
	else if (uid == st->st_uid)
		bits = (st->st_mode >> 6) & 7;
	else if (in_group(st->st_gid, effective))
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	if ((mode & bits) == mode)
		return 0;
	errno = EACCES;
	return -1;
}

static int access_at(int dirfd, const char *path, int mode, int flags)
{
	struct stat st;
	int r = view_at(dirfd, path, flags & AT_SYMLINK_NOFOLLOW, &st);

	if (r == PENDING_PASS || r < 0)
		return r;
	return may(&st, mode, flags & AT_EACCESS);
}

EXPORT int access(const char *path, int mode)
{
	int r = access_at(AT_FDCWD, path, mode, 0);

	return r != PENDING_PASS ? r : real.access(path, mode);
}

EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	int r = access_at(dirfd, path, mode, flags);

	return r != PENDING_PASS ? r : real.faccessat(dirfd, path, mode, flags);
}

/* For syscall() (hook_syscall.c). */
HOOK_ALIAS(stat);
HOOK_ALIAS(lstat);
HOOK_ALIAS(fstat);
HOOK_ALIAS(fstatat);
HOOK_ALIAS(statx);
HOOK_ALIAS(access);
HOOK_ALIAS(faccessat);
