/* tally.h - the run's account, for the summary a person debugging a CI
 * job reads at its end (`atomically -v`, or `--summary`).
 *
 * The launcher names a file in ATOMICALLY_TALLY (in its per-user lock
 * directory, made by it, mode 0600); every process of the run that has
 * the variable, the launcher's own supervisor included, appends one line
 * per event to it, and the launcher adds them up when the command ends.
 * Without the variable nothing is done: one load and one branch.  The
 * library reads the variable at its start, the launcher sets it.
 *
 * A line: "KIND MS PID PATH\n", one write on an O_APPEND descriptor, so
 * lines of different processes never mix.  MS is a lock's wait in
 * milliseconds (0 for the other kinds).  No allocation, no stdio, no
 * lock: safe in a signal handler and before the program is ready.
 */
#ifndef ATOMICALLY_TALLY_H
#define ATOMICALLY_TALLY_H

#define TALLY_ENV "ATOMICALLY_TALLY"

enum tally_kind {
	TALLY_COMMITTED = 'C',  /* renamed over the target, or appended in place */
	TALLY_UNCHANGED = 'U',  /* nothing to commit: left as it was */
	TALLY_DISCARDED = 'D',  /* not committed: a step failed, the old content kept */
	TALLY_DELETED   = 'X',  /* not committed: the program deleted the file */
	TALLY_INPLACE   = 'I',  /* written in place: no temp, or no rename (fallback) */
	TALLY_WAITED    = 'W',  /* a lock had after waiting MS */
	TALLY_GAVE_UP   = 'G',  /* a lock not had within lock_timeout (MS waited) */
};

/* FILE (ATOMICALLY_TALLY's value) is where this process's events go:
 * copied, when it is an absolute path.  Not called: nothing is noted. */
void tally_setup(const char *file);

/* Note one event about PATH.  MS: see above.  Keeps errno. */
void tally_note(enum tally_kind kind, const char *path, double seconds);

/* Is the run being tallied?  For a caller that must measure first. */
int tally_wanted(void);

#endif
