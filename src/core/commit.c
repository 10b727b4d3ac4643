/* commit.c - put a pending file's temp in the target's place, or keep
 * the old file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "commit.h"
#include "copy.h"
#include "hole.h"
#include "lock.h"
#include "log.h"
#include "metadata.h"
#include "record.h"
#include "rules.h"
#include "sys.h"
#include "tempfile.h"
#include "tally.h"

int sync_durably(int fd, int durability)
{
	switch (durability) {
	case DUR_FULL:
	case DUR_FILE:
		return sys_fsync(fd);
	case DUR_DATA:
		return sys_fdatasync(fd);
	default:
		return 0;
	}
}

/* A named temp of R's target is made (+1) or goes (-1): the lock file's
 * mark (lock_count_temps), unless the temp was counted at the take. */
static void count_temp(struct record *r, int delta)
{
	if (!r->temp_counted)
		lock_count_temps(r->lock, delta);
}

static int same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Does R's temp hold what its target holds? */
static int same_content(const struct record *r)
{
	int target = sys_openat(r->dfd, r->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
	int temp = record_open_temp(r, O_RDONLY | O_CLOEXEC);
	int same = target >= 0 && temp >= 0 && same_bytes(target, temp);

	if (target >= 0)
		sys_close(target);
	if (temp >= 0)
		sys_close(temp);
	return same;
}

/* Is there nothing to commit?  A file opened without O_TRUNC and never
 * modified is left as it is (same inode, same mtime); with
 * skip_unchanged, so is a rewrite with the same content.  A write the
 * library saw, or a temp whose size or times moved since the copy, is a
 * change for sure; otherwise the contents are compared, since a write the
 * library cannot see (stdio's own, an mmap) within one tick of a coarse
 * clock leaves the times as they were. */
static int unchanged(const struct record *r, const struct stat *now)
{
	if (!r->existed)
		return 0;
	/* The program set the mode or owner itself: that is a change. */
	if (now->st_mode != r->temp_mode || now->st_uid != r->temp_uid || now->st_gid != r->temp_gid)
		return 0;
	if (r->copied && !atomic_load(&r->written) && now->st_size == r->copy_st.st_size &&
	    same_time(&now->st_mtim, &r->copy_st.st_mtim) &&
	    same_time(&now->st_ctim, &r->copy_st.st_ctim))
		return same_content(r);
	if (r->rule->skip_unchanged && now->st_size == r->target_st.st_size)
		return same_content(r);
	return 0;
}

/* Did a process that shares the temp of R mark it failed (see
 * record_mark_failed)?  NOW: the temp's stat; NAMES (LISTED bytes, -1
 * when unknown): its extended attributes.  *ERR: how. */
static int shared_write_failed(const struct record *r, const struct stat *now,
			       const char *names, ssize_t listed, int *err)
{
	char v[16];
	ssize_t n = -1;

	*err = EIO;
	if (listed < 0 || xattr_listed(names, listed, RECORD_FAILED_XATTR))
		n = sys_fgetxattr(r->tfd, RECORD_FAILED_XATTR, v, sizeof(v) - 1);
	if (n <= 0)
		return (now->st_mode & S_ISVTX) && !(r->temp_mode & S_ISVTX);
	v[n] = '\0';
	*err = atoi(v) > 0 ? atoi(v) : EIO;
	return 1;
}

/* A step of the commit failed: keep the old target, drop the temp. */
static int failed(struct record *r, const char *step, int err)
{
	record_discard(r);
	log_warn("%s: not committed, the old content is kept: %s: %s",
		 r->path, step, strerror(err));
	tally_note(TALLY_DISCARDED, r->path, 0);
	errno = err;
	return -1;
}

/* backup = SUFFIX: the old file stays as NAME+SUFFIX.  A hard link to it
 * under a temp name, renamed over the backup: the backup is replaced
 * atomically too, and a writer killed in between leaves a temp the next
 * writer sweeps. */
static int keep_backup(const struct actor *a, struct record *r)
{
	char backup[NAME_MAX + 1], temp[NAME_MAX + 1];
	int n = snprintf(backup, sizeof(backup), "%s%s", r->name, r->rule->backup);
	int err;

	if (n < 0 || (size_t)n >= sizeof(backup)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	lock_count_temps(r->lock, 1);
	if (temp_link_name(a->pid, r->dfd, r->name, r->name, temp) == 0 &&
	    sys_renameat2(r->dfd, temp, r->dfd, backup, 0) == 0) {
		lock_count_temps(r->lock, -1);
		return 0;
	}
	err = errno;
	if (temp[0])
		sys_unlinkat(r->dfd, temp, 0);
	lock_count_temps(r->lock, -1);
	if (err == ENOENT)
		return 0;  /* the old file is gone: nothing to keep */
	errno = err;
	return -1;
}

/* The rename cannot replace the target (see cannot_replace): per
 * `fallback`, copy the temp over the target in place, under the lock, or
 * fail. */
static int replace_in_place(struct record *r, int why)
{
	int from, to, ok = -1, err;

	if (r->rule->fallback == FALLBACK_FAIL) {
		log_warn("%s: the rename cannot replace it (%s); fallback = fail", r->path,
			 strerror(why));
		errno = why;
		return -1;
	}
	log_warn("%s: the rename cannot replace it (%s); writing it in place", r->path,
		 strerror(why));
	tally_note(TALLY_INPLACE, r->path, 0);
	from = record_open_temp(r, O_RDONLY | O_CLOEXEC);
	to = sys_openat(r->dfd, r->name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0);
	if (from >= 0 && to >= 0 && copy_contents(from, to) == 0 &&
	    sync_durably(to, r->rule->durability) == 0)
		ok = 0;
	err = errno;
	if (from >= 0)
		sys_close(from);
	if (to >= 0 && sys_close(to) < 0 && ok == 0) {
		err = errno;
		ok = -1;
	}
	if (ok == 0)
		record_discard(r);
	errno = err;
	return ok;
}

/* Does a rename that failed with ERR say that nothing can replace the
 * target, though it may be written?  EBUSY: a mount point (a bind-mounted
 * file); EXDEV; EPERM: a name the kernel keeps from being replaced (an
 * append-only file; another user's file in a sticky directory, which
 * redirect_target leaves to the program's own open anyway). */
static int cannot_replace(int err)
{
	return err == EBUSY || err == EXDEV || err == EPERM;
}

/* Put the temp in the target's place: an anonymous temp is given a name
 * first (linkat cannot replace a file), for the instant before the
 * rename; the lock file's mark covers that instant (lock_count_temps).
 * A target the rename cannot replace goes through `fallback`, but for a
 * CHECKPOINT: a copy in place would leave the program writing a temp
 * that is no longer the file, so the checkpoint waits for the commit
 * (COMMIT_LATER). */
#define COMMIT_LATER 1
/* commit_prepare: the temp is ready, named beside its target. */
#define COMMIT_READY 2
/* Nothing to commit: the temp is gone (unchanged, deleted). */
#define COMMIT_NOTHING 3
static int replace_target(const struct actor *a, struct record *r, int checkpoint)
{
	if (!r->temp[0]) {
		count_temp(r, 1);
		if (temp_link(a->pid, r->tfd, r->dfd, r->name, r->temp) < 0) {
			int err = errno;
			count_temp(r, -1);
			errno = err;
			return -1;
		}
	}
	if (sys_renameat2(r->dfd, r->temp, r->dfd, r->name, 0) < 0) {
		if (!cannot_replace(errno))
			return -1;
		return checkpoint ? COMMIT_LATER : replace_in_place(r, errno);
	}
	r->temp[0] = '\0';
	count_temp(r, -1);
	return 0;
}

/* commit_append: the temp is to be committed whole (its hole filled). */
#define COMMIT_WHOLE 4

/* The window an append must fit in to be added in place: one write that
 * stays within one page of the page cache, which the kernel copies in
 * before it moves the file's size, so that a reader sees the file's old
 * size or its new size with the whole append (a write across pages moves
 * the size page by page), and a SIGKILL cannot stop it half way.  4096:
 * a page on every machine, and within one of a machine with larger ones. */
#define APPEND_WINDOW 4096

/* Add the N bytes R's program appended (at append_base in its temp) to
 * the target, whose descriptor TO (O_APPEND) ends at END: one write,
 * synced per durability, undone by truncation when it fails. */
static int append_bytes(struct record *r, int to, off_t end, off_t n)
{
	char buf[APPEND_WINDOW];
	int from = record_reopen_temp(r, O_RDONLY | O_CLOEXEC), err = EIO;
	ssize_t got = -1, put;
	struct stat st;

	if (from < 0)
		return failed(r, "cannot read what was appended", errno);
	if (!hole_intact(from, r->append_base)) {
		sys_close(from);
		return failed(r, "written below its old end in a way the library could not follow", EIO);
	}
	got = sys_pread(from, buf, (size_t)n, r->append_base);
	if (got < 0)
		err = errno;
	sys_close(from);
	if (got != n)
		return failed(r, "cannot read what was appended", err);
	put = sys_write(to, buf, (size_t)n);
	if (put == n && sync_durably(to, r->rule->durability) == 0)
		return 0;
	err = put < 0 ? errno : put < n ? EIO : errno;
	/* What of it reached the file goes again: the old content.  Only
	 * when the file ends with it: another appender (lock = "none", a
	 * program without the library) may have written after it, and its
	 * close has returned. */
	if (put > 0 && sys_fstat(to, &st) == 0 && st.st_size == end + put &&
	    (sys_ftruncate(to, end) < 0 || sync_durably(to, r->rule->durability) < 0))
		log_warn("%s: an append that failed could not be taken back: %s", r->path,
			 strerror(errno));
	return failed(r, put == n ? "fsync" : "append", err);
}

/* Did the program change its temp's metadata itself (fchmod, fchown,
 * futimens, fsetxattr on its descriptor)?  Then the temp, with them, is
 * what it means the file to be.  A write moves mtime and ctime to one
 * time (and so does the truncation that made the hole, after the mark);
 * futimens and fsetxattr move them apart.  NAMES (LISTED bytes, -1:
 * unknown): the temp's extended attributes, which hold the mark alone. */
static int touched(const struct record *r, const struct stat *now, const char *names, ssize_t listed)
{
	return now->st_mode != r->temp_mode || now->st_uid != r->temp_uid ||
	       now->st_gid != r->temp_gid || !same_time(&now->st_mtim, &now->st_ctim) ||
	       listed != (ssize_t)sizeof(HOLE_XATTR) || memcmp(names, HOLE_XATTR, sizeof(HOLE_XATTR)) != 0;
}

/* The target, open for an append of N bytes in place: still the file of
 * the open, of one name, and N fits the rest of the page it ends in.
 * Its descriptor (O_APPEND), *END its size; or -1. */
static int append_target(const struct record *r, off_t n, off_t *end)
{
	struct stat st;
	int to;

	if (n > APPEND_WINDOW)
		return -1;
	to = sys_openat(r->dfd, r->name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
			O_NOCTTY, 0);
	if (to < 0)
		return -1;
	if (sys_fstat(to, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == r->target_st.st_dev &&
	    st.st_ino == r->target_st.st_ino && st.st_nlink == 1 &&
	    n <= APPEND_WINDOW - st.st_size % APPEND_WINDOW) {
		*end = st.st_size;
		return to;
	}
	sys_close(to);
	return -1;
}

/* An append whose temp still holds its hole (hole.h): what was appended
 * goes onto the target itself, when it fits APPEND_WINDOW and nobody may
 * write the temp after us (WHOLE: a checkpoint, a commit while another
 * process may still hold it, a session's).  NOW, NAMES, LISTED: the
 * temp's stat and attributes.  Returns 0 when appended, COMMIT_NOTHING
 * when nothing was, COMMIT_LATER for a CHECKPOINT with nothing to commit
 * yet, -1 when it failed (said; the target as it was), or COMMIT_WHOLE
 * (the hole filled) when the temp is to be committed as any other. */
static int commit_append(struct record *r, const struct stat *now, const char *names,
			 ssize_t listed, int whole, int checkpoint)
{
	off_t n = now->st_size - r->append_base, end;
	int untouched = !touched(r, now, names, listed), to, ret;

	if (n == 0 && untouched) {
		if (checkpoint)
			return COMMIT_LATER;
		if (!whole) {
			log_info("%s: unchanged, left as it was", r->path);
			tally_note(TALLY_UNCHANGED, r->path, 0);
			record_discard(r);
			return COMMIT_NOTHING;
		}
	}
	if (n > 0 && untouched && !whole && (to = append_target(r, n, &end)) >= 0) {
		ret = append_bytes(r, to, end, n);
		sys_close(to);
		if (ret == 0) {
			record_discard(r);
			log_info("%s: committed (%s, %lld bytes appended in place)", r->path,
				 durability_name(r->rule->durability), (long long)n);
			tally_note(TALLY_COMMITTED, r->path, 0);
		}
		return ret;
	}
	if (record_fill(r) < 0)
		return failed(r, "cannot copy its old content in before the appended bytes", errno);
	/* The fill wrote the temp: times the program set itself (futimens)
	 * are given back. */
	if (!same_time(&now->st_mtim, &now->st_ctim) &&
	    sys_futimens(r->tfd, (const struct timespec[2]){ now->st_atim, now->st_mtim }) < 0)
		return failed(r, "cannot give it back the times the program set", errno);
	return COMMIT_WHOLE;
}

/* How commit_steps is asked to commit (below). */
enum {
	STEP_CHECKPOINT = 1,  /* the program keeps its descriptors of the temp */
	STEP_FORCE = 2,       /* an unchanged temp too */
	STEP_PREPARE = 4,     /* a session's: named beside the target, not renamed */
	STEP_WHOLE = 8,       /* others may still write the temp: never in place */
};

/* The steps of commit.h, as HOW says: for a CHECKPOINT, where the
 * program keeps its descriptors of the temp, what leaves the temp in
 * place (nothing to commit, a target deleted meanwhile, one that no
 * rename can replace) returns COMMIT_LATER instead; FORCE commits a temp
 * that is unchanged too; WHOLE never appends in place. */
static int commit_steps(const struct actor *a, struct record *r, int how)
{
	int checkpoint = !!(how & STEP_CHECKPOINT), force = !!(how & STEP_FORCE);
	int prepare = !!(how & STEP_PREPARE), whole = !!(how & STEP_WHOLE);
	int durability = r->rule->durability;
	int err = atomic_load(&r->error);
	struct stat now;
	char names[256];
	ssize_t listed;

	if (r->inplace) {
		errno = err;
		return err ? -1 : prepare ? COMMIT_NOTHING : 0;
	}
	if (err)
		return failed(r, "writing it failed", err);
	if (atomic_load(&r->unlinked)) {
		if (checkpoint)
			return COMMIT_LATER;
		/* Deleted by the program while it wrote: as unwrapped, what it
		 * wrote goes with the deleted file. */
		log_info("%s: not committed: the program deleted it", r->path);
		tally_note(TALLY_DELETED, r->path, 0);
		record_discard(r);
		return COMMIT_NOTHING;
	}
	/* The temp is looked at once, for all the questions below: its
	 * stat, and the names of its extended attributes (a failure mark, an
	 * ACL inherited from the directory), usually none. */
	if (sys_fstat(r->tfd, &now) < 0)
		return failed(r, "cannot look at its temp file", errno);
	listed = sys_flistxattr(r->tfd, names, sizeof(names));
	if (listed < 0 && errno == ENOTSUP)
		listed = 0;  /* none can be there */
	if (shared_write_failed(r, &now, names, listed, &err))
		return failed(r, "a process it was shared with failed to write it", err);
	if (record_has_hole(r, names, listed)) {
		int ret = commit_append(r, &now, names, listed, checkpoint || force || prepare || whole,
					checkpoint);

		if (ret != COMMIT_WHOLE)
			return ret;
		/* Filled: the temp is looked at again. */
		if (sys_fstat(r->tfd, &now) < 0)
			return failed(r, "cannot look at its temp file", errno);
		listed = sys_flistxattr(r->tfd, names, sizeof(names));
		if (listed < 0 && errno == ENOTSUP)
			listed = 0;
	}
	if (!force && unchanged(r, &now)) {
		if (checkpoint)
			return COMMIT_LATER;
		log_info("%s: unchanged, left as it was", r->path);
		tally_note(TALLY_UNCHANGED, r->path, 0);
		record_discard(r);
		return COMMIT_NOTHING;
	}
	/* Metadata first, so that the fsync covers it too. */
	if (r->existed && metadata_copy(r, r->tfd, &now, listed < 0 ? -1 :
					xattr_listed(names, listed, XATTR_ACL_ACCESS)) < 0)
		return failed(r, "cannot give it the old file's owner, attributes and mode", errno);
	if (sync_durably(r->tfd, durability) < 0)
		return failed(r, "fsync", errno);
	if (r->existed && r->rule->backup[0] && keep_backup(a, r) < 0)
		return failed(r, "cannot keep the old file as its backup", errno);
	if (prepare) {
		if (!r->temp[0]) {
			count_temp(r, 1);
			if (temp_link(a->pid, r->tfd, r->dfd, r->name, r->temp) < 0) {
				int err = errno;
				count_temp(r, -1);
				return failed(r, "cannot name its temp file", err);
			}
		}
		return COMMIT_READY;
	}
	switch (replace_target(a, r, checkpoint)) {
	case 0:
		break;
	case COMMIT_LATER:
		return COMMIT_LATER;
	default:
		return failed(r, "rename", errno);
	}
	if (durability == DUR_FULL && sys_fsync(r->dfd) < 0) {
		/* The new content is in place; only its durability is in doubt. */
		err = errno;
		log_warn("%s: committed, but syncing its directory failed: %s",
			 r->path, strerror(err));
		errno = err;
		return -1;
	}
	log_info("%s: committed (%s)%s", r->path, durability_name(durability),
		 checkpoint ? " while still open" : "");
	tally_note(TALLY_COMMITTED, r->path, 0);
	return 0;
}

int commit(const struct actor *a, struct record *r)
{
	int ret = commit_steps(a, r, 0);

	return ret == COMMIT_NOTHING ? 0 : ret;
}

int commit_whole(const struct actor *a, struct record *r)
{
	int ret = commit_steps(a, r, STEP_WHOLE);

	return ret == COMMIT_NOTHING ? 0 : ret;
}

int commit_forced(const struct actor *a, struct record *r)
{
	int ret = commit_steps(a, r, STEP_FORCE);

	return ret == COMMIT_NOTHING ? 0 : ret;
}

int commit_prepare(const struct actor *a, struct record *r)
{
	switch (commit_steps(a, r, STEP_PREPARE)) {
	case COMMIT_READY:
		return 0;
	case COMMIT_NOTHING:
		return 1;
	default:
		return -1;
	}
}

void commit_done(struct record *r)
{
	r->temp[0] = '\0';
	count_temp(r, -1);
	log_info("%s: committed (%s, with its session)", r->path,
		 durability_name(r->rule->durability));
	tally_note(TALLY_COMMITTED, r->path, 0);
}

int commit_checkpoint(const struct actor *a, struct record *r, int force)
{
	int ret = commit_steps(a, r, STEP_CHECKPOINT | (force ? STEP_FORCE : 0));

	if (ret == COMMIT_NOTHING)
		return 0;

	if (ret == COMMIT_LATER)
		return 0;
	return ret == 0 ? 1 : ret;
}
