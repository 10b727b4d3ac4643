/* seccomp_pool.h - the threads that serve a covered program's calls.
 *
 * One thread receives the notifications (seccomp_notify.h) and hands
 * each to a worker here.  A call may wait long in the supervisor (a
 * lock held by another process, up to lock_timeout), and while it waits
 * the program's other threads must be served: the close that commits a
 * file and lets its lock go may be the very thing the other process
 * waits for.  So no call waits behind another: when every worker is
 * busy, a new one is made, up to POOL_MAX; past that, calls queue.
 * POOL_MAX is high because every waiting call holds a worker: with 64,
 * 150 load-modify-saves by one shell of a session under lock =
 * "process" had 64 workers waiting for one lock while its holder's
 * save and exit queued behind them, and nothing moved until
 * lock_timeout (38 of 150 kept after 61 s; with 1024, 150 of 150 in
 * 4.3 s).  The workers are as many as the program's threads that were
 * once blocked in a call at the same time, no more.
 *
 * Each worker has a umask of its own (unshare(CLONE_FS)), set per call
 * to the calling thread's, and takes no signal (the launcher's
 * forwarding handlers run on its main thread).  Workers stay for the
 * supervisor's life: there are no more of them than calls once waited
 * at the same time.
 */
#ifndef ATOMICALLY_SECCOMP_POOL_H
#define ATOMICALLY_SECCOMP_POOL_H

#include <stddef.h>

struct seccomp_notif;

#define POOL_MAX 1024  /* a bound on threads, not a policy */

/* SERVE is called on a worker for each notification handed over, with
 * the CTX it was handed with (the program it is of); SIZE is the
 * notification's size (the kernel's, which may be larger than the
 * headers' structure).  The same for every program: set once. */
void pool_setup(void (*serve)(void *ctx, const struct seccomp_notif *req), size_t size);

/* Hand REQ (copied), of CTX, to a worker.  0, or -1 with errno when it
 * cannot be (no memory, no thread): the caller serves it itself. */
int pool_hand(void *ctx, const struct seccomp_notif *req);

/* Does the calling thread have a umask of its own (a worker that could
 * unshare its file system attributes)? */
int pool_own_umask(void);

#endif
