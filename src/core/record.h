/* record.h - one pending file: its state, and its one serialized form.
 *
 * A record is what the core knows of a file being written: the target
 * (its directory, its name, what it was at the open), the temp that
 * stands for it, the lock that guards it, and what happened since (a
 * write that failed, whether anything was written, an unlink by the
 * program).  redirect.h makes one from an open, commit.h ends it.  Who
 * holds the record, and which of a program's descriptors stand for it,
 * is the business of the process that keeps it (the library's pending
 * files, the supervisor's table); the record is the part they share.
 *
 * Its life:
 *
 *   made          redirect_open(): lock taken, temp made (or the target
 *                 opened in place, a fallback), dfd and tfd kept
 *   written       record_written(), record_fail(): any thread, any time;
 *                 a process that shares the temp without holding the
 *                 record marks the temp itself (record_mark_failed)
 *   handed on     record_encode() in one process, record_decode() and
 *                 record_adopt() in the next (across exec now; over the
 *                 supervisor's socket next), descriptors as slots
 *   ended         commit(), or record_discard(); then record_release()
 *                 lets go of the lock and the descriptors.
 *
 * The text form is one line of characters safe in an environment
 * variable; the descriptors it needs travel beside it, as slots: the
 * text names slot numbers, and the sender's array of descriptors (the
 * same numbers across exec, SCM_RIGHTS over a socket) gives them.
 */
#ifndef ATOMICALLY_RECORD_H
#define ATOMICALLY_RECORD_H

#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct lock;
struct rule;
struct ruleset;

struct record {
	/* Set once, when the record is made (or decoded), before anyone
	 * else can see it. */
	const struct rule *rule;
	struct lock *lock;         /* NULL: lock = "none" */
	int dfd;                   /* slot: the target's directory */
	int tfd;                   /* slot: our own descriptor of the temp */
	unsigned char existed;     /* the target existed at the open */
	unsigned char inplace;     /* fallback: the program writes the target */
	unsigned char copied;      /* the temp started as a copy of the target */
	unsigned char temp_counted; /* the lock counts the temp from its take */
	off_t append_base;         /* > 0: an append, whose temp holds a hole */
	                           /* for the target's first bytes (hole.h) */
	struct stat target_st;     /* the target as it was at the open */
	struct stat copy_st;       /* the temp just after the copy */
	mode_t temp_mode;          /* the temp as it was made: a program that */
	uid_t temp_uid;            /* changes these itself (fchmod) keeps its */
	gid_t temp_gid;            /* choice */
	/* What happened since: set by any thread. */
	atomic_int error;          /* the first failed write or close: no commit */
	atomic_int written;        /* a write through one of its descriptors */
	atomic_int unlinked;       /* the program deleted the target meanwhile */
	/* The names, last: an empty record needs only their first bytes
	 * cleared, not 4.5 KB. */
	char name[NAME_MAX + 1];   /* the target's name in dfd */
	char temp[NAME_MAX + 1];   /* the temp's name in dfd; "" while anonymous */
	char path[PATH_MAX];       /* the path the program opened, for messages */
};

/* Make sure R's temp holds the whole file: the target's first bytes
 * copied into its hole, if it still has one.  0, or -1 with errno (said,
 * and the temp marked failed: record_mark_failed).  Cheap when R is no
 * append: no system call. */
int record_fill(const struct record *r);

/* Is R's temp still an append's, with its hole: has it the mark (hole.h)?  NAMES:
 * its extended attributes' names, LISTED bytes (-1: unknown, asked). */
int record_has_hole(const struct record *r, const char *names, ssize_t listed);

/* Make R an empty record: no descriptors, no lock, empty names.  R's
 * memory may hold anything before. */
void record_init(struct record *r);

/* A write to R's temp (through a descriptor the holder watches)
 * succeeded: it is no longer unmodified. */
void record_written(struct record *r);

/* A write to R's temp failed with ERR (ENOSPC, EIO, ...): what it holds
 * is not what the program meant to write.  The first error is kept. */
void record_fail(struct record *r, int err);

/* A process that shares the temp open as FD but does not hold its record
 * (a child the holder forked, a program that child execs) saw a write
 * fail with ERR: it marks the temp itself, so that the holder's commit
 * finds the mark (commit.h).  An extended attribute holds ERR; on a file
 * system too full for one, the sticky bit (meaningless on a regular
 * file) says EIO.  Keeps errno. */
#define RECORD_FAILED_XATTR "user.atomically.failed"
void record_mark_failed(int fd, int err);

/* What a stat of R's file shows while it is pending (the stat and fstat
 * families of the process that writes it): ST, the temp's own stat, made
 * into the file the program believes it writes.  An anonymous temp has no
 * link yet (the commit gives it one).  A file that existed keeps its
 * identity (device and inode: vim refuses to save when the descriptor it
 * opened is not the file it looked at) and gets its mode, owner and
 * group, unless the program set its own (as metadata_copy).  The size,
 * the blocks and the times are the temp's: what was written.  FRESH: the
 * program deleted the old file and made this one anew; it has no
 * identity but its own. */
void record_view(const struct record *r, struct stat *st, int fresh);

/* A new descriptor of R's temp opened with FLAGS (O_RDONLY...), holding
 * the whole file (record_fill): the descriptors at hand may be
 * write-only.  Through R's own descriptor of
 * it (/proc/self/fd), else its name.  -1 with errno. */
int record_open_temp(const struct record *r, int flags);

/* The same without filling an append's hole first: a description of the
 * same file, for what needs no content (holders.h). */
int record_reopen_temp(const struct record *r, int flags);

/* Remove R's temp if it has a name (an anonymous one goes with its last
 * descriptor): the commit failed or never came. */
void record_discard(struct record *r);

/* Let go of what R holds: its lock (and the temp the lock counted), its
 * directory, its temp.  Keeps errno.  _nosig: for a caller that has
 * blocked every signal already (see mutex.h), which spares a second
 * change of the mask. */
void record_release(struct record *r);
void record_release_nosig(struct record *r);

/* ---- the serialized form ---- */

/* The descriptors a record needs beside its text, in slot order. */
enum { RECORD_SLOT_DIR, RECORD_SLOT_TEMP, RECORD_SLOT_LOCK, RECORD_SLOTS };

/* The descriptors R's slots hold, in slot order (-1: none). */
void record_slots(const struct record *r, int fds[RECORD_SLOTS]);

/* Encode R (whose rule is one of RS's) into BUF, one NUL-terminated line
 * of [0-9a-z=,.-]; FDS (RECORD_SLOTS entries) gets the descriptors its
 * slots name, -1 for none (no lock).  Returns the length the line needs
 * without the NUL; the line was written whole only if that is less than
 * SIZE.  Every field is carried but the lock itself, which the receiver
 * adopts from the lock slot (record_adopt). */
size_t record_encode(const struct record *r, const struct ruleset *rs, char *buf, size_t size,
		     int fds[RECORD_SLOTS]);

/* Decode TEXT (as record_encode wrote it; not modified) into R, whose
 * rule becomes one of RS's and whose dfd and tfd are taken from FDS by
 * slot (not yet kept: record_adopt does that).  *LFD gets the lock
 * file's descriptor, or -1.  Returns 0, or -1 (EINVAL) when TEXT is not
 * a record of this version, names a rule RS does not have or a slot
 * beyond NFDS: then R is left empty and nothing is taken. */
int record_decode(const char *text, const struct ruleset *rs, const int *fds, int nfds,
		  struct record *r, int *lfd);

/* Make the descriptors of a decoded R ours (sys_fd_adopt), and take over
 * its lock from the lock file LFD (-1: none), which becomes the lock
 * table's (closed when the table holds that lock on another descriptor
 * already): returns 0, or -1 when the lock cannot be recorded (then LFD
 * is closed, and R has no lock). */
int record_adopt(struct record *r, int lfd);

#endif
