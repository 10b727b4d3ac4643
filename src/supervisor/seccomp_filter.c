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
#include "seccomp_slots.h"

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
 * them.  The flags are an int and a descriptor an unsigned int: their
 * low 32 bits are all there is. */
enum { CLOSE_NR = 6, RANGE_LOW = 13, RANGE_HIGH = 14 };
static struct sock_filter program[] = {
	/* 0 */ LOAD(offsetof(struct seccomp_data, arch)),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FILTER_ARCH, 0, 14),      /* else 16 */
	/* 2 */ LOAD(offsetof(struct seccomp_data, nr)),
	/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 4, 0),       /* 8 */
	/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_OPEN, 5, 0),           /* 10 */
	/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_CREAT, 9, 0),          /* 15 */
	/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_close, 5, 0),        /* 12 */
	/* 7 */ RET(SECCOMP_RET_ALLOW),
	/* 8 */ LOAD(ARG_LOW(2)),                                             /* openat's flags */
	/* 9 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_ACCMODE, 5, 6),        /* 15, else 16 */
	/* 10 */ LOAD(ARG_LOW(1)),                                            /* open's flags */
	/* 11 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_ACCMODE, 3, 4),       /* 15, else 16 */
	/* 12 */ LOAD(ARG_LOW(0)),                                            /* close's fd */
	/* 13 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0, 0, 2),                /* range's low: else 16 */
	/* 14 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0),                /* its end: 16, else 15 */
	/* 15 */ RET(SECCOMP_RET_USER_NOTIF),
	/* 16 */ RET(SECCOMP_RET_ALLOW),
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

int seccomp_filter_install(int watched)
{
	int fd;

	/* Patched here, in the covered program's process after the fork. */
	if (watched > 0) {
		program[RANGE_LOW].k = (__u32)watched;
		program[RANGE_HIGH].k = (__u32)watched + SLOTS_SPAN;
	} else {
		program[CLOSE_NR].k = 0xffffffffu;  /* no call has it: no close is sent */
	}
	fd = install_listener();

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
