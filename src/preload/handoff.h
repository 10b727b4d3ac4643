/* handoff.h - a pending file still held by other processes when the
 * process that owns it ends.
 *
 * A child that inherited a pending file's descriptor (`Popen(stdout=f)`,
 * `{ cmd & } > f`, a grandchild, a program without the library, one that
 * will be killed) writes on after its parent is gone.  The kernel
 * releases the file when the last of them lets go, and the file is
 * committed then, with everything they wrote, and not before: committed
 * at its owner's end, a half-written file was put in place, the lock was
 * let go of, and what the children wrote after went into a file that the
 * next writer could replace (and lose with it).
 *
 * The owner is ending (an exit, an exec) and cannot wait.  It starts a
 * process of the library's own, the waiter, which keeps the file's
 * descriptors (its directory, the temp, and the lock file, so that the
 * lock stays held), waits in the kernel for the last marked description
 * of the temp to go (core/holders.h), however its holder lets go (a
 * close, an exit, a death by a signal), and then commits the file with
 * the core, as an actor of its own.  The owner forgets the file; nobody
 * else commits it (a child only ever forgets), so it is committed once.
 */
#ifndef ATOMICALLY_HANDOFF_H
#define ATOMICALLY_HANDOFF_H

struct pending;

/* Hand P (owned here, held back: its record's descriptor of the temp is
 * a description of its own, holders_detach) to a waiter.  Returns 0: P
 * is the waiter's now, and the caller forgets it without letting go of
 * its lock (the lock file's description, which the waiter shares, stays
 * locked until the waiter is done).  -1 with errno when no waiter could
 * be started: P is still the caller's. */
int handoff_start(struct pending *p);

#endif
