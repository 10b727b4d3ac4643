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
 */
#ifndef ATOMICALLY_ACTOR_H
#define ATOMICALLY_ACTOR_H

#include <sys/types.h>

struct actor {
	pid_t pid;
	const char *lock_dir;  /* the rules': "" per-user runtime dir, "sidecar", or a dir */
};

#endif
