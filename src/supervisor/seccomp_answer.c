/* seccomp_answer.c - answers to notifications, by ioctl. */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>

#include "seccomp_answer.h"

static int send_answer(int listener, struct seccomp_notif_resp *resp)
{
	int r;

	do
		r = ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
	while (r < 0 && errno == EINTR);
	return r;
}

int answer_continue(int listener, uint64_t id)
{
	/* CONTINUE wants val and error 0. */
	struct seccomp_notif_resp resp = { .id = id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };

	return send_answer(listener, &resp);
}

int answer_error(int listener, uint64_t id, int err)
{
	struct seccomp_notif_resp resp = { .id = id, .error = -err };

	return send_answer(listener, &resp);
}

int answer_value(int listener, uint64_t id, int64_t val)
{
	struct seccomp_notif_resp resp = { .id = id, .val = val };

	return send_answer(listener, &resp);
}

int answer_fd(int listener, uint64_t id, int fd, int cloexec, int at)
{
	struct seccomp_notif_addfd addfd = {
		.id = id,
		.flags = SECCOMP_ADDFD_FLAG_SEND | (at >= 0 ? SECCOMP_ADDFD_FLAG_SETFD : 0),
		.srcfd = (__u32)fd,
		.newfd = at >= 0 ? (__u32)at : 0,
		.newfd_flags = cloexec ? O_CLOEXEC : 0,
	};
	int r;

	do
		r = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
	while (r < 0 && errno == EINTR);
	return r;
}
