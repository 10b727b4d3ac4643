/* handover_text.h - the text of ATOMICALLY_PENDING: the pending files one
 * image of a process hands to the next across exec.
 *
 *   ATOMICALLY_PENDING=PID:ENTRY;ENTRY;...
 *
 * PID is the process that execs: only it, in its new image, takes the
 * entries (a child of an image that kept the variable has another pid).
 * Each ENTRY is a file the new image inherits:
 *
 *   FD.FD.../SLOT.SLOT.SLOT/RECORD   a file the process holds: the
 *                                    program's descriptors that stand for
 *                                    it, the descriptors of the record's
 *                                    slots (directory, temp, lock; "-"
 *                                    for none), the record (record.h)
 *   MFD.FD.../SLOT.SLOT.SLOT/RECORD  the same, of a file whose
 *                                    description a child may hold too
 *                                    (marked, core/holders.h): its last
 *                                    close asks the kernel first
 *   WFD.FD...                        a file it shares without holding it:
 *                                    the new image only watches these
 *                                    descriptors for failed writes
 *
 * The library writes it before an exec and reads it in the new image
 * (preload/handover.c); the launcher reads it too, when the image before
 * it was a wrapped program (launcher/adopt.c), and writes watch entries
 * for its COMMAND.  Writing allocates nothing; reading modifies nothing
 * but what it is given.
 */
#ifndef ATOMICALLY_HANDOVER_TEXT_H
#define ATOMICALLY_HANDOVER_TEXT_H

#include <stddef.h>
#include <sys/types.h>

#include "record.h"
#include "textout.h"

#define HANDOVER_ENV "ATOMICALLY_PENDING"

/* ---- writing: into a textout (textout.h), measured or written ---- */

struct handover_writer {
	struct textout out;
	int entries;           /* entries begun */
	int fds;               /* descriptors in the current entry */
};

/* Begin the value for the process PID (without "NAME="). */
void handover_begin(struct handover_writer *w, char *buf, size_t size, pid_t pid);

/* Begin an entry: one the new image holds, or, WATCH, only watches. */
void handover_entry(struct handover_writer *w, int watch);

/* The entry just begun, one the new image holds, is of a marked file
 * (the "M" entries above).  Before any descriptor. */
void handover_marked(struct handover_writer *w);

/* One more of the program's descriptors for the current entry. */
void handover_fd(struct handover_writer *w, int fd);

/* The current entry's slots and record R (whose rule is one of RS's). */
void handover_record(struct handover_writer *w, const struct record *r,
		     const struct ruleset *rs);

/* Terminate the text; its whole length (as textout_end). */
size_t handover_end(struct handover_writer *w);

/* ---- reading ---- */

/* The pid VALUE is for (0: not a handover text); *ENTRIES: the list of
 * entries after it. */
pid_t handover_pid(const char *value, const char **entries);

/* The next entry of the list at *LIST, which this terminates in place
 * (*LIST moves past it); NULL at the end. */
char *handover_next_entry(char **list);

struct handover_entry {
	int watch;             /* a "W" entry */
	int marked;            /* an "M" entry */
	const char *fds;       /* the program's descriptors: handover_next_fd */
	int slots[RECORD_SLOTS]; /* the record's descriptors (-1: none) */
	const char *record;    /* its text: record_decode; NULL for a watch */
};

/* Parse ENTRY into E: 0, or -1 when it is malformed. */
int handover_parse(const char *entry, struct handover_entry *e);

/* Do E's slots hold what a handed-over record needs: a directory, and
 * for the temp and the lock a regular file or none (a file written in
 * place has no temp), all different?  Only looked at: a stale or
 * forged entry names descriptors that are the program's (0, 1, 2...),
 * which a reader must then leave alone: neither close them nor make them
 * close-on-exec.  (A record that does not decode is no entry of ours
 * either: its slots are left alone too.) */
int handover_slots_plausible(const struct handover_entry *e);

/* The next descriptor of the list at *FDS ("3.4.5", ended by '/' or the
 * end of the entry), moving past it and the '.' before the next; -1 at
 * the end. */
int handover_next_fd(const char **fds);

#endif
