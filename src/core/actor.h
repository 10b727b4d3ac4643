/* actor.h - on whose behalf the core acts.
 *
 * The process that holds the locks and will commit the temps: the
 * writer itself inside a wrapped program, the supervisor when it commits
 * for the processes of a session.  Its pid goes into lock files (so that
 * a waiter can name the holder) and into the names of named temps (so
 * that a sweep can tell a dead writer's leftover), and the temps it owns
 * are never swept as leftovers.  With it, the rules' global settings the
 * core needs.  The core reads no process-wide state of its own door: it
 * is handed an actor.
 *
 * A process may act for several owners of locks at once: the seccomp
 * supervisor serves several programs, and each must wait for the
 * others' locks as separate processes would (lock.h).
 */
#ifndef ATOMICALLY_ACTOR_H
#define ATOMICALLY_ACTOR_H

#include <sys/types.h>

struct rule;

struct actor {
	pid_t pid;
	const char *lock_dir;  /* the rules': "" per-user runtime dir, "sidecar", or a dir */
	/* On whose behalf, inside the process, the locks are held: NULL for
	 * the process itself (the library; the session's own holds), or a
	 * token of the caller's (the seccomp supervisor's table of one
	 * covered program).  Locks of two owners exclude each other like
	 * two processes' (lock.h); lock_let_go gives back what an owner
	 * kept.  The token must stay unique while its locks are held. */
	const void *owner;
	/* 1: an append may get a temp with a hole for the target's content
	 * (record.h), because the actor fills it wherever the program needs
	 * the whole file (the library's hooks); 0: appends copy the target. */
	int sparse_appends;
	/* lock = "session": have the session's supervisor take the lock of
	 * NAME in the directory DFD and hold it for the whole process tree
	 * until COMMAND exits.  Returns 0 when it holds it, -1 with errno
	 * when it could not have it (EWOULDBLOCK after the rule's
	 * lock_timeout), or 1 when there is no session to ask: the actor
	 * then holds the lock itself, as for "process".  NULL: the actor
	 * is the supervisor, or has no session door. */
	int (*session_hold)(int dfd, const char *name, const char *display,
			    const struct rule *rule, const char *lock_dir);
	/* Is the session that holds our "session" locks still there?  1,
	 * or 0 when it is over (its supervisor has exited): the locks it
	 * held for us are gone, and are to be taken again. */
	int (*session_alive)(void);
};

#endif
