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

/* A growing list of pids. */
struct pids {
	pid_t *v;
	size_t n, cap;
};

static int pids_add(struct pids *l, pid_t pid)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		pid_t *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = pid;
	return 0;
}

/* The children of PID onto L, as each of its threads' children file
 * lists them ("1 2 3").  0, or -1 when memory runs out. */
static int add_children(pid_t pid, struct pids *l)
{
	char path[64], buf[4096], *p, *end;
	struct dirent *t;
	DIR *tasks;
	ssize_t got;
	int in, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(tasks = opendir(path)))
		return 0;  /* gone meanwhile */
	while (r == 0 && (t = readdir(tasks))) {
		if (t->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children", (int)pid, t->d_name);
		if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;  /* the thread is gone */
		got = read(in, buf, sizeof(buf) - 1);
		close(in);
		buf[got > 0 ? got : 0] = '\0';
		for (p = buf; r == 0 && *p; p = end) {
			long child = strtol(p, &end, 10);

			if (end == p)
				break;
			if (child > 0)
				r = pids_add(l, (pid_t)child);
		}
	}
	closedir(tasks);
	return r;
}
/* Every process below TOP, walked down from it: the tree alone is read,
 * not every process of the machine, whose ancestry a scan of /proc
 * would follow one by one (milliseconds at each session's end).  The
 * pid of one that writes one of IDS, 0 when none does, -1 when the
 * walk could not be made. */
static pid_t walk_tree(pid_t top, const struct file_id *ids, size_t n)
{
	struct pids l = { NULL, 0, 0 };
	pid_t found = 0;

	if (pids_add(&l, top) < 0)
		return -1;
	for (size_t i = 0; i < l.n && !found; i++) {
		if (add_children(l.v[i], &l) < 0) {
			found = -1;
			break;
		}
		if (i > 0 && writes(l.v[i], ids, n))
			found = l.v[i];
	}
	free(l.v);
	return found;
}

/* The same by a scan of every process, each one's parents followed up
 * (a kernel without /proc/PID/task/TID/children). */
static pid_t scan_all(pid_t top, const struct file_id *ids, size_t n)
{
	struct dirent *d;
	pid_t found = 0, self = getpid();
	DIR *proc;

	if (!(proc = opendir("/proc")))
		return 0;
	while (!found && (d = readdir(proc))) {
		pid_t pid = (pid_t)atoi(d->d_name);

		if (pid > 1 && pid != self && proc_descends(pid, top) && writes(pid, ids, n))
			found = pid;
	}
	closedir(proc);
	return found;
}

pid_t writers_find(pid_t top, const struct file_id *ids, size_t n)
{
	pid_t found;

	if (!n)
		return 0;
	if (access("/proc/thread-self/children", R_OK) == 0 &&
	    (found = walk_tree(top, ids, n)) >= 0)
		return found;
	return scan_all(top, ids, n);
}
