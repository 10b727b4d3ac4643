/* rename.h - a program's own rename onto a matched path.
 *
 * Programs that make their own temp and rename it (sed -i, perl -i,
 * editors, package managers) get from the core what a commit would have
 * given them: the new content synced before its name is, the target's
 * lock held across the rename, the directory synced after.
 */
#ifndef ATOMICALLY_RENAME_H
#define ATOMICALLY_RENAME_H

struct actor;
struct rule;
struct target;

/* Rename FROM (relative to FROMFD) onto TO (relative to TOFD) with the
 * renameat2 FLAGS, TO being the target T (found with nofollow: a final
 * symlink is replaced, not followed) under RULE, for the actor A; DISPLAY
 * names it in messages.  Returns the rename's result (-1 with errno; a
 * lock that could not be had: EWOULDBLOCK, and nothing is renamed).
 * T->dfd stays the caller's. */
int guarded_rename(const struct actor *a, const struct rule *rule, const struct target *t,
		   const char *display, int fromfd, const char *from, int tofd, const char *to,
		   unsigned flags);

#endif
