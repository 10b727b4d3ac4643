/* state.h - the library's process-wide state: the rules, whether the
 * library is active, this process as the core's actor, and the
 * per-thread re-entry guard.  Filled in at start (start.c). */
#ifndef ATOMICALLY_STATE_H
#define ATOMICALLY_STATE_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/actor.h"
#include "core/lookup.h"
#include "core/rules.h"

struct lib_state {
	atomic_int active;     /* rules loaded and valid: hooks may act */
	pid_t pid;             /* the process this memory belongs to (see fork) */
	struct ruleset rs;
	struct actor actor;    /* this process, as the core knows it: pid, lock_dir */
	unsigned char writes_only; /* no rule cares about read-only opens */
	unsigned char session_files; /* some rule says commit = "session" */
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

/* The rule that applies to PATH (relative to DIRFD), or NULL when none
 * does or it is excluded; ABS as rule_for (core/lookup.h) leaves it. */
static inline const struct rule *lib_rule_for(int dirfd, const char *path, char *abs, size_t size)
{
	const struct rule *r = rule_for(&lib.rs, dirfd, path, abs, size);

	return r && r->enabled ? r : NULL;
}

/* The process this memory belongs to is PID (at start, and in a child
 * after fork): lib.pid and the actor's. */
void lib_set_pid(pid_t pid);

/* Register the library's at_quick_exit handler, which commits after the
 * program's own (hook_process.c; called at start). */
void lib_register_quick_exit(void);

/* Called in the child after fork. */
void lib_after_fork_child(void);

#endif
