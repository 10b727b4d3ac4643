/* hook_meta.c - changes by name of a file's mode, owner, times and size:
 * on a file this process is writing they change the pending file (the
 * target is replaced at the commit, and a change made to it now would be
 * lost, or fail with ENOENT for a new file).  The kernel's rules are
 * kept, with the file the program sees (record_view) as their subject:
 * only its owner (or root) sets its mode, owner or explicit times. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "hooks.h"
#include "pending.h"
#include "real.h"
#include "state.h"

/* The look at PATH, then CHANGE on its pending file: 0 or -1 when the
 * call is answered, PENDING_PASS when the real call must be made. */
static int change_at(int dirfd, const char *path, int nofollow,
		     int (*change)(int, const struct stat *, const void *), const void *arg)
{
	if (hook_look_at(dirfd, path) < 0)
		return -1;
	if (!lib_should_act())
		return PENDING_PASS;
	return pending_change_at(dirfd, path, nofollow, change, arg);
}

/* PATH, which glibc declares never NULL, where the kernel takes NULL to
 * mean the descriptor itself: asked without the compiler's assumption. */
static int null_path(const char *path)
{
	__asm__("" : "+r"(path));
	return path == NULL;
}

static int owner_or_root(const struct stat *view)
{
	uid_t uid = geteuid();

	if (uid == 0 || uid == view->st_uid)
		return 1;
	errno = EPERM;
	return 0;
}

/* ---- mode ---- */

static int change_mode(int fd, const struct stat *view, const void *arg)
{
	return owner_or_root(view) ? fchmod(fd, *(const mode_t *)arg) : -1;
}

EXPORT int chmod(const char *path, mode_t mode)
{
	int r = change_at(AT_FDCWD, path, 0, change_mode, &mode);

	return r != PENDING_PASS ? r : real.chmod(path, mode);
}

EXPORT int lchmod(const char *path, mode_t mode)
{
	int r = change_at(AT_FDCWD, path, 1, change_mode, &mode);

	return r != PENDING_PASS ? r : real.lchmod(path, mode);
}

EXPORT int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	int r = change_at(dirfd, path, flags & AT_SYMLINK_NOFOLLOW, change_mode, &mode);

	return r != PENDING_PASS ? r : real.fchmodat(dirfd, path, mode, flags);
}

/* ---- owner ---- */

struct owner {
	uid_t uid;
	gid_t gid;
};

static int change_owner(int fd, const struct stat *view, const void *arg)
{
	const struct owner *o = arg;

	if (o->uid == (uid_t)-1 && o->gid == (gid_t)-1)
		return 0;
	return owner_or_root(view) ? fchown(fd, o->uid, o->gid) : -1;
}

EXPORT int chown(const char *path, uid_t uid, gid_t gid)
{
	struct owner o = { uid, gid };
	int r = change_at(AT_FDCWD, path, 0, change_owner, &o);

	return r != PENDING_PASS ? r : real.chown(path, uid, gid);
}

EXPORT int lchown(const char *path, uid_t uid, gid_t gid)
{
	struct owner o = { uid, gid };
	int r = change_at(AT_FDCWD, path, 1, change_owner, &o);

	return r != PENDING_PASS ? r : real.lchown(path, uid, gid);
}

EXPORT int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	struct owner o = { uid, gid };
	int r;

	if ((flags & AT_EMPTY_PATH) && !null_path(path) && !path[0])
		return real.fchownat(dirfd, path, uid, gid, flags);
	r = change_at(dirfd, path, flags & AT_SYMLINK_NOFOLLOW, change_owner, &o);
	return r != PENDING_PASS ? r : real.fchownat(dirfd, path, uid, gid, flags);
}

/* ---- times ---- */

/* Times to set: NULL is "now" for both.  Explicit times are the
 * owner's to set; "now" anyone's who may write the file, as the program
 * that holds it open for writing may. */
static int explicit_time(const struct timespec *t)
{
	return t->tv_nsec != UTIME_NOW && t->tv_nsec != UTIME_OMIT;
}

static int change_times(int fd, const struct stat *view, const void *arg)
{
	const struct timespec *ts = arg;

	if (ts && (explicit_time(&ts[0]) || explicit_time(&ts[1])) && !owner_or_root(view))
		return -1;
	return futimens(fd, ts);
}

static int times_at(int dirfd, const char *path, const struct timespec *ts, int nofollow)
{
	return change_at(dirfd, path, nofollow, change_times, ts);
}

/* struct timeval[2] (NULL: now) as struct timespec[2]. */
static const struct timespec *from_timeval(const struct timeval *tv, struct timespec ts[2])
{
	if (!tv)
		return NULL;
	for (int i = 0; i < 2; i++) {
		ts[i].tv_sec = tv[i].tv_sec;
		ts[i].tv_nsec = tv[i].tv_usec * 1000;
	}
	return ts;
}

EXPORT int utimensat(int dirfd, const char *path, const struct timespec ts[2], int flags)
{
	int r;

	if (null_path(path) || ((flags & AT_EMPTY_PATH) && !path[0]))
		return real.utimensat(dirfd, path, ts, flags);  /* a descriptor */
	r = times_at(dirfd, path, ts, flags & AT_SYMLINK_NOFOLLOW);
	return r != PENDING_PASS ? r : real.utimensat(dirfd, path, ts, flags);
}

EXPORT int utime(const char *path, const struct utimbuf *times)
{
	struct timespec ts[2];
	int r;

	if (times) {
		ts[0] = (struct timespec){ times->actime, 0 };
		ts[1] = (struct timespec){ times->modtime, 0 };
	}
	r = times_at(AT_FDCWD, path, times ? ts : NULL, 0);
	return r != PENDING_PASS ? r : real.utime(path, times);
}

EXPORT int utimes(const char *path, const struct timeval tv[2])
{
	struct timespec ts[2];
	int r = times_at(AT_FDCWD, path, from_timeval(tv, ts), 0);

	return r != PENDING_PASS ? r : real.utimes(path, tv);
}

EXPORT int lutimes(const char *path, const struct timeval tv[2])
{
	struct timespec ts[2];
	int r = times_at(AT_FDCWD, path, from_timeval(tv, ts), 1);

	return r != PENDING_PASS ? r : real.lutimes(path, tv);
}

EXPORT int futimesat(int dirfd, const char *path, const struct timeval tv[2])
{
	struct timespec ts[2];
	int r;

	if (null_path(path))
		return real.futimesat(dirfd, path, tv);  /* a descriptor */
	r = times_at(dirfd, path, from_timeval(tv, ts), 0);
	return r != PENDING_PASS ? r : real.futimesat(dirfd, path, tv);
}

/* ---- size ---- */

static int change_size(int fd, const struct stat *view, const void *arg)
{
	(void)view;  /* the program holds the file open for writing */
	return ftruncate(fd, *(const off_t *)arg);
}

EXPORT int truncate(const char *path, off_t length)
{
	int r = change_at(AT_FDCWD, path, 0, change_size, &length);

	return r != PENDING_PASS ? r : real.truncate(path, length);
}

EXPORT int truncate64(const char *path, off64_t length)
{
	off_t len = (off_t)length;
	int r = change_at(AT_FDCWD, path, 0, change_size, &len);

	return r != PENDING_PASS ? r : real.truncate64(path, length);
}

/* For syscall() (hook_syscall.c). */
HOOK_ALIAS(chmod);
HOOK_ALIAS(fchmodat);
HOOK_ALIAS(chown);
HOOK_ALIAS(lchown);
HOOK_ALIAS(fchownat);
HOOK_ALIAS(utime);
HOOK_ALIAS(utimes);
HOOK_ALIAS(futimesat);
HOOK_ALIAS(utimensat);
HOOK_ALIAS(truncate);
