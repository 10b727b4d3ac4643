/* fdtable.c - descriptor number to pending file. */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "core/sys.h"
#include "fdtable.h"

/* Linux never hands out a descriptor at or above fs.nr_open, whose
 * default is 1 << 20: 8 MiB of address space, of which only the pages
 * that hold descriptors in use are ever touched. */
#define FDTABLE_SIZE (1 << 20)

typedef _Atomic(struct pending *) slot_t;

static _Atomic(slot_t *) table;
static atomic_int max_fd = -1;
static pthread_mutex_t table_init = PTHREAD_MUTEX_INITIALIZER;

struct pending *fdtable_get(int fd)
{
	slot_t *t = atomic_load_explicit(&table, memory_order_acquire);

	if (!t || fd < 0 || fd >= FDTABLE_SIZE)
		return NULL;
	return atomic_load_explicit(&t[fd], memory_order_acquire);
}

struct pending *fdtable_take(int fd)
{
	slot_t *t = atomic_load_explicit(&table, memory_order_acquire);

	if (!t || fd < 0 || fd >= FDTABLE_SIZE)
		return NULL;
	if (!atomic_load_explicit(&t[fd], memory_order_relaxed))
		return NULL;
	return atomic_exchange_explicit(&t[fd], NULL, memory_order_acq_rel);
}

static slot_t *table_create(void)
{
	slot_t *t;

	/* Only reached on the open of a matched file, never from a signal
	 * handler's close: a mutex is fine here. */
	pthread_mutex_lock(&table_init);
	t = atomic_load(&table);
	if (!t) {
		void *mem = sys_reserve(FDTABLE_SIZE * sizeof(slot_t));
		if (mem) {
			t = mem;
			atomic_store_explicit(&table, t, memory_order_release);
		}
	}
	pthread_mutex_unlock(&table_init);
	return t;
}

int fdtable_set(int fd, struct pending *p)
{
	slot_t *t = atomic_load_explicit(&table, memory_order_acquire);
	int m;

	if (fd < 0 || fd >= FDTABLE_SIZE)
		return -1;
	if (!t && !(t = table_create()))
		return -1;
	atomic_store_explicit(&t[fd], p, memory_order_release);
	m = atomic_load(&max_fd);
	while (fd > m && !atomic_compare_exchange_weak(&max_fd, &m, fd))
		;
	return 0;
}

int fdtable_max(void)
{
	return atomic_load(&max_fd);
}

void fdtable_after_fork_child(void)
{
	pthread_mutex_init(&table_init, NULL);
}
