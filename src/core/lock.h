/* lock.h - advisory locks on stable lock files.
 *
 * The lock of a target is an open-file-description lock (F_OFD_SETLK) on
 * a lock file that is never the target (the commit's rename replaces the
 * target's inode).  Its last holder removes it while still holding it;
 * so that two writers never lock two different files for one target, a
 * writer that gets a lock checks that the name still leads to the file
 * it locked, and starts over when it does not.  Lock files are only
 * used when no other user can have made them (trust.h, lockdir.h).
 * Locks are counted inside the process, so a second open of the same
 * file never waits for the first.
 */
#ifndef ATOMICALLY_LOCK_H
#define ATOMICALLY_LOCK_H

#include <sys/stat.h>

struct actor;
struct rule;
struct lock;

/* The table is the process's: one entry per lock file it has open, keyed
 * by the target's directory and name, whoever in the process asked
 * (threads, or the processes a supervisor acts for).
 *
 * Take the lock of the file NAME in the directory DFD (whose stat is
 * DIR_ST) for the actor A (its pid goes into the lock file; its lock_dir
 * says where the lock file is), per the scope and timeout of RULE;
 * DISPLAY names the file in messages.  TEMPS: the caller is about to make a temp of it, counted
 * (see lock_count_temps) from now until lock_release gives it back; a
 * lock file locked anew gets the mark in the same write as the pid, and
 * the temp needs no counting of its own (one table operation less per
 * file, and one write).  Returns 0 with
 * *OUT set (NULL when the scope is "none"), or -1 with errno: EWOULDBLOCK
 * when the lock stayed busy for lock_timeout seconds, or why the lock
 * file could not be opened. */
int lock_take(const struct actor *a, const struct rule *rule, int dfd, const struct stat *dir_st,
	      const char *name, const char *display, int temps, struct lock **out);

/* lock = "process": take the lock of NAME in DFD (as lock_take) and keep
 * it until the process exits; a process that holds it already does not
 * wait.  Returns 0, or -1 with errno (EWOULDBLOCK after lock_timeout). */
int lock_hold(const struct actor *a, const struct rule *rule, int dfd, const struct stat *dir_st,
	      const char *name, const char *display);

/* Give back one count of L (NULL is fine): the last one unlocks. */
void lock_drop(struct lock *l);

/* lock_drop, and TEMPS temps counted by lock_take given back, for a
 * caller that has blocked every signal already (record_release_nosig,
 * under a mutex of the caller's): the table's mutex is then taken
 * without blocking them again. */
void lock_release(struct lock *l, int temps);

/* Named temps (see tempfile.h).  The lock file carries a mark while its
 * holder has named temps beside the target, so that when a holder dies
 * with one, the next holder knows to sweep.
 *
 * lock_leftovers: did the holder before us leave the mark?  True once,
 * for the first open after the lock was taken.  lock_swept: the sweep it
 * called for left REMAIN temps (of live writers): the mark is cleared
 * when none remain.  lock_count_temps: this process made (+1) or removed
 * (-1) a named temp of L's target.  L may be NULL (lock = "none"). */
int lock_leftovers(struct lock *l);
void lock_swept(struct lock *l, int remain);
void lock_count_temps(struct lock *l, int delta);

/* The descriptor of L's lock file: handed across exec. */
int lock_fd(const struct lock *l);

/* After exec: FD is a lock file the previous image of this process had
 * locked, for NAME in the directory DIR_ST.  Record it as held; returns
 * the lock, or NULL when memory cannot be had. */
struct lock *lock_adopt(int fd, const struct stat *dir_st, const char *name);

/* The session that held our "session" locks is over (actor.h): they
 * are ours no more, and the next take of each locks its file itself. */
void lock_session_over(void);

/* At exit: the lock files of the locks kept for the process (lock =
 * "process") that nothing else holds now are removed, still locked (the
 * exit lets go of them).  Those of lock_release go there. */
void lock_remove_held(void);

/* In a child after fork: the locks are the parent's.  Close our copies of
 * the lock files, so that a long-lived child cannot keep its parent's
 * locks alive, and forget them; those the session holds (lock =
 * "session") stay, as the session holds them for the child too. */
void lock_forget_all(void);

#endif
