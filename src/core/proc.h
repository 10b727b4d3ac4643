/* proc.h - what /proc says of another process: its parent, its
 * ancestors, its command.
 *
 * Used by the supervisor (its peers are of its tree; the keeper finds
 * its children; the end of a session names who still uses it) and by
 * the library (a session that is gone was killed while its keeper is
 * still our ancestor, and ended otherwise; a lock's holder is named by
 * its command).  By the core's system calls: the library may ask from
 * any hook.
 */
#ifndef ATOMICALLY_PROC_H
#define ATOMICALLY_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* The parent of process PID, or -1 when it cannot be told (gone). */
pid_t proc_parent(pid_t pid);

/* When PID started (clock ticks after boot): with the pid, it names a
 * process that a reused pid cannot pass for.  -1 when it cannot be
 * told. */
long long proc_start_time(pid_t pid);

/* Is TOP an ancestor of PID (its parent, its parent's parent, ...)? */
int proc_descends(pid_t pid, pid_t top);

/* PID's command line, arguments joined by spaces and cut to fit, into
 * OUT (a log escapes the line); "" when it cannot be read (gone, or not
 * ours to see). */
void proc_command(pid_t pid, char *out, size_t size);

#endif
