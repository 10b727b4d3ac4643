/* ownfd.c - the library's own descriptors, hidden from the program. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* A copy of FD up at lib.fd_base or above, close-on-exec; where the limit
 * leaves no room there, anywhere above the standard streams. */
static int dup_high(int fd)
{
	int high = sys_fcntl(fd, F_DUPFD_CLOEXEC, lib.fd_base);

	if (high < 0 && (errno == EINVAL || errno == EMFILE))
		high = sys_fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return high;
}

int ownfd_keep(int fd, int *slot)
{
	if (fd >= 0 && fd < lib.fd_base) {
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
