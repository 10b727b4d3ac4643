/* path.c - absolute paths and the final target of an open. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kernelrules.h"
#include "match.h"
#include "path.h"
#include "sys.h"

/* The directory DIRFD stands for, from /proc: the kernel's idea of its
 * path, which is what the program would see. */
static int dirfd_path(int dirfd, char *out, size_t size)
{
	char proc_link[32];
	ssize_t n;

	snprintf(proc_link, sizeof(proc_link), "/proc/self/fd/%d", dirfd);
	n = sys_readlinkat(AT_FDCWD, proc_link, out, size - 1);
	if (n < 0)
		return -1;
	if ((size_t)n >= size - 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	out[n] = '\0';
	if (out[0] != '/') {      /* not a directory on a file system */
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int path_absolute(int dirfd, const char *path, char *out, size_t size)
{
	char base[PATH_MAX];

	if (path[0] == '/') {
		base[0] = '/';
		base[1] = '\0';
	} else if (dirfd == AT_FDCWD) {
		if (!sys_getcwd(base, sizeof(base)))
			return -1;
	} else if (dirfd_path(dirfd, base, sizeof(base)) < 0) {
		return -1;
	}
	if (path_normalise(base, path, out, size) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Split PATH into its directory part (into DIR) and its last component
 * (into NAME).  "f" gives ".", "f"; "/f" gives "/", "f". */
static int split(const char *path, char *dir, size_t dirsize, char *name)
{
	const char *slash = strrchr(path, '/');
	const char *last = slash ? slash + 1 : path;
	size_t dlen;

	if (strlen(last) > NAME_MAX || *last == '\0') {
		errno = *last ? ENAMETOOLONG : EISDIR;
		return -1;
	}
	strcpy(name, last);
	if (!slash) {
		strcpy(dir, ".");
		return 0;
	}
	dlen = slash == path ? 1 : (size_t)(slash - path);
	if (dlen >= dirsize) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	return 0;
}

int target_find(int dirfd, const char *path, int nofollow, struct target *t)
{
	char dir[PATH_MAX], target_of_link[PATH_MAX];
	int at = dirfd;
	const char *p = path;

	t->dfd = -1;
	for (int hops = 0; hops < 40; hops++) {
		int dfd;

		if (split(p, dir, sizeof(dir), t->name) < 0)
			goto fail;
		dfd = sys_openat(at, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		t->dir_unreadable = dfd < 0 && errno == EACCES;
		/* A directory we may write and search but not read (a drop
		 * box): O_PATH still names it for the *at calls and fstat. */
		if (t->dir_unreadable)
			dfd = sys_openat(at, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
		if (dfd < 0)
			goto fail;
		if (t->dfd >= 0)
			sys_close(t->dfd);
		t->dfd = at = dfd;
		if (sys_fstat(dfd, &t->dir_st) < 0)
			goto fail;
		if (sys_fstatat(dfd, t->name, &t->st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				goto fail;
			t->exists = 0;
			return 0;
		}
		t->exists = 1;
		if (!S_ISLNK(t->st.st_mode) || nofollow)
			return 0;
		/* A link the kernel might refuse to follow (another user's, in
		 * /tmp): not ours to follow; the program's own call meets the
		 * kernel's rule. */
		if (kernel_may_refuse_follow(&t->st, &t->dir_st)) {
			errno = EACCES;
			goto fail;
		}
		ssize_t n = sys_readlinkat(dfd, t->name, target_of_link, sizeof(target_of_link) - 1);
		if (n < 0)
			goto fail;
		if ((size_t)n >= sizeof(target_of_link) - 1) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		target_of_link[n] = '\0';
		p = target_of_link;  /* relative links resolve against the link's directory */
	}
	errno = ELOOP;
fail:
	if (t->dfd >= 0) {
		int saved = errno;
		sys_close(t->dfd);
		errno = saved;
		t->dfd = -1;
	}
	return -1;
}
