/* pending.h - this process's pending files: redirected at open,
 * committed when the process lets go of them.
 *
 * What a pending file is, and how it is made and committed, is the
 * core's (core/record.h, redirect.h, commit.h).  This module is what a
 * process adds: which of its descriptors stand for the file (fdtable.h),
 * which process owns it (after fork, only the one that opened it
 * commits), the files closed but waiting for the exit (commit = "exit"),
 * the lookups by name (read-your-writes, an unlink while pending), and
 * the memory of the records (a pool: no allocator).
 *
 * Life of a pending file in the process:
 *   pending_open()    rule, redirect_open(), recorded in the fd table
 *   dup and friends   pending_hold(): one more descriptor stands for it
 *   close and friends pending_release(): one less; the last one commits
 *                     (in the owning process) or just forgets (in a child)
 *   held back         the last one closed while another process (a child
 *                     that inherited a descriptor) or a shared mapping
 *                     still holds the file: it stays open, under one
 *                     descriptor of the library's, until they let go
 *                     (pending_settle_held) or the process ends
 */
#ifndef ATOMICALLY_PENDING_H
#define ATOMICALLY_PENDING_H

#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/record.h"
#include "core/redirect.h"

/* pending.shared: whether a description of the file may be held by
 * another process or a mapping (holders.h).  At the exit this process's
 * own descriptors are still open, and the kernel cannot tell them from a
 * child's: a marked file is then committed even when unchanged. */
enum { SHARED_NO, SHARED_MARKED, SHARED_EXITING };

/* The answer when the open is none of ours: make the real call. */
#define PENDING_PASS REDIRECT_PASS

struct pending {
	struct record rec;         /* the file, as the core knows it */
	atomic_int aliases;        /* this process's descriptors that stand for it */
	pid_t owner;               /* only the process that opened it commits; 0: watch only */
	dev_t dir_dev;             /* the target's directory, to tell the file */
	ino_t dir_ino;             /* by without a system call (pending_is) */
	unsigned char live;        /* among this process's pending files (the live list) */
	unsigned char fresh;       /* made anew after the program deleted the file */
	atomic_int published;      /* complete, in the fd table: others may share it */
	atomic_int deferred;       /* commit = "exit": closed, waiting for the exit */
	atomic_int committed;      /* committed while open (an fsync): the file itself now */
	atomic_int committing;     /* its commit is under way (finish): an unlink waits */
	atomic_int shared;         /* SHARED_*: a description of it may outlive ours */
	unsigned char detached;    /* rec.tfd is a description of our own */
	unsigned char mapped;      /* this process mapped it shared (held.c) */
	struct pending *next;      /* the list of those */
	struct pending *live_next; /* the live list (pending.c) */
};

/* A pending file with an empty record, of our own memory (a pool of
 * mmap'd records: no allocator), or NULL; and its release, which lets go
 * of what its record holds (lock, directory, temp). */
struct pending *pending_new(void);
void pending_free(struct pending *p);

/* The open of PATH (relative to DIRFD) with FLAGS and MODE: returns the
 * descriptor of the temp (or of the target itself, for an in-place
 * fallback), -1 with errno when the open must fail, or PENDING_PASS when
 * the caller should make the real call. */
int pending_open(int dirfd, const char *path, int flags, mode_t mode);

/* Would pending_open consider an open with FLAGS at all?  Cheap: the
 * hooks ask this before anything else. */
int pending_wants(int flags);

/* The program touches PATH (relative to DIRFD) without writing it: a
 * read-only open, stat, access.  Under lock = "process" (or "session")
 * the process takes the lock of the path now and keeps it until it
 * exits, so that what it reads stays true until it writes.  Returns 0, or
 * -1 with errno (EWOULDBLOCK) when the call must fail.  Cheap when no
 * rule has such a scope. */
int pending_touch(int dirfd, const char *path);

/* P, just opened or adopted across exec, is this process's: counted
 * among the files it can read back (pending_read). */
void pending_own(struct pending *p);

/* One more descriptor, FD, stands for P. */
void pending_hold(struct pending *p, int fd);

/* One descriptor of P went away; CLOSE_ERRNO is the errno of its real
 * close (or fclose), 0 if it succeeded.  Commits when it was the last.
 * Returns 0, or -1 with errno when the commit failed.  Never called by a
 * vfork child (the callers make sure getpid() == lib.pid). */
int pending_release(struct pending *p, int close_errno);

/* A write to P through descriptor FD (-1: none at hand) failed with ERR
 * (ENOSPC, EIO, ...): what it holds is not what the program meant to
 * write, so it will not be committed.  A process that shares the file
 * without owning it marks the temp itself (record_mark_failed), for the
 * owner's commit to find. */
void pending_fail(struct pending *p, int fd, int err);

/* A write through descriptor FD succeeded: if FD is a pending file's,
 * it is no longer unmodified.  One atomic load when nothing is pending. */
void pending_written(int fd);

/* FD is about to be written where an append's temp may still hold its
 * hole (a truncation, an allocation, a write at an offset): the hole is
 * filled first (record_fill), so that the temp is the whole file.  One
 * atomic load when nothing is pending. */
void pending_whole(int fd);

/* A pending file shared, not owned, by this process (after exec): its
 * descriptors only watch for failed writes.  Returns 0 or -1. */
int pending_watch(const int *fds, int nfds);

/* The descriptor pending_open returned for P is given up at once (an
 * fdopen that failed): one alias less.  When it was P's only one (P was
 * made for that open), P goes without a commit: the temp removed, the
 * lock let go of; when P is shared, the others keep it. */
void pending_abandon(struct pending *p);

/* As pending_release, for FD, a descriptor that stays open until the
 * exit or an exec that closes it.  When a child may share the file, FD
 * first becomes a description of its own (held_unshare), so that the
 * last release can ask the kernel whether anyone else still holds the
 * file; when that cannot be done, the file is committed as it stands,
 * even unchanged (SHARED_EXITING). */
int pending_release_at_end(struct pending *p, int fd);

/* P, which nobody else can see yet (adopted across exec, not owned),
 * goes without a commit. */
void pending_discard(struct pending *p);

/* How many commits failed in this process (failure_exit_code). */
extern atomic_int pending_failures;

/* At exit (and before an exec): commit every pending file of this
 * process, those still open, those closed under commit = "exit", and
 * those held back.  A file another process still holds is handed to a
 * waiter (handoff.h), which commits it when the last holder lets go; only
 * when no waiter can be had, or this process maps it itself, is it
 * committed as it stands, the later writes going to the file itself. */
void pending_commit_all(void);

/* In a child after fork: the list of closed files is the parent's duty
 * (its entries are freed, not committed), and its mutex starts afresh. */
void pending_after_fork_child(void);

/* Before an exec: commit the files closed under commit = "exit", and
 * those held back (the image that closed them goes away). */
void pending_commit_deferred(void);

/* The program unlinks PATH (relative to DIRFD): a file of this process
 * pending at that name is not to be committed, since unwrapped its writes
 * would have gone to a deleted file.  Returns how many were pending there
 * and are no longer: when the name is not on disk (a file the program
 * made, not committed yet), the unlink's ENOENT is not the program's.
 * Cheap when nothing is pending. */
int pending_unlinked(int dirfd, const char *path);

/* The program unlinks PATH (relative to DIRFD): under commit = "session"
 * (and a session to ask), the unlink is the session's, pending like its
 * writes: 0, or -1 with errno.  Else PENDING_PASS. */
int pending_session_unlink(int dirfd, const char *path);

/* The program opens PATH (relative to DIRFD) for reading with FLAGS: if
 * this process has a write to it pending, a descriptor that reads what it
 * has written so far (read-your-writes); else PENDING_PASS.  One atomic
 * load when nothing is pending. */
int pending_read(int dirfd, const char *path, int flags);

/* The stat family by name: when PATH (relative to DIRFD; NOFOLLOW: a
 * final symlink is the name itself) is a file this process is writing,
 * *ST gets the pending file as the program must see it (record_view) and
 * the result is 0 (or -1 with errno); else PENDING_PASS. */
int pending_stat_at(int dirfd, const char *path, int nofollow, struct stat *st);

/* The fstat family: *ST, what the kernel said of descriptor FD, becomes
 * the view of the pending file FD stands for, if any.  One load when FD
 * stands for none. */
void pending_fstat_view(int fd, struct stat *st);

/* A change by name (chmod, chown, the utime family, truncate): when PATH
 * is a file this process is writing, CHANGE(temp, view, ARG) makes it on
 * the temp (VIEW: what the program sees of it, for the permission
 * checks), and the file counts as modified; returns CHANGE's result.
 * Else PENDING_PASS. */
int pending_change_at(int dirfd, const char *path, int nofollow,
		      int (*change)(int fd, const struct stat *view, const void *arg),
		      const void *arg);

/* Is any file on this process's live list (one it opened or adopted
 * and has not let go of)?  One load. */
int pending_any_live(void);

/* EACH(P, FD, ARG) for each descriptor FD in [FROM, TO] that stands for
 * a pending file P, with the lookup mutex held: another thread may close
 * FD meanwhile, but P is not freed before EACH returns.  EACH takes no
 * lock of this module.  Cheap when nothing is pending. */
void pending_each_fd(int from, int to, void (*each)(struct pending *p, int fd, int arg), int arg);

/* A child was reaped, or a mapping went: the files held back for them
 * (held.h) that nobody holds any more are committed.  One load when none
 * is held back. */
void pending_settle_held(void);

/* The program's fsync (or fdatasync) of FD: under fsync = "commit", the
 * pending file FD stands for is committed now (commit_checkpoint), and
 * its descriptors write the committed file from then on.  0, or -1 with
 * errno when that commit failed. */
int pending_sync(int fd);

/* The program renames or links PATH (relative to DIRFD) away: a pending
 * file there is committed first, so that the name moves the file with
 * what the program wrote (its descriptors then write that file). */
void pending_settle_at(int dirfd, const char *path);

/* The program renames FROM (relative to FROMFD) onto TO (relative to
 * TOFD) with renameat2 FLAGS.  When TO is matched: sync FROM, hold TO's
 * lock across the rename, sync TO's directory after (core/rename.h);
 * returns the rename's result.  PENDING_PASS when TO is none of ours. */
int pending_rename(int fromfd, const char *from, int tofd, const char *to, unsigned int flags);

#endif
