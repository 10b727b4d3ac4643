/* writers.h - does a process of the session's tree still write one of
 * the session's pending files?
 *
 * COMMAND may be gone while a process it started still holds a pending
 * file open for writing: `Popen(cmd, stdout=f)` and `cmd >> f &`, whose
 * child never asks the supervisor anything, write into the session's
 * temp through a descriptor they inherited.  Committing then would
 * freeze the file without what they write later.  The kernel shows who
 * holds what: each process's descriptors (/proc/PID/fd, whose links
 * lead to the files themselves, and /proc/PID/fdinfo, their access
 * mode).  Only processes of the tree are looked at (the keeper keeps
 * the orphans in it), and only at the session's end.
 */
#ifndef ATOMICALLY_WRITERS_H
#define ATOMICALLY_WRITERS_H

#include <stddef.h>
#include <sys/types.h>

/* A pending file, as the kernel knows it. */
struct file_id {
	dev_t dev;
	ino_t ino;
};

/* The pid of a process below TOP that holds one of the N files IDS open
 * for writing; 0 when none does.  Processes we may not look into (of
 * another user) are passed over. */
pid_t writers_find(pid_t top, const struct file_id *ids, size_t n);

#endif
