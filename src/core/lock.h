/* lock.h - advisory locks on stable lock files.
 *
 * The lock of a target is an open-file-description lock (F_OFD_SETLK) on
 * a lock file that is never the target (the commit's rename replaces the
 * target's inode).  Its last holder removes it while still holding it;
 * so that two writers never lock two different files for one target, a
 * writer that gets a lock checks that the name still leads to the file
 * it locked, and starts over when it does not.  Lock files are only
 * used when no other user can have made them (trust.h, lockdir.h).
 * Locks are counted inside the process, per owner (actor.h), so a
 * second open of the same file by one owner never waits for the first,
 * while two owners wait for each other as two processes would.
 */
#ifndef ATOMICALLY_LOCK_H
#define ATOMICALLY_LOCK_H

#include <sys/stat.h>

struct actor;
struct rule;
struct lock;

/* The table is the process's: one entry per lock file it has open, keyed
 * by the owner the actor names (actor.h), the target's directory and its
 * name.  Every thread of one owner shares its entry; two owners open the
 * lock file as two descriptions, whose OFD locks exclude each other as
 * two processes' do (the programs one seccomp supervisor serves).  A
 * lock = "session" is keyed to the process (owner NULL) whatever the
 * actor: it is held for the whole tree, and every program the session's
 * supervisor serves shares it.
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
 * it until the process exits, or, for an actor with an owner, until
 * lock_let_go; an owner that holds it already does not wait.  Returns 0,
 * or -1 with errno (EWOULDBLOCK after lock_timeout: the owner's later
 * touches of the file then fail at once, until lock_let_go). */
int lock_hold(const struct actor *a, const struct rule *rule, int dfd, const struct stat *dir_st,
	      const char *name, const char *display);

/* Give back one count of L (NULL is fine): the last one unlocks. */
void lock_drop(struct lock *l);

/* lock_drop, and TEMPS temps counted by lock_take given back, for a
 * caller that has blocked every signal already (record_release_nosig,
 * under a mutex of the caller's): the table's mutex is then taken
 * without blocking them again.  The N descriptor slots of ALSO (the
 * record's directory and temp) are closed too, in one system call with
 * the lock file's when that goes (sys_fd_close_n).  L may be NULL. */
void lock_release(struct lock *l, int temps, int *const *also, int n);

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
 * locked, for NAME in the directory DIR_ST.  Record it as held by the
 * process (owner NULL: only the library and the launcher adopt); returns
 * the lock, or NULL when memory cannot be had. */
struct lock *lock_adopt(int fd, const struct stat *dir_st, const char *name);

/* The session that held our "session" locks is over (actor.h): they
 * are ours no more, and the next take of each locks its file itself. */
void lock_session_over(void);

/* At exit: the lock files of the locks kept for the process (lock =
 * "process", whatever their owner) that nothing else holds now are removed, still locked (the
 * exit lets go of them).  Those of lock_release go there. */
void lock_remove_held(void);

/* OWNER (not NULL) has ended: the locks kept for it (lock_hold, and
 * those it gave up waiting for) are given back, and the lock files of
 * those nothing else holds now removed, still locked, as at an exit
 * (lock_remove_held).  One a pending file of OWNER still counts stays
 * until that file lets go of it.  Other owners' entries, and the
 * session's, are not touched. */
void lock_let_go(const void *owner);

/* In a child after fork: the locks are the parent's.  Close our copies of
 * the lock files, so that a long-lived child cannot keep its parent's
 * locks alive, and forget them; those the session holds (lock =
 * "session") stay, as the session holds them for the child too. */
void lock_forget_all(void);

#endif
