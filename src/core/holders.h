/* holders.h - is a pending file still open somewhere else?
 *
 * A writer's last close of a pending file is not always the end of the
 * writing: a child forked (or spawned) while the file was open holds
 * the same file description and may write for a long while yet, and a
 * shared writable mapping keeps the file description too, storing into
 * it after the close.  Committing at the writer's close would then drop
 * an unchanged temp, with every later write of the child or the
 * mapping in it, or freeze a half-written one.
 *
 * The kernel knows who holds a file description, and says so through
 * its flock locks, which belong to the description and go with its last
 * reference (a descriptor in any process, or a mapping):
 *
 *   holders_mark()     a shared flock on a description of the temp that
 *                      may outlive the writer's descriptors (before a
 *                      fork or spawn, at a shared mmap);
 *   holders_detach()   once the writer has closed its own: the record's
 *                      descriptor of the temp becomes a description of
 *                      its own, so that it is not one of the holders;
 *   holders_remain()   an exclusive flock, tried on that description:
 *                      refused while a marked description lives on;
 *   holders_wait()     the same, waited for: it is granted when the last
 *                      marked description goes, however its last holder
 *                      let go (a close, an exit, a death by a signal).
 *
 * A program that flocks such a descriptor itself converts or drops the
 * mark: the caller then cannot know, and must assume it is held.
 */
#ifndef ATOMICALLY_HOLDERS_H
#define ATOMICALLY_HOLDERS_H

struct record;

/* Mark the description of FD (a descriptor of a temp), which may
 * outlive the writer's descriptors.  0, or -1 with errno (a file system
 * without flock). */
int holders_mark(int fd);

/* Mark it again, after the program's own LOCK_UN dropped the mark: as
 * holders_mark, but a probe's exclusive lock of the instant (holders_
 * remain, holders_wait) is waited out, a few milliseconds at most. */
int holders_remark(int fd);

/* R's own descriptor of its temp becomes one of a description of its
 * own.  0, or -1 with errno (R keeps the one it had).  The caller keeps
 * everyone else from R's descriptor meanwhile (the library: its lookup
 * mutex). */
int holders_detach(struct record *r);

/* After holders_detach: 1 while a marked description of R's temp is
 * still open (in another process, or in a mapping), 0 when none is,
 * -1 with errno when it cannot be told. */
int holders_remain(const struct record *r);

/* After holders_detach: block until no marked description of R's temp
 * is open any more.  Each time the kernel grants the lock, the question
 * is asked again a moment later, without it: a program that dropped our
 * mark itself (its own flock LOCK_UN) puts it back an instant after
 * (holders_remark), and must find no lock of ours in the way.  Returns
 * 0, or -1 with errno when it cannot be told. */
int holders_wait(const struct record *r);

#endif
