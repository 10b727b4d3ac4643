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

#endif
