/* holders.c - is a pending file still open somewhere else (holders.h). */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>

#include "holders.h"
#include "record.h"
#include "sys.h"

int holders_mark(int fd)
{
	return sys_flock(fd, LOCK_SH | LOCK_NB);
}

int holders_remark(int fd)
{
	const struct timespec ms = { 0, 1000 * 1000 };

	/* A probe holds its exclusive lock for an instant only; a program
	 * that holds one through another description of its own (which
	 * nobody we know does) costs this call 50 ms, and the mark. */
	for (int tries = 0; tries < 50; tries++) {
		if (sys_flock(fd, LOCK_SH | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK)
			return -1;
		sys_nanosleep(&ms);
	}
	return -1;
}

int holders_detach(struct record *r)
{
	/* Read-only is all flock and the commit need.  A program that took
	 * read access from its own file (fchmod 0200) leaves the question
	 * open: -1. */
	int fd = record_reopen_temp(r, O_RDONLY | O_CLOEXEC);

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

/* How long after the kernel's "nobody" the question is asked again:
 * long enough for a program that let go of its own flock to take our
 * mark back (holders_remark, right after its flock call returns), even
 * when it is not scheduled at once; short next to a commit's fsync, and
 * paid once per file handed over. */
#define RECHECK_NS (50 * 1000 * 1000)

int holders_wait(const struct record *r)
{
	const struct timespec recheck = { 0, RECHECK_NS };

	for (;;) {
		if (sys_flock(r->tfd, LOCK_EX) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		sys_flock(r->tfd, LOCK_UN);
		sys_nanosleep(&recheck);
		switch (holders_remain(r)) {
		case 0:
			return 0;
		case 1:
			continue;  /* a mark came back: wait again */
		default:
			return -1;
		}
	}
}
