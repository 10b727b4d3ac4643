/* seccomp_slots.c - numbers of the watched range, handed out. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seccomp_slots.h"

void slots_setup(struct slots *s, int base)
{
	s->base = base;
	pthread_mutex_init(&s->guard, NULL);
}

int slots_index(const struct slots *s, int n)
{
	return s->base && n >= s->base && n < s->base + SLOTS_SPAN ? n - s->base : -1;
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

int slots_take(struct slots *s, pid_t tid)
{
	int got = -1;

	if (!s->base)
		return -1;
	pthread_mutex_lock(&s->guard);
	for (int i = 0; i < SLOTS_SPAN && got < 0; i++) {
		int k = (s->next + i) % SLOTS_SPAN;

		if (s->taken[k] || open_in(tid, s->base + k))
			continue;
		s->taken[k] = 1;
		s->next = (k + 1) % SLOTS_SPAN;
		got = s->base + k;
	}
	pthread_mutex_unlock(&s->guard);
	return got;
}

void slots_release(struct slots *s, int n)
{
	if (slots_index(s, n) < 0)
		return;
	pthread_mutex_lock(&s->guard);
	s->taken[n - s->base] = 0;
	pthread_mutex_unlock(&s->guard);
}
