/* commit.h - the end of a pending file: its temp put in the target's
 * place, or thrown away.
 *
 * The steps, each of which may fail and then leaves the target as it
 * was and the temp removed:
 *
 *   1. a write failed, or a process that shared the temp marked it
 *      failed (record_mark_failed): nothing is committed;
 *   2. the program deleted the target meanwhile: the temp goes, as the
 *      writes would have gone to a deleted file;
 *   3. nothing changed (opened without O_TRUNC, never modified; or
 *      skip_unchanged and the same bytes): the target is left as it was;
 *   4. the old file's owner, group, extended attributes and mode onto
 *      the temp (metadata.h);
 *   5. fsync or fdatasync, per durability;
 *   6. backup: the old file hard-linked to NAME+SUFFIX, atomically;
 *   7. an anonymous temp named, then renamed over the target (relative
 *      to the directory held, so that it cannot be swapped); a target
 *      that cannot be replaced (a bind mount, EXDEV, a sticky directory)
 *      goes through `fallback`;
 *   8. the directory fsynced (durability full).
 */
#ifndef ATOMICALLY_COMMIT_H
#define ATOMICALLY_COMMIT_H

struct actor;
struct record;

/* Commit R for the actor A (whose pid names the temp for the instant
 * before the rename).  Returns 0 (committed, or nothing to do), or -1
 * with errno: the file is not committed (one warning says which step
 * failed and why; the old content stays), or, after the rename, its
 * directory could not be synced.  An in-place record (a fallback at the
 * open) has nothing to commit: -1 only when a write to it failed.  R
 * keeps its lock and descriptors: record_release() lets go of them. */
int commit(const struct actor *a, struct record *r);

/* As commit, when other processes may still write the temp after it (the
 * launcher's commit of what its command handed over: the command's
 * descendants may hold it): never an append in place, whose temp then
 * goes, but the temp itself put in the target's place, where their
 * writes land. */
int commit_whole(const struct actor *a, struct record *r);

/* As commit, but a temp that is unchanged is committed too: another
 * process may still hold it and write to it (the library's exit, when a
 * child it forked may share the file). */
int commit_forced(const struct actor *a, struct record *r);

/* A session's commit (journal.h), in two parts.  commit_prepare: steps
 * 1 to 6, and the temp named beside its target (R->temp, carrying A's
 * pid); returns 0 when R is ready to be renamed into place, 1 when there
 * is nothing to commit (the temp is gone: unchanged, or deleted by the
 * program), -1 with errno when it failed (said; the temp removed).
 * commit_done: R's temp was renamed into place (journal_commit). */
int commit_prepare(const struct actor *a, struct record *r);
void commit_done(struct record *r);

/* The program syncs R's temp (fsync = "commit"): commit R now, while the
 * program keeps its descriptors of the temp, which then is the target
 * itself.  Returns 1 when committed (R is then as an in-place record: its
 * later writes go to the file itself, as unwrapped, and its end commits
 * nothing), 0 when the temp stays pending (nothing changed yet, the
 * program deleted the target, or no rename can replace it: the commit at
 * the end does what it must; FORCE: commit an unchanged temp too), -1 with errno when the commit failed (the
 * old content stays, the temp is removed, as commit). */
int commit_checkpoint(const struct actor *a, struct record *r, int force);

/* Sync FD as DURABILITY says (fsync, fdatasync, or nothing). */
int sync_durably(int fd, int durability);

#endif
