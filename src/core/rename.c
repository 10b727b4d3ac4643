/* rename.c - a program's own rename onto a matched path, synced and
 * locked. */
#include <errno.h>
#include <fcntl.h>

#include "commit.h"
#include "lock.h"
#include "path.h"
#include "rename.h"
#include "rules.h"
#include "sys.h"

/* The new content must be on disk before its name is. */
static void sync_source(int fromfd, const char *from, int durability)
{
	int fd = sys_openat(fromfd, from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
	struct stat st;

	if (fd < 0)
		return;
	if (sys_fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		sync_durably(fd, durability);
	sys_close(fd);
}

int guarded_rename(const struct actor *a, const struct rule *rule, const struct target *t,
		   const char *display, int fromfd, const char *from, int tofd, const char *to,
		   unsigned flags)
{
	struct lock *lock = NULL;
	int r, err;

	sync_source(fromfd, from, rule->durability);
	if ((rule->lock >= SCOPE_PROCESS &&
	     lock_hold(a, rule, t->dfd, &t->dir_st, t->name, display) < 0) ||
	    lock_take(a, rule, t->dfd, &t->dir_st, t->name, display, 0, &lock) < 0)
		return -1;
	r = sys_renameat2(fromfd, from, tofd, to, flags);
	err = errno;
	if (r == 0 && rule->durability == DUR_FULL)
		sys_fsync(t->dfd);
	lock_drop(lock);
	errno = err;
	return r;
}
