/* seccomp_notify.h - the supervisor's side of a covered program's
 * filter.
 *
 * One thread reads the notifications of the listener (seccomp_filter.h)
 * and hands each to a worker (seccomp_pool.h), which answers it: an
 * open for writing of a matched path by the covered program gets a temp
 * (seccomp_files.h), a rename onto one is made by the supervisor, a look
 * at one takes its lock (lock = "process"), and anything else goes on in
 * the kernel (SECCOMP_USER_NOTIF_FLAG_CONTINUE).  For one call:
 *
 *   1. the path read from the thread's memory (process_vm_readv) and
 *      matched by name against the rules: most calls end here, going on
 *      in the kernel;
 *   2. the thread is one of the covered program's (/proc/PID/task/TID),
 *      with the supervisor's root and rights (/proc/TID/status): else
 *      the kernel decides, as without us;
 *   3. its cwd or dirfd opened from /proc/TID (seccomp_remote.h);
 *   4. SECCOMP_IOCTL_NOTIF_ID_VALID: the call is still there, so TID was
 *      still that thread while 1 to 3 read it; only then is anything
 *      done;
 *   5. the core makes the temp, with the thread's umask (each worker has
 *      a umask of its own: unshare(CLONE_FS));
 *   6. the temp goes into the program as the call's result
 *      (seccomp_answer.h); if the call went away meanwhile (killed, or
 *      interrupted: a new notification comes when it is made again), the
 *      temp is removed, so that nothing is done twice.
 */
#ifndef ATOMICALLY_SECCOMP_NOTIFY_H
#define ATOMICALLY_SECCOMP_NOTIFY_H

#include <pthread.h>
#include <sys/types.h>

#include "seccomp_files.h"
#include "seccomp_slots.h"

/* One covered program: COMMAND, or a static or Go program a process of
 * the session's tree exec'd (seccomp_tree.h).  Each has its listener,
 * its receiving thread, its watched range and its files; the workers
 * (seccomp_pool.h) are shared. */
struct seccomp_program {
	int listener;           /* -1 once it is let go of */
	pid_t pid;              /* its thread group: the calls of its threads */
	int from_tree;          /* not our child: its exit_group is its end */
	int stopped;            /* every call goes on in the kernel */
	int exited;             /* its exit_group (or last exit) seen */
	int hung_up;            /* nothing is left under its filter */
	pthread_rwlock_t serving;  /* read-held while a call is served */
	struct slots slots;
	struct seccomp_table files;
	struct seccomp_program *next;  /* seccomp_tree.c's list */
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

/* After the end, once the program's files are done with: the processes
 * it left running still have the filter, and when the supervisor exits
 * (the listener closed) the kernel fails their opens for writing with
 * ENOSYS.  So a process of our own keeps the listener and lets every
 * call go on in the kernel until none is left under the filter (the
 * listener hangs up).  Nothing when none is left already. */
void seccomp_notify_linger(struct seccomp_program *p);

#endif
