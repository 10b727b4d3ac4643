/* files.h - the session's pending files (commit = "session").
 *
 * One pending file per target for the whole tree, kept by the
 * supervisor: made (by the core, redirect.h) at the first open for
 * writing by any process of the tree, and handed to every process that
 * opens, reads or stats the path afterwards (session_wire.h), so that
 * inside the session the pending file is the file.  A program's rename
 * onto the path makes the renamed file the pending one.  When COMMAND
 * exits 0 they are committed all together (journal.h); when it fails,
 * all are discarded and the targets stay as they were.
 *
 * Each file's lock is the supervisor's from the first open until the
 * end of the session's commit.
 */
#ifndef ATOMICALLY_FILES_H
#define ATOMICALLY_FILES_H

#include <stddef.h>

#include "core/session_wire.h"
#include "writers.h"

/* The session's rules: TEXT, as ATOMICALLY_RULES gives it to the tree.
 * Returns 0, or -1 when TEXT is malformed. */
int files_setup(const char *text);

/* The requests (session_wire.h); DFD the target's directory, FROMFD the
 * source's (SESSION_RENAME).  REP and FDS (the directory and the temp,
 * -1 when none: copies, the caller's to close, close_kept) are the
 * reply. */
void files_open(const struct session_request *req, int dfd, struct session_file_reply *rep,
		int fds[2]);
void files_lookup(const struct session_request *req, int dfd, struct session_file_reply *rep,
		  int fds[2]);
void files_rename(const struct session_request *req, int dfd, int fromfd,
		  struct session_reply *rep);
void files_unlink(const struct session_request *req, int dfd, struct session_reply *rep);

/* Close the descriptors files_open and files_lookup gave (-1s are
 * left), and set them to -1. */
void close_kept(int fds[2]);

/* How long the session may wait, after COMMAND has exited, for the
 * processes of its tree that still use it: the longest lock_timeout of
 * its session rules (those processes' peers outside wait as long for
 * the locks the session holds), in seconds; -1: for as long as it
 * takes. */
int files_linger(void);

/* The temps of the pending files, as the kernel knows them (writers.h):
 * an array of *N, to be freed; NULL with *N 0 when there is none. */
struct file_id *files_ids(size_t *n);

/* SESSION_LIST: the names the session adds to, and hides from, a
 * listing of the directory DFD, from the index REQ->flags on. */
void files_list(const struct session_request *req, int dfd, struct session_list_reply *rep);

/* COMMAND has exited (OK: with status 0; WHY says how, for messages):
 * commit every pending file, all or nothing, or discard them all.
 * Returns 0, or -1 when the commit failed (said; the targets are all
 * old, or, after the commit point, completed by a later recovery). */
int files_end(int ok, const char *why);

#endif
