/* state.h - the library's process-wide state: the rules, whether the
 * library is active, and the per-thread re-entry guard. */
#ifndef ATOMICALLY_STATE_H
#define ATOMICALLY_STATE_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#include "rules.h"

struct lib_state {
	atomic_int active;     /* rules loaded and valid: hooks may act */
	pid_t pid;             /* the process this memory belongs to (see fork) */
	struct ruleset rs;
	unsigned char writes_only; /* no rule cares about read-only opens */
	int fd_base;           /* where the library's own descriptors go */
};

extern struct lib_state lib;

/* Set while the library does its own file operations, so that they pass
 * straight through the hooks. */
extern __thread int lib_guard __attribute__((tls_model("initial-exec")));

/* Should a hook consider this call at all?  False inside the library's
 * own operations, before the rules are loaded, when they were bad, and in
 * a vfork child sharing its parent's memory. */
static inline int lib_should_act(void)
{
	return !lib_guard && atomic_load_explicit(&lib.active, memory_order_acquire);
}

/* Are the rules loaded and valid?  What the close family asks instead of
 * lib_should_act: the library never calls the public close itself, so a
 * close reaching the hook is always the program's, even one from a signal
 * handler that interrupted the library at work (guard set), and it must
 * release the descriptor's pending file. */
static inline int lib_active(void)
{
	return atomic_load_explicit(&lib.active, memory_order_acquire);
}

/* The rule that decides for PATH (relative to DIRFD), or NULL when none
 * matches or the path is excluded.  Basename rules are tried without
 * making the path absolute; the absolute path is computed into ABS (of
 * SIZE bytes) only when a rule needs it.  Allocates nothing. */
const struct rule *lib_rule_for(int dirfd, const char *path, char *abs, size_t size);

/* Take M with every signal blocked (the old mask into OLD), so that a
 * signal handler that calls a hook (close) never waits for the thread it
 * interrupted; and give it back. */
void lib_mutex_lock(pthread_mutex_t *m, sigset_t *old);
void lib_mutex_unlock(pthread_mutex_t *m, const sigset_t *old);

/* Register the library's at_quick_exit handler (preload.c). */
void lib_register_quick_exit(void);

/* Called in the child after fork. */
void lib_after_fork_child(void);

#endif
