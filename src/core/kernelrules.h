/* kernelrules.h - the kernel's guards in shared directories, for what the
 * library does by itself.
 *
 * The library follows the last symlinks of a path itself (path.c) and
 * replaces a file by renaming a temp over it (commit.c).  Neither is the
 * open the program asked for, so neither meets the guards the kernel puts
 * on that open in a sticky directory such as /tmp (fs.protected_symlinks,
 * fs.protected_regular), nor the sticky bit's own rule on who may replace
 * a file there.  These two questions say when the kernel might refuse, or
 * when the library would do to another user's file what the program's
 * own call would not; the library then stays out of the way and the
 * program's call reaches the kernel unchanged, which decides with its real
 * settings.  So no sysctl is read: erring towards "might" costs that one
 * file its atomicity, never its safety.
 *
 * Both judge with the calling thread's credentials (sys_fsuid).  A
 * supervisor acting for another process must take on that process's
 * filesystem user and group IDs and groups before it calls the core.
 */
#ifndef ATOMICALLY_KERNELRULES_H
#define ATOMICALLY_KERNELRULES_H

#include <sys/stat.h>

/* Might the kernel refuse to follow the symlink LNK (its lstat), found
 * in the directory DIR (its fstat)?  The caller then follows nothing and
 * leaves the walk to the kernel. */
int kernel_may_refuse_follow(const struct stat *lnk, const struct stat *dir);

/* Does the kernel keep FILE (its lstat), in the directory DIR, for its
 * owner, against the caller?  The caller then neither redirects the
 * program's open of it nor defers its unlink: the program's own call
 * meets the kernel's rules, and writes such a file in place. */
int kernel_guards_for_owner(const struct stat *file, const struct stat *dir);

#endif
