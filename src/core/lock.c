/* lock.c - the lock table and the lock files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "actor.h"
#include "lock.h"
#include "lockdir.h"
#include "proc.h"
#include "log.h"
#include "mutex.h"
#include "rules.h"
#include "sys.h"
#include "tally.h"
#include "trust.h"

/* REFUSED: lock = "process", and the process gave up waiting (see
 * refuse()). */
enum lock_state { ACQUIRING, HELD, FAILED, REFUSED };

/* Where a lock file is: in the lock directory DIR (a path valid for the
 * life of the process), or beside the target, in the directory DFD (only
 * while the lock is being taken), when DIR is NULL. */
struct place {
	const char *dir;
	int dfd;
	int own;                    /* DIR is the per-user directory: see place_open */
	char file[NAME_MAX + 1];
};

/* One lock file this process has open for one owner (actor.h), shared
 * by every open of its target by that owner. */
struct lock {
	struct lock *next;
	const void *owner;          /* for whom (NULL: the process), ... */
	dev_t dev;                  /* ... the target's directory ... */
	ino_t ino;
	char name[NAME_MAX + 1];    /* ... and its name there: the key */
	int fd;                     /* -1 while HELD: no lock file could be trusted */
	struct place place;         /* where its file is (dir NULL: kept there) */
	dev_t file_dev;             /* the file locked: its name must still */
	ino_t file_ino;             /* lead there once locked (removed ones) */
	int count;
	atomic_int state;
	int error;                  /* errno when FAILED */
	int held_for_process;       /* lock = "process": one count kept until exit */
	int by_session;             /* lock = "session": the supervisor holds it (fd -1) */
	int temps;                  /* named temps of the target we know of */
	int marked;                 /* we wrote the mark, or may have: see below */
	atomic_int leftovers;       /* the last holder may have left some */
};

static struct lock *locks;
static pthread_mutex_t locks_mutex = PTHREAD_MUTEX_INITIALIZER;
/* Entries no longer in use, kept for the next lock: a new mapping (and a
 * fresh page to fault in) for every file written cost more than the rest
 * of the table's work.  Under the table mutex, as the table is. */
static struct lock *spare;

/* The table is touched from hooks that a signal handler may run (close). */
static void table_lock(sigset_t *old)
{
	mutex_lock_nosig(&locks_mutex, old);
}

static void table_unlock(const sigset_t *old)
{
	mutex_unlock_nosig(&locks_mutex, old);
}

static struct lock *table_find(const void *owner, dev_t dev, ino_t ino, const char *name)
{
	for (struct lock *l = locks; l; l = l->next)
		if (l->dev == dev && l->ino == ino && l->owner == owner &&
		    strcmp(l->name, name) == 0)
			return l;
	return NULL;
}

/* Whose entry a take by A under RULE is.  A lock = "session" is the
 * session's, for the whole tree: the process's own entry, whichever
 * owner asks, so that a covered program's take meets the session's
 * holds (supervisor/session.c) instead of waiting for them. */
static const void *key_owner(const struct actor *a, const struct rule *rule)
{
	return rule->lock == SCOPE_SESSION ? NULL : a->owner;
}

/* With the table mutex held: OWNER's entry of NAME in the directory
 * DIR_ST, counted once more, or a new one (with FD, in STATE) when there
 * is none; *CREATED says which.  NULL when memory cannot be had. */
static struct lock *table_get(const void *owner, const struct stat *dir_st, const char *name,
			      int fd, int state, int *created)
{
	struct lock *l = table_find(owner, dir_st->st_dev, dir_st->st_ino, name);
	void *mem;

	*created = 0;
	if (l) {
		l->count++;
		return l;
	}
	if (spare) {
		l = spare;
		spare = l->next;
		memset(l, 0, sizeof(*l));
	} else {
		mem = sys_map(sizeof(*l));
		if (!mem)
			return NULL;
		l = mem;
	}
	l->owner = owner;
	l->dev = dir_st->st_dev;
	l->ino = dir_st->st_ino;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->fd = fd;
	l->count = 1;
	atomic_store(&l->state, state);
	l->next = locks;
	locks = l;
	*created = 1;
	return l;
}

/* With the table mutex held: L leaves the table, its lock file is closed
 * (which unlocks it: ours is the description's only descriptor), in one
 * call with the N descriptors of ALSO (lock_release), and the entry is
 * kept for reuse.  Its file was removed or kept before (release_locked). */
static void table_remove(struct lock *l, int *const *also, int n)
{
	int *slots[4] = { &l->fd };
	int k = 1;

	for (struct lock **pp = &locks; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	for (int i = 0; i < n && k < 4; i++)
		slots[k++] = also[i];
	sys_fd_close_n(slots, k);
	l->next = spare;
	spare = l;
}

/* ---- where lock files live ---- */

/* FNV-1a: names too long for a lock file name are replaced by a hash. */
static uint64_t hash_name(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* lock_dir = "sidecar": .NAME.lock beside the target, in DFD. */
static void place_beside(struct place *p, int dfd, const char *name)
{
	int n = snprintf(p->file, sizeof(p->file), ".%s.lock", name);

	if (n < 0 || (size_t)n >= sizeof(p->file))
		snprintf(p->file, sizeof(p->file), ".%016llx.lock",
			 (unsigned long long)hash_name(name));
	p->dir = NULL;
	p->dfd = dfd;
	p->own = 0;
}

/* In the lock directory DIR, keyed by the target's directory (device and
 * inode: one lock for every spelling of the path) and NAME. */
static void place_in(struct place *p, const char *dir, const struct stat *dir_st,
		     const char *name, int own)
{
	int n = snprintf(p->file, sizeof(p->file), "%llx-%llx-%s.lock",
			 (unsigned long long)dir_st->st_dev,
			 (unsigned long long)dir_st->st_ino, name);

	if (n < 0 || (size_t)n >= sizeof(p->file))
		snprintf(p->file, sizeof(p->file), "%llx-%llx-#%016llx.lock",
			 (unsigned long long)dir_st->st_dev,
			 (unsigned long long)dir_st->st_ino,
			 (unsigned long long)hash_name(name));
	p->dir = dir;
	p->dfd = -1;
	p->own = own;
}

/* P's lock file as an *at pair: *AT and the path returned (in BUF). */
static const char *place_path(const struct place *p, char *buf, size_t size, int *at)
{
	if (!p->dir) {
		*at = p->dfd;
		return p->file;
	}
	*at = AT_FDCWD;
	snprintf(buf, size, "%s/%s", p->dir, p->file);
	return buf;
}

/* Open (creating) L's lock file at L->place into L->fd, and keep it only
 * when it can be trusted (trust.h): otherwise another user could hold
 * our lock for ever, forge the pid it names, or have us write the pid
 * into a file of theirs through a hard link.  Returns 0, or -1 with
 * errno (EPERM: a file is there that we do not trust).
 *
 * In the per-user directory (PLACE.own) nobody but this user and root
 * can make a name (lockdir.c checked it and every directory above it),
 * so what is there was made by the library, and by no other user: the
 * file is looked at once, after it is locked (place_locked), for what
 * it is and whether its name still leads to it, rather than here and by
 * its name then (a system call and geteuid's fewer per lock). */
static int place_open(struct lock *l)
{
	char buf[PATH_MAX + NAME_MAX + 2];
	const int flags = O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	const char *path;
	struct stat st;
	int at;

	path = place_path(&l->place, buf, sizeof(buf), &at);
	/* Recorded at once, so that a child forked during the wait finds it
	 * and closes its copy (lock_forget_all). */
	if (sys_fd_keep(sys_openat(at, path, flags, 0600), &l->fd) < 0)
		return -1;
	if (l->place.own)
		return 0;
	if (sys_fstat(l->fd, &st) < 0 || !trust_own_file(&st, sys_geteuid())) {
		sys_fd_close(&l->fd);
		errno = EPERM;
		return -1;
	}
	l->file_dev = st.st_dev;
	l->file_ino = st.st_ino;
	return 0;
}

/* Does the name of L's lock file still lead to the file L has open?  Not
 * when its holder removed it (place_remove) while we waited on it: the
 * next writer locks a new file by that name, and so must we.  *SIZE:
 * the file's size then (NULL: not wanted). */
static int place_current(const struct lock *l, off_t *size)
{
	char buf[PATH_MAX + NAME_MAX + 2];
	const char *path;
	struct stat now;
	int at;

	path = place_path(&l->place, buf, sizeof(buf), &at);
	if (sys_fstatat(at, path, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    now.st_dev != l->file_dev || now.st_ino != l->file_ino)
		return 0;
	if (size)
		*size = now.st_size;
	return 1;
}

/* L's lock file, just locked: 1 when its name still leads to it (we hold
 * the target's lock), 0 when its holder removed it while we waited (start
 * over), -1 with errno when it cannot be trusted.  *SIZE: its size.
 *
 * In the per-user directory the one look is the locked file's own
 * fstat: names there are made only by an open that creates the file
 * and taken away only by place_remove's unlink, never renamed nor
 * linked (no other user can, and the library does neither), so a file
 * with one link still has the name it was opened by, and a file with
 * none was removed. */
static int place_locked(struct lock *l, off_t *size)
{
	struct stat st;

	if (!l->place.own)
		return place_current(l, size);
	if (sys_fstat(l->fd, &st) < 0)
		return -1;
	if (S_ISREG(st.st_mode) && st.st_nlink == 0)
		return 0;
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		errno = EPERM;  /* not one the library made: ours, or root's, doing */
		return -1;
	}
	l->file_dev = st.st_dev;
	l->file_ino = st.st_ino;
	*size = st.st_size;
	return 1;
}

/* With the table mutex held, L locked and about to be let go: its lock
 * file goes, so that lock files do not pile up (one per file ever
 * written).  Removed while still locked, and only when its name still
 * leads to it: a waiter that then gets the lock of the removed file
 * sees that and starts over (place_locked).  Kept: a file beside the
 * target (another machine may be waiting on it over NFS, whose view of
 * names lags), and one with named temps of ours or a dead writer's
 * still counted, or a dead writer's mark read but not swept (a lock =
 * "process" reader's): the mark is how the next holder learns of them.  A
 * mark written for temps that are gone now goes with the file: nobody
 * reads the mark of a removed file.  Returns 1 when removed. */
static int place_remove(struct lock *l)
{
	char buf[PATH_MAX + NAME_MAX + 2];
	const char *path;
	int at;

	if (l->fd < 0 || !l->place.dir || l->temps != 0 || atomic_load(&l->leftovers) ||
	    !place_current(l, NULL))
		return 0;
	path = place_path(&l->place, buf, sizeof(buf), &at);
	/* When it fails, the file is left for the next holder of the name. */
	return sys_unlinkat(at, path, 0) == 0;
}

/* L's lock file opened where the rules say (A->lock_dir) for the target
 * NAME in DFD: beside it, in the directory they name, or in the per-user
 * one.  One that cannot be trusted there falls back to the per-user
 * directory, with a warning; with no per-user directory to trust, L is
 * held without a file (fd -1): the write is still atomic, only not
 * serialised (lockdir.c said why, once).  Returns -1 with errno only
 * when the per-user directory fails us otherwise (ENOSPC, EMFILE). */
static int lock_file_open(const struct actor *a, struct lock *l, int dfd,
			  const struct stat *dir_st, const char *display)
{
	const char *where = a->lock_dir, *dir;

	if (strcmp(where, "sidecar") == 0) {
		place_beside(&l->place, dfd, l->name);
		if (place_open(l) == 0)
			return 0;
		log_warn("%s: its lock file %s beside it cannot be used (%s); locking in the "
			 "per-user directory", display, l->place.file,
			 errno == EPERM ? "not a file of ours alone" : strerror(errno));
	} else if (where[0] && (dir = lockdir_set(where))) {
		place_in(&l->place, dir, dir_st, l->name, 0);
		if (place_open(l) == 0)
			return 0;
		log_warn("%s: its lock file in %s cannot be used (%s); locking in the per-user "
			 "directory", display, dir,
			 errno == EPERM ? "not a file of ours alone" : strerror(errno));
	}
	if (!(dir = lockdir_user()))
		return 0;
	place_in(&l->place, dir, dir_st, l->name, 1);
	if (place_open(l) == 0)
		return 0;
	log_warn("%s: cannot open its lock file in %s: %s", display, dir, strerror(errno));
	return -1;
}

/* ---- taking the lock ---- */

/* Lock FD by DEADLINE (sys_monotonic; one try when it has passed), or
 * for as long as it takes when FOREVER.  Polls with a growing pause
 * rather than waiting with F_OFD_SETLKW and a timer signal: the program
 * owns its signals. */
static int lock_wait(int fd, int forever, double deadline)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	long pause_ns = 1000000;

	if (forever) {
		while (sys_fcntl_lock(fd, F_OFD_SETLKW, &fl) < 0)
			if (errno != EINTR)
				return -1;
		return 0;
	}
	for (;;) {
		if (sys_fcntl_lock(fd, F_OFD_SETLK, &fl) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -1;
		double left = deadline - sys_monotonic();
		if (left <= 0) {
			errno = EWOULDBLOCK;
			return -1;
		}
		struct timespec ts = { 0, pause_ns };
		if (left < pause_ns / 1e9)
			ts.tv_nsec = (long)(left * 1e9);
		sys_nanosleep(&ts);
		if (pause_ns < 50000000)
			pause_ns *= 2;
	}
}

/* The lock file holds the holder's pid, so that a waiter that gives up
 * can say whom it waited for (OFD locks do not tell), and after it, at
 * TEMPS_MARK, 'T' while the holder has named temps beside the target:
 * the next holder then knows to look for a dead writer's leftovers
 * without reading the directory at every open.  A holder that is about
 * to make a temp writes the mark with its pid, in one write (an
 * anonymous temp gets its name at commit, but the mark would be needed
 * then): the mark may then say 'T' while no temp is named yet, which
 * costs the next holder a needless sweep only if this one dies. */
#define TEMPS_MARK 11
static void write_temps_mark(struct lock *l, int set)
{
	if (l->fd >= 0 && sys_pwrite(l->fd, set ? "T" : "-", 1, TEMPS_MARK) < 0) {
		/* at worst a leftover waits for the next sweep that looks */
	}
	l->marked = set;
}

static int read_temps_mark(int fd)
{
	char c = 0;

	return sys_pread(fd, &c, 1, TEMPS_MARK) == 1 && c == 'T';
}

/* The pid is informative only: the actor's (a vfork child that takes a
 * lock names its parent, whose memory it shares). */
static void write_holder(struct lock *l, pid_t holder, int mark)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%10d\n%s", (int)holder, mark ? "T" : "");

	if (l->fd >= 0 && sys_pwrite(l->fd, buf, (size_t)n, 0) < 0) {
		/* the mark is lost: at worst a leftover waits for a later sweep */
	}
	l->marked = mark;
}

static int read_holder(int fd)
{
	char buf[16] = "";

	if (sys_pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return 0;
	return atoi(buf);
}

/* Say why the lock of DISPLAY could not be had (ERR), naming the holder
 * (its pid and command) when the lock file (FD, one we trust) does. */
static void say_not_locked(int fd, const char *display, int timeout, int err)
{
	char command[200];
	int pid;

	if (err != EWOULDBLOCK) {
		log_warn("%s: cannot lock: %s", display, strerror(err));
	} else if ((pid = read_holder(fd)) > 0) {
		/* A session's holder is the launcher: its command says
		 * which CI step holds the file. */
		proc_command(pid, command, sizeof(command));
		log_warn("%s: locked by pid %d%s%s%s; gave up after waiting %d s (lock_timeout)",
			 display, pid, command[0] ? " (" : "", command, command[0] ? ")" : "",
			 timeout);
	} else {
		log_warn("%s: locked by another process; gave up after waiting %d s (lock_timeout)",
			 display, timeout);
	}
}

/* Removed lock files met before a lock is had, at most: each is a holder
 * finishing while we waited, so a long run of them is a bug, not luck. */
#define MAX_REMOVED 1000

/* A wait for a lock, for the run's summary: only one that was a wait
 * (a millisecond or more), and the clock read only when the run is
 * tallied. */
static void note_wait(const char *display, double start)
{
	double waited;

	if (tally_wanted() && (waited = sys_monotonic() - start) >= 0.001)
		tally_note(TALLY_WAITED, display, waited);
}

/* Open the lock file and lock it; the slow part, done outside the table
 * mutex so that other files' locks are not held up. */
static int acquire(const struct actor *a, struct lock *l, const struct rule *rule, int dfd,
		   const struct stat *dir_st, const char *display, int temps)
{
	double start = sys_monotonic();
	double deadline = start + (rule->lock_timeout > 0 ? rule->lock_timeout : 0);
	off_t size = 0;
	int saved, current;

	for (int removed = 0; removed < MAX_REMOVED; removed++) {
		if (lock_file_open(a, l, dfd, dir_st, display) < 0)
			return -1;
		if (l->fd < 0)
			return 0;  /* no lock to be had safely: said already */
		if (lock_wait(l->fd, rule->lock_timeout < 0, deadline) < 0)
			break;
		if ((current = place_locked(l, &size)) < 0)
			break;
		if (current) {
			log_debug("%s: locked (lock file %s%s%s)", display,
				  l->place.dir ? l->place.dir : "", l->place.dir ? "/" : "",
				  l->place.file);
			l->place.dfd = -1;  /* the caller's, not ours to keep */
			/* A file that ends before the mark (one made anew, as
			 * most are: its last holder removed the one before)
			 * has none: nothing to read. */
			atomic_store(&l->leftovers, size > TEMPS_MARK && read_temps_mark(l->fd));
			write_holder(l, a->pid, temps);
			note_wait(display, start);
			return 0;
		}
		sys_fd_close(&l->fd);
		errno = EAGAIN;
	}
	saved = errno;
	say_not_locked(l->fd, display, rule->lock_timeout, saved);
	if (saved == EWOULDBLOCK)
		tally_note(TALLY_GAVE_UP, display, sys_monotonic() - start);
	sys_fd_close(&l->fd);
	errno = saved;
	return -1;
}

/* lock = "session": the session's supervisor takes the lock and holds
 * it for the whole tree, and the entry stays, without a file, until the
 * process ends (one count kept, as lock_hold keeps one): every later
 * touch goes ahead at once.  With no session to ask, the lock is this
 * process's own (acquire). */
static int acquire_where(const struct actor *a, struct lock *l, const struct rule *rule, int dfd,
			 const struct stat *dir_st, const char *display, int temps)
{
	sigset_t old;
	int r;

	if (rule->lock != SCOPE_SESSION || !a->session_hold)
		return acquire(a, l, rule, dfd, dir_st, display, temps);
	r = a->session_hold(dfd, l->name, display, rule, a->lock_dir);
	if (r > 0)
		return acquire(a, l, rule, dfd, dir_st, display, temps);
	if (r == 0) {
		table_lock(&old);
		l->by_session = 1;
		l->held_for_process = 1;
		l->count++;
		table_unlock(&old);
	}
	return r;
}

int lock_take(const struct actor *a, const struct rule *rule, int dfd, const struct stat *dir_st,
	      const char *name, const char *display, int temps, struct lock **out)
{
	struct lock *l;
	sigset_t old;
	int mine = 0;

	*out = NULL;
	if (rule->lock == SCOPE_NONE)
		return 0;

again:
	table_lock(&old);
	l = table_get(key_owner(a, rule), dir_st, name, -1, ACQUIRING, &mine);
	table_unlock(&old);
	if (!l)
		return -1;
	/* Held by the session: only while it lasts.  A process that
	 * outlives its session takes the lock itself from then on. */
	if (!mine && l->by_session && atomic_load(&l->state) == HELD && a->session_alive &&
	    !a->session_alive()) {
		lock_drop(l);
		lock_session_over();
		goto again;
	}

	if (mine) {
		int failed = acquire_where(a, l, rule, dfd, dir_st, display, temps) < 0;
		l->error = failed ? errno : 0;
		/* Nobody else counts temps before HELD is published. */
		l->temps = !failed && temps;
		atomic_store(&l->state, failed ? FAILED : HELD);
	} else {
		/* Another thread of ours is taking it for the same owner: the
		 * lock is re-entrant for it, so wait for that thread, not the
		 * file. */
		struct timespec ts = { 0, 1000000 };
		while (atomic_load(&l->state) == ACQUIRING)
			sys_nanosleep(&ts);
	}
	if (atomic_load(&l->state) == REFUSED)
		log_warn("%s: not touched: this process gave up waiting for its lock before",
			 display);
	if (atomic_load(&l->state) >= FAILED) {
		int saved = l->error;
		lock_drop(l);
		errno = saved;
		return -1;
	}
	if (temps && !mine)
		lock_count_temps(l, 1);
	*out = l;
	return 0;
}

int lock_fd(const struct lock *l)
{
	return l ? l->fd : -1;
}

struct lock *lock_adopt(int fd, const struct stat *dir_st, const char *name)
{
	struct lock *l;
	sigset_t old;
	int created;

	/* Two files handed over may share one lock (one description): the
	 * second only counts.  The process's own (only the library and the
	 * launcher adopt). */
	table_lock(&old);
	l = table_get(NULL, dir_st, name, fd, HELD, &created);
	if (l && created) {
		sys_fd_adopt(fd, &l->fd);
		l->marked = 1;  /* the image before may have: cleared when done */
	}
	table_unlock(&old);
	return l;
}

/* lock = "process": OWNER gave up waiting for the lock of NAME in
 * DIR_ST.  What it saw of the file (nothing at all, when its stat failed)
 * cannot be trusted, so every later touch of the path by OWNER fails at
 * once: otherwise a program that took the failed stat for "no file"
 * would wait again at its save, get the lock, and write over the update
 * it never read. */
static void refuse(const void *owner, const struct stat *dir_st, const char *name)
{
	struct lock *l;
	sigset_t old;
	int created;

	table_lock(&old);
	l = table_get(owner, dir_st, name, -1, REFUSED, &created);
	if (l && created) {
		l->error = EWOULDBLOCK;
		l->held_for_process = 1;  /* the count that keeps it */
	} else if (l) {
		l->count--;  /* another thread holds it now: its entry stays */
	}
	table_unlock(&old);
}

int lock_hold(const struct actor *a, const struct rule *rule, int dfd, const struct stat *dir_st,
	      const char *name, const char *display)
{
	struct lock *l;
	sigset_t old;

	if (lock_take(a, rule, dfd, dir_st, name, display, 0, &l) < 0) {
		int saved = errno;
		if (saved == EWOULDBLOCK)
			refuse(key_owner(a, rule), dir_st, name);
		errno = saved;
		return -1;
	}
	if (!l)
		return 0;
	/* The first hold keeps its count for good; later ones give theirs
	 * back at once. */
	table_lock(&old);
	if (l->held_for_process)
		l->count--;
	else
		l->held_for_process = 1;
	table_unlock(&old);
	return 0;
}

int lock_leftovers(struct lock *l)
{
	return l && atomic_exchange(&l->leftovers, 0);
}

void lock_swept(struct lock *l, int remain)
{
	sigset_t old;

	table_lock(&old);
	if (remain) {
		l->temps++;  /* not ours to remove: the mark stays */
		l->marked = 1;
	} else if (l->temps == 0 && !l->marked) {
		write_temps_mark(l, 0);  /* the last holder's: none left */
	}
	table_unlock(&old);
}

void lock_count_temps(struct lock *l, int delta)
{
	sigset_t old;

	if (!l)
		return;
	table_lock(&old);
	l->temps += delta;
	if ((l->temps != 0) != l->marked)
		write_temps_mark(l, l->temps != 0);
	table_unlock(&old);
}

/* With the table mutex held: one count of L and TEMPS of its temps go.
 * The last count removes the lock file (place_remove) or keeps it.  The
 * N descriptors of ALSO are closed, with the lock file's when it is. */
static void release_locked(struct lock *l, int temps, int *const *also, int n)
{
	l->temps -= temps;
	l->count--;
	/* No temp left (the mark may have been written at the take, for a
	 * temp that was then never named): the mark goes, with the file when
	 * the file goes, else by a write. */
	if (l->count == 0 && place_remove(l))
		l->marked = 0;
	else if (l->marked && l->temps == 0 && l->fd >= 0)
		write_temps_mark(l, 0);
	if (l->count == 0)
		table_remove(l, also, n);
	else
		sys_fd_close_n(also, n);
}

void lock_drop(struct lock *l)
{
	sigset_t old;

	if (!l)
		return;
	table_lock(&old);
	release_locked(l, 0, NULL, 0);
	table_unlock(&old);
}

void lock_release(struct lock *l, int temps, int *const *also, int n)
{
	if (!l) {
		sys_fd_close_n(also, n);
		return;
	}
	pthread_mutex_lock(&locks_mutex);
	release_locked(l, temps, also, n);
	pthread_mutex_unlock(&locks_mutex);
}

void lock_forget_all(void)
{
	struct lock *l = locks;

	/* Only the calling thread exists in a child after fork. */
	locks = NULL;
	pthread_mutex_init(&locks_mutex, NULL);
	/* A thread that was choosing the lock directory is gone. */
	lockdir_after_fork();
	while (l) {
		struct lock *next = l->next;
		if (l->by_session && atomic_load(&l->state) == HELD) {
			/* The session holds it for the child too. */
			l->count = 1;
			l->next = locks;
			locks = l;
		} else {
			sys_fd_close(&l->fd);
			l->next = spare;
			spare = l;
		}
		l = next;
	}
}

void lock_session_over(void)
{
	struct lock **pp, *l;
	sigset_t old;

	table_lock(&old);
	for (pp = &locks; (l = *pp);) {
		if (!l->by_session) {
			pp = &l->next;
			continue;
		}
		/* Off the table: a take from now on makes a new entry and
		 * locks the file itself.  A pending file still open with it
		 * keeps the entry until it lets go (lock_release). */
		*pp = l->next;
		l->next = NULL;
		l->name[0] = '\0';
		l->by_session = 0;
		l->held_for_process = 0;
		release_locked(l, 0, NULL, 0);  /* the count the session kept */
	}
	table_unlock(&old);
}

void lock_remove_held(void)
{
	sigset_t old;

	table_lock(&old);
	for (struct lock *l = locks; l; l = l->next)
		if (l->held_for_process && l->count == 1 && atomic_load(&l->state) == HELD)
			place_remove(l);
	table_unlock(&old);
}

/* With the table mutex held: an entry OWNER keeps for good (lock =
 * "process", refused ones too), or NULL. */
static struct lock *kept_for(const void *owner)
{
	for (struct lock *l = locks; l; l = l->next)
		if (l->owner == owner && l->held_for_process && !l->by_session)
			return l;
	return NULL;
}

void lock_let_go(const void *owner)
{
	struct lock *l;
	sigset_t old;

	if (!owner)
		return;  /* the process's own: its exit lets go of them */
	table_lock(&old);
	/* The kept count goes: the last one removes the lock file, still
	 * locked, as at an exit (place_remove), and unlocks it.  One a
	 * pending file still counts stays until that file lets go. */
	while ((l = kept_for(owner))) {
		l->held_for_process = 0;
		release_locked(l, 0, NULL, 0);
	}
	table_unlock(&old);
}
