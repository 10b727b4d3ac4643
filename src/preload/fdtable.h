/* fdtable.h - which descriptors stand for a pending file.
 *
 * A flat array indexed by descriptor number, reserved once (virtual
 * memory only, touched pages only) the first time a matched file is
 * opened.  Lookups and removals are single atomic operations, so that
 * close(), the hottest hook, costs one load when the process has no
 * pending file, and a close() in a signal handler never waits.
 */
#ifndef ATOMICALLY_FDTABLE_H
#define ATOMICALLY_FDTABLE_H

struct pending;

/* The pending file FD stands for, or NULL. */
struct pending *fdtable_get(int fd);

/* Record that FD stands for P.  Returns 0, or -1 when FD is beyond what
 * the table can hold (or its memory cannot be had). */
int fdtable_set(int fd, struct pending *p);

/* Forget FD and return what it stood for (NULL if nothing): atomic, so
 * that of two threads closing one descriptor only one gets the file. */
struct pending *fdtable_take(int fd);

/* The highest descriptor ever recorded, for scans (close_range, exit). */
int fdtable_max(void);

/* In a child after fork: another thread may have held the table's mutex
 * at the fork, and only the forking thread lives on. */
void fdtable_after_fork_child(void);

#endif
