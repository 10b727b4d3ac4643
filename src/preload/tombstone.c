/* tombstone.c - deferred unlinks of matched files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/kernelrules.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/path.h"
#include "core/redirect.h"
#include "core/sys.h"
#include "state.h"
#include "tombstone.h"

atomic_int tombstone_active;

static struct {
	int dfd;                   /* the file's directory */
	dev_t dev;                 /* the directory, to recognise the name */
	ino_t ino;
	dev_t file_dev;            /* the file that was unlinked */
	ino_t file_ino;
	char name[NAME_MAX + 1];
	char path[PATH_MAX];       /* for messages */
	int claimed;               /* an open is trying to replace the file */
} tomb;
static pthread_mutex_t tomb_mutex = PTHREAD_MUTEX_INITIALIZER;

static void tomb_lock(sigset_t *old)
{
	mutex_lock_nosig(&tomb_mutex, old);
}

static void tomb_unlock(const sigset_t *old)
{
	mutex_unlock_nosig(&tomb_mutex, old);
}

/* With the mutex held: unlink the deferred name, for real, if it still
 * is the file the program unlinked. */
static void flush_locked(void)
{
	struct stat st;

	if (!atomic_load(&tombstone_active))
		return;
	if (sys_fstatat(tomb.dfd, tomb.name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == tomb.file_dev && st.st_ino == tomb.file_ino &&
	    sys_unlinkat(tomb.dfd, tomb.name, 0) < 0 && errno != ENOENT)
		log_warn("%s: the deferred unlink failed: %s", tomb.path, strerror(errno));
	sys_fd_close(&tomb.dfd);
	atomic_store(&tombstone_active, 0);
}

void tombstone_flush(void)
{
	sigset_t old;
	int saved = errno;

	if (!atomic_load(&tombstone_active))
		return;
	lib_guard++;
	tomb_lock(&old);
	flush_locked();
	tomb_unlock(&old);
	lib_guard--;
	errno = saved;
}

int tombstone_unlink(int dirfd, const char *path)
{
	char abs[PATH_MAX];
	struct target t;
	sigset_t old;
	int saved = errno, r = REDIRECT_PASS;

	if (!path || getpid() != lib.pid)  /* a vfork child: hands off */
		return REDIRECT_PASS;
	lib_guard++;
	tombstone_flush();
	if (!lib_rule_for(dirfd, path, abs, sizeof(abs)) ||
	    target_find(dirfd, path, 1, &t) < 0)
		goto out;
	/* Only a regular file we could unlink for real: otherwise the real
	 * call gives the program its error now, not later.  Another user's
	 * file in a sticky directory the kernel may keep for its owner
	 * (kernelrules.h): deferred, the unlink would seem done. */
	if (!t.exists || !S_ISREG(t.st.st_mode) ||
	    sys_faccessat(t.dfd, ".", W_OK | X_OK, AT_EACCESS) < 0 ||
	    kernel_guards_for_owner(&t.st, &t.dir_st)) {
		sys_close(t.dfd);
		goto out;
	}
	tomb_lock(&old);
	flush_locked();  /* another thread's, deferred meanwhile */
	sys_fd_keep(t.dfd, &tomb.dfd);
	tomb.dev = t.dir_st.st_dev;
	tomb.ino = t.dir_st.st_ino;
	tomb.file_dev = t.st.st_dev;
	tomb.file_ino = t.st.st_ino;
	snprintf(tomb.name, sizeof(tomb.name), "%s", t.name);
	tomb.claimed = 0;
	if (!abs[0])
		path_absolute(dirfd, path, abs, sizeof(abs));
	snprintf(tomb.path, sizeof(tomb.path), "%s", abs[0] ? abs : path);
	atomic_store(&tombstone_active, 1);
	tomb_unlock(&old);
	log_debug("%s: unlink deferred until the next write", tomb.path);
	r = 0;
out:
	lib_guard--;
	errno = saved;
	return r;
}

int tombstone_claim(int dirfd, const char *path, int flags)
{
	struct target t;
	sigset_t old;
	int saved = errno, found = 0, same = 0;

	if (!atomic_load(&tombstone_active))
		return 0;
	lib_guard++;
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL) &&
	    target_find(dirfd, path, 1, &t) == 0) {
		found = 1;
		sys_close(t.dfd);
	}
	tomb_lock(&old);
	same = found && atomic_load(&tombstone_active) && t.dir_st.st_dev == tomb.dev &&
	       t.dir_st.st_ino == tomb.ino && strcmp(t.name, tomb.name) == 0;
	if (same)
		tomb.claimed = 1;  /* settled by tombstone_settle */
	else
		flush_locked();
	tomb_unlock(&old);
	lib_guard--;
	errno = saved;
	return same;
}

void tombstone_settle(int replaced)
{
	sigset_t old;
	int saved = errno;

	lib_guard++;
	tomb_lock(&old);
	if (atomic_load(&tombstone_active) && tomb.claimed) {
		if (replaced) {
			sys_fd_close(&tomb.dfd);
			atomic_store(&tombstone_active, 0);
		} else {
			flush_locked();
		}
	}
	tomb.claimed = 0;
	tomb_unlock(&old);
	lib_guard--;
	errno = saved;
}

void tombstone_touch_slow(const char *path)
{
	const char *name;
	int same;
	sigset_t old;

	if (!path || lib_guard)
		return;
	name = strrchr(path, '/');
	name = name ? name + 1 : path;
	tomb_lock(&old);
	same = atomic_load(&tombstone_active) && strcmp(name, tomb.name) == 0;
	tomb_unlock(&old);
	if (same)
		tombstone_flush();
}

void tombstone_forget(void)
{
	if (atomic_load(&tombstone_active)) {
		sys_fd_close(&tomb.dfd);
		atomic_store(&tombstone_active, 0);
	}
	pthread_mutex_init(&tomb_mutex, NULL);
}
