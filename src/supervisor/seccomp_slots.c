/* seccomp_slots.c - numbers of the watched range, handed out. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seccomp_slots.h"

static int base;               /* 0: no range */
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
	if (!base)
		return -1;
	for (int i = 0; i < SLOTS_SPAN; i++) {
		int k = (next + i) % SLOTS_SPAN;

		if (taken[k] || open_in(tid, base + k))
			continue;
		taken[k] = 1;
		next = (k + 1) % SLOTS_SPAN;
		return base + k;
	}
	return -1;
}

void slots_release(int n)
{
	if (slots_index(n) >= 0)
		taken[n - base] = 0;
}
