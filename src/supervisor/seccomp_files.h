/* seccomp_files.h - the pending files of a covered program.
 *
 * The seccomp door onto the core: an open for writing of a matched path,
 * stopped by the filter, is made by the core here as the library makes
 * it (redirect.h), with the supervisor as the actor (its pid in the lock
 * files and the temps): the target found, the lock taken, the temp made,
 * and a descriptor of the temp to put into the program.  A second open
 * of the same target by the program shares the temp (opened anew with
 * its own flags: O_TRUNC empties it), as the file would be.
 *
 * The temps are committed when the program has exited (it may have
 * written to them until then: the supervisor does not see its writes
 * nor its closes), and discarded when a signal killed it: a killed
 * program's half-written file never replaces the old one.
 */
#ifndef ATOMICALLY_SECCOMP_FILES_H
#define ATOMICALLY_SECCOMP_FILES_H

#include <sys/types.h>

struct seccomp_file;

/* The rules: TEXT, as ATOMICALLY_RULES gives them.  0, or -1 when TEXT
 * is malformed. */
int seccomp_files_setup(const char *text);

/* May an open for writing of PATH with FLAGS be ours?  0 when it
 * cannot: the flags never redirect, or no rule matches the path's name
 * and none needs more than the name to tell (core/match.h).  Costs no
 * system call, so that most opens that are none of ours go on in the
 * kernel without the supervisor looking at the process at all. */
int seccomp_files_may_match(const char *path, int flags);

/* An open by the program of PATH relative to the directory BASE (the
 * supervisor's descriptor of the program's cwd or dirfd), with FLAGS and
 * MODE (the program's umask applies: the caller's thread has it).
 * Returns a descriptor to put into the program, with *MADE the pending
 * file made for it (to keep once the program has it, or drop), or NULL
 * when it shares one kept already; REDIRECT_PASS (redirect.h) when the
 * open is none of ours (not matched, not a regular file, ...: the
 * kernel's call decides); or -1 with errno, for the call to fail with
 * (EWOULDBLOCK: the lock could not be had in lock_timeout). */
int seccomp_files_open(int base, const char *path, int flags, mode_t mode,
		       struct seccomp_file **made);

/* MADE (from seccomp_files_open) is in the program now: kept until the
 * end.  Or it is not (the call went away): its temp removed, its lock
 * let go of. */
void seccomp_files_keep(struct seccomp_file *made);
void seccomp_files_drop(struct seccomp_file *made);

/* The program has ended: COMMIT (it exited) or not (a signal killed it).
 * Every pending file committed (said one by one by the core), or
 * discarded, and let go of.  Returns 0, or -1 when a commit failed. */
int seccomp_files_end(int commit);

#endif
