/* pending.c - this process's pending files: which descriptors stand for
 * them, who commits them, and when. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/actor.h"
#include "core/commit.h"
#include "core/hole.h"
#include "core/holders.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/path.h"
#include "core/record.h"
#include "core/redirect.h"
#include "core/rename.h"
#include "core/rules.h"
#include "core/sys.h"
#include "fdtable.h"
#include "handoff.h"
#include "held.h"
#include "pending.h"
#include "session.h"
#include "sessionview.h"
#include "state.h"
#include "tombstone.h"

int pending_wants(int flags)
{
	/* A deferred unlink is settled by the next open for writing. */
	if (atomic_load_explicit(&tombstone_active, memory_order_relaxed) &&
	    (flags & O_ACCMODE) != O_RDONLY)
		return 1;
	return redirect_flags(flags);
}

/* ---- memory ---- */

/* Pending records come from a pool, reserved once (address space only,
 * like the descriptor table), of which the lowest free record is taken:
 * a program that writes one file after another reuses the same warm
 * memory, where a mapping per record cost a system call each way and a
 * fresh page to fault in per file.  Which records are taken is a bitmap
 * of atomic words, so that any thread, or a signal handler's close, takes
 * and gives back without a lock.  Past the pool, a record is mapped on
 * its own, as it always was. */
#define POOL_RECORDS 256
#define POOL_WORDS (POOL_RECORDS / 64)

static _Atomic(struct pending *) pool;
static _Atomic uint64_t pool_taken[POOL_WORDS];

static struct pending *pool_base(void)
{
	struct pending *base = atomic_load_explicit(&pool, memory_order_acquire), *none = NULL;
	void *mem;

	if (base)
		return base;
	mem = sys_reserve(POOL_RECORDS * sizeof(*base));
	if (!mem)
		return NULL;
	if (atomic_compare_exchange_strong(&pool, &none, mem))
		return mem;
	sys_unmap(mem, POOL_RECORDS * sizeof(*base));  /* another thread's came first */
	return none;
}

static struct pending *pool_take(void)
{
	struct pending *base = pool_base();

	if (!base)
		return NULL;
	for (int w = 0; w < POOL_WORDS; w++) {
		uint64_t taken = atomic_load_explicit(&pool_taken[w], memory_order_relaxed);
		while (~taken) {
			uint64_t bit = 1ULL << __builtin_ctzll(~taken);
			taken = atomic_fetch_or(&pool_taken[w], bit);
			if (!(taken & bit))
				return &base[w * 64 + __builtin_ctzll(bit)];
		}
	}
	return NULL;
}

/* Give P back: to the pool if it came from there (1), else 0. */
static int pool_give(struct pending *p)
{
	struct pending *base = atomic_load_explicit(&pool, memory_order_acquire);
	size_t i;

	if (!base || p < base || p >= base + POOL_RECORDS)
		return 0;
	i = (size_t)(p - base);
	atomic_fetch_and(&pool_taken[i / 64], ~(1ULL << (i % 64)));
	return 1;
}

struct pending *pending_new(void)
{
	struct pending *p = pool_take();

	if (!p && !(p = sys_map(sizeof(*p))))
		return NULL;
	/* Field by field: a record's names are 4.5 KB that need not be
	 * cleared (a memset of the whole cost 600 instructions a file). */
	record_init(&p->rec);
	atomic_store_explicit(&p->aliases, 0, memory_order_relaxed);
	p->owner = 0;
	p->dir_dev = 0;
	p->dir_ino = 0;
	p->live = 0;
	p->fresh = 0;
	atomic_store_explicit(&p->published, 0, memory_order_relaxed);
	atomic_store_explicit(&p->deferred, 0, memory_order_relaxed);
	atomic_store_explicit(&p->committed, 0, memory_order_relaxed);
	atomic_store_explicit(&p->committing, 0, memory_order_relaxed);
	atomic_store_explicit(&p->shared, 0, memory_order_relaxed);
	p->detached = 0;
	p->mapped = 0;
	p->next = p->live_next = NULL;
	return p;
}

/* This process's pending files, open or waiting for their commit: the
 * live list.  They are freed by whichever thread commits them; a thread
 * that looks one up by its name (pendings_at, sharable) holds this
 * mutex meanwhile, and so does every change of the list.  And how many
 * there are: such lookups cost one atomic load while there are none. */
static pthread_mutex_t lookup_mutex = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct pending *) live_list;
static atomic_int live;

/* P joins the live list, at its head: by compare-and-swap, no mutex, so
 * that a process writing one file after another pays no change of its
 * signal mask for it.  Returns 1 when the list was empty: nobody else's
 * file can be P's, nor be published alongside it (another thread's push
 * now finds P there).  Nodes leave the list under lookup_mutex only
 * (disown_locked), and readers walk it under that mutex: a push, which
 * only prepends a node complete before it is seen, disturbs neither. */
static int push_live(struct pending *p)
{
	struct pending *head = atomic_load(&live_list);

	p->live = 1;
	do
		p->live_next = head;
	while (!atomic_compare_exchange_weak(&live_list, &head, p));
	atomic_fetch_add(&live, 1);
	return head == NULL;
}

void pending_own(struct pending *p)
{
	struct stat st;

	if (sys_fstat(p->rec.dfd, &st) == 0) {
		p->dir_dev = st.st_dev;
		p->dir_ino = st.st_ino;
	}
	push_live(p);
	atomic_store(&p->published, 1);
}

/* With lookup_mutex held: P leaves the live list.  At the head, by
 * compare-and-swap (a push may be prepending); elsewhere, through the
 * node before it, which only this mutex's holder changes. */
static void disown_locked(struct pending *p)
{
	struct pending *head;

	if (!p->live)
		return;
	head = p;
	if (!atomic_compare_exchange_strong(&live_list, &head, p->live_next)) {
		struct pending *q = atomic_load(&live_list);
		while (q && q->live_next != p)
			q = q->live_next;
		if (q)
			q->live_next = p->live_next;
	}
	p->live = 0;
	atomic_fetch_sub(&live, 1);
}

/* The first node of the live list, for a walk under lookup_mutex. */
static struct pending *live_first(void)
{
	return atomic_load(&live_list);
}

/* Let go of everything P holds, commit or not: its lock (and the temp
 * counted there), its directory, its temp, its memory.  One spell of
 * blocked signals for all of it. */
void pending_free(struct pending *p)
{
	int saved = errno;
	sigset_t old;

	mutex_lock_nosig(&lookup_mutex, &old);
	disown_locked(p);
	record_release_nosig(&p->rec);
	if (!pool_give(p))
		sys_unmap(p, sizeof(*p));
	mutex_unlock_nosig(&lookup_mutex, &old);
	errno = saved;
}

/* ---- open ---- */

static int share_pending(int dirfd, const char *path, int flags);
static struct pending *sharable(const struct stat *dir_st, const char *name, int *busy);
static void disown_locked(struct pending *p);
static struct pending *wait_for_commit(const struct stat *dir_st, const char *name);
static struct pending *sharable_before(struct pending *self, const struct stat *dir_st,
				       const char *name, int *busy);
static int open_shared(struct pending *p, int flags);

/* Redirect the open into a temp: the core makes the record, this
 * process records which descriptor stands for it.  REPLACING: the
 * program deleted the file and now creates it anew (see tombstone.h). */
/* P, made for an open of the file NAME in DIR_ST, joins the live list
 * before its temp is made, unpublished: another thread's open of the
 * same file waits for it to be published (then shares it), and none can
 * copy the file while it is copied here.  Returns 0 when P is on the
 * list as the file's pending file; else P is off the list and *OTHER is
 * an older pending file of the file, held for this open (or NULL when
 * sharing failed: then P goes on the list unchecked, a file of its own,
 * as before one path had one pending file). */
static int join_live(struct pending *p, const struct stat *dir_st, const char *name,
		     int share, struct pending **other)
{
	sigset_t old;
	int busy;

	*other = NULL;
	for (;;) {
		if (push_live(p) || !share)
			return 0;  /* alone on the list, or not to be shared */
		mutex_lock_nosig(&lookup_mutex, &old);
		*other = sharable_before(p, dir_st, name, &busy);
		if (*other || busy)
			disown_locked(p);
		mutex_unlock_nosig(&lookup_mutex, &old);
		if (!*other && !busy)
			return 0;
		/* An older one is being published or committed: wait for it
		 * to be open (share it) or gone (then ours is the file's). */
		if (!*other)
			*other = wait_for_commit(dir_st, name);
		if (*other)
			return -1;
	}
}

static int redirect(int dirfd, const char *path, const char *display, int flags,
		    mode_t mode, const struct rule *rule, int replacing)
{
	struct pending *p, *other;
	struct target t;
	int fd, err;

	if (redirect_target(dirfd, path, flags, replacing, &t) != 0)
		return PENDING_PASS;
	if (!(p = pending_new())) {
		sys_close(t.dfd);
		return PENDING_PASS;
	}
	p->owner = lib.pid;  /* pending_open made sure it is ours */
	p->fresh = (unsigned char)replacing;
	p->dir_dev = t.dir_st.st_dev;
	p->dir_ino = t.dir_st.st_ino;
	snprintf(p->rec.name, sizeof(p->rec.name), "%s", t.name);
	/* A file the program deleted and now creates anew is a file of its
	 * own: never shared. */
	if (join_live(p, &t.dir_st, t.name, !replacing, &other) < 0) {
		sys_close(t.dfd);
		pending_free(p);
		fd = open_shared(other, flags);
		if (fd != PENDING_PASS)
			return fd;
		/* Sharing failed: a file of its own after all. */
		if (!(p = pending_new()) || redirect_target(dirfd, path, flags, replacing, &t) != 0) {
			if (p)
				pending_free(p);
			return PENDING_PASS;
		}
		p->owner = lib.pid;
		p->fresh = (unsigned char)replacing;
		p->dir_dev = t.dir_st.st_dev;
		p->dir_ino = t.dir_st.st_ino;
		snprintf(p->rec.name, sizeof(p->rec.name), "%s", t.name);
		join_live(p, &t.dir_st, t.name, 0, &other);
	}
	fd = redirect_open(&lib.actor, &p->rec, &t, rule, dirfd, path, display, flags, mode,
			   replacing);
	if (fd < 0)
		goto fail;
	/* Published complete: another thread may share it as soon as it is
	 * marked so, and reads it as soon as it is in the table. */
	atomic_store(&p->aliases, 1);
	if (fdtable_set(fd, p) < 0) {
		log_warn("%s: descriptor %d is beyond what the library tracks", p->rec.path, fd);
		sys_close(fd);
		record_discard(&p->rec);
		errno = EMFILE;
		goto fail;
	}
	atomic_store_explicit(&p->published, 1, memory_order_release);
	log_debug("%s: writing %s", p->rec.path, p->rec.inplace ? "in place" :
		  p->rec.temp[0] ? p->rec.temp : "an anonymous temp");
	return fd;
fail:
	err = errno;
	pending_free(p);
	errno = err;
	return -1;
}

/* An open for writing of PATH, whose absolute path cannot be had (longer
 * than the kernel gives out, PATH_MAX; a removed cwd), cannot be held
 * against the rules that need the whole path: it goes through as
 * unwrapped, written in place, and the library says so (once: a program
 * deep down a tree makes many). */
static void say_no_path(const char *path, int err)
{
	static atomic_int said;

	if (!atomic_exchange(&said, 1))
		log_warn("%s: cannot tell its absolute path (%s): not held against the rules "
			 "that need the whole path, written in place, not atomically",
			 path, strerror(err));
}

/* commit = "session": the open gets the session's pending file of its
 * target, which the supervisor makes for it, or which another process of
 * the tree opened before (one temp per file for the whole tree, as one
 * inode would be).  This process only watches its descriptors (owner 0:
 * the session commits).  Returns the program's descriptor, -1 with
 * errno, or PENDING_PASS when the session does not take the file (no
 * session, its rules differ, a fallback in place): the open is then this
 * process's own. */
static int session_redirect(int dirfd, const char *path, const char *display, int flags,
			    mode_t mode)
{
	const int kept = O_ACCMODE | O_APPEND | O_CLOEXEC | O_NONBLOCK | O_NOATIME |
			 O_LARGEFILE | O_SYNC | O_DSYNC | O_DIRECT;
	struct session_file_reply *rep;
	struct pending *p = NULL;
	struct target t;
	int fds[3] = { -1, -1, -1 }, fd = -1, lfd, status, err;

	if (redirect_target(dirfd, path, flags, 0, &t) != 0)
		return PENDING_PASS;
	if (!(rep = sys_map(sizeof(*rep)))) {
		sys_close(t.dfd);
		return PENDING_PASS;
	}
	status = session_file_open(t.dfd, t.name, display, flags, mode, rep, fds);
	sys_close(t.dfd);
	if (status == 0 && (!(p = pending_new()) ||
			    record_decode(rep->record, &lib.rs, fds, 3, &p->rec, &lfd) < 0)) {
		status = -1;
		errno = EIO;
	}
	sys_unmap(rep, sizeof(*rep));
	if (status != 0) {
		err = errno;
		/* The session made the file for an open that fails here: it
		 * must not commit what the program never saw opened. */
		if (fds[1] >= 0)
			record_mark_failed(fds[1], err);
		sys_fd_close(&fds[0]);
		sys_fd_close(&fds[1]);
		if (p)
			pending_free(p);
		errno = err;
		return status < 0 ? -1 : PENDING_PASS;
	}
	record_adopt(&p->rec, -1);
	p->owner = 0;
	p->dir_dev = t.dir_st.st_dev;
	p->dir_ino = t.dir_st.st_ino;
	/* O_TRUNC empties the temp as it opens it (after filling an
	 * append's hole, so that its mark goes too: record_open_temp). */
	fd = record_open_temp(&p->rec, flags & (kept | O_TRUNC));
	atomic_store(&p->aliases, 1);
	if (fd < 0 || fdtable_set(fd, p) < 0) {
		err = fd < 0 ? errno : EMFILE;
		record_mark_failed(p->rec.tfd, err);
		if (fd >= 0)
			sys_close(fd);
		pending_free(p);
		errno = err;
		return -1;
	}
	atomic_store_explicit(&p->published, 1, memory_order_release);
	log_debug("%s: writing the session's pending file", p->rec.path);
	return fd;
}

int pending_open(int dirfd, const char *path, int flags, mode_t mode)
{
	char abs[PATH_MAX];
	const struct rule *rule = NULL;
	int saved = errno, fd = PENDING_PASS, replacing = 0;

	if (!path)
		return PENDING_PASS;
	/* A deferred unlink (rare) is settled first, by this process only:
	 * a vfork child shares its parent's memory, hands off. */
	if (atomic_load_explicit(&tombstone_active, memory_order_relaxed) &&
	    (flags & O_ACCMODE) != O_RDONLY) {
		if (getpid() != lib.pid)
			return PENDING_PASS;
		if (tombstone_claim(dirfd, path, flags)) {
			replacing = 1;
			flags = (flags & ~O_EXCL) | O_TRUNC;
		}
	}
	/* The rules first: an open of an unmatched file costs no system
	 * call (getpid, for the vfork child, only once a rule matched). */
	lib_guard++;
	errno = 0;
	if (redirect_flags(flags) && !(rule = lib_rule_for(dirfd, path, abs, sizeof(abs))) && errno)
		say_no_path(path, errno);
	else if (rule && !((flags & O_APPEND) && rule->append == APPEND_PASSTHROUGH) &&
		 getpid() == lib.pid) {
		if (!abs[0] && path_absolute(dirfd, path, abs, sizeof(abs)) < 0)
			abs[0] = '\0';
		/* The session's file, the one file of the whole tree. */
		if (rule->commit == COMMIT_SESSION && !replacing && abs[0] && session_present())
			fd = session_redirect(dirfd, path, abs, flags, mode);
		/* A path this process is writing already: that pending file. */
		if (fd == PENDING_PASS &&
		    (replacing || (fd = share_pending(dirfd, path, flags)) == PENDING_PASS))
			fd = redirect(dirfd, path, abs[0] ? abs : path, flags, mode, rule, replacing);
	}
	lib_guard--;
	if (replacing)
		tombstone_settle(fd >= 0);
	if (fd == PENDING_PASS)
		errno = saved;
	return fd;
}

int pending_touch(int dirfd, const char *path)
{
	char abs[PATH_MAX];
	const struct rule *rule;
	struct target t;
	int saved = errno, r = 0;

	if (lib.writes_only || !path)
		return 0;
	lib_guard++;
	rule = lib_rule_for(dirfd, path, abs, sizeof(abs));
	if (rule && rule->lock >= SCOPE_PROCESS && target_find(dirfd, path, 0, &t) == 0) {
		if (!abs[0] && path_absolute(dirfd, path, abs, sizeof(abs)) < 0)
			snprintf(abs, sizeof(abs), "%s", path);
		/* The file need not exist: stat-then-create is a pattern the
		 * lock must cover too.  A non-regular file is none of ours. */
		if (!t.exists || S_ISREG(t.st.st_mode))
			r = lock_hold(&lib.actor, rule, t.dfd, &t.dir_st, t.name, abs);
		saved = r < 0 ? errno : saved;
		sys_close(t.dfd);
	}
	lib_guard--;
	errno = saved;
	return r;
}

/* ---- writes, and the descriptors that stand for a file ---- */

/* How many commits failed in this process: failure_exit_code. */
atomic_int pending_failures;

void pending_hold(struct pending *p, int fd)
{
	atomic_fetch_add(&p->aliases, 1);
	if (fdtable_set(fd, p) < 0)
		atomic_fetch_sub(&p->aliases, 1);
}

void pending_written(int fd)
{
	struct pending *p = fdtable_get(fd);

	if (p)
		record_written(&p->rec);
}

void pending_whole(int fd)
{
	struct pending *p = fdtable_get(fd);
	int saved = errno;

	if (!p)
		return;
	if (p->rec.append_base > 0) {
		record_fill(&p->rec);  /* a failure fails the record: said */
	} else if (!p->rec.rule && hole_fill(fd, -1, NULL) < 0) {
		/* A descriptor this process only watches (inherited across
		 * exec): the mark says what to fill the hole from. */
		log_warn("cannot copy the old content of the file open as %d in before what was "
			 "appended to it: %s; it will not be committed", fd, strerror(errno));
		record_mark_failed(fd, errno);
	}
	errno = saved;
}

void pending_fail(struct pending *p, int fd, int err)
{
	record_fail(&p->rec, err);
	if (p->owner != getpid() && fd >= 0)
		record_mark_failed(fd, err);
}

int pending_watch(const int *fds, int nfds)
{
	struct pending *p = pending_new();
	struct stat st;
	int held = 0;

	if (!p)
		return -1;
	p->owner = 0;  /* nobody's: its release only forgets it */
	for (int i = 0; i < nfds; i++)
		if (sys_fstat(fds[i], &st) == 0 && S_ISREG(st.st_mode) && fdtable_set(fds[i], p) == 0)
			held++;
	atomic_store(&p->aliases, held);
	if (!held)
		pending_free(p);
	return held ? 0 : -1;
}

/* ---- commit ---- */

static int held_elsewhere(struct pending *p);
static void settle_held(int final);
static int hand_off(struct pending *p);
static void pending_commit_deferred_only(void);
static int checkpoint(struct pending *p, int force);

/* Commit P, which this process owns, count a failure (failure_exit_code;
 * an in-place file has no commit to fail), and free it. */
static int finish(struct pending *p)
{
	int r, err;

	lib_guard++;
	atomic_store(&p->committing, 1);
	if (atomic_load(&p->shared) == SHARED_EXITING)
		r = commit_forced(&lib.actor, &p->rec);
	else
		r = commit(&lib.actor, &p->rec);
	err = errno;
	if (r < 0 && !p->rec.inplace)
		atomic_fetch_add(&pending_failures, 1);
	pending_free(p);
	lib_guard--;
	errno = err;
	return r;
}

/* commit = "exit": files closed but not committed yet. */
static struct pending *deferred;
static pthread_mutex_t deferred_mutex = PTHREAD_MUTEX_INITIALIZER;

static void defer(struct pending *p)
{
	sigset_t old;

	mutex_lock_nosig(&deferred_mutex, &old);
	atomic_store(&p->deferred, 1);
	p->next = deferred;
	deferred = p;
	mutex_unlock_nosig(&deferred_mutex, &old);
}

void pending_after_fork_child(void)
{
	int max = fdtable_max();

	pthread_mutex_init(&deferred_mutex, NULL);
	pthread_mutex_init(&lookup_mutex, NULL);
	/* The locks are the parent's and about to be forgotten (see
	 * lock_forget_all): the child's copies must not point at them.  And
	 * none of the files is the child's to read back. */
	atomic_store(&live, 0);
	atomic_store(&live_list, NULL);
	for (int fd = 0; fd <= max; fd++) {
		struct pending *p = fdtable_get(fd);
		if (p) {
			p->rec.lock = NULL;
			p->live = 0;
		}
	}
	for (struct pending *p = deferred; p; p = p->next) {
		p->rec.lock = NULL;
		p->live = 0;
	}
	held_after_fork_child();
}

void pending_commit_deferred(void)
{
	settle_held(1);
	pending_commit_deferred_only();
}

/* The list of deferred files LIST (the last closed first) turned the
 * other way: they are committed in the order the program closed them, so
 * that appends land in the order they were made, and of two rewrites the
 * later one is the file. */
static struct pending *in_order_closed(struct pending *list)
{
	struct pending *done = NULL, *next;

	for (; list; list = next) {
		next = list->next;
		list->next = done;
		done = list;
	}
	return done;
}

static void pending_commit_deferred_only(void)
{
	struct pending *p, *next;
	sigset_t old;

	mutex_lock_nosig(&deferred_mutex, &old);
	p = deferred;
	deferred = NULL;
	mutex_unlock_nosig(&deferred_mutex, &old);
	p = in_order_closed(p);
	for (; p; p = next) {
		next = p->next;
		if (p->owner == getpid())
			finish(p);
		else
			pending_free(p);  /* a fork child's copy */
	}
}

int pending_release(struct pending *p, int close_errno)
{
	int r = 0;

	if (close_errno)
		pending_fail(p, -1, close_errno);
	/* Guarded from the last count's drop on: a signal handler that opens
	 * the file in between would wait for a commit only this thread can
	 * make (see wait_for_commit); guarded, its open passes by. */
	lib_guard++;
	if (atomic_fetch_sub(&p->aliases, 1) != 1)
		r = 0;
	else if (p->owner != lib.pid)
		pending_free(p);  /* a child's copy after fork: the parent commits */
	else if (held_elsewhere(p))
		held_add(p);
	else if (p->rec.rule->commit >= COMMIT_EXIT)
		defer(p);
	else
		r = finish(p);
	lib_guard--;
	return r;
}

void pending_discard(struct pending *p)
{
	int saved = errno;

	lib_guard++;
	record_discard(&p->rec);
	pending_free(p);
	lib_guard--;
	errno = saved;
}

void pending_abandon(struct pending *p)
{
	if (atomic_fetch_sub(&p->aliases, 1) == 1)
		pending_discard(p);
}

void pending_commit_all(void)
{
	int max = fdtable_max();

	for (int fd = 0; fd <= max; fd++) {
		struct pending *p = fdtable_take(fd);
		if (p)
			pending_release_at_end(p, fd);
	}
	pending_commit_deferred();
}

int pending_release_at_end(struct pending *p, int fd)
{
	sigset_t old;
	int r;

	/* Its descriptor is still open here, and the kernel cannot tell it
	 * from a child's: made a description of its own, it no longer
	 * counts among the holders.  Under the lookup mutex: other threads'
	 * lookups read the record's temp descriptor, which this reads too. */
	if (atomic_load(&p->shared) == SHARED_MARKED && p->owner == lib.pid) {
		mutex_lock_nosig(&lookup_mutex, &old);
		r = held_unshare(p, fd);
		mutex_unlock_nosig(&lookup_mutex, &old);
		if (r < 0)
			atomic_store(&p->shared, SHARED_EXITING);
	}
	return pending_release(p, 0);
}

/* ---- files another process may still write (held.h) ---- */

int pending_any_live(void)
{
	return atomic_load(&live) != 0;
}

void pending_each_fd(int from, int to, void (*each)(struct pending *p, int fd, int arg), int arg)
{
	int max = fdtable_max();
	sigset_t old;

	if (max < from)
		return;
	/* No pending file is freed meanwhile: its committer waits here. */
	mutex_lock_nosig(&lookup_mutex, &old);
	for (int fd = from; fd <= to && fd <= max; fd++) {
		struct pending *p = fdtable_get(fd);
		if (p)
			each(p, fd, arg);
	}
	mutex_unlock_nosig(&lookup_mutex, &old);
}

/* P's last descriptor here is gone: does a marked description of it live
 * on elsewhere?  What cannot be told counts as yes: held back, the file
 * is committed at the exit at the latest, while a commit now could drop
 * the writes still to come. */
static int held_elsewhere(struct pending *p)
{
	sigset_t old;
	int r = 0;

	if (atomic_load(&p->shared) != SHARED_MARKED || p->rec.inplace ||
	    atomic_load(&p->rec.unlinked))
		return 0;
	/* Under the lookup mutex: other threads' lookups read rec.tfd. */
	mutex_lock_nosig(&lookup_mutex, &old);
	if (!p->detached && holders_detach(&p->rec) == 0)
		p->detached = 1;
	r = p->detached ? holders_remain(&p->rec) : -1;
	mutex_unlock_nosig(&lookup_mutex, &old);
	return r != 0;
}

/* The library's hold of each held file that nobody else holds any more
 * is given back (its last: the commit).  FINAL: at the exit or an exec;
 * a file still held elsewhere is committed as it stands first, since the
 * writes of the other process, unwrapped, would go to the file itself:
 * from now on they do. */
static void settle_held(int final)
{
	struct pending *p, *next;

	if (!held_any() || getpid() != lib.pid)
		return;
	for (p = held_take(final); p; p = next) {
		next = p->next;
		lib_guard++;
		if (final && holders_remain(&p->rec) != 0 && hand_off(p) == 0) {
			lib_guard--;
			continue;
		}
		if (final)  /* no holding back any more: the last release commits */
			atomic_store(&p->shared, SHARED_NO);
		pending_release(p, 0);
		lib_guard--;
	}
}

/* P, handed to another process, is forgotten here: our descriptors of its
 * directory and temp are closed, but its lock is not let go of (the lock
 * file's description is the waiter's too, and stays locked: the lock
 * table keeps its count, and the process is ending anyway). */
static void forget(struct pending *p)
{
	sigset_t old;

	mutex_lock_nosig(&lookup_mutex, &old);
	disown_locked(p);
	sys_fd_close(&p->rec.dfd);
	sys_fd_close(&p->rec.tfd);
	if (!pool_give(p))
		sys_unmap(p, sizeof(*p));
	mutex_unlock_nosig(&lookup_mutex, &old);
}

/* P is held back at this process's end by another process, or by a
 * mapping.  Another process: a waiter commits it when the last holder
 * lets go (handoff.h), and P is forgotten here (0).  A mapping of this
 * process's own ends with it, and a waiter would then commit after this
 * process's parent saw it end: P is committed as it stands instead, as
 * when no waiter can be had; the later writes go to the file itself (-1:
 * the caller releases P). */
static int hand_off(struct pending *p)
{
	if (!p->mapped && handoff_start(p) == 0) {
		log_debug("%s: handed over, to be committed when the last process that holds it "
			  "lets go", p->rec.path);
		forget(p);
		return 0;
	}
	if (p->mapped)
		log_info("%s: still open at the exit (in a mapping, or in another process): "
			 "committed as it stands, later writes go to the file itself", p->rec.path);
	else
		log_warn("%s: still open in another process, but no process can wait for it (%s): "
			 "committed as it stands, later writes go to the file itself",
			 p->rec.path, strerror(errno));
	checkpoint(p, 1);
	return -1;
}

void pending_settle_held(void)
{
	int saved = errno;

	settle_held(0);
	errno = saved;
}

/* ---- the program's own unlink and reads ---- */

/* Is P's target the file NAME in the directory DIR_ST? */
static int pending_is(const struct pending *p, const struct stat *dir_st, const char *name)
{
	/* The name first: most pending files are not the one looked for.
	 * Only what is set before a file joins the live list is read here
	 * (the rest an opener may still be writing: see join_live).
	 * lib.pid, not getpid(): the callers have made sure this is not a
	 * vfork child. */
	return strcmp(p->rec.name, name) == 0 && p->dir_ino == dir_st->st_ino &&
	       p->dir_dev == dir_st->st_dev && p->owner == lib.pid;
}

/* Is P published, and written in place (a fallback: not a temp to share
 * or read)?  Its record is complete once it is published. */
static int published_in_place(const struct pending *p)
{
	return atomic_load_explicit(&p->published, memory_order_acquire) && p->rec.inplace;
}

/* With lookup_mutex held: is one of this process's pending files named
 * NAME (a last component)?  No system call. */
static int any_named(const char *name)
{
	for (struct pending *p = live_first(); p; p = p->live_next)
		if (strcmp(p->rec.name, name) == 0)
			return 1;
	return 0;
}

static const char *last_component(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* With lookup_mutex held: up to MAX of this process's pending files whose
 * target is PATH (relative to DIRFD; NOFOLLOW: a final symlink is the
 * name itself) into FOUND; returns how many.  The names are compared
 * first, so that a path pending under no name costs no system call. */
static int pendings_at(int dirfd, const char *path, int nofollow, struct pending **found, int max)
{
	struct target t;
	int k = 0;

	if (!any_named(last_component(path)) || target_find(dirfd, path, nofollow, &t) < 0)
		return 0;
	for (struct pending *p = live_first(); p && k < max; p = p->live_next)
		if (pending_is(p, &t.dir_st, t.name) && !published_in_place(p))
			found[k++] = p;
	sys_close(t.dfd);
	return k;
}

/* Is a commit of a file pending at PATH under way in another thread
 * (finish)?  Under the lookup mutex. */
static int committing_at(int dirfd, const char *path)
{
	struct pending *found[16];
	int n = pendings_at(dirfd, path, 1, found, 16);

	for (int i = 0; i < n; i++)
		if (atomic_load(&found[i]->committing))
			return 1;
	return 0;
}

int pending_unlinked(int dirfd, const char *path)
{
	struct pending *found[16];
	int saved = errno, n, now = 0, busy;
	sigset_t old;

	if (!atomic_load_explicit(&live, memory_order_relaxed) || !path || getpid() != lib.pid)
		return 0;
	lib_guard++;
	mutex_lock_nosig(&lookup_mutex, &old);
	n = pendings_at(dirfd, path, 1, found, 16);
	for (int i = 0; i < n; i++)
		now += atomic_exchange(&found[i]->rec.unlinked, 1) == 0;
	busy = now && committing_at(dirfd, path);
	mutex_unlock_nosig(&lookup_mutex, &old);
	/* A commit another thread had begun may rename the file into place
	 * after the mark came too late for it: the unlink waits for it to
	 * end, so that the real unlink then finds what it put there (without
	 * the library the file was there all along, and the unlink wins). */
	for (int waited = 0; busy && waited < 30000; waited++) {
		struct timespec ms = { 0, 1000000 };

		sys_nanosleep(&ms);
		mutex_lock_nosig(&lookup_mutex, &old);
		busy = committing_at(dirfd, path);
		mutex_unlock_nosig(&lookup_mutex, &old);
	}
	lib_guard--;
	errno = saved;
	return now;
}

static int read_own(int dirfd, const char *path, int flags);

int pending_read(int dirfd, const char *path, int flags)
{
	int fd = read_own(dirfd, path, flags);

	/* Not written here: another process of the session may have. */
	if (fd == PENDING_PASS && lib.session_files && getpid() == lib.pid)
		fd = sessionview_read(dirfd, path, flags);
	return fd;
}

static int read_own(int dirfd, const char *path, int flags)
{
	const int kept = O_CLOEXEC | O_NONBLOCK | O_NOATIME | O_LARGEFILE;
	struct pending *found[16];
	int saved = errno, fd = PENDING_PASS, n;
	sigset_t old;

	if (!atomic_load_explicit(&live, memory_order_relaxed) || !path || getpid() != lib.pid)
		return PENDING_PASS;
	lib_guard++;
	mutex_lock_nosig(&lookup_mutex, &old);
	n = pendings_at(dirfd, path, flags & O_NOFOLLOW, found, 16);
	/* The published one: one another thread is still publishing may yet
	 * give way to it. */
	for (int i = 0; i < n && fd == PENDING_PASS; i++) {
		/* Deleted by the program: its name leads to nothing of ours. */
		if (!atomic_load(&found[i]->published) || atomic_load(&found[i]->rec.unlinked))
			continue;
		fd = record_open_temp(&found[i]->rec, O_RDONLY | (flags & kept));
		if (fd >= 0)
			log_debug("%s: read from what this process has written so far",
				  found[i]->rec.path);
		else
			saved = errno;
	}
	mutex_unlock_nosig(&lookup_mutex, &old);
	lib_guard--;
	errno = saved;
	return fd;
}

/* One more descriptor for P, unless its last one is gone (it is being
 * committed, or waits for the exit): then a new open makes a new
 * pending file, as it would come after the commit. */
static int hold_if_open(struct pending *p)
{
	int n = atomic_load(&p->aliases);

	while (n > 0)
		if (atomic_compare_exchange_weak(&p->aliases, &n, n + 1))
			return 1;
	return 0;
}

/* With lookup_mutex held: among the live files from FROM on, this
 * process's pending file of the file NAME in the directory DIR_ST that a
 * new open may share, held once more for it (hold_if_open); NULL when
 * there is none.  *BUSY: there is one that cannot be shared yet, and the
 * new open must wait for it: its last descriptor is gone and its commit
 * is under way in another thread (the new open would start from the
 * content the commit is about to replace), or another thread is still
 * publishing it (it may yet give way to an older one).  A file waiting
 * for the exit under commit = "exit" is neither: the new open is a new
 * file. */
static struct pending *sharable_from(struct pending *from, const struct stat *dir_st,
				     const char *name, int *busy)
{
	*busy = 0;
	for (struct pending *p = from; p; p = p->live_next) {
		if (atomic_load(&p->deferred) || !pending_is(p, dir_st, name) ||
		    atomic_load(&p->rec.unlinked))
			continue;
		if (!atomic_load_explicit(&p->published, memory_order_acquire)) {
			*busy = 1;  /* its opener is still making it */
			continue;
		}
		if (p->rec.inplace)
			continue;
		if (hold_if_open(p))
			return p;
		*busy = 1;  /* its commit is under way */
	}
	return NULL;
}

static struct pending *sharable(const struct stat *dir_st, const char *name, int *busy)
{
	return sharable_from(live_first(), dir_st, name, busy);
}

/* With lookup_mutex held: as sharable, among the files pushed before
 * SELF (after it in the list: pushes prepend).  Of two threads that
 * publish a file of one target at once, the second finds the first and
 * shares it; the first, looking only behind itself, keeps its own. */
static struct pending *sharable_before(struct pending *self, const struct stat *dir_st,
				       const char *name, int *busy)
{
	return sharable_from(self->live_next, dir_st, name, busy);
}

/* Wait until no commit of the file NAME in DIR_ST is under way in this
 * process (see sharable); returns the file to share if one is open. */
static struct pending *wait_for_commit(const struct stat *dir_st, const char *name)
{
	const struct timespec pause = { 0, 1000000 };
	struct pending *p;
	sigset_t old;
	int busy;

	for (;;) {
		mutex_lock_nosig(&lookup_mutex, &old);
		p = sharable(dir_st, name, &busy);
		mutex_unlock_nosig(&lookup_mutex, &old);
		if (p || !busy)
			return p;
		sys_nanosleep(&pause);
	}
}

/* A new descriptor of P's temp (held once more for it already), opened
 * as FLAGS say (O_TRUNC empties the file), recorded as one of P's; or,
 * when that cannot be had, PENDING_PASS with the hold given back: the
 * open then makes a pending file of its own, as it did before. */
static int open_shared(struct pending *p, int flags)
{
	const int kept = O_ACCMODE | O_APPEND | O_CLOEXEC | O_NONBLOCK | O_NOATIME |
			 O_LARGEFILE | O_SYNC | O_DSYNC | O_DIRECT;
	/* O_TRUNC: as session_redirect's. */
	int fd = record_open_temp(&p->rec, flags & (kept | O_TRUNC)), saved = errno;

	if (fd >= 0 && fdtable_set(fd, p) < 0) {
		sys_close(fd);
		fd = -1;
	}
	if (fd < 0) {
		pending_release(p, 0);  /* the hold was ours (the last: a commit) */
		errno = saved;
		return PENDING_PASS;
	}
	if (flags & O_TRUNC)
		record_written(&p->rec);
	log_debug("%s: opened again: the same pending file", p->rec.path);
	return fd;
}

/* The program opens PATH (relative to DIRFD) for writing with FLAGS,
 * and this process is writing it already: the same pending file, on a
 * new descriptor of its temp: one content, one commit, and the two
 * descriptors are one file to fstat (os.path.sameopenfile).  Two temps,
 * the last close winning, lost the other's writes (a shell's `exec 3> f;
 * echo b >> f`; threads appending to one log).  A commit of it under way
 * in another thread is waited for.  PENDING_PASS when nothing is pending
 * there (or only a commit was): a new pending file, then. */
static int share_pending(int dirfd, const char *path, int flags)
{
	struct pending *p = NULL;
	struct target t;
	sigset_t old;
	int saved = errno, named;

	if (!atomic_load_explicit(&live, memory_order_relaxed))
		return PENDING_PASS;
	mutex_lock_nosig(&lookup_mutex, &old);
	named = any_named(last_component(path));
	mutex_unlock_nosig(&lookup_mutex, &old);
	if (!named || target_find(dirfd, path, flags & O_NOFOLLOW, &t) < 0)
		return PENDING_PASS;
	p = wait_for_commit(&t.dir_st, t.name);
	sys_close(t.dfd);
	errno = saved;
	return p ? open_shared(p, flags) : PENDING_PASS;
}

/* ---- the pending file seen by name: stat, metadata, fsync ---- */

/* With lookup_mutex held: the pending file the program sees at PATH
 * (relative to DIRFD): published, in a temp, its name not deleted since;
 * or NULL. */
static struct pending *seen_at(int dirfd, const char *path, int nofollow)
{
	struct pending *found[16];
	int n = pendings_at(dirfd, path, nofollow, found, 16);

	for (int i = 0; i < n; i++)
		if (atomic_load_explicit(&found[i]->published, memory_order_acquire) &&
		    !atomic_load(&found[i]->rec.unlinked))
			return found[i];
	return NULL;
}

/* Is a look by name worth a lookup?  Something is pending in this
 * process, which is not a vfork child. */
static int anything_seen(const char *path)
{
	return atomic_load_explicit(&live, memory_order_relaxed) && path && path[0] &&
	       getpid() == lib.pid;
}

/* The pending file the program sees at PATH, if any: its view into *ST,
 * then CHANGE (if not NULL) on its temp, which makes the file modified.
 * 0 or -1 with errno; PENDING_PASS when nothing is pending there. */
static int on_seen(int dirfd, const char *path, int nofollow, struct stat *st,
		   int (*change)(int fd, const struct stat *view, const void *arg),
		   const void *arg)
{
	struct pending *p;
	sigset_t old;
	int saved = errno, r = PENDING_PASS;

	if (!anything_seen(path))
		return PENDING_PASS;
	lib_guard++;
	mutex_lock_nosig(&lookup_mutex, &old);
	if ((p = seen_at(dirfd, path, nofollow)) != NULL) {
		if ((r = sys_fstat(p->rec.tfd, st)) == 0) {
			record_view(&p->rec, st, p->fresh);
			/* A change by name (a truncation among them) is made on
			 * the whole file: an append's hole is filled first. */
			if (change && (r = record_fill(&p->rec)) == 0 &&
			    (r = change(p->rec.tfd, st, arg)) == 0)
				record_written(&p->rec);
		}
		if (r < 0)
			saved = errno;
	}
	mutex_unlock_nosig(&lookup_mutex, &old);
	lib_guard--;
	errno = saved;
	return r;
}

int pending_stat_at(int dirfd, const char *path, int nofollow, struct stat *st)
{
	int r = on_seen(dirfd, path, nofollow, st, NULL, NULL);

	if (r == PENDING_PASS && lib.session_files && getpid() == lib.pid)
		r = sessionview_stat(dirfd, path, nofollow, st);
	return r;
}

void pending_fstat_view(int fd, struct stat *st)
{
	/* Read without the lookup mutex: what record_view reads is set
	 * before publication, or atomic.  (A program that closes FD in
	 * another thread meanwhile gets a view of a recycled record: of no
	 * file it can still name, as the kernel's answer would be.) */
	struct pending *p = fdtable_get(fd);

	if (p && atomic_load_explicit(&p->published, memory_order_acquire) &&
	    !atomic_load(&p->committed))
		record_view(&p->rec, st, p->fresh);
}

int pending_change_at(int dirfd, const char *path, int nofollow,
		      int (*change)(int fd, const struct stat *view, const void *arg),
		      const void *arg)
{
	struct stat st;

	return on_seen(dirfd, path, nofollow, &st, change, arg);
}

/* Commit P now, while the program keeps its descriptors (P held once
 * more by the caller, so that no last close commits it meanwhile); from
 * then on P is as an in-place file: the descriptors write the file
 * itself, and the last close commits nothing.  0, or -1 with errno when
 * the commit failed (said, and counted, once). */
static int checkpoint(struct pending *p, int force)
{
	sigset_t old;
	int r, saved = errno;

	/* Under the lookup mutex: the lookups of other threads read the
	 * record's temp and its in-place mark. */
	mutex_lock_nosig(&lookup_mutex, &old);
	r = p->rec.inplace ? 0 : commit_checkpoint(&lib.actor, &p->rec, force);
	if (r < 0) {
		saved = errno;
		record_fail(&p->rec, saved);
		atomic_fetch_add(&pending_failures, 1);
	}
	if (r != 0) {
		p->rec.inplace = 1;
		atomic_store(&p->committed, 1);  /* no view: the file is itself */
	}
	mutex_unlock_nosig(&lookup_mutex, &old);
	errno = saved;
	return r < 0 ? -1 : 0;
}

int pending_sync(int fd)
{
	struct pending *p = fdtable_get(fd);
	int r;

	if (!p || p->owner != lib.pid || !atomic_load_explicit(&p->published, memory_order_acquire) ||
	    p->rec.rule->on_fsync != FSYNC_COMMIT || !hold_if_open(p))
		return 0;
	lib_guard++;
	r = checkpoint(p, 0);
	pending_release(p, 0);
	lib_guard--;
	return r;
}

/* The program renames or links PATH elsewhere: the name takes the file
 * with it, and with it what the program wrote, so a pending file there
 * is committed first (even unchanged: its descriptors must stay the
 * file's). */
void pending_settle_at(int dirfd, const char *path)
{
	struct pending *p = NULL;
	sigset_t old;
	int saved = errno;

	if (!anything_seen(path))
		return;
	lib_guard++;
	mutex_lock_nosig(&lookup_mutex, &old);
	if ((p = seen_at(dirfd, path, 1)) != NULL && !hold_if_open(p))
		p = NULL;
	mutex_unlock_nosig(&lookup_mutex, &old);
	if (p) {
		checkpoint(p, 1);
		pending_release(p, 0);
	}
	lib_guard--;
	errno = saved;
}

/* ---- the program's own rename ---- */

/* commit = "session": the program's rename of FROM (relative to FROMFD)
 * onto the target T (DISPLAY) makes FROM the session's pending file of
 * T: the old file stays until the session commits.  0, -1 with errno,
 * or 1 when the session does not take it (the rename is made now). */
static int session_rename(int fromfd, const char *from, const struct target *t,
			  const char *display, unsigned flags)
{
	struct target source;
	int r;

	/* A rename moves the name FROM itself, never what a link leads to. */
	if (target_find(fromfd, from, 1, &source) < 0)
		return 1;
	r = session_file_rename(source.dfd, source.name, "", t->dfd, t->name, display, flags);
	sys_close(source.dfd);
	if (r == 0)
		log_debug("%s: renamed onto by the program: the session's pending file", display);
	return r;
}

int pending_session_unlink(int dirfd, const char *path)
{
	char abs[PATH_MAX];
	const struct rule *rule;
	struct target t;
	int saved = errno, r = PENDING_PASS;

	if (!lib.session_files || !path || getpid() != lib.pid)
		return PENDING_PASS;
	lib_guard++;
	rule = lib_rule_for(dirfd, path, abs, sizeof(abs));
	if (rule && rule->commit == COMMIT_SESSION && session_present() &&
	    (abs[0] || path_absolute(dirfd, path, abs, sizeof(abs)) == 0) &&
	    target_find(dirfd, path, 1, &t) == 0) {
		r = session_file_unlink(t.dfd, t.name, abs);
		saved = errno;
		sys_close(t.dfd);
		if (r == 1)
			r = PENDING_PASS;
		else if (r == 0)
			log_debug("%s: unlinked by the program: pending with the session", abs);
	}
	lib_guard--;
	errno = saved;
	return r;
}

/* commit = "session", the source's rule: the program renames a file the
 * session keeps away (FROM, whose absolute path is FROM_ABS, to TO).
 * What the tree sees at FROM goes to TO, and FROM is gone, for the tree
 * now and for everyone at the session's commit (see files.h).  0, -1
 * with errno, or 1 when the session does not take it (no session, a
 * file that is not regular, RENAME_EXCHANGE: the rename is made now). */
static int session_rename_away(int fromfd, const char *from, const char *from_abs, int tofd,
			       const char *to, unsigned flags)
{
	char abs[PATH_MAX];
	struct target source, t;
	int r = 1;

	if ((flags & ~RENAME_NOREPLACE) || !session_present() ||
	    path_absolute(tofd, to, abs, sizeof(abs)) < 0 ||
	    target_find(fromfd, from, 1, &source) < 0)
		return 1;
	if (target_find(tofd, to, 1, &t) == 0) {
		r = session_file_rename(source.dfd, source.name, from_abs, t.dfd, t.name, abs,
					flags);
		sys_close(t.dfd);
	}
	sys_close(source.dfd);
	if (r == 0)
		log_debug("%s: renamed to %s by the program: pending with the session", from_abs,
			  abs);
	return r;
}

/* The rename away of a file the session keeps, if FROM is one: 0, -1
 * with errno, or PENDING_PASS. */
static int session_away(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	char abs[PATH_MAX];
	const struct rule *rule;
	int r;

	if (!lib.session_files || getpid() != lib.pid)
		return PENDING_PASS;
	rule = lib_rule_for(fromfd, from, abs, sizeof(abs));
	if (!rule || rule->commit != COMMIT_SESSION ||
	    (!abs[0] && path_absolute(fromfd, from, abs, sizeof(abs)) < 0))
		return PENDING_PASS;
	r = session_rename_away(fromfd, from, abs, tofd, to, flags);
	return r == 1 ? PENDING_PASS : r;
}

int pending_rename(int fromfd, const char *from, int tofd, const char *to, unsigned int flags)
{
	char abs[PATH_MAX];
	const struct rule *rule;
	struct target t;
	int saved = errno, r;

	if (!from || !to)
		return PENDING_PASS;
	lib_guard++;
	if ((r = session_away(fromfd, from, tofd, to, flags)) != PENDING_PASS) {
		saved = r < 0 ? errno : saved;
		lib_guard--;
		errno = saved;
		return r;
	}
	rule = lib_rule_for(tofd, to, abs, sizeof(abs));
	if (!rule || target_find(tofd, to, 1, &t) < 0) {
		lib_guard--;
		errno = saved;
		return PENDING_PASS;
	}
	if (!abs[0] && path_absolute(tofd, to, abs, sizeof(abs)) < 0)
		snprintf(abs, sizeof(abs), "%s", to);
	r = 1;
	/* RENAME_NOREPLACE (mv's first try) is the session's to judge: the
	 * name may exist in the tree's view and not on disk, or the reverse. */
	if (rule->commit == COMMIT_SESSION && !(flags & ~RENAME_NOREPLACE) && session_present())
		r = session_rename(fromfd, from, &t, abs, flags);
	if (r == 1)
		r = guarded_rename(&lib.actor, rule, &t, abs, fromfd, from, tofd, to, flags);
	saved = errno;
	if (r == 0)
		log_debug("%s: renamed onto by the program, synced and locked", abs);
	sys_close(t.dfd);
	lib_guard--;
	errno = saved;
	return r;
}
