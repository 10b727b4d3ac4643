/* pending.c - redirect a matched open into a temp, commit it at the end. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "copy.h"
#include "fdtable.h"
#include "lock.h"
#include "log.h"
#include "metadata.h"
#include "ownfd.h"
#include "path.h"
#include "pending.h"
#include "real.h"
#include "state.h"
#include "tempfile.h"
#include "tombstone.h"


/* Opens that may write a matched file into a temp. */
static int flags_matter(int flags)
{
	if ((flags & O_ACCMODE) == O_RDONLY)
		return 0;
	/* O_TMPFILE carries O_DIRECTORY: both are never ours. */
	if (flags & (O_PATH | O_DIRECTORY))
		return 0;
	/* Exclusive creation is how programs make their own locks: it must
	 * meet the real file system. */
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return 0;
	return 1;
}

int pending_wants(int flags)
{
	/* A deferred unlink is settled by the next open for writing. */
	if (atomic_load_explicit(&tombstone_active, memory_order_relaxed) &&
	    (flags & O_ACCMODE) != O_RDONLY)
		return 1;
	return flags_matter(flags);
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
	mem = mmap(NULL, POOL_RECORDS * sizeof(*base), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	if (atomic_compare_exchange_strong(&pool, &none, mem))
		return mem;
	munmap(mem, POOL_RECORDS * sizeof(*base));  /* another thread's came first */
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

	if (p) {
		memset(p, 0, sizeof(*p));
	} else {
		p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
	}
	p->dfd = -1;
	p->tfd = -1;
	return p;
}

/* Pending files are freed by whichever thread commits them; a thread
 * that looks one up by its name (pendings_at) holds this meanwhile.  And
 * how many files this process has pending: such lookups cost one atomic
 * load while there are none. */
static pthread_mutex_t lookup_mutex = PTHREAD_MUTEX_INITIALIZER;
static atomic_int live;

void pending_own(struct pending *p)
{
	p->live = 1;
	atomic_fetch_add(&live, 1);
}

/* Let go of everything P holds, commit or not: its lock (and the temp
 * counted there), its directory, its temp.  One spell of blocked signals
 * for all of it. */
void pending_free(struct pending *p)
{
	int saved = errno;
	sigset_t old;

	lib_mutex_lock(&lookup_mutex, &old);
	if (p->live)
		atomic_fetch_sub(&live, 1);
	lock_release(p->lock, p->temp_counted);
	p->lock = NULL;
	ownfd_close(&p->dfd);
	ownfd_close(&p->tfd);
	if (!pool_give(p))
		munmap(p, sizeof(*p));
	lib_mutex_unlock(&lookup_mutex, &old);
	errno = saved;
}

/* ---- the temp ---- */

/* A named temp of P's target is made (+1) or goes (-1): the lock file's
 * mark (lock_count_temps), unless the temp was counted at the take. */
static void count_temp(struct pending *p, int delta)
{
	if (!p->temp_counted)
		lock_count_temps(p->lock, delta);
}

/* Remove P's temp, if it has a name: the commit failed or never came.
 * (An anonymous temp goes with its last descriptor.) */
static void temp_discard(struct pending *p)
{
	if (!p->temp[0])
		return;
	real.unlinkat(p->dfd, p->temp, 0);
	p->temp[0] = '\0';
	count_temp(p, -1);
}

/* The new temp TFD starts as a copy of the target (a write without
 * O_TRUNC), at offset 0 as the open of the target would be. */
static int temp_fill(struct pending *p, int tfd)
{
	int src = real.openat(p->dfd, p->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	int r;

	if (src < 0)
		return -1;
	r = copy_contents(src, tfd);
	real.close(src);
	if (r == 0 && lseek(tfd, 0, SEEK_SET) < 0)
		r = -1;
	return r;
}

/* ---- open ---- */

/* The temp cannot be made beside the target (directory not writable,
 * ...): per `fallback`, write the target in place under the lock, or
 * fail the open. */
static int fall_back(struct pending *p, int dirfd, const char *path, int flags,
		     mode_t mode, int why)
{
	int fd;

	if (p->rule->fallback == FALLBACK_FAIL) {
		log_warn("%s: cannot make a temp file beside it (%s); fallback = fail",
			 p->path, strerror(why));
		errno = why;
		return -1;
	}
	fd = real.openat(dirfd, path, flags, mode);
	if (fd < 0)
		return -1;  /* the program sees why, as it would unwrapped */
	log_warn("%s: cannot make a temp file beside it (%s); writing in place",
		 p->path, strerror(why));
	p->inplace = 1;
	return fd;
}

/* The target has several hard links: per `hardlinks`, redirect anyway
 * (the rename gives this name a new inode: the other names keep the old
 * content), write in place, or fail. */
static int hardlink_policy(const struct pending *p)
{
	switch (p->rule->hardlinks) {
	case HARDLINKS_INPLACE:
		return 1;
	case HARDLINKS_FAIL:
		log_warn("%s: has %lu hard links; hardlinks = fail", p->path,
			 (unsigned long)p->target_st.st_nlink);
		errno = EMLINK;
		return -1;
	default:
		return 0;
	}
}

/* Look at the target again, now that we hold its lock. */
static int refresh_target(struct pending *p, struct target *t, int flags)
{
	struct stat now;

	if (fstatat(p->dfd, p->name, &now, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(now.st_mode)) {
			errno = EEXIST;  /* something else took the name */
			return -1;
		}
		t->exists = 1;
		t->st = now;
	} else if (errno == ENOENT) {
		if (!(flags & O_CREAT))
			return -1;
		t->exists = 0;
	} else {
		return -1;
	}
	p->existed = (unsigned char)t->exists;
	p->target_st = t->st;
	return 0;
}

/* The mode a replacement's temp is created with: what the old file
 * gives its owner (read and write at least: the library reopens the temp
 * through /proc) and everybody else, and of its group's bits only those
 * everybody has anyway, since the temp's group is the writer's until the
 * commit gives it the old file's.  The temp then mostly has the old
 * file's mode already, and the commit no chmod to make (metadata.c). */
static mode_t replacement_mode(const struct stat *old)
{
	mode_t others = old->st_mode & 0007;

	return 0600 | (old->st_mode & 0700) | others | (old->st_mode & (others << 3));
}

/* The temp of P, opened with FLAGS for the program, and a descriptor of
 * our own for it (P->tfd), which the commit uses once the program has
 * closed its own.  A new file is created with the mode the program asked
 * for, so that the kernel applies the umask (and a default ACL) as it
 * would have; a replacement gets the target's mode at commit.  A write
 * without O_TRUNC starts from a copy of the target. */
static int temp_make(struct pending *p, int flags, mode_t mode)
{
	const int kept = O_ACCMODE | O_APPEND | O_CLOEXEC | O_NONBLOCK | O_SYNC |
			 O_DSYNC | O_NOATIME | O_LARGEFILE;
	struct stat st;
	int fd, saved;

	/* Without O_APPEND for now: the kernel refuses to reflink or
	 * copy_file_range into an O_APPEND descriptor. */
	fd = temp_open(p->dfd, p->name, flags & kept & ~O_APPEND,
		       p->existed ? replacement_mode(&p->target_st) : mode, p->temp);
	if (fd < 0) {
		/* EACCES, EPERM, EROFS go to `fallback`, which says so; the
		 * rest (ENOSPC: no inode left) fail the open, and unwrapped the
		 * open might have worked: say why. */
		if (errno != EACCES && errno != EPERM && errno != EROFS) {
			saved = errno;
			log_warn("%s: cannot make a temp file beside it: %s", p->path, strerror(saved));
			errno = saved;
		}
		return -1;
	}
	if (p->temp[0])
		count_temp(p, 1);
	if (ownfd_dup(fd, &p->tfd) < 0)
		goto fail;
	if (ownfd_fstat(fd, &st) == 0) {
		p->temp_mode = st.st_mode;
		p->temp_uid = st.st_uid;
		p->temp_gid = st.st_gid;
	}
	if (p->existed && !(flags & O_TRUNC)) {
		if (temp_fill(p, fd) < 0) {
			log_warn("%s: cannot copy it into a temp file: %s", p->path, strerror(errno));
			goto fail;
		}
		p->copied = ownfd_fstat(fd, &p->copy_st) == 0;
	}
	if ((flags & O_APPEND) && real.fcntl(fd, F_SETFL, real.fcntl(fd, F_GETFL) | O_APPEND) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	real.close(fd);
	temp_discard(p);
	errno = saved;
	return -1;
}

/* Redirect the open into a temp.  REPLACING: the program deleted the file
 * and now creates it anew (see tombstone.h): the temp is a new file that
 * will be renamed over the old one. */
static int redirect(int dirfd, const char *path, const char *abs, int flags,
		    mode_t mode, const struct rule *rule, int replacing)
{
	struct target t;
	struct pending *p;
	int fd, r;

	if (target_find(dirfd, path, flags & O_NOFOLLOW, &t) < 0)
		return PENDING_PASS;  /* the real open reports it */
	if (replacing && t.exists && S_ISREG(t.st.st_mode))
		t.exists = 0;  /* gone, as far as the program knows */
	if ((t.exists && !S_ISREG(t.st.st_mode)) || (!t.exists && !(flags & O_CREAT)) ||
	    (t.exists && faccessat(t.dfd, t.name, (flags & O_ACCMODE) == O_RDWR ?
				   R_OK | W_OK : W_OK, AT_EACCESS) < 0)) {
		real.close(t.dfd);
		return PENDING_PASS;
	}
	if (!(p = pending_new())) {
		real.close(t.dfd);
		return PENDING_PASS;
	}
	p->owner = lib.pid;  /* pending_open made sure it is ours */
	p->rule = rule;
	ownfd_keep(t.dfd, &p->dfd);
	p->existed = (unsigned char)t.exists;
	p->target_st = t.st;
	snprintf(p->name, sizeof(p->name), "%s", t.name);
	snprintf(p->path, sizeof(p->path), "%s", abs[0] ? abs : path);

	if ((rule->lock >= SCOPE_PROCESS &&
	     lock_hold(rule, p->dfd, &t.dir_st, p->name, p->path) < 0) ||
	    lock_take(rule, p->dfd, &t.dir_st, p->name, p->path, 1, &p->lock) < 0)
		goto fail;
	p->temp_counted = p->lock != NULL;
	/* Another writer may have created or replaced the file while we
	 * waited for the lock: what we copy, and whose metadata we keep, is
	 * what is there now. */
	if (!replacing && refresh_target(p, &t, flags) < 0)
		goto fail;

	/* Named temps of a writer that died are the next writer's to sweep. */
	if (lock_leftovers(p->lock))
		lock_swept(p->lock, temp_sweep(p->dfd, p->name, p->path));

	r = t.exists && t.st.st_nlink > 1 ? hardlink_policy(p) : 0;
	if (r < 0)
		goto fail;
	if (r > 0) {
		fd = real.openat(dirfd, path, flags, mode);
		p->inplace = 1;
	} else if (t.dir_unreadable) {
		/* Its directory cannot be synced, nor read to sweep: as when no
		 * temp can be made there. */
		fd = fall_back(p, dirfd, path, flags, mode, EACCES);
	} else {
		fd = temp_make(p, flags, mode);
		if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS))
			fd = fall_back(p, dirfd, path, flags, mode, errno);
	}
	if (fd < 0)
		goto fail;
	/* Complete before fdtable_set publishes it: another thread's lookup
	 * (pendings_at) reads it as soon as it is in the table. */
	atomic_store(&p->aliases, 1);
	pending_own(p);
	if (fdtable_set(fd, p) < 0) {
		log_warn("%s: descriptor %d is beyond what the library tracks", p->path, fd);
		real.close(fd);
		temp_discard(p);
		errno = EMFILE;
		goto fail;
	}
	log_debug("%s: writing %s", p->path, p->inplace ? "in place" :
		  p->temp[0] ? p->temp : "an anonymous temp");
	return fd;

fail:
	r = errno;
	pending_free(p);
	errno = r;
	return -1;
}

int pending_open(int dirfd, const char *path, int flags, mode_t mode)
{
	char abs[PATH_MAX];
	const struct rule *rule;
	int saved = errno, fd, replacing = 0;

	/* A vfork child shares its parent's memory: hands off. */
	if (!path || getpid() != lib.pid)
		return PENDING_PASS;
	if ((flags & O_ACCMODE) != O_RDONLY && tombstone_claim(dirfd, path, flags)) {
		replacing = 1;
		flags = (flags & ~O_EXCL) | O_TRUNC;
	}
	fd = PENDING_PASS;
	abs[0] = '\0';
	lib_guard++;
	if (flags_matter(flags) && (rule = lib_rule_for(dirfd, path, abs, sizeof(abs))) &&
	    !((flags & O_APPEND) && rule->append == APPEND_PASSTHROUGH)) {
		if (!abs[0] && path_absolute(dirfd, path, abs, sizeof(abs)) < 0)
			abs[0] = '\0';
		fd = redirect(dirfd, path, abs, flags, mode, rule, replacing);
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
	abs[0] = '\0';
	lib_guard++;
	rule = lib_rule_for(dirfd, path, abs, sizeof(abs));
	if (rule && rule->lock >= SCOPE_PROCESS && target_find(dirfd, path, 0, &t) == 0) {
		if (!abs[0] && path_absolute(dirfd, path, abs, sizeof(abs)) < 0)
			snprintf(abs, sizeof(abs), "%s", path);
		/* The file need not exist: stat-then-create is a pattern the
		 * lock must cover too.  A non-regular file is none of ours. */
		if (!t.exists || S_ISREG(t.st.st_mode))
			r = lock_hold(rule, t.dfd, &t.dir_st, t.name, abs);
		saved = r < 0 ? errno : saved;
		real.close(t.dfd);
	}
	lib_guard--;
	errno = saved;
	return r;
}

/* ---- commit ---- */

static int sync_file(int fd, int durability)
{
	switch (durability) {
	case DUR_FULL:
	case DUR_FILE:
		return fsync(fd);
	case DUR_DATA:
		return fdatasync(fd);
	default:
		return 0;
	}
}

static int same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* A new descriptor of P's temp, open for reading (ours, or the
 * program's, may be write-only), or -1. */
int pending_open_temp(const struct pending *p, int flags)
{
	char proc[32];

	if (p->temp[0])
		return real.openat(p->dfd, p->temp, flags | O_NOFOLLOW | O_NOCTTY);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", p->tfd);
	return real.openat(AT_FDCWD, proc, flags | O_NOCTTY);
}

/* Does P's temp hold what its target holds? */
static int same_content(const struct pending *p)
{
	int target = real.openat(p->dfd, p->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	int temp = pending_open_temp(p, O_RDONLY | O_CLOEXEC);
	int same = target >= 0 && temp >= 0 && same_bytes(target, temp);

	if (target >= 0)
		real.close(target);
	if (temp >= 0)
		real.close(temp);
	return same;
}

/* Is there nothing to commit?  A file opened without O_TRUNC and never
 * modified is left as it is (same inode, same mtime); with
 * skip_unchanged, so is a rewrite with the same content.  A write the
 * library saw, or a temp whose size or times moved since the copy, is a
 * change for sure; otherwise the contents are compared, since a write the
 * library cannot see (stdio's own, an mmap) within one tick of a coarse
 * clock leaves the times as they were. */
static int unchanged(struct pending *p, const struct stat *now)
{
	if (!p->existed)
		return 0;
	/* The program set the mode or owner itself: that is a change. */
	if (now->st_mode != p->temp_mode || now->st_uid != p->temp_uid || now->st_gid != p->temp_gid)
		return 0;
	if (p->copied && !atomic_load(&p->written) && now->st_size == p->copy_st.st_size &&
	    same_time(&now->st_mtim, &p->copy_st.st_mtim) &&
	    same_time(&now->st_ctim, &p->copy_st.st_ctim))
		return same_content(p);
	if (p->rule->skip_unchanged && now->st_size == p->target_st.st_size)
		return same_content(p);
	return 0;
}

/* Did a process that shares the temp of P mark it failed (see
 * pending_fail)?  NOW: the temp's stat; NAMES (LISTED bytes, -1 when
 * unknown): its extended attributes.  *ERR: how. */
static int shared_write_failed(const struct pending *p, const struct stat *now,
			       const char *names, ssize_t listed, int *err)
{
	char v[16];
	ssize_t n = -1;

	*err = EIO;
	if (listed < 0 || xattr_listed(names, listed, PENDING_FAILED_XATTR))
		n = fgetxattr(p->tfd, PENDING_FAILED_XATTR, v, sizeof(v) - 1);
	if (n <= 0)
		return (now->st_mode & S_ISVTX) && !(p->temp_mode & S_ISVTX);
	v[n] = '\0';
	*err = atoi(v) > 0 ? atoi(v) : EIO;
	return 1;
}

/* How many commits failed in this process: failure_exit_code. */
atomic_int pending_failures;

/* A step of the commit failed: keep the old target, drop the temp. */
static int commit_failed(struct pending *p, const char *step, int err)
{
	atomic_fetch_add(&pending_failures, 1);
	temp_discard(p);
	log_warn("%s: not committed, the old content is kept: %s: %s",
		 p->path, step, strerror(err));
	pending_free(p);
	errno = err;
	return -1;
}

/* backup = SUFFIX: the old file stays as NAME+SUFFIX.  A hard link to it
 * under a temp name, renamed over the backup: the backup is replaced
 * atomically too, and a writer killed in between leaves a temp the next
 * writer sweeps. */
static int keep_backup(struct pending *p)
{
	char backup[NAME_MAX + 1], temp[NAME_MAX + 1];
	int n = snprintf(backup, sizeof(backup), "%s%s", p->name, p->rule->backup);
	int err;

	if (n < 0 || (size_t)n >= sizeof(backup)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	lock_count_temps(p->lock, 1);
	if (temp_link_name(p->dfd, p->name, p->name, temp) == 0 &&
	    real.renameat(p->dfd, temp, p->dfd, backup) == 0) {
		lock_count_temps(p->lock, -1);
		return 0;
	}
	err = errno;
	if (temp[0])
		real.unlinkat(p->dfd, temp, 0);
	lock_count_temps(p->lock, -1);
	if (err == ENOENT)
		return 0;  /* the old file is gone: nothing to keep */
	errno = err;
	return -1;
}

/* The rename cannot replace the target (see cannot_replace): per
 * `fallback`, copy the temp over the target in place, under the lock, or
 * fail. */
static int replace_in_place(struct pending *p, int why)
{
	int from, to, r = -1, err;

	if (p->rule->fallback == FALLBACK_FAIL) {
		log_warn("%s: the rename cannot replace it (%s); fallback = fail", p->path,
			 strerror(why));
		errno = why;
		return -1;
	}
	log_warn("%s: the rename cannot replace it (%s); writing it in place", p->path,
		 strerror(why));
	from = pending_open_temp(p, O_RDONLY | O_CLOEXEC);
	to = real.openat(p->dfd, p->name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (from >= 0 && to >= 0 && copy_contents(from, to) == 0 &&
	    sync_file(to, p->rule->durability) == 0)
		r = 0;
	err = errno;
	if (from >= 0)
		real.close(from);
	if (to >= 0 && real.close(to) < 0 && r == 0) {
		err = errno;
		r = -1;
	}
	if (r == 0)
		temp_discard(p);
	errno = err;
	return r;
}

/* Does a rename that failed with ERR say that nothing can replace the
 * target, though it may be written?  EBUSY: a mount point (a bind-mounted
 * file); EXDEV; EPERM: a sticky directory, where only the owner of a file
 * (or of the directory) may replace it. */
static int cannot_replace(int err)
{
	return err == EBUSY || err == EXDEV || err == EPERM;
}

/* Put the temp in the target's place: an anonymous temp is given a name
 * first (linkat cannot replace a file), for the instant before the
 * rename; the lock file's mark covers that instant (lock_count_temps). */
static int replace_target(struct pending *p)
{
	if (!p->temp[0]) {
		count_temp(p, 1);
		if (temp_link(p->tfd, p->dfd, p->name, p->temp) < 0) {
			int err = errno;
			count_temp(p, -1);
			errno = err;
			return -1;
		}
	}
	if (real.renameat(p->dfd, p->temp, p->dfd, p->name) < 0)
		return cannot_replace(errno) ? replace_in_place(p, errno) : -1;
	p->temp[0] = '\0';
	count_temp(p, -1);
	return 0;
}

static int commit(struct pending *p)
{
	int durability = p->rule->durability;
	int err = atomic_load(&p->error);
	struct stat now;
	char names[256];
	ssize_t listed;

	if (p->inplace) {
		pending_free(p);
		errno = err;
		return err ? -1 : 0;
	}
	if (err)
		return commit_failed(p, "writing it failed", err);
	if (atomic_load(&p->unlinked)) {
		/* Deleted by the program while it wrote: as unwrapped, what it
		 * wrote goes with the deleted file. */
		log_info("%s: not committed: the program deleted it", p->path);
		temp_discard(p);
		pending_free(p);
		return 0;
	}
	/* The temp is looked at once, for all the questions below: its
	 * stat, and the names of its extended attributes (a failure mark, an
	 * ACL inherited from the directory), usually none. */
	if (ownfd_fstat(p->tfd, &now) < 0)
		return commit_failed(p, "cannot look at its temp file", errno);
	listed = flistxattr(p->tfd, names, sizeof(names));
	if (listed < 0 && errno == ENOTSUP)
		listed = 0;  /* none can be there */
	if (shared_write_failed(p, &now, names, listed, &err))
		return commit_failed(p, "a process it was shared with failed to write it", err);
	if (unchanged(p, &now)) {
		log_info("%s: unchanged, left as it was", p->path);
		temp_discard(p);
		pending_free(p);
		return 0;
	}
	/* Metadata first, so that the fsync covers it too. */
	if (p->existed && metadata_copy(p, p->tfd, &now, listed < 0 ? -1 :
					xattr_listed(names, listed, XATTR_ACL_ACCESS)) < 0)
		return commit_failed(p, "cannot give it the old file's owner, attributes and mode", errno);
	if (sync_file(p->tfd, durability) < 0)
		return commit_failed(p, "fsync", errno);
	if (p->existed && p->rule->backup[0] && keep_backup(p) < 0)
		return commit_failed(p, "cannot keep the old file as its backup", errno);
	if (replace_target(p) < 0)
		return commit_failed(p, "rename", errno);
	if (durability == DUR_FULL && fsync(p->dfd) < 0) {
		/* The new content is in place; only its durability is in doubt. */
		err = errno;
		atomic_fetch_add(&pending_failures, 1);
		log_warn("%s: committed, but syncing its directory failed: %s",
			 p->path, strerror(err));
		pending_free(p);
		errno = err;
		return -1;
	}
	log_info("%s: committed (%s)", p->path, durability_name(durability));
	pending_free(p);
	return 0;
}

void pending_hold(struct pending *p, int fd)
{
	atomic_fetch_add(&p->aliases, 1);
	if (fdtable_set(fd, p) < 0)
		atomic_fetch_sub(&p->aliases, 1);
}

void pending_written(int fd)
{
	struct pending *p = fdtable_get(fd);

	if (p && !atomic_load_explicit(&p->written, memory_order_relaxed))
		atomic_store_explicit(&p->written, 1, memory_order_relaxed);
}

void pending_fail(struct pending *p, int fd, int err)
{
	int expected = 0;
	char v[16];

	/* The first failure is the one reported. */
	atomic_compare_exchange_strong(&p->error, &expected, err);
	if (p->owner != getpid() && fd >= 0) {
		int n = snprintf(v, sizeof(v), "%d", err);
		int saved = errno;
		struct stat st;
		/* A full file system may have no room for the attribute: the
		 * sticky bit, meaningless on a file, needs none. */
		if (fsetxattr(fd, PENDING_FAILED_XATTR, v, (size_t)n, 0) < 0 &&
		    ownfd_fstat(fd, &st) == 0)
			fchmod(fd, (st.st_mode & 07777) | S_ISVTX);
		errno = saved;
	}
}

int pending_watch(const int *fds, int nfds)
{
	struct pending *p = pending_new();
	struct stat st;
	int held = 0;

	if (!p)
		return -1;
	p->dfd = -1;
	p->owner = 0;  /* nobody's: its release only forgets it */
	for (int i = 0; i < nfds; i++)
		if (ownfd_fstat(fds[i], &st) == 0 && S_ISREG(st.st_mode) && fdtable_set(fds[i], p) == 0)
			held++;
	atomic_store(&p->aliases, held);
	if (!held)
		pending_free(p);
	return held ? 0 : -1;
}

/* commit = "exit": files closed but not committed yet. */
static struct pending *deferred;
static pthread_mutex_t deferred_mutex = PTHREAD_MUTEX_INITIALIZER;

static void defer(struct pending *p)
{
	sigset_t old;

	lib_mutex_lock(&deferred_mutex, &old);
	p->next = deferred;
	deferred = p;
	lib_mutex_unlock(&deferred_mutex, &old);
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
	for (int fd = 0; fd <= max; fd++) {
		struct pending *p = fdtable_get(fd);
		if (p) {
			p->lock = NULL;
			p->live = 0;
		}
	}
	for (struct pending *p = deferred; p; p = p->next) {
		p->lock = NULL;
		p->live = 0;
	}
}

void pending_commit_deferred(void)
{
	struct pending *p, *next;
	sigset_t old;

	lib_mutex_lock(&deferred_mutex, &old);
	p = deferred;
	deferred = NULL;
	lib_mutex_unlock(&deferred_mutex, &old);
	lib_guard++;
	for (; p; p = next) {
		next = p->next;
		if (p->owner == getpid())
			commit(p);
		else
			pending_free(p);  /* a fork child's copy */
	}
	lib_guard--;
}

int pending_release(struct pending *p, int close_errno)
{
	int r;

	if (close_errno)
		pending_fail(p, -1, close_errno);
	if (atomic_fetch_sub(&p->aliases, 1) != 1)
		return 0;
	if (p->owner != lib.pid) {
		/* A child's copy after fork: committing is its parent's duty. */
		pending_free(p);
		return 0;
	}
	if (p->rule->commit == COMMIT_EXIT) {
		defer(p);
		return 0;
	}
	lib_guard++;
	r = commit(p);
	lib_guard--;
	return r;
}

void pending_abandon(struct pending *p)
{
	int saved = errno;

	lib_guard++;
	temp_discard(p);
	pending_free(p);
	lib_guard--;
	errno = saved;
}

void pending_commit_all(void)
{
	int max = fdtable_max();

	for (int fd = 0; fd <= max; fd++) {
		struct pending *p = fdtable_take(fd);
		if (p)
			pending_release(p, 0);
	}
	pending_commit_deferred();
}

/* ---- the program's own unlink and rename ---- */

/* Is P's target the file NAME in the directory DIR_ST? */
static int pending_is(const struct pending *p, const struct stat *dir_st, const char *name)
{
	struct stat st;

	return p->dfd >= 0 && !p->inplace && p->owner == getpid() &&
	       strcmp(p->name, name) == 0 && ownfd_fstat(p->dfd, &st) == 0 &&
	       st.st_dev == dir_st->st_dev && st.st_ino == dir_st->st_ino;
}

/* With lookup_mutex held: is P among the N of FOUND? */
static int among(struct pending *const *found, int n, const struct pending *p)
{
	for (int i = 0; i < n; i++)
		if (found[i] == p)
			return 1;
	return 0;
}

/* With lookup_mutex held: is one of the N of FOUND pending under NAME? */
static int any_named(struct pending *const *found, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(found[i]->name, name) == 0)
			return 1;
	return 0;
}

/* With lookup_mutex held: up to MAX of this process's pending files whose
 * target is PATH (relative to DIRFD; NOFOLLOW: a final symlink is the
 * name itself) into FOUND; returns how many.  The names are compared
 * first, so that a path pending under no name costs no system call. */
static int pendings_at(int dirfd, const char *path, int nofollow, struct pending **found, int max)
{
	const char *base = strrchr(path, '/');
	struct pending *candidates[16];
	struct target t;
	int n = 0, k = 0, last = fdtable_max();
	sigset_t old;

	base = base ? base + 1 : path;
	for (int fd = 0; fd <= last && n < 16; fd++) {
		struct pending *p = fdtable_get(fd);
		if (p && p->live && p->owner == getpid() && !among(candidates, n, p))
			candidates[n++] = p;
	}
	lib_mutex_lock(&deferred_mutex, &old);
	for (struct pending *p = deferred; p && n < 16; p = p->next)
		candidates[n++] = p;
	lib_mutex_unlock(&deferred_mutex, &old);
	if (!any_named(candidates, n, base) || target_find(dirfd, path, nofollow, &t) < 0)
		return 0;
	for (int i = 0; i < n && k < max; i++)
		if (pending_is(candidates[i], &t.dir_st, t.name))
			found[k++] = candidates[i];
	real.close(t.dfd);
	return k;
}

void pending_unlinked(int dirfd, const char *path)
{
	struct pending *found[16];
	int saved = errno, n;
	sigset_t old;

	if (!atomic_load_explicit(&live, memory_order_relaxed) || !path || getpid() != lib.pid)
		return;
	lib_guard++;
	lib_mutex_lock(&lookup_mutex, &old);
	n = pendings_at(dirfd, path, 1, found, 16);
	for (int i = 0; i < n; i++)
		atomic_store(&found[i]->unlinked, 1);
	lib_mutex_unlock(&lookup_mutex, &old);
	lib_guard--;
	errno = saved;
}

int pending_read(int dirfd, const char *path, int flags)
{
	const int kept = O_CLOEXEC | O_NONBLOCK | O_NOATIME | O_LARGEFILE;
	struct pending *p;
	int saved = errno, fd = PENDING_PASS;
	sigset_t old;

	if (!atomic_load_explicit(&live, memory_order_relaxed) || !path || getpid() != lib.pid)
		return PENDING_PASS;
	lib_guard++;
	lib_mutex_lock(&lookup_mutex, &old);
	if (pendings_at(dirfd, path, flags & O_NOFOLLOW, &p, 1) == 1) {
		fd = pending_open_temp(p, O_RDONLY | (flags & kept));
		if (fd >= 0)
			log_debug("%s: read from what this process has written so far", p->path);
		else
			saved = errno;
	}
	lib_mutex_unlock(&lookup_mutex, &old);
	lib_guard--;
	errno = saved;
	return fd;
}

/* ---- the program's own rename ---- */

int pending_rename(int fromfd, const char *from, int tofd, const char *to, unsigned int flags)
{
	char abs[PATH_MAX];
	const struct rule *rule;
	struct target t;
	struct lock *lock = NULL;
	int saved = errno, fd, r;

	if (!from || !to)
		return PENDING_PASS;
	abs[0] = '\0';
	lib_guard++;
	rule = lib_rule_for(tofd, to, abs, sizeof(abs));
	if (!rule || target_find(tofd, to, 1, &t) < 0) {
		lib_guard--;
		errno = saved;
		return PENDING_PASS;
	}
	if (!abs[0] && path_absolute(tofd, to, abs, sizeof(abs)) < 0)
		snprintf(abs, sizeof(abs), "%s", to);
	/* The new content must be on disk before its name is. */
	fd = real.openat(fromfd, from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0) {
		struct stat st;
		if (ownfd_fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			sync_file(fd, rule->durability);
		real.close(fd);
	}
	if ((rule->lock >= SCOPE_PROCESS &&
	     lock_hold(rule, t.dfd, &t.dir_st, t.name, abs) < 0) ||
	    lock_take(rule, t.dfd, &t.dir_st, t.name, abs, 0, &lock) < 0) {
		saved = errno;
		real.close(t.dfd);
		lib_guard--;
		errno = saved;
		return -1;
	}
	r = flags ? real.renameat2(fromfd, from, tofd, to, flags) : real.renameat(fromfd, from, tofd, to);
	saved = errno;
	if (r == 0 && rule->durability == DUR_FULL)
		fsync(t.dfd);
	lock_drop(lock);
	real.close(t.dfd);
	lib_guard--;
	errno = saved;
	return r;
}
