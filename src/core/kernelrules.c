/* kernelrules.c - the kernel's guards in shared directories. */
#include <sys/stat.h>

#include "kernelrules.h"
#include "sys.h"

/* fs.protected_symlinks: in a directory that is both sticky and writable
 * by everyone, the kernel follows a link only for the link's owner, or
 * when the link belongs to the directory's owner; otherwise the open
 * fails with EACCES, root's included.  The kernel judges each link that
 * ends a walk, a link reached through a link too, in the directory that
 * holds it: so does target_find, hop by hop.  The user ID is asked last,
 * so that a link anywhere else costs no system call. */
int kernel_may_refuse_follow(const struct stat *lnk, const struct stat *dir)
{
	if ((dir->st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH))
		return 0;
	if (lnk->st_uid == dir->st_uid)
		return 0;
	return lnk->st_uid != sys_fsuid();
}

/* Two rules of the kernel keep a file in a sticky directory for its
 * owner.  fs.protected_regular: an open with O_CREAT of an existing file
 * there fails with EACCES, root's included, when the file belongs neither
 * to the opener nor to the directory's owner and the directory is
 * writable by everyone (1), or by its group (2).  And the sticky bit
 * itself: only the file's owner, the directory's owner or a privileged
 * process may rename over it or delete it.  A redirected write would
 * bypass the first, and meet the second only at the commit, where a
 * rename refused falls back to writing in place (a warning, or a failure
 * with fallback = fail) and a rename allowed gives the name a new file,
 * perhaps of another owner.  The program's own open, unwrapped, writes
 * the file in place, or is refused.  So any file of another user in a
 * sticky directory is the kernel's to decide: wider than the first rule
 * (it holds whatever the directory's mode and whoever owns it), so that
 * it needs neither the sysctl nor the caller's capabilities. */
int kernel_guards_for_owner(const struct stat *file, const struct stat *dir)
{
	return (dir->st_mode & S_ISVTX) && file->st_uid != sys_fsuid();
}
