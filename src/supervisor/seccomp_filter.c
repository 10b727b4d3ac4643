/* seccomp_filter.c - the covered program's filter, built and installed. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp_filter.h"

#if defined(__x86_64__)
#define FILTER_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FILTER_ARCH AUDIT_ARCH_AARCH64
#else
#error "the seccomp filter knows x86_64 and aarch64 only"
#endif
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the filter reads the low half of a 64-bit argument at its own offset"
#endif

/* aarch64 has openat alone: a number no call has stands for the others. */
#ifdef __NR_open
#define NR_OPEN __NR_open
#define NR_CREAT __NR_creat
#else
#define NR_OPEN 0xffffffffu
#define NR_CREAT 0xffffffffu
#endif

#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + (i) * sizeof(__u64))
#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))

/* Jump offsets count the instructions skipped: the comments number
 * them.  The flags are an int: their low 32 bits are all there is. */
static struct sock_filter program[] = {
	/* 0 */ LOAD(offsetof(struct seccomp_data, arch)),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FILTER_ARCH, 0, 10),      /* else 12 */
	/* 2 */ LOAD(offsetof(struct seccomp_data, nr)),
	/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 3, 0),       /* 7 */
	/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_OPEN, 4, 0),           /* 9 */
	/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_CREAT, 5, 0),          /* 11 */
	/* 6 */ RET(SECCOMP_RET_ALLOW),
	/* 7 */ LOAD(ARG_LOW(2)),                                             /* openat's flags */
	/* 8 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_ACCMODE, 2, 3),        /* 11, else 12 */
	/* 9 */ LOAD(ARG_LOW(1)),                                             /* open's flags */
	/* 10 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_ACCMODE, 0, 1),       /* 11, else 12 */
	/* 11 */ RET(SECCOMP_RET_USER_NOTIF),
	/* 12 */ RET(SECCOMP_RET_ALLOW),
};

static int install(unsigned flags)
{
	struct sock_fprog prog = { sizeof(program) / sizeof(program[0]), program };

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* With the killable wait first; without it on a kernel that does not
 * know the flag (EINVAL). */
static int install_listener(void)
{
	int fd = install(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);

	if (fd < 0 && errno == EINVAL)
		fd = install(SECCOMP_FILTER_FLAG_NEW_LISTENER);
	return fd;
}

int seccomp_filter_install(void)
{
	int fd = install_listener();

	/* EACCES: the kernel wants no_new_privs of a process without
	 * CAP_SYS_ADMIN.  Set here, in the covered program's own process,
	 * and only then. */
	if (fd < 0 && errno == EACCES) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return -1;
		fd = install_listener();
	}
	return fd;
}
