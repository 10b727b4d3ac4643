/* ownfd.c - the library's own descriptors, hidden from the program. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mutex.h"
#include "core/sys.h"
#include "ownfd.h"
#include "state.h"

/* As the descriptor table: Linux never hands out a descriptor at or above
 * fs.nr_open (1 << 20 by default); only the pages in use are touched. */
#define OWNFD_SIZE (1 << 20)

typedef _Atomic(int *) slot_ref;

static _Atomic(slot_ref *) table;
static atomic_int highest = -1;
static pthread_mutex_t table_init = PTHREAD_MUTEX_INITIALIZER;

static slot_ref *table_get(void)
{
	slot_ref *t = atomic_load_explicit(&table, memory_order_acquire);

	if (t)
		return t;
	pthread_mutex_lock(&table_init);
	t = atomic_load(&table);
	if (!t) {
		void *mem = sys_reserve(OWNFD_SIZE * sizeof(slot_ref));
		if (mem) {
			t = mem;
			atomic_store_explicit(&table, t, memory_order_release);
		}
	}
	pthread_mutex_unlock(&table_init);
	return t;
}

static void record(int fd, int *slot)
{
	slot_ref *t = table_get();
	int high = atomic_load(&highest);

	*slot = fd;
	if (!t || fd < 0 || fd >= OWNFD_SIZE)
		return;
	atomic_store_explicit(&t[fd], slot, memory_order_release);
	while (fd > high && !atomic_compare_exchange_weak(&highest, &high, fd))
		;
}

/* ---- the descriptor budget ----
 *
 * Ours go at lib.fd_base and above, below the soft RLIMIT_NOFILE: out of
 * the way of a program with a few dozen descriptors, and free of cost.
 * A program that opens hundreds would find them in its way: it would run
 * out at its limit minus ours.  So once the signs are there (the zone is
 * full, or the kernel hands out numbers half way to it), ours go above
 * the soft limit instead: a descriptor made there stays valid, and the
 * program keeps its whole limit.  Making one there means raising the
 * soft limit for the instant of the dup (within the hard limit), hence
 * two more system calls each: paid only from then on ("above").  Those
 * already in the zone are moved up too, when no other thread can be
 * using one (a process of one thread, signals blocked).  Where the hard
 * limit leaves no room, ours stay below, and the library says so once. */

static atomic_int above;      /* ours go above the soft limit from now on */
static atomic_int short_said; /* the warning that descriptors are short */

/* A copy of FD at the lowest free number at or above the soft limit,
 * close-on-exec; -1 (EMFILE) when the hard limit leaves no room. */
static int dup_above_limit(int fd)
{
	struct rlimit now, raised;
	int high = atomic_load(&highest), copy, saved;

	if (getrlimit(RLIMIT_NOFILE, &now) < 0)
		return -1;
	raised = now;
	/* Room for the next one: past the highest of ours, and some. */
	raised.rlim_cur = (high >= 0 && (rlim_t)high >= now.rlim_cur ? (rlim_t)high + 1 :
			   now.rlim_cur) + 16;
	if (raised.rlim_cur > now.rlim_max)
		raised.rlim_cur = now.rlim_max;
	if (raised.rlim_cur <= now.rlim_cur) {
		errno = EMFILE;
		return -1;
	}
	if (prlimit(0, RLIMIT_NOFILE, &raised, NULL) < 0)
		return -1;
	copy = sys_fcntl(fd, F_DUPFD_CLOEXEC, (int)now.rlim_cur);
	saved = errno;
	prlimit(0, RLIMIT_NOFILE, &now, NULL);
	errno = saved;
	return copy;
}

static void say_short(void)
{
	struct rlimit now;

	if (atomic_exchange(&short_said, 1) || getrlimit(RLIMIT_NOFILE, &now) < 0)
		return;
	log_warn("descriptors are short: the library keeps its own (about three for each "
		 "file being written) within the program's limit of %llu, which the hard "
		 "limit leaves no room above; the program may run out early (raise it: "
		 "ulimit -n)", (unsigned long long)now.rlim_cur);
}

/* Is this process running one thread?  /proc/self/task has a link for
 * each, and two of its own.  When it cannot be told: no. */
static int one_thread(void)
{
	struct stat st;

	return sys_fstatat(AT_FDCWD, "/proc/self/task", &st, 0) == 0 && st.st_nlink == 3;
}

/* Move ours that are below the soft limit above it: one thread, no
 * signal handler running meanwhile, so nobody holds a number of ours
 * that is about to change. */
static void move_all_above(void)
{
	slot_ref *t = atomic_load_explicit(&table, memory_order_acquire);
	int high = atomic_load(&highest);
	sigset_t old;

	if (!t || !one_thread())
		return;
	signals_block(&old);
	for (int fd = 0; fd <= high && fd < OWNFD_SIZE; fd++) {
		int *slot = atomic_load(&t[fd]), copy;
		struct rlimit now;

		if (!slot || getrlimit(RLIMIT_NOFILE, &now) < 0 || (rlim_t)fd >= now.rlim_cur)
			continue;
		if ((copy = dup_above_limit(fd)) < 0)
			break;
		atomic_store(&t[fd], NULL);
		record(copy, slot);
		sys_close(fd);
	}
	signals_restore(&old);
}

/* From now on ours go above the soft limit (and those below move up). */
static void go_above(void)
{
	if (atomic_exchange(&above, 1))
		return;
	log_debug("the program has many descriptors: the library keeps its own above its limit");
	move_all_above();
}

/* A copy of FD, close-on-exec, where the budget says (above).  FD, just
 * given by the kernel (the lowest number free), tells how many the
 * program has. */
static int dup_high(int fd)
{
	int high;

	/* getpid last: a system call, and go_above is done once. */
	if (!atomic_load(&above) && fd >= lib.fd_base / 2 && getpid() == lib.pid)
		go_above();
	if (atomic_load(&above) && (high = dup_above_limit(fd)) >= 0)
		return high;
	high = sys_fcntl(fd, F_DUPFD_CLOEXEC, lib.fd_base);
	if (high >= 0 || (errno != EINVAL && errno != EMFILE))
		return high;
	/* The zone is full (or the limit is low): above, or anywhere. */
	if (getpid() == lib.pid) {
		go_above();
		if ((high = dup_above_limit(fd)) >= 0)
			return high;
	}
	say_short();
	return sys_fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int ownfd_keep(int fd, int *slot)
{
	if (fd >= 0 && (fd < lib.fd_base || atomic_load(&above))) {
		int high = dup_high(fd);
		if (high >= 0) {
			sys_close(fd);
			fd = high;
		}
	}
	record(fd, slot);
	return fd;
}

int ownfd_dup(int fd, int *slot)
{
	int copy = dup_high(fd);

	if (copy < 0) {
		*slot = -1;
		return -1;
	}
	record(copy, slot);
	return copy;
}

void ownfd_adopt(int fd, int *slot)
{
	record(fd, slot);
}

void ownfd_close(int *slot)
{
	slot_ref *t = atomic_load_explicit(&table, memory_order_acquire);
	int fd = *slot, saved = errno;

	if (fd < 0)
		return;
	if (t && fd < OWNFD_SIZE)
		atomic_store_explicit(&t[fd], NULL, memory_order_release);
	*slot = -1;
	sys_close(fd);
	errno = saved;
}

void ownfd_close_n(int *const *slots, int n)
{
	slot_ref *t = atomic_load_explicit(&table, memory_order_acquire);
	int lo, hi, saved = errno;

	if (!sys_fd_span(slots, n, &lo, &hi)) {
		for (int i = 0; i < n; i++)
			ownfd_close(slots[i]);
		return;
	}
	for (int i = 0; i < n; i++) {
		int fd = *slots[i];
		if (fd >= 0 && t && fd < OWNFD_SIZE)
			atomic_store_explicit(&t[fd], NULL, memory_order_release);
		*slots[i] = -1;
	}
	/* Only ours are in the span: closed one by one where the kernel has
	 * no close_range (before 5.9) or a filter refuses it. */
	if (sys_raw(SYS_close_range, lo, hi, 0, 0) < 0)
		for (int fd = lo; fd <= hi; fd++)
			sys_close(fd);
	errno = saved;
}

int ownfd_is(int fd)
{
	slot_ref *t = atomic_load_explicit(&table, memory_order_acquire);

	return t && fd >= 0 && fd < OWNFD_SIZE &&
	       atomic_load_explicit(&t[fd], memory_order_acquire) != NULL;
}

int ownfd_first(unsigned from, unsigned to)
{
	int high = atomic_load(&highest);

	if (!atomic_load_explicit(&table, memory_order_acquire) || high < 0)
		return -1;
	for (unsigned fd = from; fd <= to && fd <= (unsigned)high; fd++)
		if (ownfd_is((int)fd))
			return (int)fd;
	return -1;
}

int ownfd_move_away(int fd)
{
	slot_ref *t = atomic_load_explicit(&table, memory_order_acquire);
	int *slot, moved;

	if (!ownfd_is(fd) || getpid() != lib.pid)
		return 0;
	slot = atomic_load(&t[fd]);
	moved = dup_high(fd);
	if (moved < 0)
		return -1;
	atomic_store(&t[fd], NULL);
	record(moved, slot);
	/* The program's dup2 closes FD; our copy carries the same open file
	 * (and its lock) on. */
	return 0;
}
