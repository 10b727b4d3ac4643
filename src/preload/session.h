/* session.h - this process's door to its session (lock = "session").
 *
 * A process of a session reaches the supervisor over one connection of
 * its own, made at its first request and kept for the life of the
 * process (a child after fork makes its own).  What happens without a
 * session (no launcher above: a bare LD_PRELOAD, `atomically --env`):
 * the process holds the lock itself, as under lock = "process", and says
 * so once, unless ATOMICALLY_SESSION is "none" (--env said it already).
 */
#ifndef ATOMICALLY_PRELOAD_SESSION_H
#define ATOMICALLY_PRELOAD_SESSION_H

struct rule;

/* The actor's session_hold (core/actor.h). */
int session_hold(int dfd, const char *name, const char *display, const struct rule *rule,
		 const char *lock_dir);

/* In a child after fork: the connection is the parent's. */
void session_after_fork(void);

#endif
