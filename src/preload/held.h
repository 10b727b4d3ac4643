/* held.h - pending files that another process, or a mapping, may still
 * write after this process's last descriptor of them is gone.
 *
 * A child forked (or spawned) while a file was pending inherits its
 * descriptor, and a shared mapping keeps its file description: both may
 * write after the close.  So the descriptions of the pending files are
 * marked (core/holders.h) before such a child is made and when a pending
 * descriptor is mapped; at its last close pending.c asks the kernel
 * whether a marked description lives on, and if so adds the file here,
 * held back under one hold of the library's, until whoever holds it lets
 * go (a child reaped, a mapping unmapped) or the process ends.
 *
 * This module keeps the marks and the list; what a held file's end means
 * (its commit) is pending.c's.
 */
#ifndef ATOMICALLY_HELD_H
#define ATOMICALLY_HELD_H

struct pending;

/* A process is about to be made that inherits this one's descriptors:
 * mark the description of every pending file.  One load when nothing is
 * pending. */
void held_mark_all(void);

/* The program maps FD with FLAGS: a shared mapping of a pending file
 * marks its description. */
void held_mapped(int fd, int flags);

/* The program flocked FD with OP: a LOCK_UN dropped the mark of a pending
 * file's description (perhaps made by another process: a parent), which
 * is put back. */
void held_flocked(int fd, int op);

/* This process ends (an exit, an exec that closes FD) with FD, one of
 * the descriptors that stand for P, still open: it becomes a
 * description of the temp of its own (same access, status flags and
 * offset), so that the mark, which stays on the description a child may
 * share, tells of the others alone.  0, or -1 with errno (the process
 * then cannot tell its own from the others'); the caller keeps other
 * threads from P's record meanwhile. */
int held_unshare(struct pending *p, int fd);

/* P's last descriptor here is gone while another holder lives on: it
 * joins the list, held once more (P->aliases = 1), so that a new open of
 * it in this process shares it again. */
void held_add(struct pending *p);

/* Is any file held back?  One load. */
int held_any(void);

/* Take out of the list the files that nobody else holds any more (FINAL:
 * all of them); returns them, linked through next. */
struct pending *held_take(int final);

/* In a child after fork: the list is the parent's. */
void held_after_fork_child(void);

#endif
