/* tally.c - the run's account (tally.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sys.h"
#include "tally.h"

/* The file's name, copied at tally_setup: a pointer into the
 * environment would not do, as programs rebuild theirs (bash does at
 * every command).  Empty: the run is not tallied.  Set once, before the
 * program runs (the library's start) or before the command starts (the
 * launcher), and only read after.  Whether it is set is a flag of its
 * own, so that a process that is not tallied never touches the page. */
static char tally_file[PATH_MAX];
static int tally_on;

void tally_setup(const char *file)
{
	size_t n = file ? strlen(file) : 0;
	const char *base = n ? strrchr(file, '/') : NULL;

	if (n == 0 || file[0] != '/' || n >= sizeof(tally_file) ||
	    strncmp(base + 1, "tally.", 6) != 0)
		return;
	memcpy(tally_file, file, n + 1);
	tally_on = 1;
}

int tally_wanted(void)
{
	return tally_on;
}

/* The file, when it is the launcher's: a regular file of our effective
 * user that no one else may read or write (the launcher makes it 0600),
 * named tally.PID, so that a name in the environment cannot have us
 * append to another file of ours (root's /etc/passwd) or follow a link. */
static int open_tally(const char *name)
{
	struct stat st;
	int fd = sys_openat(AT_FDCWD, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0);

	if (fd < 0)
		return -1;
	if (sys_fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != sys_geteuid() ||
	    (st.st_mode & 077)) {
		sys_close(fd);
		return -1;
	}
	return fd;
}

void tally_note(enum tally_kind kind, const char *path, double seconds)
{
	char line[PATH_MAX + 64];
	int saved = errno, fd, n;

	if (!tally_on)
		return;
	n = snprintf(line, sizeof(line), "%c %ld %d %s\n", (char)kind,
		     seconds > 0 ? (long)(seconds * 1000 + 0.5) : 0L, (int)sys_getpid(), path);
	if (n > 0 && (size_t)n < sizeof(line) && (fd = open_tally(tally_file)) >= 0) {
		if (sys_write(fd, line, (size_t)n) < 0) {
			/* A lost line makes the summary short, nothing else. */
		}
		sys_close(fd);
	}
	errno = saved;
}
