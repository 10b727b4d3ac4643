/* writers.c - processes of the tree that write a pending file (writers.h). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/proc.h"
#include "writers.h"

static int is_one_of(const struct stat *st, const struct file_id *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (st->st_dev == ids[i].dev && st->st_ino == ids[i].ino)
			return 1;
	return 0;
}

/* Is descriptor FD (a name in /proc/PID/fd) open for writing?  Its
 * "flags:" line in fdinfo, in octal.  When it cannot be told, yes: a
 * wait too many costs time, a commit too early costs data. */
static int for_writing(pid_t pid, const char *fd)
{
	char path[320], buf[256], *flags;
	ssize_t n;
	int in;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, fd);
	if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 1;
	n = read(in, buf, sizeof(buf) - 1);
	close(in);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	if (!(flags = strstr(buf, "flags:")))
		return 1;
	return (strtol(flags + 6, NULL, 8) & O_ACCMODE) != O_RDONLY;
}

/* Does PID hold one of IDS open for writing? */
static int writes(pid_t pid, const struct file_id *ids, size_t n)
{
	char path[32];
	struct dirent *d;
	struct stat st;
	DIR *fds;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if (!(fds = opendir(path)))
		return 0;
	while (!found && (d = readdir(fds)))
		found = d->d_name[0] != '.' && fstatat(dirfd(fds), d->d_name, &st, 0) == 0 &&
			is_one_of(&st, ids, n) && for_writing(pid, d->d_name);
	closedir(fds);
	return found;
}

pid_t writers_find(pid_t top, const struct file_id *ids, size_t n)
{
	struct dirent *d;
	pid_t found = 0, self = getpid();
	DIR *proc;

	if (!n || !(proc = opendir("/proc")))
		return 0;
	while (!found && (d = readdir(proc))) {
		pid_t pid = (pid_t)atoi(d->d_name);

		if (pid > 1 && pid != self && proc_descends(pid, top) && writes(pid, ids, n))
			found = pid;
	}
	closedir(proc);
	return found;
}
