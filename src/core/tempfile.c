/* tempfile.c - making, naming and sweeping temps. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sys.h"
#include "journal.h"
#include "tempfile.h"
#include "tempname.h"

/* A fresh temp name for NAME, of the writer OWNER, into TEMP (NAME_MAX +
 * 1 bytes). */
static void temp_name(char *temp, const char *name, pid_t owner)
{
	static atomic_uint counter;
	struct timespec ts;
	unsigned r;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	r = ((unsigned)ts.tv_nsec ^ (atomic_fetch_add(&counter, 1) * 2654435761u)) & 0xffffff;
	n = temp_prefix(temp, NAME_MAX + 1, name);
	snprintf(temp + n, (size_t)(NAME_MAX + 1 - n), "%d.%06x", (int)owner, r);
}

/* An anonymous temp can be named later only through /proc/self/fd (or
 * with CAP_DAC_READ_SEARCH): without /proc, temps are named from the
 * start.  Looked at once per process. */
static int anonymous_usable(void)
{
	static atomic_int known;  /* 0: not yet; 1: yes; 2: no */
	int k = atomic_load_explicit(&known, memory_order_relaxed);

	if (!k) {
		k = sys_faccessat(AT_FDCWD, "/proc/self/fd", F_OK, 0) == 0 ? 1 : 2;
		atomic_store_explicit(&known, k, memory_order_relaxed);
	}
	return k == 1;
}

int temp_open(pid_t owner, int dfd, const char *name, int flags, mode_t mode, char *temp)
{
	temp[0] = '\0';
	if (anonymous_usable()) {
		int fd = sys_openat(dfd, ".", flags | O_TMPFILE | O_NOCTTY, mode);
		if (fd >= 0)
			return fd;
		/* These say the file system has no O_TMPFILE; anything else
		 * (EACCES, EROFS, ENOSPC) a named temp would meet too. */
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL && errno != ENOSYS)
			return -1;
	}
	for (int tries = 0; tries < 100; tries++) {
		int fd;

		temp_name(temp, name, owner);
		fd = sys_openat(dfd, temp, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY, mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			break;
	}
	temp[0] = '\0';
	return -1;
}

int temp_link(pid_t owner, int fd, int dfd, const char *name, char *temp)
{
	char proc[32];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (int tries = 0; tries < 100; tries++) {
		temp_name(temp, name, owner);
		if (sys_linkat(AT_FDCWD, proc, dfd, temp, AT_SYMLINK_FOLLOW) == 0)
			return 0;
		if (errno == EEXIST)
			continue;
		/* /proc went away since the open: linking the descriptor itself
		 * needs privilege, but may be had. */
		if (errno == ENOENT && sys_linkat(fd, "", dfd, temp, AT_EMPTY_PATH) == 0)
			return 0;
		break;
	}
	temp[0] = '\0';
	return -1;
}

/* The kernel's directory entry, as getdents64 gives it: readdir would
 * allocate. */
int temp_sweep(pid_t owner, int dfd, const char *name, const char *display)
{
	_Alignas(8) char buf[4096];
	int dir = sys_openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), remain = 0;
	int settled = 0;
	struct stat st;
	long n;

	if (dir < 0)
		return -1;
	while ((n = sys_getdents64(dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			const struct sys_dirent *d = (const void *)(buf + off);
			int pid = temp_owner(d->name, name);

			off += d->reclen;
			if (pid < 0 || pid == (int)owner || !temp_owner_dead(pid)) {
				remain += pid >= 0;
				continue;
			}
			/* A session's committer that died after its commit
			 * point left a journal: its temps are completed, not
			 * removed (journal.h). */
			if (pid != settled && journal_settle(dfd, pid) > 0) {
				settled = pid;
				if (sys_fstatat(dfd, d->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
					continue;  /* renamed into place */
			}
			if (sys_unlinkat(dfd, d->name, 0) == 0) {
				log_info("%s: removed %s, left by pid %d, which died before committing",
					 display, d->name, pid);
				continue;
			}
			remain++;
		}
	}
	sys_close(dir);
	return n < 0 ? -1 : remain;
}

int temp_rename_in(pid_t owner, int fromfd, const char *from, int dfd, const char *name,
		   char *temp)
{
	for (int tries = 0; tries < 100; tries++) {
		temp_name(temp, name, owner);
		if (sys_renameat2(fromfd, from, dfd, temp, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	temp[0] = '\0';
	return -1;
}

int temp_link_name(pid_t owner, int dfd, const char *from, const char *name, char *temp)
{
	for (int tries = 0; tries < 100; tries++) {
		temp_name(temp, name, owner);
		if (sys_linkat(dfd, from, dfd, temp, 0) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	temp[0] = '\0';
	return -1;
}

/* TEMP becomes FRESH, which must not exist: renameat2's RENAME_NOREPLACE,
 * or, where the file system has none, a second name and the first
 * removed. */
static int rename_fresh(int dfd, const char *temp, const char *fresh)
{
	if (sys_renameat2(dfd, temp, dfd, fresh, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (sys_linkat(dfd, temp, dfd, fresh, 0) < 0)
		return -1;
	sys_unlinkat(dfd, temp, 0);
	return 0;
}

int temp_rename_owner(pid_t owner, int dfd, const char *name, char *temp)
{
	char fresh[NAME_MAX + 1];

	for (int tries = 0; tries < 100; tries++) {
		temp_name(fresh, name, owner);
		if (rename_fresh(dfd, temp, fresh) == 0) {
			snprintf(temp, NAME_MAX + 1, "%s", fresh);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	return -1;
}
