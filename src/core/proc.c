/* proc.c - other processes, as /proc shows them (proc.h). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "proc.h"
#include "sys.h"

/* Up to SIZE - 1 bytes of /proc/PID/WHAT into BUF; how many, or -1. */
static ssize_t read_proc(pid_t pid, const char *what, char *buf, size_t size)
{
	char path[48];
	int fd = -1;
	ssize_t n = -1;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	if (sys_fd_keep(sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0), &fd) >= 0)
		n = sys_pread(fd, buf, size - 1, 0);
	sys_fd_close(&fd);
	return n;
}

/* Field N (1-based, as proc(5) numbers them; N >= 3) of /proc/PID/stat
 * as a number; -1 when it cannot be read. */
static long long stat_field(pid_t pid, int n)
{
	char buf[512], *p;
	ssize_t len = read_proc(pid, "stat", buf, sizeof(buf));
	long long v = 0;

	if (len <= 0)
		return -1;
	buf[len] = '\0';
	/* "PID (COMM) STATE PPID ...": the command may hold spaces and
	 * parentheses, and the last ')' ends it. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -1;
	p += 2;  /* field 3 */
	for (int field = 3; field < n; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return v;
}

pid_t proc_parent(pid_t pid)
{
	long long parent = stat_field(pid, 4);

	return parent < 0 ? -1 : (pid_t)parent;
}

long long proc_start_time(pid_t pid)
{
	return stat_field(pid, 22);
}

int proc_descends(pid_t pid, pid_t top)
{
	/* A chain longer than any real tree is a loop we were lied to by. */
	for (int depth = 0; depth < 4096 && pid > 1; depth++) {
		pid = proc_parent(pid);
		if (pid == top)
			return 1;
	}
	return 0;
}

void proc_command(pid_t pid, char *out, size_t size)
{
	char raw[160];
	ssize_t n = read_proc(pid, "cmdline", raw, sizeof(raw));

	out[0] = '\0';
	if (n <= 0)
		return;
	while (n > 0 && raw[n - 1] == '\0')
		n--;
	for (char *p = raw; p < raw + n; p++)
		if (*p == '\0')
			*p = ' ';
	snprintf(out, size, "%.*s", (int)n, raw);
}
