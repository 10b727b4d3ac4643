/* held.c - pending files that another process, or a mapping, may still
 * write (held.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/holders.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/sys.h"
#include "fdtable.h"
#include "held.h"
#include "pending.h"

static struct pending *held_list;
static pthread_mutex_t held_mutex = PTHREAD_MUTEX_INITIALIZER;
static atomic_int held_count;

/* Mark the description of FD, one of P's; ARG: the flags of its mmap,
 * MARK_CHILD (a process is made that inherits it) or MARK_AGAIN (the
 * program's own LOCK_UN dropped the mark). */
enum { MARK_CHILD = -1, MARK_AGAIN = -2 };

static void mark(struct pending *p, int fd, int arg)
{
	if (p->rec.inplace || (arg >= 0 && (arg & MAP_TYPE) == MAP_PRIVATE))
		return;
	/* Mapped here: at the end, this process's own mapping holds the
	 * description as a child would, and is not to be waited for. */
	if (arg >= 0)
		p->mapped = 1;
	if ((arg == MARK_AGAIN ? holders_remark(fd) : holders_mark(fd)) == 0)
		atomic_store(&p->shared, SHARED_MARKED);
	else
		log_debug("%s: cannot mark its file description: %s", p->rec.path, strerror(errno));
}

void held_mark_all(void)
{
	int saved = errno;

	/* Nothing of this process's own is open (every fork of a shell
	 * that once wrote a file asks): no walk, no mutex.  A description
	 * it only inherited was marked by the fork that gave it. */
	if (!pending_any_live())
		return;
	pending_each_fd(0, INT_MAX, mark, MARK_CHILD);
	errno = saved;
}

void held_mapped(int fd, int flags)
{
	int saved = errno;

	if (fdtable_get(fd))
		pending_each_fd(fd, fd, mark, flags);  /* mmap flags are positive */
	errno = saved;
}

void held_flocked(int fd, int op)
{
	int saved = errno;

	/* Whether or not this process marked it: the one that did may be
	 * its parent, and the description is the same. */
	if ((op & LOCK_UN) && fdtable_get(fd))
		pending_each_fd(fd, fd, mark, MARK_AGAIN);
	errno = saved;
}

int held_unshare(struct pending *p, int fd)
{
	/* What an open can set again of the status flags (F_GETFL also
	 * shows O_TMPFILE, which an open of the temp must not be given). */
	const int kept = O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_DSYNC | O_SYNC | O_NOATIME;
	int flags = sys_fcntl(fd, F_GETFL, 0), fdflags = sys_fcntl(fd, F_GETFD, 0), own, r = -1;
	off_t off;

	if (flags < 0 || fdflags < 0)
		return -1;
	own = record_open_temp(&p->rec, (flags & kept) | O_CLOEXEC);
	if (own < 0)
		return -1;
	/* Where the program is in the file goes along (it writes on, at
	 * its exit, through destructors); with O_APPEND it does not matter. */
	off = sys_lseek(fd, 0, SEEK_CUR);
	if (off < 0 || sys_lseek(own, off, SEEK_SET) == off)
		r = sys_dup3(own, fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0);
	sys_close(own);
	return r < 0 ? -1 : 0;
}

void held_add(struct pending *p)
{
	sigset_t old;

	/* Said before P is on the list: from then on another thread may
	 * settle it and free its record. */
	log_debug("%s: closed, but still open in another process or a mapping: held back",
		  p->rec.path);
	atomic_store(&p->aliases, 1);  /* the library's hold */
	mutex_lock_nosig(&held_mutex, &old);
	p->next = held_list;
	held_list = p;
	atomic_fetch_add(&held_count, 1);
	mutex_unlock_nosig(&held_mutex, &old);
}

int held_any(void)
{
	return atomic_load(&held_count) != 0;
}

struct pending *held_take(int final)
{
	struct pending *done = NULL, **at;
	sigset_t old;

	mutex_lock_nosig(&held_mutex, &old);
	at = &held_list;
	while (*at) {
		struct pending *p = *at;
		if (final || holders_remain(&p->rec) == 0) {
			*at = p->next;
			p->next = done;
			done = p;
			atomic_fetch_sub(&held_count, 1);
		} else {
			at = &p->next;
		}
	}
	mutex_unlock_nosig(&held_mutex, &old);
	return done;
}

void held_after_fork_child(void)
{
	struct pending *p = held_list;

	pthread_mutex_init(&held_mutex, NULL);
	held_list = NULL;
	atomic_store(&held_count, 0);
	/* Their locks are the parent's (lock_forget_all), and none is on
	 * the child's live list. */
	for (; p; p = p->next) {
		p->rec.lock = NULL;
		p->live = 0;
	}
}
