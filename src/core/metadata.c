/* metadata.c - what a replacement keeps of the file it replaces: owner,
 * group, extended attributes (ACLs, the SELinux label), mode. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "log.h"
#include "metadata.h"
#include "record.h"
#include "sys.h"

/* The old file's attributes: by the descriptor FROM when the file could
 * be opened, else by PATH. */
static ssize_t old_list(int from, const char *path, char *buf, size_t size)
{
	return from >= 0 ? sys_flistxattr(from, buf, size) : sys_llistxattr(path, buf, size);
}

static ssize_t old_get(int from, const char *path, const char *name, char *buf, size_t size)
{
	return from >= 0 ? sys_fgetxattr(from, name, buf, size) : sys_lgetxattr(path, name, buf, size);
}

/* The old file's extended attributes onto the temp TO: user.*, POSIX ACLs,
 * the SELinux label, whatever we can read; returns 1 when there were none
 * to carry over nor to remove (nothing changed), 0 when done, -1 with
 * errno.  One we may not set (trusted.*
 * without privilege) is left out, as cp -a would; an access ACL that
 * cannot be carried over fails the commit, since losing it could open the
 * file to more users than before.  A temp that inherited a default ACL the
 * old file did not have loses it. */
static int copy_xattrs(const struct record *rec, int to, int temp_acl)
{
	static const char acl[] = XATTR_ACL_ACCESS;
	char path[64 + NAME_MAX], *names, *value, *name;
	ssize_t listed, n;
	size_t size;
	int r = 0, had_acl = 0, from;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", rec->dfd, rec->name);
	/* Most files have no extended attributes and most temps no ACL: then
	 * there is nothing to carry over nor to take away, and one look at
	 * the old file by its name says so.  (Without /proc, or when it has
	 * some, the long way.) */
	if (temp_acl == 0 && sys_llistxattr(path, NULL, 0) == 0)
		return 1;
	/* The old file by a descriptor where it can be read; else by a path
	 * through /proc (a write-only file). */
	from = sys_openat(rec->dfd, rec->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
	listed = old_list(from, path, NULL, 0);
	if (listed < 0) {
		/* ENOENT: another process deleted the old file meanwhile;
		 * the commit makes it anew, with the mode and owner it had. */
		r = errno == ENOTSUP || errno == ENOSYS || errno == ENOENT ? 0 : -1;
		goto out;
	}
	size = (size_t)listed + XATTR_SIZE_MAX;
	names = sys_map(size);
	if (!names) {
		r = -1;
		goto out;
	}
	value = names + listed;
	listed = listed ? old_list(from, path, names, (size_t)listed) : 0;
	for (name = names; listed > 0 && name < names + listed; name += strlen(name) + 1) {
		int is_acl = strcmp(name, acl) == 0;
		had_acl |= is_acl;
		n = old_get(from, path, name, value, XATTR_SIZE_MAX);
		if (n >= 0 && sys_fsetxattr(to, name, value, (size_t)n, 0) == 0)
			continue;
		if (is_acl) {
			r = -1;
			break;
		}
		log_debug("%s: extended attribute %s not carried over: %s", rec->path, name,
			  strerror(errno));
	}
	if (listed < 0)
		r = -1;
	if (r == 0 && !had_acl && sys_fremovexattr(to, acl) < 0 && errno != ENODATA &&
	    errno != ENOTSUP)
		r = -1;
	sys_unmap(names, size);
out:
	if (from >= 0) {
		int saved = errno;
		sys_close(from);
		errno = saved;
	}
	return r;
}

/* The owner and group of the old file onto the temp FD, as far as we may:
 * giving a file away needs privilege, but a member of a group may give
 * its own file to that group, so without privilege the group is still
 * kept when it can be (and the file is the writer's, as a file the writer
 * made anew would be). */
static int copy_owner(const struct stat *st, int fd)
{
	if (sys_fchown(fd, st->st_uid, st->st_gid) == 0)
		return 0;
	if (errno != EPERM)
		return -1;
	if (sys_fchown(fd, (uid_t)-1, st->st_gid) < 0 && errno != EPERM)
		return -1;
	return 0;
}

/* The replacement keeps the old file's owner, group, extended attributes
 * and mode.  The owner first: chown clears the set-user-ID bits that chmod
 * restores last, after an ACL (which sets the group bits) is in place. */
int metadata_copy(const struct record *rec, int fd, const struct stat *now, int temp_acl)
{
	const struct stat *st = &rec->target_st;
	int chowned = 0, untouched;

	if (now->st_uid == rec->temp_uid && now->st_gid == rec->temp_gid &&
	    (now->st_uid != st->st_uid || now->st_gid != st->st_gid)) {
		if (copy_owner(st, fd) < 0)
			return -1;
		chowned = 1;
	}
	if ((untouched = copy_xattrs(rec, fd, temp_acl)) < 0)
		return -1;
	if (now->st_mode != rec->temp_mode)
		return 0;  /* the program chose the mode itself (fchmod) */
	/* Made with the old mode (see replacement_mode), and neither a chown
	 * (which clears set-user-ID bits) nor an ACL (which sets the group
	 * bits) has changed it since: a chmod would change nothing. */
	if (!chowned && untouched && (now->st_mode & 07777) == (st->st_mode & 07777))
		return 0;
	return sys_fchmod(fd, st->st_mode & 07777);
}

int xattr_listed(const char *names, ssize_t len, const char *name)
{
	for (const char *n = names; len > 0 && n < names + len; n += strlen(n) + 1)
		if (strcmp(n, name) == 0)
			return 1;
	return 0;
}
