/* hook_syscall.c - syscall(): the calls the library watches, made by
 * number.  libuv (node) closes every descriptor with syscall(SYS_close):
 * past the close hook, a pending file was never released, its number was
 * taken by the next open, and its temp was dropped with its write, exit
 * status 0.  So each number the hooks cover goes to its hook, as if the
 * program had called the function; every other number goes straight to
 * the kernel, as before. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include "hooks.h"
#include "real.h"
#include "state.h"
#include "tombstone.h"

/* The close of syscall(SYS_close): the system call itself, as the
 * program asked (no cancellation point, no libc in between). */
static int kernel_close(int fd)
{
	return (int)real.syscall(SYS_close, fd);
}

/* openat2 as an openat, when HOW asks for nothing openat cannot say (no
 * RESOLVE_* flags); else -2: the kernel's own. */
static long as_openat(int dirfd, const char *path, const struct open_how *how, size_t size)
{
	if (!how || size < sizeof(*how) || how->resolve || how->flags > 0xffffffffULL)
		return -2;
	return hook_openat(dirfd, path, (int)how->flags, (mode_t)how->mode);
}

/* A call that writes to FD: the system call, then what its result says
 * of a pending file (hook_write.c). */
#define WROTE(fd)                                                             \
	do {                                                                  \
		long r_ = real.syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]); \
		hook_wrote((int)(fd), r_);                                    \
		return r_;                                                    \
	} while (0)

EXPORT long syscall(long number, ...)
{
	long a[6], r;
	va_list ap;

	/* Six arguments, whatever the number takes: glibc's syscall reads
	 * them from the registers the same way. */
	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
#define S(x) (const char *)(x)
	switch (number) {
	case SYS_close: return hook_close((int)a[0], kernel_close);
#ifdef SYS_close_range
	case SYS_close_range: return hook_close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
#endif
	case SYS_dup: return hook_dup((int)a[0]);
#ifdef SYS_dup2
	case SYS_dup2: return hook_dup2((int)a[0], (int)a[1]);
#endif
	case SYS_dup3: return hook_dup3((int)a[0], (int)a[1], (int)a[2]);
	case SYS_fcntl: return hook_fcntl((int)a[0], (int)a[1], a[2]);
#ifdef SYS_open
	case SYS_open: return hook_open(S(a[0]), (int)a[1], (mode_t)a[2]);
#endif
#ifdef SYS_creat
	case SYS_creat: return hook_creat(S(a[0]), (mode_t)a[1]);
#endif
	case SYS_openat: return hook_openat((int)a[0], S(a[1]), (int)a[2], (mode_t)a[3]);
#ifdef SYS_openat2
	case SYS_openat2:
		if ((r = as_openat((int)a[0], S(a[1]), (const struct open_how *)a[2], (size_t)a[3])) != -2)
			return r;
		break;
#endif
#ifdef SYS_rename
	case SYS_rename: return hook_rename(S(a[0]), S(a[1]));
#endif
	case SYS_renameat: return hook_renameat((int)a[0], S(a[1]), (int)a[2], S(a[3]));
	case SYS_renameat2:
		return hook_renameat2((int)a[0], S(a[1]), (int)a[2], S(a[3]), (unsigned)a[4]);
#ifdef SYS_unlink
	case SYS_unlink: return hook_unlink(S(a[0]));
#endif
	case SYS_unlinkat: return hook_unlinkat((int)a[0], S(a[1]), (int)a[2]);
#ifdef SYS_rmdir
	case SYS_rmdir: return hook_rmdir(S(a[0]));
#endif
#ifdef SYS_mkdir
	case SYS_mkdir: return hook_mkdir(S(a[0]), (mode_t)a[1]);
#endif
	case SYS_mkdirat: return hook_mkdirat((int)a[0], S(a[1]), (mode_t)a[2]);
#ifdef SYS_link
	case SYS_link: return hook_link(S(a[0]), S(a[1]));
#endif
	case SYS_linkat: return hook_linkat((int)a[0], S(a[1]), (int)a[2], S(a[3]), (int)a[4]);
#ifdef SYS_symlink
	case SYS_symlink: return hook_symlink(S(a[0]), S(a[1]));
#endif
	case SYS_symlinkat: return hook_symlinkat(S(a[0]), (int)a[1], S(a[2]));
#ifdef SYS_stat
	case SYS_stat: return hook_stat(S(a[0]), (struct stat *)a[1]);
#endif
#ifdef SYS_lstat
	case SYS_lstat: return hook_lstat(S(a[0]), (struct stat *)a[1]);
#endif
	case SYS_fstat: return hook_fstat((int)a[0], (struct stat *)a[1]);
#ifdef SYS_newfstatat
	case SYS_newfstatat:
		return hook_fstatat((int)a[0], S(a[1]), (struct stat *)a[2], (int)a[3]);
#endif
	case SYS_statx:
		return hook_statx((int)a[0], S(a[1]), (int)a[2], (unsigned)a[3], (struct statx *)a[4]);
#ifdef SYS_access
	case SYS_access: return hook_access(S(a[0]), (int)a[1]);
#endif
	case SYS_faccessat: return hook_faccessat((int)a[0], S(a[1]), (int)a[2], 0);
#ifdef SYS_faccessat2
	case SYS_faccessat2: return hook_faccessat((int)a[0], S(a[1]), (int)a[2], (int)a[3]);
#endif
#ifdef SYS_chmod
	case SYS_chmod: return hook_chmod(S(a[0]), (mode_t)a[1]);
#endif
	case SYS_fchmodat: return hook_fchmodat((int)a[0], S(a[1]), (mode_t)a[2], 0);
#ifdef SYS_chown
	case SYS_chown: return hook_chown(S(a[0]), (uid_t)a[1], (gid_t)a[2]);
#endif
#ifdef SYS_lchown
	case SYS_lchown: return hook_lchown(S(a[0]), (uid_t)a[1], (gid_t)a[2]);
#endif
	case SYS_fchownat:
		return hook_fchownat((int)a[0], S(a[1]), (uid_t)a[2], (gid_t)a[3], (int)a[4]);
#ifdef SYS_utime
	case SYS_utime: return hook_utime(S(a[0]), (const struct utimbuf *)a[1]);
#endif
#ifdef SYS_utimes
	case SYS_utimes: return hook_utimes(S(a[0]), (const struct timeval *)a[1]);
#endif
#ifdef SYS_futimesat
	case SYS_futimesat:
		return hook_futimesat((int)a[0], S(a[1]), (const struct timeval *)a[2]);
#endif
	case SYS_utimensat:
		return hook_utimensat((int)a[0], S(a[1]), (const struct timespec *)a[2], (int)a[3]);
	case SYS_truncate: return hook_truncate(S(a[0]), (off_t)a[1]);
	case SYS_fsync: return hook_fsync((int)a[0]);
	case SYS_fdatasync: return hook_fdatasync((int)a[0]);
	case SYS_write:
	case SYS_pwrite64:
	case SYS_writev:
	case SYS_pwritev:
		WROTE(a[0]);
	case SYS_pwritev2:
		if (a[5] & HOOK_RWF_NOAPPEND)
			hook_before_overwrite((int)a[0]);
		WROTE(a[0]);
	case SYS_ftruncate:
	case SYS_fallocate:
		hook_before_overwrite((int)a[0]);
		break;
	case SYS_getdents64:
#ifdef SYS_getdents
	case SYS_getdents:
#endif
		/* A listing: the deferred unlink first, as for opendir. */
		if (lib_should_act())
			tombstone_flush();
		break;
	/* These make the system call itself (a preload after this one may
	 * implement mmap by syscall(SYS_mmap), and would come back here),
	 * with the library's part before or after it. */
	case SYS_mmap:
		hook_mapping((int)a[4], (int)a[3]);
		break;
	case SYS_munmap:
	case SYS_wait4:
	case SYS_waitid:
	case SYS_flock:
		r = real.syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (r < 0)
			return r;
		if (number == SYS_munmap)
			hook_unmapped();
		else if (number == SYS_flock)
			hook_flocked((int)a[0], (int)a[1]);
		else if (number == SYS_wait4)
			hook_reaped((pid_t)r);
		else if (a[2])
			hook_reaped(((siginfo_t *)a[2])->si_pid);
		return r;
#ifdef SYS_fork
	case SYS_fork:
#endif
#ifdef SYS_vfork
	case SYS_vfork:
#endif
	case SYS_clone:
#ifdef SYS_clone3
	case SYS_clone3:
#endif
		/* A new process, which returns here too: prepared for before. */
		hook_before_child();
		break;
	case SYS_execve:
		return hook_execve(S(a[0]), (char *const *)a[1], (char *const *)a[2]);
	case SYS_exit_group:
		hook__exit((int)a[0]);
	}
#undef S
	return real.syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
