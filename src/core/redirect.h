/* redirect.h - an open for writing made into a pending file.
 *
 * The open of a matched path, which the program meant for the target,
 * gets a temp beside it instead: empty (O_TRUNC, or a new file), or a
 * copy of the target (a write without O_TRUNC, O_APPEND).  Under the
 * lock, whose scope the rule says.  In two steps, so that the caller
 * spends nothing of its own (a record's memory) on an open that is not
 * redirected after all:
 *
 *   redirect_target()   find the file the open would write (symlinks
 *                       followed) and decide: redirected, or the real
 *                       open (a read-only target, a directory, ...);
 *   redirect_open()     lock, look again, sweep a dead writer's temps,
 *                       make the temp: the record is made.
 */
#ifndef ATOMICALLY_REDIRECT_H
#define ATOMICALLY_REDIRECT_H

#include <sys/types.h>

struct actor;
struct record;
struct rule;
struct target;

/* The answer of the open functions when the open is none of theirs: the
 * caller makes the real call. */
#define REDIRECT_PASS (-2)

/* Opens with FLAGS that may write a matched file into a temp: not
 * read-only, not O_PATH or O_DIRECTORY (O_TMPFILE carries it), not an
 * exclusive creation (programs make their locks with it: it must meet
 * the real file system). */
int redirect_flags(int flags);

/* The file an open of PATH (relative to DIRFD) with FLAGS would write,
 * into T.  REPLACING: the program deleted that file and now creates it
 * anew (the library's deferred unlink): it counts as gone.  Returns 0
 * with T->dfd open when the open is to be redirected; REDIRECT_PASS
 * (T holds nothing) when the real open must decide: the target is not a
 * regular file, does not exist without O_CREAT, may not be written by
 * this process (the real open then fails as it would have: the library
 * never writes a file the program could not), is reached through a link
 * the kernel might refuse to follow, or is another user's file in a
 * sticky directory (kernelrules.h). */
int redirect_target(int dirfd, const char *path, int flags, int replacing, struct target *t);

/* Make R (empty, memory of the caller's) the record of that open, for
 * the actor A, under RULE: the directory of T kept in R, the lock taken
 * (held for good first, under lock = "process"), the target looked at
 * again under it, a dead writer's named temps swept, and the temp made
 * per `hardlinks` and `fallback`.  DIRFD, PATH, FLAGS and MODE: the
 * program's open (for an in-place fallback); DISPLAY names the file in
 * messages.  Returns the descriptor the program gets (the temp, or the
 * target itself in place: R->inplace), or -1 with errno, and then R
 * holds nothing. */
int redirect_open(const struct actor *a, struct record *r, struct target *t,
		  const struct rule *rule, int dirfd, const char *path, const char *display,
		  int flags, mode_t mode, int replacing);

#endif
