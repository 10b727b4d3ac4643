/* seccomp_cover.h - a COMMAND the preload cannot reach, covered by the
 * supervisor: from before its fork to its end.
 *
 * The launcher, seeing that COMMAND is a static or a Go program
 * (core/elfcheck.h), stays above it as the supervisor of its calls,
 * with or without a session:
 *
 *   seccomp_cover_prepare()  in the launcher, before the fork: the
 *                            socket pair the listener will cross
 *   seccomp_cover_child()    in COMMAND's process, just before its exec:
 *                            the filter installed (seccomp_filter.h), its
 *                            listener sent up
 *   seccomp_cover_start()    in the launcher, after the fork: the listener
 *                            received and served (seccomp_notify.h); or
 *                            COMMAND runs uncovered, and a warning says why
 *   seccomp_cover_end()      in the launcher, once COMMAND's wait status
 *                            is known: its files committed or discarded
 */
#ifndef ATOMICALLY_SECCOMP_COVER_H
#define ATOMICALLY_SECCOMP_COVER_H

#include <sys/types.h>

/* RULES: the rules the tree gets (ATOMICALLY_RULES).  0, or -1 with
 * errno (COMMAND then runs uncovered: the caller says so). */
int seccomp_cover_prepare(const char *rules);

/* In COMMAND's process, after the fork, before the exec.  Without the
 * supervisor to send the listener to, the process exits (125): every
 * open for writing would fail in it. */
void seccomp_cover_child(void);

/* COMMAND (pid COMMAND, named NAME; WHY: why no preload reaches it) has
 * been forked.  Says on stderr (unless QUIET) what is covered, or why
 * nothing is.  Returns 1 when covered, 0 when not. */
int seccomp_cover_start(pid_t command, const char *name, const char *why, int quiet);

/* COMMAND ended with the wait STATUS (-1: unknown, its keeper died):
 * its pending files committed when it exited, discarded when a signal
 * killed it.  Returns 0, or -1 when a commit failed. */
int seccomp_cover_end(int status);

#endif
