/* redirect.c - an open for writing made into a temp beside the target. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "actor.h"
#include "copy.h"
#include "hole.h"
#include "kernelrules.h"
#include "lock.h"
#include "log.h"
#include "path.h"
#include "record.h"
#include "redirect.h"
#include "rules.h"
#include "sys.h"
#include "tempfile.h"
#include "tally.h"

int redirect_flags(int flags)
{
	if ((flags & O_ACCMODE) == O_RDONLY)
		return 0;
	if (flags & (O_PATH | O_DIRECTORY))
		return 0;
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return 0;
	return 1;
}

int redirect_target(int dirfd, const char *path, int flags, int replacing, struct target *t)
{
	if (target_find(dirfd, path, flags & O_NOFOLLOW, t) < 0)
		return REDIRECT_PASS;  /* the real open reports it */
	/* Another user's file in a sticky directory: the kernel's to write
	 * in place, or to refuse (kernelrules.h), deleted by the program or
	 * not. */
	if (t->exists && S_ISREG(t->st.st_mode) && kernel_guards_for_owner(&t->st, &t->dir_st))
		goto pass;
	if (replacing && t->exists && S_ISREG(t->st.st_mode))
		t->exists = 0;  /* gone, as far as the program knows */
	if ((t->exists && !S_ISREG(t->st.st_mode)) || (!t->exists && !(flags & O_CREAT)) ||
	    (t->exists && sys_faccessat(t->dfd, t->name, (flags & O_ACCMODE) == O_RDWR ?
					R_OK | W_OK : W_OK, AT_EACCESS) < 0))
		goto pass;
	return 0;
pass:
	sys_close(t->dfd);
	t->dfd = -1;
	return REDIRECT_PASS;
}

/* The new temp TFD starts as a copy of the target (a write without
 * O_TRUNC), at offset 0 as the open of the target would be. */
static int temp_fill(struct record *r, int tfd)
{
	int src = sys_openat(r->dfd, r->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0);
	int ok;

	if (src < 0)
		return -1;
	ok = copy_contents(src, tfd);
	sys_close(src);
	if (ok == 0 && sys_lseek(tfd, 0, SEEK_SET) < 0)
		ok = -1;
	return ok;
}

/* The temp cannot be made beside the target (directory not writable,
 * ...): per `fallback`, write the target in place under the lock, or
 * fail the open. */
static int fall_back(struct record *r, int dirfd, const char *path, int flags,
		     mode_t mode, int why)
{
	int fd;

	if (r->rule->fallback == FALLBACK_FAIL) {
		log_warn("%s: cannot make a temp file beside it (%s); fallback = fail",
			 r->path, strerror(why));
		errno = why;
		return -1;
	}
	fd = sys_openat(dirfd, path, flags, mode);
	if (fd < 0)
		return -1;  /* the program sees why, as it would unwrapped */
	log_warn("%s: cannot make a temp file beside it (%s); writing in place",
		 r->path, strerror(why));
	tally_note(TALLY_INPLACE, r->path, 0);
	r->inplace = 1;
	return fd;
}

/* The target has several hard links: per `hardlinks`, redirect anyway
 * (0: the rename gives this name a new inode, the other names keep the
 * old content), write in place (1), or fail (-1). */
static int hardlink_policy(const struct record *r)
{
	switch (r->rule->hardlinks) {
	case HARDLINKS_INPLACE:
		return 1;
	case HARDLINKS_FAIL:
		log_warn("%s: has %lu hard links; hardlinks = fail", r->path,
			 (unsigned long)r->target_st.st_nlink);
		errno = EMLINK;
		return -1;
	default:
		return 0;
	}
}

/* What T was at the open, kept in R: nothing for a target that does not
 * exist, whose stat in T was never filled in (whatever the caller's
 * stack held, which the exec handover would carry into the next image's
 * environment: addresses of this process among them). */
static void keep_target_st(struct record *r, const struct target *t)
{
	r->existed = (unsigned char)t->exists;
	if (t->exists)
		r->target_st = t->st;
	else
		memset(&r->target_st, 0, sizeof(r->target_st));
}

/* Look at the target again, now that we hold its lock: another writer
 * may have created or replaced it meanwhile, and a write without O_TRUNC
 * must start from what is there now, or it loses that writer's update. */
static int refresh_target(struct record *r, struct target *t, int flags)
{
	struct stat now;

	if (sys_fstatat(r->dfd, r->name, &now, AT_SYMLINK_NOFOLLOW) == 0) {
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
	keep_target_st(r, t);
	return 0;
}

/* An append that needs no copy of the target (hole.h): the temp FD (not
 * yet O_APPEND) made as long as the target, a hole, and marked.  Only for
 * the program that writes through O_WRONLY|O_APPEND alone (it cannot read
 * the hole), on a file of its own name (one link: the commit may append
 * to it in place), without a backup (which would share the inode), when
 * the commit is this process's.  Returns 0, or -1: copy the target as for
 * any write. */
static int temp_sparse(const struct actor *a, struct record *r, int fd, int flags)
{
	if (!a->sparse_appends || (flags & (O_ACCMODE | O_APPEND | O_DIRECT)) != (O_WRONLY | O_APPEND) ||
	    r->target_st.st_size <= 0 || r->target_st.st_nlink != 1 || r->rule->backup[0] ||
	    r->rule->commit == COMMIT_SESSION || hole_make(fd, r->dfd, r->name, &r->target_st) < 0)
		return -1;
	r->append_base = r->target_st.st_size;
	return 0;
}

/* The mode a replacement's temp is created with: what the old file
 * gives its owner (read and write at least: the temp is reopened
 * through /proc) and everybody else, and of its group's bits only those
 * everybody has anyway, since the temp's group is the writer's until the
 * commit gives it the old file's.  The temp then mostly has the old
 * file's mode already, and the commit no chmod to make (metadata.c). */
static mode_t replacement_mode(const struct stat *old)
{
	mode_t others = old->st_mode & 0007;

	return 0600 | (old->st_mode & 0700) | others | (old->st_mode & (others << 3));
}

/* The temp of R, opened with FLAGS for the program, and a descriptor of
 * our own for it (R->tfd), which the commit uses once the program has
 * closed its own.  A new file is created with the mode the program asked
 * for, so that the kernel applies the umask (and a default ACL) as it
 * would have; a replacement gets the target's mode at commit.  A write
 * without O_TRUNC starts from a copy of the target. */
static int temp_make(const struct actor *a, struct record *r, int flags, mode_t mode)
{
	const int kept = O_ACCMODE | O_APPEND | O_CLOEXEC | O_NONBLOCK | O_SYNC |
			 O_DSYNC | O_NOATIME | O_LARGEFILE;
	struct stat st;
	int fd, saved;

	/* Without O_APPEND and O_DIRECT for now (below). */
	fd = temp_open(a->pid, r->dfd, r->name, flags & kept & ~O_APPEND,
		       r->existed ? replacement_mode(&r->target_st) : mode, r->temp);
	if (fd < 0) {
		/* EACCES, EPERM, EROFS go to `fallback`, which says so; the
		 * rest (ENOSPC: no inode left) fail the open, and unwrapped the
		 * open might have worked: say why. */
		if (errno != EACCES && errno != EPERM && errno != EROFS) {
			saved = errno;
			log_warn("%s: cannot make a temp file beside it: %s", r->path, strerror(saved));
			errno = saved;
		}
		return -1;
	}
	if (r->temp[0] && !r->temp_counted)
		lock_count_temps(r->lock, 1);
	if (sys_fd_dup(fd, &r->tfd) < 0)
		goto fail;
	if (sys_fstat(fd, &st) == 0) {
		r->temp_mode = st.st_mode;
		r->temp_uid = st.st_uid;
		r->temp_gid = st.st_gid;
	}
	if (r->existed && !(flags & O_TRUNC) && temp_sparse(a, r, fd, flags) < 0) {
		if (temp_fill(r, fd) < 0) {
			log_warn("%s: cannot copy it into a temp file: %s", r->path, strerror(errno));
			goto fail;
		}
		r->copied = sys_fstat(fd, &r->copy_st) == 0;
	}
	/* O_APPEND and O_DIRECT last: the copy is the library's (the kernel
	 * refuses to clone or copy_file_range into an O_APPEND descriptor,
	 * and the copy's sizes are not O_DIRECT's), the writes after it are
	 * the program's, which then meet the rules they would have met on
	 * the target: the same file system.  One that refuses O_DIRECT
	 * fails the open with EINVAL, as it would have. */
	if ((flags & (O_APPEND | O_DIRECT)) &&
	    sys_fcntl(fd, F_SETFL, sys_fcntl(fd, F_GETFL, 0) | (flags & (O_APPEND | O_DIRECT))) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	sys_close(fd);
	record_discard(r);
	errno = saved;
	return -1;
}

/* The descriptor the program gets, once R holds its lock: in place, or
 * the temp, as the rule and the target allow. */
static int open_for_program(const struct actor *a, struct record *r, const struct target *t,
			    int dirfd, const char *path, int flags, mode_t mode)
{
	int inplace = t->exists && t->st.st_nlink > 1 ? hardlink_policy(r) : 0;
	int fd;

	if (inplace < 0)
		return -1;
	/* Another user's file took the name since redirect_target looked
	 * (planted in /tmp meanwhile): the program's own open, which the
	 * kernel judges, as redirect_target would have left it. */
	if (t->exists && kernel_guards_for_owner(&t->st, &t->dir_st))
		inplace = 1;
	if (inplace > 0) {
		r->inplace = 1;
		return sys_openat(dirfd, path, flags, mode);
	}
	/* Its directory cannot be synced, nor read to sweep: as when no temp
	 * can be made there. */
	if (t->dir_unreadable)
		return fall_back(r, dirfd, path, flags, mode, EACCES);
	fd = temp_make(a, r, flags, mode);
	if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS))
		fd = fall_back(r, dirfd, path, flags, mode, errno);
	return fd;
}

int redirect_open(const struct actor *a, struct record *r, struct target *t,
		  const struct rule *rule, int dirfd, const char *path, const char *display,
		  int flags, mode_t mode, int replacing)
{
	int fd, err;

	r->rule = rule;
	sys_fd_keep(t->dfd, &r->dfd);
	t->dfd = r->dfd;
	keep_target_st(r, t);
	/* The caller may have named R already, and shown it to others
	 * (the library's live list): written only when it differs. */
	if (strcmp(r->name, t->name) != 0)
		snprintf(r->name, sizeof(r->name), "%s", t->name);
	snprintf(r->path, sizeof(r->path), "%s", display);

	if ((rule->lock >= SCOPE_PROCESS &&
	     lock_hold(a, rule, r->dfd, &t->dir_st, r->name, r->path) < 0) ||
	    lock_take(a, rule, r->dfd, &t->dir_st, r->name, r->path, 1, &r->lock) < 0)
		goto fail;
	r->temp_counted = r->lock != NULL;
	if (!replacing && refresh_target(r, t, flags) < 0)
		goto fail;
	/* Named temps of a writer that died are the next writer's to sweep. */
	if (lock_leftovers(r->lock))
		lock_swept(r->lock, temp_sweep(a->pid, r->dfd, r->name, r->path));
	fd = open_for_program(a, r, t, dirfd, path, flags, mode);
	if (fd < 0)
		goto fail;
	return fd;
fail:
	err = errno;
	record_release(r);
	errno = err;
	return -1;
}
