/* sessionview.h - what a process of a session sees of the files the
 * session keeps pending (commit = "session").
 *
 * Inside the session the pending file is the file: another process's
 * `echo 1 > n` is read back by `cat n`, and `stat n` shows its size.  A
 * read-only open or a stat by name of a path whose rule says commit =
 * "session" asks the supervisor for the path's pending file; when there
 * is one, the open reads the temp itself (its own description of it),
 * and the stat shows the temp as the file (record_view).  Writes go
 * through pending.c (the supervisor makes or shares the temp).
 */
#ifndef ATOMICALLY_SESSIONVIEW_H
#define ATOMICALLY_SESSIONVIEW_H

#include <sys/stat.h>

/* A read-only open of PATH (relative to DIRFD) with FLAGS: a descriptor
 * of the session's pending file, -1 with errno, or PENDING_PASS when the
 * session has none (or no rule of the path says commit = "session"). */
int sessionview_read(int dirfd, const char *path, int flags);

/* The stat family by name: *ST, the session's pending file as the file;
 * 0, -1 with errno, or PENDING_PASS (as above). */
int sessionview_stat(int dirfd, const char *path, int nofollow, struct stat *st);

#endif
