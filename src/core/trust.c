/* trust.c - files and directories no other user can have put in our way. */
#include <fcntl.h>
#include <unistd.h>

#include "sys.h"
#include "trust.h"

int trust_own_file(const struct stat *st, uid_t uid)
{
	/* No link at all: removed since it was opened (a lock file's last
	 * holder removes it), and reachable by no one. */
	return S_ISREG(st->st_mode) && st->st_nlink <= 1 && (st->st_uid == uid || st->st_uid == 0);
}

int trust_own_dir(const struct stat *st, uid_t uid)
{
	if (!S_ISDIR(st->st_mode) || (st->st_uid != uid && st->st_uid != 0))
		return 0;
	return !(st->st_mode & 022) || (st->st_mode & S_ISVTX);
}

/* Deeper than any real path; a loop of bind mounts cannot keep us here. */
#define MAX_DEPTH 256

int trust_dir_chain(int dirfd, uid_t uid)
{
	struct stat below, st;
	int fd = -1, at = dirfd, ok = 0;

	if (sys_fstat(dirfd, &below) < 0)
		return 0;
	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		int up = sys_openat(at, "..", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);

		if (fd >= 0)
			sys_close(fd);
		fd = at = up;
		if (up < 0 || sys_fstat(up, &st) < 0)
			break;
		if (st.st_dev == below.st_dev && st.st_ino == below.st_ino) {
			ok = 1;  /* "/" is its own parent */
			break;
		}
		if (!trust_own_dir(&st, uid))
			break;
		below = st;
	}
	if (fd >= 0)
		sys_close(fd);
	return ok;
}
