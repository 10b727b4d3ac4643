/* gitenv.h - git under the launcher does not trust ctime.
 *
 * git keeps the stat of each file it checks out in its index, the ctime
 * among them, and by default (core.trustctime) takes a changed ctime for
 * a changed file.  The commit's link and rename change the ctime of the
 * file git just wrote, after git looked at it: `git diff-index` then
 * reports every such file until an index refresh.  core.trustctime =
 * false is git's own setting for files whose ctime something else
 * changes (its documentation names backup tools); git still compares the
 * mtime, size, inode and owner.  The launcher hands it to git through
 * the environment (GIT_CONFIG_COUNT, GIT_CONFIG_KEY_n, GIT_CONFIG_VALUE_n),
 * first among any the environment holds, so that the user's own come
 * after it and win.
 */
#ifndef ATOMICALLY_GITENV_H
#define ATOMICALLY_GITENV_H

/* Put the setting into this process's environment, for the command.
 * 0, or -1 with errno (ENOMEM). */
int gitenv_apply(void);

/* The variables gitenv_apply sets, as NAME=value lines (GITHUB: the form
 * of $GITHUB_ENV) or shell export statements, on standard output.  0, or
 * -1 when a value cannot be printed in that form. */
int gitenv_print(int github);

/* ---- the parts, without the environment (tests/fuzz/fuzz_gitenv.c) ---- */

/* The most settings the launcher moves up: more, and it leaves them as
 * they are (git, given that many, reads that many variables). */
#define GITENV_MAX 10000

/* The number of settings a value of GIT_CONFIG_COUNT gives git (NULL or
 * "": 0), or -1 when git would not take it (then git refuses to run
 * with it anyway, and the launcher leaves it as it is) or it is more
 * than GITENV_MAX. */
long gitenv_count(const char *value);

typedef const char *(*gitenv_get)(const char *name);
typedef int (*gitenv_put)(const char *name, const char *value);

/* Each variable of the new settings, for the environment GET reads, in
 * an order in which setting them one after the other overwrites none
 * before it is moved: the user's moved up one (from the last), ours at
 * 0, the count.  None when the count is not one to move (gitenv_count)
 * or ours is first already (a launcher run under another, or after
 * --env).  EACH(name, value) returns 0 or -1; so does this (-1 also
 * without memory). */
int gitenv_each(gitenv_get get, gitenv_put each);

#endif
