/* path.h - absolute paths and the final target of an open. */
#ifndef ATOMICALLY_PATH_H
#define ATOMICALLY_PATH_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

/* PATH made absolute against DIRFD (AT_FDCWD: the cwd) and normalised
 * lexically into OUT.  Returns 0, or -1 with errno.  Allocates nothing. */
int path_absolute(int dirfd, const char *path, char *out, size_t size);

/* The file an open of PATH relative to DIRFD would write: the last
 * component's symlinks followed (unless NOFOLLOW), so that the temp goes
 * beside the final target and the link stays a link. */
struct target {
	int dfd;                 /* its directory, O_RDONLY|O_DIRECTORY */
	char name[NAME_MAX + 1]; /* its name in that directory */
	int exists;              /* 0: the open would create it */
	struct stat st;          /* when it exists (lstat of the final name) */
	struct stat dir_st;      /* of the directory */
	int dir_unreadable;      /* DFD is O_PATH: no fsync, no reading */
};

/* Find the target.  Returns 0 with T->dfd open, or -1 with errno (the
 * directory cannot be opened, ELOOP, ENAMETOOLONG, EACCES for a link the
 * kernel might refuse to follow (kernelrules.h), ...): the caller then
 * leaves the path to the program's own call. */
int target_find(int dirfd, const char *path, int nofollow, struct target *t);

#endif
