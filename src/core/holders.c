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
		/* Nobody else: the lock goes with the descriptor, and no
		 * marked description can appear any more (they are made only
		 * from the writer's descriptors, all closed). */
		return 0;
	}
	return errno == EWOULDBLOCK ? 1 : -1;
}
