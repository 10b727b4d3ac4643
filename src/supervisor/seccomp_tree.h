/* seccomp_tree.h - the static and Go programs the session's tree execs,
 * covered by the supervisor.
 *
 * The library in a process of the session sees, at its exec, that the
 * new image is one it cannot reach (core/elfcheck.h).  It installs the
 * seccomp filter in itself, sends its listener over its connection
 * (SESSION_COVER, core/session_wire.h), waits for the reply, and execs:
 * the program's calls are served here as COMMAND's are
 * (seccomp_notify.h), one seccomp_program each.  The supervisor is not
 * its parent and cannot wait for it: its filter also sends its exits, so
 * that exit_group commits its pending files before the process goes
 * (a normal end), while a listener that hangs up without one (a signal
 * killed it) discards them.
 */
#ifndef ATOMICALLY_SECCOMP_TREE_H
#define ATOMICALLY_SECCOMP_TREE_H

#include <stdint.h>
#include <sys/types.h>

/* The rules the tree gets (ATOMICALLY_RULES).  0, or -1 when they do not
 * decode. */
int seccomp_tree_setup(const char *rules);

/* SESSION_COVER from the process PID with rules RULES (their id): serve
 * LISTENER (a copy is taken) for it, whose filter watches the range from
 * WATCHED; NAME names the program; ENDED: the session is over.  0; 1
 * when served without acting for it (other rules, or ENDED: a lingering
 * process of ours answers it after our exit); or -1 with errno (not
 * served). */
int seccomp_tree_cover(pid_t pid, uint64_t rules, int listener, int watched, const char *name,
		       int ended);

/* SESSION_UNCOVER from PID: its exec failed; every call of its filter
 * goes on in the kernel from now on. */
void seccomp_tree_uncover(pid_t pid);

/* A covered program of the tree still running (its files may still be
 * committed), or 0: the session lasts while one is (session.h). */
pid_t seccomp_tree_live(void);

/* The session ends: a program still running is let go of (its pending
 * files discarded, said), and its filter answered by a lingering process
 * of ours until no process is left under it. */
void seccomp_tree_end(void);

#endif
