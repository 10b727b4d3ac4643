/* seccomp_remote.c - a covered thread's call, read through /proc. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/proc.h"
#include "seccomp_remote.h"

int remote_thread_of(pid_t tid, pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)tid);
	return access(path, F_OK) == 0;
}

/* The whole of FILE (a /proc status) into BUF, NUL-terminated.  0, or
 * -1 with errno. */
static int read_status(const char *file, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0) {
		errno = n == 0 ? ESRCH : errno;
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/* The number on the line FIELD ("\nName:") of /proc/ID/status, or -1
 * when it cannot be read. */
static int status_number(pid_t id, const char *field)
{
	char path[64], buf[4096];
	const char *at;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)id);
	if (read_status(path, buf, sizeof(buf)) < 0 || !(at = strstr(buf, field)))
		return -1;
	return atoi(at + strlen(field));
}

int remote_threads(pid_t pid)
{
	return status_number(pid, "\nThreads:");
}

pid_t remote_tgid(pid_t tid)
{
	return (pid_t)status_number(tid, "\nTgid:");
}

int remote_alive(pid_t pid, long long start)
{
	char path[64], buf[512];
	const char *at;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	/* "PID (COMM) STATE ...": the command may hold ") ", the last one
	 * ends it. */
	if (read_status(path, buf, sizeof(buf)) < 0 || !(at = strrchr(buf, ')')) || at[1] != ' ')
		return 0;
	if (proc_start_time(pid) != start)
		return 0;
	/* A leader that left with pthread_exit is a zombie while its other
	 * threads run: counted among the process's threads until the last
	 * one is gone. */
	return (at[2] != 'Z' && at[2] != 'X') || remote_threads(pid) > 1;
}

/* The fields of a status that decide what a thread may do to files:
 * its user and group ids (real, effective, saved, file system), its
 * supplementary groups, its effective capabilities. */
static const char *const rights[] = { "\nUid:", "\nGid:", "\nGroups:", "\nCapEff:" };

/* Do A and B (two statuses) show the same line for FIELD?  A field
 * missing from both is the same. */
static int same_line(const char *a, const char *b, const char *field)
{
	const char *la = strstr(a, field), *lb = strstr(b, field);
	size_t na, nb;

	if (!la || !lb)
		return !la && !lb;
	na = strcspn(la + 1, "\n");
	nb = strcspn(lb + 1, "\n");
	return na == nb && memcmp(la + 1, lb + 1, na) == 0;
}

/* The supervisor's own status: its rights do not change once it serves. */
static char own[4096];
static pthread_once_t own_once = PTHREAD_ONCE_INIT;

static void read_own(void)
{
	if (read_status("/proc/thread-self/status", own, sizeof(own)) < 0)
		own[0] = '\0';
}

int remote_status(pid_t tid, mode_t *umask, int *same_rights)
{
	char path[64], buf[4096];
	const char *at;

	pthread_once(&own_once, read_own);
	if (!own[0])
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (read_status(path, buf, sizeof(buf)) < 0)
		return -1;
	*umask = (at = strstr(buf, "\nUmask:")) ? (mode_t)strtoul(at + 7, NULL, 8) : 022;
	*same_rights = 1;
	for (size_t i = 0; i < sizeof(rights) / sizeof(rights[0]); i++)
		if (!same_line(own, buf, rights[i]))
			*same_rights = 0;
	return 0;
}

int remote_string(pid_t tid, uint64_t addr, char *buf, size_t size)
{
	static long page;
	size_t got = 0;

	if (!page && (page = sysconf(_SC_PAGESIZE)) <= 0)
		page = 4096;
	/* Page by page, one system call each and no descriptor: a read
	 * across into an unmapped page would fail as a whole, and a path
	 * is most often within one page. */
	while (got < size) {
		uint64_t at = addr + got;
		size_t want = (size_t)page - (size_t)(at % (uint64_t)page);
		struct iovec local, remote;
		ssize_t n;

		if (want > size - got)
			want = size - got;
		local = (struct iovec){ buf + got, want };
		remote = (struct iovec){ (void *)(uintptr_t)at, want };
		n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
		if (n <= 0) {
			errno = EFAULT;
			return -1;
		}
		if (memchr(buf + got, '\0', (size_t)n))
			return 0;
		got += (size_t)n;
	}
	errno = ENAMETOOLONG;
	return -1;
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

/* The supervisor's root and namespaces: they do not change once it
 * serves. */
static const char *const places[] = { "root", "ns/mnt", "ns/user" };
static struct stat ours[sizeof(places) / sizeof(places[0])];
static int ours_known;
static pthread_once_t ours_once = PTHREAD_ONCE_INIT;

static void read_ours(void)
{
	char path[64];

	ours_known = 1;
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		snprintf(path, sizeof(path), "/proc/self/%s", places[i]);
		if (stat(path, &ours[i]) < 0)
			ours_known = 0;
	}
}

int remote_same_root(pid_t tid)
{
	char path[64];
	struct stat theirs;

	pthread_once(&ours_once, read_ours);
	if (!ours_known)
		return 0;
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, places[i]);
		if (stat(path, &theirs) < 0 || theirs.st_dev != ours[i].st_dev ||
		    theirs.st_ino != ours[i].st_ino)
			return 0;
	}
	return 1;
}
