/* seccomp_answer.h - the four answers to a covered program's call.
 *
 * A call the filter stopped waits in the kernel until the supervisor
 * answers its notification (by ID) on the listener: go on as if never
 * stopped, fail with an errno, return a value (a call the supervisor
 * made itself), or return a descriptor the supervisor
 * opened, put into the program's table by the kernel
 * (SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND, Linux 5.14:
 * the descriptor and the answer in one step, so that a call interrupted
 * in between leaves no stray descriptor in the program). */
#ifndef ATOMICALLY_SECCOMP_ANSWER_H
#define ATOMICALLY_SECCOMP_ANSWER_H

#include <stdint.h>

/* The call goes on in the kernel, as the program made it. */
int answer_continue(int listener, uint64_t id);

/* The call fails with ERR. */
int answer_error(int listener, uint64_t id, int err);

/* The call returns VAL (the supervisor made it: a rename). */
int answer_value(int listener, uint64_t id, int64_t val);

/* The call returns a new descriptor of FD's open file (close-on-exec
 * when CLOEXEC), numbered AT (replacing whatever had that number: the
 * caller knows it free), or the lowest free number when AT is -1.
 * Returns its number in the program, or -1 with errno (EBADF or EMFILE:
 * AT is beyond the program's RLIMIT_NOFILE):
 * ENOENT, the call is gone (the program was killed, or a signal
 * interrupted the call: it will be made again, as a new notification);
 * EINVAL, a kernel without SECCOMP_ADDFD_FLAG_SEND.  Nothing was put in
 * the program then. */
int answer_fd(int listener, uint64_t id, int fd, int cloexec, int at);

#endif
