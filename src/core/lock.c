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
#include "log.h"
#include "mutex.h"
#include "rules.h"
#include "sys.h"

/* REFUSED: lock = "process", and the process gave up waiting (see
 * refuse()). */
enum lock_state { ACQUIRING, HELD, FAILED, REFUSED };

/* One lock file this process has open, shared by every open of its
 * target in the process. */
struct lock {
	struct lock *next;
	dev_t dev;                  /* the target's directory ... */
	ino_t ino;
	char name[NAME_MAX + 1];    /* ... and its name there: the key */
	int fd;
	int count;
	atomic_int state;
	int error;                  /* errno when FAILED */
	int held_for_process;       /* lock = "process": one count kept until exit */
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

static struct lock *table_find(dev_t dev, ino_t ino, const char *name)
{
	for (struct lock *l = locks; l; l = l->next)
		if (l->dev == dev && l->ino == ino && strcmp(l->name, name) == 0)
			return l;
	return NULL;
}

/* With the table mutex held: the entry of NAME in the directory DIR_ST,
 * counted once more, or a new one (with FD, in STATE) when there is none;
 * *CREATED says which.  NULL when memory cannot be had. */
static struct lock *table_get(const struct stat *dir_st, const char *name, int fd,
			      int state, int *created)
{
	struct lock *l = table_find(dir_st->st_dev, dir_st->st_ino, name);
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
 * (which unlocks it: ours is the description's only descriptor), and the
 * entry is kept for reuse. */
static void table_remove(struct lock *l)
{
	for (struct lock **pp = &locks; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	sys_fd_close(&l->fd);
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

/* The per-user runtime directory: $XDG_RUNTIME_DIR/atomically, else
 * /tmp/atomically-UID, into OUT.  Made on first use; refused unless it is
 * a real directory of ours that nobody else can write, since whoever can
 * write it can take our locks away. */
static int runtime_dir_check(const char *xdg, char *out, size_t size)
{
	struct stat st;
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(out, size, "%s/atomically", xdg);
	else
		n = snprintf(out, size, "/tmp/atomically-%u", (unsigned)sys_geteuid());
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (sys_mkdirat(AT_FDCWD, out, 0700) < 0 && errno != EEXIST)
		return -1;
	if (sys_fstatat(AT_FDCWD, out, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode) || st.st_uid != sys_geteuid() || (st.st_mode & 022)) {
		log_error("%s: lock directory is not a directory of ours that only we can write", out);
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* The runtime directory is checked once per process (mkdir, lstat and
 * geteuid were three system calls per file written), keyed by the
 * XDG_RUNTIME_DIR it came from: a process that changes the variable gets
 * the new directory checked at every lock, as before.  No descriptor of
 * it is kept: a failed open must leave the program's descriptors as they
 * were, and a path lookup in a directory of ours costs little.  STATE: 0
 * nothing yet, 1 one thread filling it in, 2 ready (and read-only). */
static struct {
	atomic_int state;
	char xdg[PATH_MAX];        /* the XDG_RUNTIME_DIR it came from ("": none) */
	char dir[PATH_MAX];
} rundir;

static int same_xdg(const char *xdg)
{
	return strcmp(rundir.xdg, xdg ? xdg : "") == 0;
}

/* The runtime directory's path: the one checked before, or checked now
 * into BUF (SIZE bytes).  NULL with errno when it cannot be used. */
static const char *runtime_dir(char *buf, size_t size)
{
	const char *xdg = sys_getenv("XDG_RUNTIME_DIR");
	int none = 0;

	if (atomic_load_explicit(&rundir.state, memory_order_acquire) == 2 && same_xdg(xdg))
		return rundir.dir;
	if (runtime_dir_check(xdg, buf, size) < 0)
		return NULL;
	if (strlen(xdg ? xdg : "") < sizeof(rundir.xdg) && strlen(buf) < sizeof(rundir.dir) &&
	    atomic_compare_exchange_strong(&rundir.state, &none, 1)) {
		snprintf(rundir.xdg, sizeof(rundir.xdg), "%s", xdg ? xdg : "");
		snprintf(rundir.dir, sizeof(rundir.dir), "%s", buf);
		atomic_store_explicit(&rundir.state, 2, memory_order_release);
	}
	return buf;
}

/* Open (creating) the lock file of NAME in the directory DFD, in the
 * lock directory WHERE (the rules' lock_dir). */
static int lock_file_open(const char *where, int dfd, const struct stat *dir_st, const char *name)
{
	const char *dir;
	const int flags = O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	char buf[PATH_MAX], file[NAME_MAX + 1], path[PATH_MAX + NAME_MAX + 2];
	int n;

	if (strcmp(where, "sidecar") == 0) {
		n = snprintf(file, sizeof(file), ".%s.lock", name);
		if (n < 0 || (size_t)n >= sizeof(file))
			snprintf(file, sizeof(file), ".%016llx.lock",
				 (unsigned long long)hash_name(name));
		/* Shared with every user who writes the file: readable and
		 * writable as the umask allows. */
		return sys_openat(dfd, file, flags, 0666);
	}
	if (where[0] != '\0')
		dir = where;
	else if (!(dir = runtime_dir(buf, sizeof(buf))))
		return -1;
	n = snprintf(file, sizeof(file), "%llx-%llx-%s.lock",
		     (unsigned long long)dir_st->st_dev,
		     (unsigned long long)dir_st->st_ino, name);
	if (n < 0 || (size_t)n >= sizeof(file))
		snprintf(file, sizeof(file), "%llx-%llx-#%016llx.lock",
			 (unsigned long long)dir_st->st_dev,
			 (unsigned long long)dir_st->st_ino,
			 (unsigned long long)hash_name(name));
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return sys_openat(AT_FDCWD, path, flags, where[0] ? 0666 : 0600);
}

/* ---- taking the lock ---- */

/* Lock FD within TIMEOUT seconds (-1: forever, 0: one try).  Polls with
 * a growing pause rather than waiting with F_OFD_SETLKW and a timer
 * signal: the program owns its signals. */
static int lock_wait(int fd, int timeout)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	double deadline = sys_monotonic() + timeout;
	long pause_ns = 1000000;

	if (timeout < 0) {
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
	if (sys_pwrite(l->fd, set ? "T" : "-", 1, TEMPS_MARK) < 0) {
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

	if (sys_pwrite(l->fd, buf, (size_t)n, 0) < 0) {
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

/* Open the lock file and lock it; the slow part, done outside the table
 * mutex so that other files' locks are not held up. */
static int acquire(const struct actor *a, struct lock *l, const struct rule *rule, int dfd,
		   const struct stat *dir_st, const char *display, int temps)
{
	/* Recorded at once, so that a child forked during the wait finds it
	 * and closes its copy (lock_forget_all). */
	int fd = sys_fd_keep(lock_file_open(a->lock_dir, dfd, dir_st, l->name), &l->fd);

	if (fd < 0) {
		log_warn("%s: cannot open its lock file: %s", display, strerror(errno));
		return -1;
	}
	if (lock_wait(fd, rule->lock_timeout) < 0) {
		int saved = errno;
		if (saved == EWOULDBLOCK) {
			int pid = read_holder(fd);
			if (pid > 0)
				log_warn("%s: locked by pid %d; gave up after waiting %d s (lock_timeout)",
					 display, pid, rule->lock_timeout);
			else
				log_warn("%s: locked by another process; gave up after waiting %d s (lock_timeout)",
					 display, rule->lock_timeout);
		} else {
			log_warn("%s: cannot lock: %s", display, strerror(saved));
		}
		sys_fd_close(&l->fd);
		errno = saved;
		return -1;
	}
	atomic_store(&l->leftovers, read_temps_mark(fd));
	write_holder(l, a->pid, temps);
	return 0;
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

	table_lock(&old);
	l = table_get(dir_st, name, -1, ACQUIRING, &mine);
	table_unlock(&old);
	if (!l)
		return -1;

	if (mine) {
		int failed = acquire(a, l, rule, dfd, dir_st, display, temps) < 0;
		l->error = failed ? errno : 0;
		/* Nobody else counts temps before HELD is published. */
		l->temps = !failed && temps;
		atomic_store(&l->state, failed ? FAILED : HELD);
	} else {
		/* Another thread of ours is taking it: the lock is re-entrant
		 * inside the process, so wait for that thread, not the file. */
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
	 * second only counts. */
	table_lock(&old);
	l = table_get(dir_st, name, fd, HELD, &created);
	if (l && created) {
		sys_fd_adopt(fd, &l->fd);
		l->marked = 1;  /* the image before may have: cleared when done */
	}
	table_unlock(&old);
	return l;
}

/* lock = "process": the process gave up waiting for the lock of NAME in
 * DIR_ST.  What it saw of the file (nothing at all, when its stat failed)
 * cannot be trusted, so every later touch of the path in this process
 * fails at once: otherwise a program that took the failed stat for "no
 * file" would wait again at its save, get the lock, and write over the
 * update it never read. */
static void refuse(const struct stat *dir_st, const char *name)
{
	struct lock *l;
	sigset_t old;
	int created;

	table_lock(&old);
	l = table_get(dir_st, name, -1, REFUSED, &created);
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
			refuse(dir_st, name);
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

/* With the table mutex held: one count of L and TEMPS of its temps go. */
static void release_locked(struct lock *l, int temps)
{
	l->temps -= temps;
	/* No temp left (the mark may have been written at the take, for a
	 * temp that was then never named): the mark goes. */
	if (l->marked && l->temps == 0 && l->fd >= 0)
		write_temps_mark(l, 0);
	if (--l->count == 0)
		table_remove(l);
}

void lock_drop(struct lock *l)
{
	sigset_t old;

	if (!l)
		return;
	table_lock(&old);
	release_locked(l, 0);
	table_unlock(&old);
}

void lock_release(struct lock *l, int temps)
{
	if (!l)
		return;
	pthread_mutex_lock(&locks_mutex);
	release_locked(l, temps);
	pthread_mutex_unlock(&locks_mutex);
}

void lock_forget_all(void)
{
	struct lock *l = locks;

	/* Only the calling thread exists in a child after fork. */
	locks = NULL;
	pthread_mutex_init(&locks_mutex, NULL);
	/* A thread that was filling in the runtime directory is gone. */
	if (atomic_load(&rundir.state) == 1)
		atomic_store(&rundir.state, 0);
	while (l) {
		struct lock *next = l->next;
		sys_fd_close(&l->fd);
		l->next = spare;
		spare = l;
		l = next;
	}
}
