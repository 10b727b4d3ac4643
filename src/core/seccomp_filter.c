/* seccomp_filter.c - the covered program's filter, built and installed.
 *
 * Shared by the launcher (its COMMAND, after the fork) and the library
 * (a static or Go program exec'd by a process of a session): so through
 * sys_raw, never libc's syscall(), which the library interposes. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "seccomp_filter.h"
#include "sys.h"

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

/* aarch64 has only the *at calls: a number no call has stands for the
 * others. */
#define NO_CALL 0xffffffffu
#ifdef __NR_open
#define NR_OPEN __NR_open
#define NR_CREAT __NR_creat
#define NR_STAT __NR_stat
#define NR_LSTAT __NR_lstat
#define NR_ACCESS __NR_access
#define NR_RENAME __NR_rename
#define NR_UNLINK __NR_unlink
#else
#define NR_OPEN NO_CALL
#define NR_CREAT NO_CALL
#define NR_STAT NO_CALL
#define NR_LSTAT NO_CALL
#define NR_ACCESS NO_CALL
#define NR_RENAME NO_CALL
#define NR_UNLINK NO_CALL
#endif
#ifdef __NR_dup2
#define NR_DUP2 __NR_dup2
#else
#define NR_DUP2 NO_CALL
#endif
#ifdef __NR_renameat
#define NR_RENAMEAT __NR_renameat
#else
#define NR_RENAMEAT NO_CALL
#endif
#ifndef __NR_faccessat2
#define __NR_faccessat2 439
#endif

/* Descriptors 0, 1 and 2: a shell's redirection puts a file there with
 * dup2 and closes the number it was opened at. */
#define STDIO_END 3

#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + (i) * sizeof(__u64))
#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
/* A jump from instruction FROM to instruction TO (a later one). */
#define TO(from, to) ((to) - (from) - 1)
#define IS(at, k, to) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), TO(at, to), 0)

/* The instructions by name, in order: the jumps are computed from them.
 * The flags are an int and a descriptor an unsigned int: their low 32
 * bits are all there is. */
enum {
	I_ARCH, I_ARCH_IS,
	I_NR,
	I_OPENAT, I_OPEN, I_CREAT, I_CLOSE, I_DUP, I_DUP2, I_DUP3, I_FCNTL,
	I_RENAME, I_RENAMEAT, I_RENAMEAT2,
	I_STAT, I_LSTAT, I_FSTATAT, I_STATX, I_ACCESS, I_FACCESSAT, I_FACCESSAT2,
	I_UNLINK, I_UNLINKAT,
	I_EXIT, I_EXIT_GROUP,
	I_OTHER,
	I_OPENAT_FLAGS, I_OPENAT_WRITES,
	I_OPEN_FLAGS, I_OPEN_WRITES,
	I_FCNTL_CMD, I_FCNTL_DUPFD, I_FCNTL_DUPFD_CLOEXEC,
	I_DUP_NEW, I_DUP_NEW_STDIO, I_DUP_NEW_LOW, I_DUP_NEW_HIGH,
	I_CLOSE_FD, I_CLOSE_STDIO,
	I_DUP_OLD, I_DUP_OLD_STDIO, I_RANGE_LOW, I_RANGE_HIGH,
	I_LOOK,                 /* a look at a name: sent only when reads are watched */
	I_END,                  /* an exit: sent only when exits are watched */
	I_SEND,
	I_ALLOW,
	I_COUNT
};

static const struct sock_filter program[I_COUNT] = {
	[I_ARCH] = LOAD(offsetof(struct seccomp_data, arch)),
	[I_ARCH_IS] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FILTER_ARCH, 0, TO(I_ARCH_IS, I_ALLOW)),
	[I_NR] = LOAD(offsetof(struct seccomp_data, nr)),
	[I_OPENAT] = IS(I_OPENAT, __NR_openat, I_OPENAT_FLAGS),
	[I_OPEN] = IS(I_OPEN, NR_OPEN, I_OPEN_FLAGS),
	[I_CREAT] = IS(I_CREAT, NR_CREAT, I_SEND),
	[I_CLOSE] = IS(I_CLOSE, __NR_close, I_CLOSE_FD),
	[I_DUP] = IS(I_DUP, __NR_dup, I_DUP_OLD),
	[I_DUP2] = IS(I_DUP2, NR_DUP2, I_DUP_NEW),
	[I_DUP3] = IS(I_DUP3, __NR_dup3, I_DUP_NEW),
	[I_FCNTL] = IS(I_FCNTL, __NR_fcntl, I_FCNTL_CMD),
	[I_RENAME] = IS(I_RENAME, NR_RENAME, I_SEND),
	[I_RENAMEAT] = IS(I_RENAMEAT, NR_RENAMEAT, I_SEND),
	[I_RENAMEAT2] = IS(I_RENAMEAT2, __NR_renameat2, I_SEND),
	[I_STAT] = IS(I_STAT, NR_STAT, I_LOOK),
	[I_LSTAT] = IS(I_LSTAT, NR_LSTAT, I_LOOK),
	[I_FSTATAT] = IS(I_FSTATAT, __NR_newfstatat, I_LOOK),
	[I_STATX] = IS(I_STATX, __NR_statx, I_LOOK),
	[I_ACCESS] = IS(I_ACCESS, NR_ACCESS, I_LOOK),
	[I_FACCESSAT] = IS(I_FACCESSAT, __NR_faccessat, I_LOOK),
	[I_FACCESSAT2] = IS(I_FACCESSAT2, __NR_faccessat2, I_LOOK),
	/* Sent with the looks: an unlink of a file the program is writing
	 * then keeps it from being committed (seccomp_files_unlinked).  Not
	 * always: each would be a round trip for every unlink of the tree
	 * (an rm -rf of 20,000 files took 7 s instead of 0.3 s). */
	[I_UNLINK] = IS(I_UNLINK, NR_UNLINK, I_LOOK),
	[I_UNLINKAT] = IS(I_UNLINKAT, __NR_unlinkat, I_LOOK),
	[I_EXIT] = IS(I_EXIT, __NR_exit, I_END),
	[I_EXIT_GROUP] = IS(I_EXIT_GROUP, __NR_exit_group, I_END),
	[I_OTHER] = RET(SECCOMP_RET_ALLOW),
	[I_OPENAT_FLAGS] = LOAD(ARG_LOW(2)),
	[I_OPENAT_WRITES] = BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_ACCMODE,
				     TO(I_OPENAT_WRITES, I_SEND), TO(I_OPENAT_WRITES, I_LOOK)),
	[I_OPEN_FLAGS] = LOAD(ARG_LOW(1)),
	[I_OPEN_WRITES] = BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_ACCMODE,
				   TO(I_OPEN_WRITES, I_SEND), TO(I_OPEN_WRITES, I_LOOK)),
	/* fcntl: only F_DUPFD and F_DUPFD_CLOEXEC make a descriptor. */
	[I_FCNTL_CMD] = LOAD(ARG_LOW(1)),
	[I_FCNTL_DUPFD] = IS(I_FCNTL_DUPFD, F_DUPFD, I_DUP_OLD),
	[I_FCNTL_DUPFD_CLOEXEC] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_DUPFD_CLOEXEC,
					   TO(I_FCNTL_DUPFD_CLOEXEC, I_DUP_OLD),
					   TO(I_FCNTL_DUPFD_CLOEXEC, I_ALLOW)),
	/* dup2, dup3: sent when the new number is a standard stream's or in
	 * the range (it may hold one of ours, closed by the dup), or else
	 * when the old one is in the range. */
	[I_DUP_NEW] = LOAD(ARG_LOW(1)),
	[I_DUP_NEW_STDIO] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, STDIO_END, 0,
				     TO(I_DUP_NEW_STDIO, I_SEND)),
	[I_DUP_NEW_LOW] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0, 0,
				   TO(I_DUP_NEW_LOW, I_DUP_OLD)),  /* patched */
	[I_DUP_NEW_HIGH] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0, TO(I_DUP_NEW_HIGH, I_DUP_OLD),
				    TO(I_DUP_NEW_HIGH, I_SEND)),  /* patched */
	/* close: of a standard stream, or in the range. */
	[I_CLOSE_FD] = LOAD(ARG_LOW(0)),
	[I_CLOSE_STDIO] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, STDIO_END,
				   TO(I_CLOSE_STDIO, I_RANGE_LOW), TO(I_CLOSE_STDIO, I_SEND)),
	/* dup, fcntl's dups, dup2 and dup3 onto a number out of the range:
	 * sent when the old number is in it (a descriptor of ours goes
	 * where the filter cannot see its close) or is a standard stream
	 * (which may hold one of ours). */
	[I_DUP_OLD] = LOAD(ARG_LOW(0)),
	[I_DUP_OLD_STDIO] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, STDIO_END, 0,
				     TO(I_DUP_OLD_STDIO, I_SEND)),
	/* The range's first number and its end are patched in. */
	[I_RANGE_LOW] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0, 0, TO(I_RANGE_LOW, I_ALLOW)),
	[I_RANGE_HIGH] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0, TO(I_RANGE_HIGH, I_ALLOW),
				  TO(I_RANGE_HIGH, I_SEND)),
	[I_LOOK] = RET(SECCOMP_RET_ALLOW),  /* patched: sent when reads are watched */
	[I_END] = RET(SECCOMP_RET_ALLOW),   /* patched: sent when exits are watched */
	[I_SEND] = RET(SECCOMP_RET_USER_NOTIF),
	[I_ALLOW] = RET(SECCOMP_RET_ALLOW),
};

int seccomp_filter_range(unsigned long soft)
{
	unsigned long top = soft < 1024 ? soft : 1024;

	/* Room below the range for the program's own descriptors. */
	return top >= 4 * SLOTS_SPAN ? (int)(top - SLOTS_SPAN) : 0;
}

unsigned long seccomp_filter_soft_limit(void)
{
	struct rlimit rl;

	if (sys_raw(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&rl) < 0)
		return 0;
	return rl.rlim_cur;
}

static int install(struct sock_filter *prog, unsigned flags)
{
	struct sock_fprog fprog = { I_COUNT, prog };

	return (int)sys_raw(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, (long)&fprog, 0);
}

/* With the killable wait first; without it on a kernel that does not
 * know the flag (EINVAL). */
static int install_listener(struct sock_filter *prog)
{
	int fd = install(prog, SECCOMP_FILTER_FLAG_NEW_LISTENER |
			       SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);

	if (fd < 0 && errno == EINVAL)
		fd = install(prog, SECCOMP_FILTER_FLAG_NEW_LISTENER);
	return fd;
}

int seccomp_filter_install(int watched, int reads, int exits)
{
	struct sock_filter prog[I_COUNT];
	int fd;

	/* A copy patched on the stack: two threads of a process may exec
	 * at once. */
	memcpy(prog, program, sizeof(prog));
	if (watched > 0) {
		prog[I_RANGE_LOW].k = prog[I_DUP_NEW_LOW].k = (__u32)watched;
		prog[I_RANGE_HIGH].k = prog[I_DUP_NEW_HIGH].k = (__u32)watched + SLOTS_SPAN;
	} else {
		/* No close is watched: no dup need be seen either. */
		prog[I_CLOSE].k = prog[I_DUP].k = prog[I_DUP2].k = NO_CALL;
		prog[I_DUP3].k = prog[I_FCNTL].k = NO_CALL;
	}
	if (reads)
		prog[I_LOOK].k = SECCOMP_RET_USER_NOTIF;
	if (exits)
		prog[I_END].k = SECCOMP_RET_USER_NOTIF;
	fd = install_listener(prog);

	/* EACCES: the kernel wants no_new_privs of a process without
	 * CAP_SYS_ADMIN.  Set here, in the covered program's own process,
	 * and only then. */
	if (fd < 0 && errno == EACCES) {
		if (sys_raw(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0) < 0)
			return -1;
		fd = install_listener(prog);
	}
	return fd;
}
