/* cover.h - a static or Go program exec'd by a process of a session,
 * covered by the session's supervisor.
 *
 * The library cannot follow a process into an image it is not loaded
 * into (core/elfcheck.h: a static binary, a Go program).  Inside a
 * session, the supervisor can serve that image's calls instead, as it
 * serves a static or Go COMMAND: just before the exec, this process
 * installs the seccomp filter in itself (core/seccomp_filter.h, with
 * its exits sent: the supervisor is not its parent), sends the listener
 * to the supervisor (SESSION_COVER, preload/session.h), waits for its
 * reply, and execs.  A Go program built with cgo too: the library it
 * loads is told to stand aside in it.  Outside a session (said at info
 * level only), when the filter cannot be installed (another listener,
 * an old kernel), and for a privileged program, it runs uncovered.
 */
#ifndef ATOMICALLY_PRELOAD_COVER_H
#define ATOMICALLY_PRELOAD_COVER_H

/* Before this process (or a vfork child: nothing of the parent's is
 * changed) execs FILE (searched in $PATH when SEARCH) with the
 * environment *ENV: the connection to the supervisor, which now covers
 * the program (close-on-exec: the exec closes it), or -1 when it does
 * not.  For a Go program built with cgo, which loads the library, *ENV
 * becomes a copy built in SCRATCH (SIZE bytes) that names this process
 * in ATOMICALLY_COVERED (core/covered.h): the library stands aside in
 * it. */
int cover_before_exec(const char *file, int search, char *const **env, char *scratch,
		      size_t size);

/* The exec after cover_before_exec gave S failed: the supervisor stops
 * acting for this process (the library goes on in it); S closed.
 * Nothing for -1. */
void cover_exec_failed(int s);

#endif
