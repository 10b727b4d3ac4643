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

#include <sys/types.h>

#define SLOTS_SPAN 128

/* The range for the soft limit SOFT (the calling process's, in the
 * covered program before its exec): *BASE, or 0 when the limit is too
 * low to spare one (then no close is watched: the files are committed at
 * the exit). */
void slots_range(unsigned long soft, int *base);

/* The supervisor's side: the range the program's filter watches. */
void slots_setup(int base);

/* A free number of the range for a descriptor of the thread TID's
 * process, or -1 when none is (or no range).  Taken until released. */
int slots_take(pid_t tid);

/* N is free again (the program closed it, or it never got it). */
void slots_release(int n);

/* N's place in the range (0 to SLOTS_SPAN - 1), or -1 when N is not
 * one of its numbers. */
int slots_index(int n);

#endif
