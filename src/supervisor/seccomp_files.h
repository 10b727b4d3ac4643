/* seccomp_files.h - the pending files of a covered program.
 *
 * The seccomp door onto the core: an open for writing of a matched path,
 * stopped by the filter, is made by the core here as the library makes
 * it (redirect.h), with the supervisor as the actor (its pid in the lock
 * files and the temps) and the program's table as the owner of the locks
 * (actor.h: the programs the supervisor serves exclude each other as
 * processes do): the target found, the lock taken, the temp made, and a
 * descriptor of the temp to put into the program.  A second open
 * of the same target by the program shares the temp (opened anew with
 * its own flags: O_TRUNC empties it), as the file would be.
 *
 * The commit comes at the program's last close of the file, when every
 * descriptor of it went in at a watched number (seccomp_slots.h) and the
 * filter sent their closes; otherwise (a descriptor put in elsewhere, or
 * closed unseen: dup2 over it, close_range) at the program's exit.  When
 * a signal kills the program, what is still pending is discarded: a
 * killed program's half-written file never replaces the old one.
 */
#ifndef ATOMICALLY_SECCOMP_FILES_H
#define ATOMICALLY_SECCOMP_FILES_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "seccomp_slots.h"

struct seccomp_file;

/* One covered program's pending files: the supervisor serves several
 * programs (COMMAND, and the static or Go programs the tree execs),
 * each with its table.  The rules are the same for all. */
struct seccomp_table {
	pthread_mutex_t mutex;             /* FILES, BY_SLOT: never held across a commit */
	pthread_cond_t given;              /* a descriptor on its way arrived, or did not */
	pthread_cond_t ended;              /* a file's commit at its last close ended */
	struct seccomp_file *files;
	struct seccomp_file *ending;       /* off FILES, being committed (last_close) */
	/* The file behind a followed number: a watched one's (its place,
	 * slots_index) or a standard stream's (SLOTS_SPAN + 0, 1, 2). */
	struct seccomp_file *by_slot[SLOTS_SPAN + 3];
	const struct slots *slots;         /* the program's watched range */
	atomic_int failed;                 /* a commit at a close failed */
};

/* T empty, for the program whose range is SLOTS.  T's address is the
 * owner of the program's locks (actor.h) for as long as the supervisor
 * runs: a table is never freed nor moved. */
void seccomp_table_init(struct seccomp_table *t, const struct slots *slots);

/* Have the rules been set up (seccomp_files_setup)? */
int seccomp_files_ready(void);

/* The rules: TEXT, as ATOMICALLY_RULES gives them.  0, or -1 when TEXT
 * is malformed. */
int seccomp_files_setup(const char *text);

/* How long a program's end waits for its forks still writing: the
 * longest lock_timeout of the rules, or -1 when one waits for ever. */
int seccomp_files_linger(void);

/* Does a rule keep its lock past the write (lock = "process" or
 * "session")?  Then the program's looks at names are the supervisor's to
 * see: the first look at a matched file takes its lock, as in the
 * library. */
int seccomp_files_watch_reads(void);

/* May PATH be matched?  0 when no rule matches its name and none needs
 * more than the name to tell.  No system call. */
int seccomp_files_may_name(const char *path);

/* May an open for writing of PATH with FLAGS be ours?  0 when it
 * cannot: the flags never redirect, or no rule matches the path's name
 * and none needs more than the name to tell (core/match.h).  Costs no
 * system call, so that most opens that are none of ours go on in the
 * kernel without the supervisor looking at the process at all. */
int seccomp_files_may_match(const char *path, int flags);

/* An open by the program of PATH relative to the directory BASE (the
 * supervisor's descriptor of the program's cwd or dirfd), with FLAGS and
 * MODE (the program's umask applies: the caller's thread has it).
 * Returns a descriptor to put into the program, with *FILE its pending
 * file (*FRESH: made for this open, not yet in the table), the
 * descriptor counted as on its way (seccomp_files_place), or *FILE NULL
 * for a file the session keeps (commit = "session": the session's
 * pending file, files.h, opened anew with the program's flags, committed
 * with the session's others, nothing to count here); REDIRECT_PASS
 * (redirect.h) when the open is none of ours (not matched, not a regular
 * file, ...: the kernel's call decides); or -1 with errno, for the call
 * to fail with (EWOULDBLOCK: the lock could not be had in
 * lock_timeout). */
int seccomp_files_open(struct seccomp_table *tab, int base, const char *path, int flags, mode_t mode,
		       struct seccomp_file **file, int *fresh);

/* A read-only open by the program of PATH in BASE with FLAGS: when the
 * session keeps a pending file for it (commit = "session", made by
 * another process of the tree, or by this one), a descriptor of that
 * file to put into the program, as the library's reads get it, or -1
 * with errno (ENOENT: the tree deleted it).  REDIRECT_PASS when it keeps
 * none: the kernel's open (after seccomp_files_touch). */
int seccomp_files_read(int base, const char *path, int flags);

/* An unlink by the program of PATH in BASE: when a rule keeps PATH for
 * the session (commit = "session"), the session deletes it as the
 * library's unlink does (files.h: gone for the tree now, for everyone
 * at the commit, back if the command fails): 0, or -1 with errno.
 * REDIRECT_PASS otherwise (its lock is then taken as a look's, and the
 * kernel unlinks). */
int seccomp_files_unlink(int base, const char *path);

/* The program unlinks PATH (in BASE): a file of its pending at that name
 * is not to be committed (the core's record.unlinked), as unwrapped its
 * writes went to a deleted file.  1 when the name is not on disk (a file
 * the program made, not committed yet): the unlink is then done, and
 * its answer 0; else 0, and the kernel unlinks what is there. */
int seccomp_files_unlinked(struct seccomp_table *tab, int base, const char *path);

/* A look by the program at PATH in BASE (a read-only open, a stat, an
 * access, an unlink): when a rule with lock = "process" or "session"
 * matches it, its lock is taken and held, for "process" until the
 * program ends (seccomp_files_end), for "session" until the supervisor
 * exits.  0, or -1 with errno (EWOULDBLOCK: not had in
 * lock_timeout; the call then fails with it, as in the library). */
int seccomp_files_touch(const struct seccomp_table *tab, int base, const char *path);

/* The program renames FROM (in FROMBASE) onto TO (in TOBASE), with the
 * renameat2 FLAGS.  When TO is matched, the supervisor makes the rename
 * itself, as the library does (core/rename.h): the source synced, the
 * target's lock held across it, the directory synced after; returns its
 * result (0, or -1 with errno).  REDIRECT_PASS when TO is none of ours:
 * the kernel's call decides. */
int seccomp_files_rename(const struct seccomp_table *tab, int frombase, const char *from,
			 int tobase, const char *to, unsigned flags);

/* Is FILE to be committed at its last close (commit = "close"), so that
 * its descriptors go in at watched numbers?  Not for commit = "exit"
 * (and "session", which the seccomp door commits at the exit for now). */
int seccomp_files_at_close(const struct seccomp_file *file);

/* A descriptor of FILE (FRESH: the open made FILE) goes into the
 * program as number N (a watched number, or -1: the lowest free one).
 * Each open of FILE is counted in two steps, so that its close, which
 * may come the moment the program has the descriptor, finds it:
 *
 *   seccomp_files_place()      before the answer: FILE in the table,
 *                              the descriptor counted at N;
 *   seccomp_files_unwatch()    the number could not be N after all (the
 *                              program's limit is below it): the lowest;
 *   seccomp_files_given()      the program has it;
 *   seccomp_files_not_given()  it has not (the call went away), and N
 *                              is not counted: FILE ends if nothing else
 *                              keeps it (committed if the program ever
 *                              had a descriptor of it, else discarded).
 *
 * The functions here may be called from several threads at once: the
 * table has a mutex of its own, never held across a commit or a lock
 * wait. */
void seccomp_files_place(struct seccomp_table *tab, struct seccomp_file *file, int fresh, int n);
void seccomp_files_unwatch(struct seccomp_table *tab, struct seccomp_file *file, int n);
void seccomp_files_given(struct seccomp_table *tab, struct seccomp_file *file);
void seccomp_files_not_given(struct seccomp_table *tab, struct seccomp_file *file, int n);

/* The program closes its descriptor N.  When N is the last followed
 * descriptor of a file and none of it went in unwatched, the file is
 * committed now, before the close is made.  Returns 1 when N was one of
 * ours (the caller lets its number go), 0 when not. */
int seccomp_files_close(struct seccomp_table *tab, int n);

/* The program makes NEW a copy of its descriptor OLD (dup2, dup3; NEW
 * -1: a number the kernel picks, dup and fcntl's F_DUPFD), before the
 * kernel does.  A file of ours at NEW loses that descriptor (the dup
 * closes it): committed now when it was its last.  A file of ours at
 * OLD gains one: followed at NEW when NEW is a watched number or a
 * standard stream, whose closes and replacements the filter sends (a
 * shell's `cmd > FILE` is open, dup2 onto 1, close, and at the end a
 * dup2 that puts the old stdout back: committed there); anywhere else
 * its last close cannot be seen, and it is committed at the exit. */
void seccomp_files_dup(struct seccomp_table *tab, int old, int new);

/* The program has ended: COMMIT (it exited) or not (a signal killed it).
 * Every pending file of TAB committed (said one by one by the core), or
 * discarded, and let go of; then the locks the program kept (lock =
 * "process") are let go of (lock_let_go).  May be called again: what
 * came since goes too.  Returns 0, or -1 when a commit failed, now or at
 * a close. */
int seccomp_files_end(struct seccomp_table *tab, int commit);

/* How many files TAB has pending. */
int seccomp_files_count(struct seccomp_table *tab);

#endif
