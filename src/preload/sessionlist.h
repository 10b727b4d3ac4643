/* sessionlist.h - a directory listing as a process of a session sees it
 * (commit = "session").
 *
 * Inside the session the pending file is the file (sessionview.h): a
 * file the tree made is there, though only its temp exists; a file the
 * tree deleted is gone, though it stays on disk until the commit.  A
 * listing shows the same: when the program opens a directory (opendir,
 * fdopendir), the supervisor is asked once for the names the session
 * adds to it and hides from it (SESSION_LIST), and that view is kept
 * for the stream.  readdir then skips the hidden names (the deleted
 * files, the session's own named temps) and, once the disk's entries
 * are done, returns the added names the disk did not list (a file that
 * exists with its old content is listed once, by the disk).
 *
 * Only the program's own streams have a view: a stream glibc opens
 * inside one of its functions (nftw, fts_open) is not seen.  scandir and
 * glob are made on the hooked opendir and readdir instead (hook_name.c).
 *
 * What it costs where there is no session: nothing at opendir but the
 * test of lib.session_files; at readdir, closedir and rewinddir one load
 * of SESSIONLIST_COUNT, which stays 0.
 */
#ifndef ATOMICALLY_SESSIONLIST_H
#define ATOMICALLY_SESSIONLIST_H

#include <dirent.h>
#include <stdatomic.h>

/* How many streams of this process have a view.  While none has, the
 * hooks go straight to the real calls. */
extern atomic_int sessionlist_count;

static inline int sessionlist_any(void)
{
	return atomic_load_explicit(&sessionlist_count, memory_order_relaxed) != 0;
}

/* May a listing of this process differ from the disk at all: a rule
 * says commit = "session", and a session is named to ask.  For the
 * callers that must decide before they open (scandir, glob). */
int sessionlist_wanted(void);

/* The program opened D: its view, if the session adds or hides
 * anything in that directory.  Keeps errno; on any failure D lists the
 * disk, as without a session. */
void sessionlist_opened(DIR *d);

/* The program closes D (before the real closedir): its view goes. */
void sessionlist_closing(DIR *d);

/* The program rewound D (after the real rewinddir): the added names are
 * to be returned again. */
void sessionlist_rewound(DIR *d);

/* readdir of D as the session sees it, NEXT the real readdir. */
struct dirent *sessionlist_read(DIR *d, struct dirent *(*next)(DIR *));

/* readdir_r the same way, NEXT the real readdir_r. */
int sessionlist_read_r(DIR *d, struct dirent *entry, struct dirent **result,
		       int (*next)(DIR *, struct dirent *, struct dirent **));

/* scandir's work on the open stream D, read with NEXT (a readdir that
 * shows the session's view): the entries FILTER selects, copied into
 * memory of malloc's, sorted with CMP, into *LIST, as glibc's scandir
 * does.  Returns their count, or -1 with errno (nothing allocated
 * left).  D stays open: the caller closes it. */
int sessionlist_scandir(DIR *d, struct dirent ***list, int (*filter)(const struct dirent *),
			int (*cmp)(const struct dirent **, const struct dirent **),
			struct dirent *(*next)(DIR *));

#endif
