/* mutex.h - mutexes that a signal handler can never deadlock on.
 *
 * Inside a program, a signal handler may call close(), and close()
 * commits a pending file: it takes the core's mutexes (the lock table,
 * the library's lists).  A handler that interrupted its own thread while
 * that thread held one would wait for itself forever.  So every such
 * mutex is taken with all signals blocked, and given back before they
 * are unblocked.  In a plain process this costs two system calls and
 * changes nothing else.
 */
#ifndef ATOMICALLY_MUTEX_H
#define ATOMICALLY_MUTEX_H

#include <pthread.h>
#include <signal.h>

/* Block every signal (the old mask into OLD), then take M. */
static inline void mutex_lock_nosig(pthread_mutex_t *m, sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, old);
	pthread_mutex_lock(m);
}

/* Give M back, then the signal mask OLD. */
static inline void mutex_unlock_nosig(pthread_mutex_t *m, const sigset_t *old)
{
	pthread_mutex_unlock(m);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Only the signal mask, for a span that takes several such mutexes
 * (one change of the mask rather than one per mutex). */
static inline void signals_block(sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, old);
}

static inline void signals_restore(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

#endif
