/* tombstone.h - an unlink of a matched file, held back for a moment.
 *
 * Some programs replace a file by deleting it and creating it anew with
 * O_CREAT|O_EXCL (coreutils `install` does).  Between the two, readers
 * find no file, then a partial one.  So the unlink of a matched regular
 * file is deferred: if the process's next open for writing is that
 * exclusive creation of the same name, it becomes a temp renamed over the
 * old file, an atomic replacement; anything else (another open for
 * writing, another unlink, exit) carries the unlink out first.
 *
 * One slot per process: a second deferred unlink carries out the first.
 */
#ifndef ATOMICALLY_TOMBSTONE_H
#define ATOMICALLY_TOMBSTONE_H

#include <stdatomic.h>

extern atomic_int tombstone_active;

/* The unlink of PATH relative to DIRFD: 0 when deferred, REDIRECT_PASS
 * for the real call. */
int tombstone_unlink(int dirfd, const char *path);

/* The program opens PATH with FLAGS for writing: if it is the exclusive
 * creation of the deferred name, return 1, and the caller tries to
 * replace the file atomically, then says how that went (tombstone_settle);
 * otherwise carry the unlink out and return 0. */
int tombstone_claim(int dirfd, const char *path, int flags);

/* After a claim: REPLACED (a temp will be renamed over the file), the
 * unlink is dropped; otherwise it is carried out now, so that the
 * program's exclusive creation meets the file system it expects. */
void tombstone_settle(int replaced);

/* Carry out the deferred unlink now, if there is one (and the name still
 * is the file that was unlinked: a rename may have put another there). */
void tombstone_flush(void);

/* The program looks at PATH (stat, access, a read-only open): if it may
 * be the deferred name, carry the unlink out first, so that the program
 * sees the file gone.  Only the last component is compared: a false
 * match only carries the unlink out early. */
void tombstone_touch_slow(const char *path);
static inline void tombstone_touch(const char *path)
{
	if (atomic_load_explicit(&tombstone_active, memory_order_relaxed))
		tombstone_touch_slow(path);
}

/* In a child after fork: the deferral is the parent's; forget it. */
void tombstone_forget(void);

#endif
