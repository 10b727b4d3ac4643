/* lockdir.c - the lock directory: chosen once per process, checked. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "lockdir.h"
#include "log.h"
#include "sys.h"
#include "trust.h"

/* One decision, made by the first thread that needs it; the others wait
 * for it (it takes a few system calls).  STATE: 0 nothing yet, 1 one
 * thread deciding, 2 decided (and read-only). */
struct decision {
	atomic_int state;
	int found;                /* DIR holds a directory to use */
	char dir[PATH_MAX];
};

static struct decision user_dir, set_dir;

/* Returns 1 when the caller is to decide D, 0 when D is decided. */
static int decision_begin(struct decision *d)
{
	struct timespec pause = { 0, 100000 };
	int none = 0;

	for (;;) {
		int s = atomic_load_explicit(&d->state, memory_order_acquire);
		if (s == 2)
			return 0;
		if (s == 0 && atomic_compare_exchange_strong(&d->state, &none, 1))
			return 1;
		none = 0;
		sys_nanosleep(&pause);
	}
}

static void decision_end(struct decision *d, const char *dir)
{
	d->found = dir != NULL && strlen(dir) < sizeof(d->dir);
	if (d->found)
		snprintf(d->dir, sizeof(d->dir), "%s", dir);
	atomic_store_explicit(&d->state, 2, memory_order_release);
}

/* ---- the per-user directory ---- */

/* RUN, a runtime directory, is one only UID can use (the XDG base
 * directory rules: its owner's, mode 0700).  NOTE says why not, for a
 * message.  What is above it is own_subdir's to check. */
static int runtime_dir_fit(const char *run, uid_t uid, char *note, size_t size)
{
	struct stat st;
	int fd = sys_openat(AT_FDCWD, run, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	int fit;

	if (fd < 0) {
		snprintf(note, size, "%s", strerror(errno));
		return 0;
	}
	fit = sys_fstat(fd, &st) == 0 && st.st_uid == uid && !(st.st_mode & 077);
	if (!fit)
		snprintf(note, size, "owner %u, mode %04o: not a directory of user %u only",
			 (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)uid);
	sys_close(fd);
	return fit;
}

/* DIR/NAME made (mode 0700) or found: a directory of UID's that only UID
 * can write, that nobody but UID and root can rename away (nor any
 * directory above it).  The path into OUT.  Says why when it is not. */
static int own_subdir(const char *dir, const char *name, uid_t uid, char *out, size_t size)
{
	struct stat st;
	int n = snprintf(out, size, "%s/%s", dir, name);
	int fd, ours, safe = 0;

	if (n < 0 || (size_t)n >= size)
		return 0;
	if (sys_mkdirat(AT_FDCWD, out, 0700) < 0 && errno != EEXIST)
		return 0;
	fd = sys_openat(AT_FDCWD, out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			log_warn("%s: not a directory (someone else made it): not used for locks", out);
		return 0;
	}
	ours = sys_fstat(fd, &st) == 0 && st.st_uid == uid && !(st.st_mode & 022);
	if (!ours)
		log_warn("%s: lock directory not ours (owner %u, mode %04o): not used; remove it, "
			 "or set XDG_RUNTIME_DIR or lock_dir", out, (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 07777));
	else if (!(safe = trust_dir_chain(fd, uid)))
		log_warn("%s: a directory above it is open to other users (each must be user %u's "
			 "or root's, and writable by others only when sticky): not used for locks",
			 out, (unsigned)uid);
	sys_close(fd);
	return safe;
}

static const char *choose_user_dir(char *out, size_t size)
{
	const char *xdg = sys_getenv("XDG_RUNTIME_DIR");
	uid_t uid = sys_geteuid();
	char run[64], note[128];

	if (xdg && xdg[0] == '/') {
		if (runtime_dir_fit(xdg, uid, note, sizeof(note))) {
			if (own_subdir(xdg, "atomically", uid, out, size))
				return out;
		} else {
			log_info("XDG_RUNTIME_DIR=%s: %s; not used for locks", xdg, note);
		}
	}
	snprintf(run, sizeof(run), "/run/user/%u", (unsigned)uid);
	if (runtime_dir_fit(run, uid, note, sizeof(note)) &&
	    own_subdir(run, "atomically", uid, out, size))
		return out;
	if (uid == 0 && own_subdir("/run", "atomically", uid, out, size))
		return out;
	snprintf(run, sizeof(run), "atomically-%u", (unsigned)uid);
	if (own_subdir("/tmp", run, uid, out, size))
		return out;
	return NULL;
}

const char *lockdir_user(void)
{
	char buf[PATH_MAX];

	if (decision_begin(&user_dir)) {
		const char *dir = choose_user_dir(buf, sizeof(buf));
		if (!dir)
			log_warn("no lock directory that only user %u can write: files are written "
				 "without locks (set XDG_RUNTIME_DIR, or lock_dir)",
				 (unsigned)sys_geteuid());
		decision_end(&user_dir, dir);
	}
	return user_dir.found ? user_dir.dir : NULL;
}

/* ---- a directory the rules name ---- */

static int set_dir_fit(const char *setting)
{
	struct stat st;
	uid_t uid = sys_geteuid();
	int fd = sys_openat(AT_FDCWD, setting, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	int fit;

	if (fd < 0) {
		log_warn("lock_dir %s: %s; locking in the per-user directory", setting,
			 strerror(errno));
		return 0;
	}
	fit = sys_fstat(fd, &st) == 0 && trust_own_dir(&st, uid) && trust_dir_chain(fd, uid);
	if (!fit)
		log_warn("lock_dir %s: other users could change it or a directory above it "
			 "(each must be user %u's or root's, and writable by others only when "
			 "sticky); locking in the per-user directory", setting, (unsigned)uid);
	sys_close(fd);
	return fit;
}

const char *lockdir_set(const char *setting)
{
	if (decision_begin(&set_dir))
		decision_end(&set_dir, set_dir_fit(setting) ? setting : NULL);
	return set_dir.found ? set_dir.dir : NULL;
}

void lockdir_after_fork(void)
{
	if (atomic_load(&user_dir.state) == 1)
		atomic_store(&user_dir.state, 0);
	if (atomic_load(&set_dir.state) == 1)
		atomic_store(&set_dir.state, 0);
}
