/* lockdir.h - the directory lock files live in, and whether it is safe.
 *
 * A lock directory is trusted when no other user can put a file in it
 * before us, swap it, or rename it (or any directory above it) away:
 * otherwise another user could hold our locks, or make two of our
 * processes lock two different files for one target (trust.h).  Each
 * process decides once, at its first lock, and says once what it found
 * wrong; it never fails a write for it: a lock that cannot be kept
 * safely falls back to the per-user directory, and with none, to no
 * lock (the write is still atomic, but not serialised).
 *
 * The per-user directory, first that will do:
 *   $XDG_RUNTIME_DIR/atomically   when the variable names a directory of
 *                                 ours that only we can use (mode 0700)
 *   /run/user/UID/atomically      the same directory for a process that
 *                                 has no XDG_RUNTIME_DIR (cron, CI, su)
 *   /run/atomically               root only: /run is root's
 *   /tmp/atomically-UID           when it is ours (or we make it)
 */
#ifndef ATOMICALLY_LOCKDIR_H
#define ATOMICALLY_LOCKDIR_H

/* The per-user lock directory, as a path valid for the life of the
 * process; NULL when there is none that can be trusted. */
const char *lockdir_user(void);

/* SETTING (the rules' lock_dir, a directory) when it can be trusted: a
 * directory of ours or root's, not open to others unless sticky, with
 * every directory above it the same.  Otherwise NULL (said once). */
const char *lockdir_set(const char *setting);

/* In a child after fork: a decision another thread was making is gone. */
void lockdir_after_fork(void);

#endif
