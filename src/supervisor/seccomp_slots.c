/* seccomp_slots.c - numbers of the watched range, handed out. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seccomp_slots.h"

static int base;               /* 0: no range */
static pthread_mutex_t guard = PTHREAD_MUTEX_INITIALIZER;  /* TAKEN, NEXT */
static unsigned char taken[SLOTS_SPAN];
static int next;               /* round robin: a number just released is the last reused */

void slots_range(unsigned long soft, int *out)
{
	unsigned long top = soft < 1024 ? soft : 1024;

	/* Room below the range for the program's own descriptors. */
	*out = top >= 4 * SLOTS_SPAN ? (int)(top - SLOTS_SPAN) : 0;
}

void slots_setup(int b)
{
	base = b;
}

int slots_index(int n)
{
	return base && n >= base && n < base + SLOTS_SPAN ? n - base : -1;
}

/* Is N open in TID's process (its own descriptor there, or one of ours
 * whose close the kernel has not made yet)? */
static int open_in(pid_t tid, int n)
{
	char path[64];
	struct stat st;

	/* The link itself: it is there while the descriptor is open. */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, n);
	return fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int slots_take(pid_t tid)
{
	int got = -1;

	if (!base)
		return -1;
	pthread_mutex_lock(&guard);
	for (int i = 0; i < SLOTS_SPAN && got < 0; i++) {
		int k = (next + i) % SLOTS_SPAN;

		if (taken[k] || open_in(tid, base + k))
			continue;
		taken[k] = 1;
		next = (k + 1) % SLOTS_SPAN;
		got = base + k;
	}
	pthread_mutex_unlock(&guard);
	return got;
}

void slots_release(int n)
{
	if (slots_index(n) < 0)
		return;
	pthread_mutex_lock(&guard);
	taken[n - base] = 0;
	pthread_mutex_unlock(&guard);
}
