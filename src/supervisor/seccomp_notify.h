/* seccomp_notify.h - the supervisor's side of a covered program's
 * filter: the program, its listener and its receiving thread.
 *
 * One thread reads the notifications of the listener (seccomp_filter.h).
 * A call about a name no rule matches it answers itself (it goes on in
 * the kernel); any other it hands to a worker (seccomp_pool.h), which
 * serves it (seccomp_call.h).  A program of the tree (seccomp_tree.h)
 * ends with its exit_group, or, killed, when its listener hangs up; the
 * processes a program leaves under its filter are answered by a
 * lingering process after the supervisor's exit.
 */
#ifndef ATOMICALLY_SECCOMP_NOTIFY_H
#define ATOMICALLY_SECCOMP_NOTIFY_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "seccomp_files.h"
#include "seccomp_slots.h"

/* One covered program: COMMAND, or a static or Go program a process of
 * the session's tree exec'd (seccomp_tree.h).  Each has its listener,
 * its receiving thread, its watched range and its files; the workers
 * (seccomp_pool.h) are shared. */
struct seccomp_program {
	int listener;           /* -1 once it is let go of (a fork's: its program's) */
	pid_t pid;              /* its thread group: the calls of its threads */
	int from_tree;          /* not our child: its exit_group is its end */
	int stopped;            /* every call goes on in the kernel */
	atomic_int exited;      /* its exit_group (or last exit) seen */
	long long start;        /* when its process started: a reused pid is another */
	int hung_up;            /* nothing is left under its filter */
	pthread_rwlock_t serving;  /* read-held while a call is served */
	struct slots slots;
	struct seccomp_table files;
	struct seccomp_program *next;  /* seccomp_tree.c's list */
	struct seccomp_forks *forks;   /* the processes forked from it (seccomp_forks.h) */
	/* Taken from the listener and not yet answered: none may be left
	 * when the supervisor lets go of the listener (seccomp_notify_quiet),
	 * or its caller waits for ever. */
	atomic_int in_hand;
	int wake;                      /* an eventfd: the receiving thread's to look again (stop; */
	                               /* a first fork, written by seccomp_forks.c: sweep them) */
	atomic_int receiving;          /* that thread still runs */
};

/* Serve LISTENER (which this takes) for the program PID, whose filter
 * watches the range from WATCHED (0: none), on a thread of its own,
 * until no process is left under the filter.  FROM_TREE: a program the
 * tree exec'd, whose filter sends its exits: its exit_group commits its
 * pending files, and its listener hung up without one (a signal killed
 * it) discards them.  The program, or NULL with errno. */
struct seccomp_program *seccomp_notify_start(int listener, pid_t pid, int watched,
					     int from_tree);

/* P has ended, or is no longer ours to act for: from now on every call
 * goes on in the kernel (a child it left running still has the filter).
 * When this returns, no call of P is being served: its pending files
 * are the caller's. */
void seccomp_notify_stop(struct seccomp_program *p);

/* P is stopped (seccomp_notify_stop), its receiving thread stops taking
 * calls, and every call taken is answered before this returns: the
 * listener is then the caller's to hand on.  A call taken and never
 * answered would wait for ever, the listener being still open in the
 * lingering process (measured: a shell's close(0), taken just before
 * the supervisor's exit, hung its background job). */
void seccomp_notify_quiet(struct seccomp_program *p);

/* After the end, once the program's files are done with: the processes
 * it left running still have the filter, and when the supervisor exits
 * (the listener closed) the kernel fails their opens for writing with
 * ENOSYS.  So a process of our own keeps the listener and lets every
 * call go on in the kernel until none is left under the filter (the
 * listener hangs up).  Nothing when none is left already. */
void seccomp_notify_linger(struct seccomp_program *p);

#endif
