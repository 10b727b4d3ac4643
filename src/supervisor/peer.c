/* peer.c - the session's peers: same user, same tree. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"

/* The parent of PID, from /proc/PID/stat ("PID (COMM) STATE PPID ..."; the
 * command may hold spaces and parentheses: the last ')' ends it), or -1. */
pid_t parent_of(pid_t pid)
{
	char path[32], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -1;
	return (pid_t)atoi(p + 4);
}

int peer_in_tree(int sock, pid_t top, pid_t *pid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	pid_t p;

	*pid = 0;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.uid != geteuid())
		return 0;
	*pid = cred.pid;
	/* A chain longer than any real tree is a loop we were lied to by. */
	p = cred.pid;
	for (int depth = 0; depth < 4096 && p > 1; depth++) {
		p = parent_of(p);
		if (p == top)
			return 1;
	}
	return 0;
}
