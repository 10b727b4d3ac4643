/* holders.c - is a pending file still open somewhere else (holders.h). */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>

#include "holders.h"
#include "record.h"
#include "sys.h"

int holders_mark(int fd)
{
	return sys_flock(fd, LOCK_SH | LOCK_NB);
}

int holders_detach(struct record *r)
{
	/* Read-only is all flock and the commit need.  A program that took
	 * read access from its own file (fchmod 0200) leaves the question
	 * open: -1. */
	int fd = record_open_temp(r, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	sys_fd_close(&r->tfd);
	return sys_fd_keep(fd, &r->tfd) < 0 ? -1 : 0;
}

int holders_remain(const struct record *r)
{
	if (sys_flock(r->tfd, LOCK_EX | LOCK_NB) == 0) {
		/* Nobody else.  Let go at once: the program may open the
		 * file again (a new description of it) and fork, and the mark
		 * of that description must not find this lock in its way. */
		sys_flock(r->tfd, LOCK_UN);
		return 0;
	}
	return errno == EWOULDBLOCK ? 1 : -1;
}
