/* seccomp_remote.c - a covered thread's call, read through /proc. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seccomp_remote.h"

int remote_thread_of(pid_t tid, pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)tid);
	return access(path, F_OK) == 0;
}

int remote_umask(pid_t tid, mode_t *umask)
{
	char path[64], buf[4096];
	const char *at;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	*umask = (at = strstr(buf, "\nUmask:")) ? (mode_t)strtoul(at + 7, NULL, 8) : 022;
	return 0;
}

int remote_string(pid_t tid, uint64_t addr, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	/* One read: the kernel copies page by page and returns what it could
	 * before an unmapped page, so a short string at the end of a mapping
	 * reads whole. */
	n = pread(fd, buf, size, (off_t)addr);
	close(fd);
	if (n <= 0) {
		errno = EFAULT;
		return -1;
	}
	if (!memchr(buf, '\0', (size_t)n)) {
		errno = (size_t)n == size ? ENAMETOOLONG : EFAULT;
		return -1;
	}
	return 0;
}

int remote_base(pid_t tid, int dirfd)
{
	char path[64];

	if (dirfd == AT_FDCWD)
		snprintf(path, sizeof(path), "/proc/%d/cwd", (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, dirfd);
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int remote_same_root(pid_t tid)
{
	static struct stat ours;  /* the supervisor's root does not change */
	char path[64];
	struct stat theirs;

	if (!ours.st_ino && stat("/", &ours) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/root", (int)tid);
	return stat(path, &theirs) == 0 && theirs.st_dev == ours.st_dev &&
	       theirs.st_ino == ours.st_ino;
}
