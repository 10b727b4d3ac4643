/* session_wire.c - the session's socket: its name, the connection, the
 * messages. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "session_wire.h"
#include "sys.h"

/* The abstract name: a leading NUL, then this prefix and VALUE. */
static const char address_prefix[] = "atomically-session.";

unsigned session_address(const char *value, struct sockaddr_un *addr, pid_t *pid)
{
	size_t len, i;
	long p = 0;
	const char *end;

	if (!value || !*value || strcmp(value, SESSION_NONE) == 0)
		return 0;
	len = strlen(value);
	if (len >= SESSION_VALUE_MAX)
		return 0;
	for (end = value; *end >= '0' && *end <= '9' && end - value < 10; end++)
		p = p * 10 + (*end - '0');
	if (end == value || *end != '.' || p <= 1 || p > INT32_MAX || !end[1])
		return 0;
	/* The address is "PID.HEX"; the keeper's ".PID" after it is not. */
	for (i = (size_t)(end + 1 - value); i < len && value[i] != '.'; i++)
		if (!strchr("0123456789abcdef", value[i]))
			return 0;
	if (i < len && session_keeper(value) <= 0)
		return 0;
	len = i;
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	/* sun_path[0] stays NUL: the abstract namespace, which needs no
	 * directory anyone could plant in, and vanishes with the socket. */
	memcpy(addr->sun_path + 1, address_prefix, sizeof(address_prefix) - 1);
	memcpy(addr->sun_path + sizeof(address_prefix), value, len);
	*pid = (pid_t)p;
	return (unsigned)(offsetof(struct sockaddr_un, sun_path) + sizeof(address_prefix) + len);
}

void session_value(char *out, pid_t pid, uint64_t random)
{
	snprintf(out, SESSION_VALUE_MAX, "%d.%016" PRIx64, (int)pid, random);
}

int session_with_keeper(char *out, const char *value, pid_t keeper)
{
	struct sockaddr_un addr;
	pid_t pid;

	if (!session_address(value, &addr, &pid) || strchr(strchr(value, '.') + 1, '.'))
		return -1;
	return snprintf(out, SESSION_VALUE_MAX, "%s.%d", value, (int)keeper) < SESSION_VALUE_MAX ?
		0 : -1;
}

pid_t session_keeper(const char *value)
{
	const char *dot = value ? strchr(value, '.') : NULL;
	long k = 0;

	if (!dot || !(dot = strchr(dot + 1, '.')) || !dot[1])
		return 0;
	for (dot++; *dot; dot++) {
		if (*dot < '0' || *dot > '9' || k > INT32_MAX / 10)
			return 0;
		k = k * 10 + (*dot - '0');
	}
	return k > 1 ? (pid_t)k : 0;
}

/* Is the process at the other end of SOCK the pid PID, of our user? */
static int peer_is(int sock, pid_t pid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	/* The socket calls by number: only a session makes them, and a
	 * function the library calls costs every process a binding at its
	 * start. */
	if (sys_raw5(SYS_getsockopt, sock, SOL_SOCKET, SO_PEERCRED, (long)&cred, (long)&len) < 0)
		return 0;
	return cred.pid == pid && cred.uid == sys_geteuid();
}

int session_connect_once(const char *value)
{
	struct sockaddr_un addr;
	unsigned len;
	pid_t pid;
	int fd, err;

	if (!(len = session_address(value, &addr, &pid))) {
		errno = ENOENT;
		return -1;
	}
	fd = (int)sys_raw(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, 0);
	if (fd < 0)
		return -1;
	if (sys_raw(SYS_connect, fd, (long)&addr, len, 0) < 0)
		err = errno;
	else if (!peer_is(fd, pid))
		err = EPERM;
	else
		return fd;
	sys_raw(SYS_close, fd, 0, 0, 0);
	errno = err;
	return -1;
}

int session_connect(const char *value, int *slot)
{
	*slot = -1;
	return sys_fd_keep(session_connect_once(value), slot);
}

uint64_t session_rules_id(const char *text)
{
	uint64_t h = 0xcbf29ce484222325ULL;  /* FNV-1a */

	for (; text && *text; text++)
		h = (h ^ (unsigned char)*text) * 0x100000001b3ULL;
	return h;
}

int session_send(int sock, const void *msg, size_t len, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(SESSION_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int sent[SESSION_FDS_MAX], n = 0;
	ssize_t w;

	for (int i = 0; i < nfds && n < SESSION_FDS_MAX; i++)
		if (fds[i] >= 0)
			sent[n++] = fds[i];
	if (n) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), sent, n * sizeof(int));
	}
	do
		w = sys_raw(SYS_sendmsg, sock, (long)&mh, MSG_NOSIGNAL, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -1;
	if ((size_t)w != len) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* The descriptors a message carried, in order, into FDS (NFDS entries);
 * those beyond are closed.  Returns how many came. */
static int take_descriptors(struct msghdr *mh, int *fds, int nfds)
{
	int count = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int got;

			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (count < nfds)
				sys_fd_keep(got, &fds[count]);
			else
				sys_fd_close(&got);
			count++;
		}
	}
	return count;
}

int session_recv(int sock, void *msg, size_t len, int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(SESSION_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { msg, len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	ssize_t n;
	int count;

	for (int i = 0; i < nfds; i++)
		fds[i] = -1;
	do
		n = sys_raw(SYS_recvmsg, sock, (long)&mh, MSG_CMSG_CLOEXEC, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	count = take_descriptors(&mh, fds, nfds);
	if (n == 0 || (size_t)n != len || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		for (int i = 0; i < nfds; i++)
			sys_fd_close(&fds[i]);
		errno = n == 0 ? EPIPE : EPROTO;
		return -1;
	}
	return count;
}

static int terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static int file_name(const char *s)
{
	return s[0] && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int session_request_valid(const struct session_request *r)
{
	if (r->op < SESSION_HOLD || r->op > SESSION_UNCOVER)
		return 0;
	if (!terminated(r->lock_dir, sizeof(r->lock_dir)) ||
	    !terminated(r->name, sizeof(r->name)) ||
	    !terminated(r->from, sizeof(r->from)) ||
	    !terminated(r->display, sizeof(r->display)) ||
	    !terminated(r->from_display, sizeof(r->from_display)))
		return 0;
	/* A listing is of the directory itself: no name; a cover's names a
	 * program. */
	if (r->op == SESSION_LIST || r->op == SESSION_COVER || r->op == SESSION_UNCOVER)
		return 1;
	return file_name(r->name) && (r->op != SESSION_RENAME || file_name(r->from));
}
