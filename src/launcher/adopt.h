/* adopt.h - pending files handed over to the launcher.
 *
 * A wrapped program that execs the launcher hands its pending files over
 * in ATOMICALLY_PENDING, as to any image that loads the library:
 * `bash -c 'atomically cmd > f.yaml'` in a CI step after `atomically
 * --env`, a launcher started by a wrapped make.  The library stays inert
 * in the launcher (a plain process), so the launcher takes them itself,
 * with the core: it holds them and their locks while COMMAND runs, has
 * COMMAND watch their descriptors for failed writes, and commits them
 * when COMMAND is done, or when the launcher exits another way.  Without
 * this, what COMMAND wrote would go into a temp nobody commits.
 */
#ifndef ATOMICALLY_ADOPT_H
#define ATOMICALLY_ADOPT_H

/* Take what the image before this one handed over to this process, and
 * remove ATOMICALLY_PENDING from the environment.  First thing in main:
 * the files are committed at exit, however the launcher exits. */
void adopt_handover(void);

/* In the child, before it execs COMMAND: ATOMICALLY_PENDING with watch
 * entries for the adopted files' descriptors, for the child's pid, so
 * that COMMAND's library marks a failed write (core/record.h). */
void adopt_pass_watch(void);

/* Commit every adopted file, stdio flushed first (the launcher's own
 * output may be one).  Returns STATUS, or the handing rules'
 * failure_exit_code instead of 0 when a commit failed. */
int adopt_commit_all(int status);

#endif
