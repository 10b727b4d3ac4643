/* session.h - the session: the locks the whole tree of COMMAND shares
 * (SPEC section 5), served on a socket to every process of the tree.
 *
 * The launcher is the supervisor.  It binds the session's socket and
 * names it in the environment before COMMAND starts (session_open), so
 * that every process of the tree finds it; it serves requests once
 * COMMAND runs (session_serve), each connection on a thread of its own,
 * as a request may wait up to lock_timeout for a lock another session
 * holds; and it ends the session when COMMAND has exited (session_end):
 * the locks go with the process.
 */
#ifndef ATOMICALLY_SESSION_H
#define ATOMICALLY_SESSION_H

/* Is there a session above us already (ATOMICALLY_SESSION names one that
 * answers, and is ours)?  An atomically started inside a session joins
 * it rather than start its own: its COMMAND's processes then ask the
 * same supervisor, and the locks are the whole outer command's. */
int session_above(void);

/* Bind the session's socket and put its name in the environment; RULES:
 * the rules the tree gets (ATOMICALLY_RULES), whose commit = "session"
 * files the session keeps.  Returns 0, or -1 with errno. */
int session_open(const char *rules);

/* Serve the tree, from a thread of its own.  Returns 0, or -1 with
 * errno. */
int session_serve(void);

/* COMMAND has exited (OK: with status 0; WHY says how).  The session
 * lasts while a process of the tree still uses it (connected, or writing
 * one of its pending files: writers.h), lock_timeout at most; then
 * requests are told it is over (SESSION_ENDED), the keeper goes
 * (keeper.h), the session's pending files are committed, all or
 * nothing, or discarded (files.h), and the lock files of the locks the
 * session held are removed (still locked: the exit lets go of them).
 * Returns 0, or -1 when the commit failed. */
int session_end(int ok, const char *why);

#endif
