/* tempfile.h - the temp a pending file is written into.
 *
 * Where the file system allows it, the temp is anonymous (O_TMPFILE): it
 * has no name until the commit, so a writer killed before it commits
 * leaves nothing behind (the kernel frees an unlinked inode with its last
 * descriptor).  At commit it is linked under a name for the instant
 * before the rename over the target.
 *
 * Elsewhere (a file system without O_TMPFILE, a process without /proc) it
 * is named from the start.  Names are
 *
 *   .NAME.atomically.PID.RANDOM
 *
 * with the owner's pid, so that the next writer of NAME (temp_sweep,
 * under the lock) and `atomically --clean` can tell a dead writer's
 * leftover from a live writer's temp (tempname.h).
 */
#ifndef ATOMICALLY_TEMPFILE_H
#define ATOMICALLY_TEMPFILE_H

#include <limits.h>
#include <sys/types.h>

/* OWNER, everywhere below: the process that will commit the temp, whose
 * pid a named temp carries (the writer itself; a supervisor that commits
 * for others names itself). */

/* Make the temp of the file NAME in the directory DFD, opened with FLAGS
 * (access mode and status flags) and created with MODE.  TEMP (NAME_MAX+1
 * bytes) gets the temp's name, or "" when it is anonymous.  Returns the
 * descriptor, or -1 with errno (EACCES, EROFS, ... as the open gave it). */
int temp_open(pid_t owner, int dfd, const char *name, int flags, mode_t mode, char *temp);

/* Give the anonymous temp FD a name beside NAME in DFD, into TEMP.
 * Returns 0, or -1 with errno. */
int temp_link(pid_t owner, int fd, int dfd, const char *name, char *temp);

/* Remove the temps of NAME in DFD whose owners are dead, except OWNER's;
 * DISPLAY names the file in messages.  Returns how many temps of NAME
 * remain, or -1 with errno when the directory cannot be read.  Allocates
 * nothing. */
int temp_sweep(pid_t owner, int dfd, const char *name, const char *display);

/* A second name for the file FROM in DFD: a temp of NAME, into TEMP
 * (the backup's first step).  Returns 0, or -1 with errno. */
int temp_link_name(pid_t owner, int dfd, const char *from, const char *name, char *temp);

/* The named temp TEMP of NAME in DFD changes hands: renamed to carry the
 * pid of its new OWNER, who will commit it (a process that outlives the
 * writer: the library's waiter, later the supervisor), so that a sweep
 * or `atomically --clean` does not take it for the leftover of a dead
 * writer.  TEMP gets the new name.  Returns 0, or -1 with errno (TEMP
 * unchanged). */
int temp_rename_owner(pid_t owner, int dfd, const char *name, char *temp);

/* Move the file FROM (in FROMFD) to a temp of NAME in DFD, into TEMP:
 * the program's own file, renamed onto a path a session keeps pending,
 * waits there for the session's commit.  Never over an existing name.
 * Returns 0, or -1 with errno (EXDEV: another file system). */
int temp_rename_in(pid_t owner, int fromfd, const char *from, int dfd, const char *name,
		   char *temp);

#endif
