/* journal.h - a session's commit: all of its files, or none of them,
 * even across a crash (SPEC section 5).
 *
 * The temps are made ready first by the caller (commit_prepare: synced,
 * named beside their targets, the names carrying the committer's pid).
 * Then, in this order:
 *
 *   1. every directory that holds a temp is synced (durable: the temps'
 *      names survive a power loss);
 *   2. in every directory but the first, a secondary journal that names
 *      the primary: written, synced, renamed into place, directory synced;
 *   3. the primary journal, in the first directory, listing every rename:
 *      written, synced, renamed into place, directory synced.  This is
 *      the commit point: from here on the commit is completed, by us or,
 *      after a crash, by whoever finds a journal;
 *   4. every temp renamed over its target (or the target removed, for a
 *      file the program deleted); every directory synced;
 *   5. the secondaries removed, then the primary.
 *
 * A journal is .atomically-journal.PID.RANDOM, PID the committer's.
 * Found later with PID dead (journal_settle: the sweep of dead writers'
 * temps, `atomically --clean`): a primary is completed (step 4 again:
 * temps already renamed are gone, so it is done only once per file),
 * then removed with its secondaries; a secondary whose primary does not
 * exist marks a commit that never reached its point: it is removed, and
 * the temps go as any dead writer's.
 */
#ifndef ATOMICALLY_JOURNAL_H
#define ATOMICALLY_JOURNAL_H

#include <stddef.h>
#include <sys/types.h>

struct journal_file {
	int dfd;              /* the target's directory */
	const char *dir;      /* its absolute path, for recovery */
	const char *temp;     /* the temp's name in it; NULL: NAME is removed */
	const char *name;     /* the target's name in it */
};

/* Commit the N FILES as above for the committer OWNER; DURABLE: sync
 * (durability "full").  Returns 0 when every rename was made; -1 with
 * errno when the journal could not be written (nothing was renamed: the
 * caller discards the temps); 1 when a rename or a sync failed after the
 * commit point (the journal stays, for a later journal_settle; each
 * failure said). */
int journal_commit(pid_t owner, const struct journal_file *files, size_t n, int durable);

/* Settle the journals in the directory DFD left by PID (any dead
 * process's when PID is 0) as above.  Returns how many were found, or
 * -1 with errno when the directory cannot be read. */
int journal_settle(int dfd, int pid);

/* For a report (`atomically --clean -n`): did the journal NAME in DFD
 * reach its commit point?  1: a settle completes it (its temps are
 * renamed into place); 0: a settle drops it (its temps go as any dead
 * writer's); -1: it cannot be read as a journal of ours. */
int journal_reached(int dfd, const char *name);

/* Is ENTRY a journal's name?  Its committer's pid, or -1. */
int journal_owner(const char *entry);

#endif
