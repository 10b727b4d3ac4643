/* seccomp_slots.h - the descriptor numbers the filter watches.
 *
 * The supervisor sees a covered program's close only when the filter
 * sends it, and the filter can test a close's argument but knows nothing
 * of files: so the temps go into the program at numbers of a range of
 * their own, [BASE, BASE + SPAN), and the filter sends the closes of
 * that range alone.  The range lies just below the lowest of 1024 and
 * the soft RLIMIT_NOFILE when the filter is installed: above every
 * descriptor a program has open as a rule (its own are the lowest free
 * numbers), below FD_SETSIZE (select() can still take them), below the
 * limit (the kernel puts no descriptor above it), and a small table
 * (the kernel sizes a process's table by its highest descriptor).  A
 * program that has opened so many files that its own reach the range
 * only costs a round trip at their closes: the numbers here are those
 * the supervisor put in, and a number still open in the program is
 * never handed out again (its table is looked at first).
 */
#ifndef ATOMICALLY_SECCOMP_SLOTS_H
#define ATOMICALLY_SECCOMP_SLOTS_H

#include <pthread.h>
#include <sys/types.h>

#include "core/seccomp_filter.h"  /* SLOTS_SPAN, seccomp_filter_range */

/* One covered program's range: its numbers handed out. */
struct slots {
	int base;                      /* 0: no range */
	pthread_mutex_t guard;         /* TAKEN, NEXT */
	unsigned char taken[SLOTS_SPAN];
	int next;                      /* round robin: a number just released is the last reused */
};

/* The supervisor's side: S for the range the program's filter watches,
 * from BASE. */
void slots_setup(struct slots *s, int base);

/* A free number of S for a descriptor of the thread TID's process, or
 * -1 when none is (or no range).  Taken until released. */
int slots_take(struct slots *s, pid_t tid);

/* N is free again (the program closed it, or it never got it). */
void slots_release(struct slots *s, int n);

/* N's place in S (0 to SLOTS_SPAN - 1), or -1 when N is not one of its
 * numbers. */
int slots_index(const struct slots *s, int n);

#endif
