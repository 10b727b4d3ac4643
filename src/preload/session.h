/* session.h - this process's door to its session.
 *
 * A process of a session reaches the supervisor over one connection of
 * its own, made at its first request and kept for the life of the
 * process (a child after fork makes its own).  Two uses:
 *
 *   lock = "session"     session_hold: the supervisor takes the lock and
 *                        holds it for the whole tree (core/actor.h);
 *   commit = "session"   session_file_*: the supervisor keeps the pending
 *                        file of each path the tree writes, one temp per
 *                        path that every process of the tree opens, reads
 *                        and stats as the file itself, and commits them
 *                        all when COMMAND exits 0.
 *
 * What happens without a session (no launcher above: a bare LD_PRELOAD,
 * `atomically --env`): the process holds the lock itself, as under
 * lock = "process", and commits its own files at its exit, as under
 * commit = "exit"; it says so once, unless ATOMICALLY_SESSION is "none"
 * (--env said it already).
 */
#ifndef ATOMICALLY_PRELOAD_SESSION_H
#define ATOMICALLY_PRELOAD_SESSION_H

#include <sys/types.h>

#include "core/session_wire.h"

struct rule;

/* The actor's session_hold (core/actor.h). */
int session_hold(int dfd, const char *name, const char *display, const struct rule *rule,
		 const char *lock_dir);

/* Is there a session to ask?  1: yes; 0: none (said once): the process
 * does it itself; -1: the session was there and is gone: the files it
 * keeps are not to be written (their opens fail with EIO). */
int session_present(void);

/* SESSION_OPEN and SESSION_LOOKUP of NAME in DFD (DISPLAY: its absolute
 * path), as session_wire.h says; REP (memory of the caller's) gets the
 * reply, FDS the target's directory and the temp (-1 when none came).
 * Returns REP->status (0, 1, -1 with errno), or 1 when the session cannot
 * be asked. */
int session_file_open(int dfd, const char *name, const char *display, int flags, mode_t mode,
		      struct session_file_reply *rep, int fds[2]);
int session_file_lookup(int dfd, const char *name, const char *display,
			struct session_file_reply *rep, int fds[2]);

/* SESSION_RENAME: FROM in FROMFD onto NAME in DFD, with the renameat2
 * FLAGS; FROM_DISPLAY: the source's absolute path when a session rule
 * keeps it (a rename away), else "".  0, -1 with errno, or 1 when it is
 * not the session's (the caller renames). */
int session_file_rename(int fromfd, const char *from, const char *from_display, int dfd,
			const char *name, const char *display, unsigned flags);

/* SESSION_UNLINK: NAME in DFD.  0, -1 with errno, or 1 when it is not the
 * session's (the caller unlinks). */
int session_file_unlink(int dfd, const char *name, const char *display);

/* The actor's session_alive (core/actor.h): is the session still there?
 * One look at this process's connection (made if there is none), which
 * only the supervisor's exit closes. */
int session_alive(void);

/* This process's connection to its session, or -1 (none made yet). */
int session_socket(void);

/* SESSION_LIST of the directory DFD, from the name of index FROM on;
 * REP (memory of the caller's) gets the reply.  0, -1 with errno, or 1
 * when the session cannot be asked (the caller lists the disk). */
int session_list(int dfd, unsigned from, struct session_list_reply *rep);

/* A static or Go program this process is about to exec (preload/cover.h),
 * on a connection of its own: the exec may be a vfork child's, which
 * shares the parent's memory and must leave its connection alone.
 * session_cover_connect: the connection to the session, or -1 when there
 * is none to reach; made before the filter is installed, as nothing may
 * wait on the way afterwards.  session_cover: LISTENER, the filter's,
 * sent on S with SESSION_COVER (WATCHED: its range's first number;
 * READS: it sends the looks; NAME: the program); 0 when the supervisor
 * serves it and acts for the program, 1 when it serves it but does not
 * act (other rules, the session over: the program runs uncovered), -1
 * when it was not delivered or the supervisor could not serve it (the
 * filter then has nobody to answer it).  Logs nothing, opens nothing.
 * session_uncover: the exec failed (SESSION_UNCOVER on S). */
int session_cover_connect(void);
int session_cover(int s, int listener, int watched, int reads, const char *name);
void session_uncover(int s);

/* In a child after fork: the connection is the parent's. */
void session_after_fork(void);

#endif
