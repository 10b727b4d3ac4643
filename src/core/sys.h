/* sys.h - the one way from the core to the kernel.
 *
 * The core runs in two kinds of process.  Inside a wrapped program it is
 * part of libatomically.so, and the public names of the calls the
 * library interposes (open, close, rename, write, ...) lead back into
 * its own hooks.  In a plain process (the launcher, the supervisor, the
 * unit tests) they are libc's.  So the core never calls those names: it
 * calls sys_*, which two files implement, one per kind of process:
 *
 *   preload/sys_real.c   the real functions, the next definition after
 *                        the library (real.h), and the library's hidden
 *                        descriptors (ownfd.h);
 *   core/sys_libc.c      libc, for a plain process.
 *
 * What nobody interposes is inline below, the same in both.
 *
 * Descriptors the core keeps beyond one call (a pending file's directory
 * and temp, a lock file) live in slots: an int the core owns, which
 * sys_fd_keep fills and sys_fd_close empties.  Inside a program the
 * library hides them from it and may move them to another number (a
 * dup2 onto one), updating the slot; in a plain process a slot is just
 * the number.
 *
 * Include this in .c files only, after their system headers and never
 * from a header: from here on it poisons the interposed names (and makes
 * the few that are also the names of structures, stat and statx, fail
 * when called), so that the compiler refuses any call of them in the
 * file.  A file that implements these functions defines
 * SYS_IMPLEMENTATION first.  scripts/check_hooks.sh checks, at every
 * build of the library, that every function the library exports is in
 * the list below.
 */
#ifndef ATOMICALLY_SYS_H
#define ATOMICALLY_SYS_H

/* Every header that declares an interposed name, before the poison. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* ---- interposed by the library: two implementations ---- */

int sys_openat(int dfd, const char *path, int flags, mode_t mode);
int sys_close(int fd);
int sys_faccessat(int dfd, const char *path, int mode, int flags);
int sys_mkdirat(int dfd, const char *path, mode_t mode);
int sys_fsync(int fd);
int sys_fdatasync(int fd);
int sys_unlinkat(int dfd, const char *path, int flags);
int sys_renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags);
int sys_linkat(int fromfd, const char *from, int tofd, const char *to, int flags);
ssize_t sys_write(int fd, const void *buf, size_t n);
ssize_t sys_pwrite(int fd, const void *buf, size_t n, off_t off);
int sys_ftruncate(int fd, off_t len);
ssize_t sys_copy_file_range(int in, off_t *inoff, int out, off_t *outoff, size_t n);
/* fcntl with an int argument (F_GETFD, F_SETFD, F_GETFL, F_SETFL,
 * F_DUPFD_CLOEXEC) or a struct flock (the OFD locks). */
int sys_fcntl(int fd, int cmd, int arg);
int sys_fcntl_lock(int fd, int cmd, struct flock *fl);
int sys_flock(int fd, int op);
/* dup3: FROM onto the program's descriptor TO (the library's end of a
 * shared file, preload/held.c). */
int sys_dup3(int from, int to, int flags);

/* Memory of our own, zeroed, never from the program's allocator (which
 * may not be ready, or may be what a signal handler interrupted); NULL
 * when none can be had.  sys_reserve: address space only, pages cost
 * memory once touched. */
void *sys_map(size_t size);
void *sys_reserve(size_t size);
void sys_unmap(void *p, size_t size);

/* A system call made directly, by number, with up to four arguments
 * (the rest zero): syscall() itself is interposed too. */
long sys_raw(long number, long a, long b, long c, long d);
/* The same with five arguments (getsockopt). */
long sys_raw5(long number, long a, long b, long c, long d, long e);

/* The environment: the library reads environ by hand (a program's own
 * getenv may not work before its main: bash's). */
const char *sys_getenv(const char *name);

/* ---- the slots of descriptors kept ---- */

/* Take FD (just opened by the core) into *SLOT; returns it (perhaps at
 * another number), or -1 with *SLOT = -1 when FD is -1. */
int sys_fd_keep(int fd, int *slot);
/* A descriptor of our own for what FD is, into *SLOT; -1 with errno. */
int sys_fd_dup(int fd, int *slot);
/* FD is ours already (handed over): record it in *SLOT. */
void sys_fd_adopt(int fd, int *slot);
/* Close the descriptor in *SLOT, if any; *SLOT = -1.  Keeps errno. */
void sys_fd_close(int *slot);
/* sys_fd_close of each of the N slots SLOTS[i], in one close_range when
 * their descriptors are consecutive numbers (as a pending file's
 * directory, lock file and temp mostly are: made one after the other):
 * one system call rather than N.  Keeps errno. */
void sys_fd_close_n(int *const *slots, int n);

/* ---- interposed by nobody: libc, the same in every process ---- */

/* For sys_fd_close_n: do the N slots SLOTS[i] hold at least two
 * descriptors, all different and nothing else between the lowest (*LO)
 * and the highest (*HI)?  Then close_range(*LO, *HI) closes them and
 * nothing more. */
static inline int sys_fd_span(int *const *slots, int n, int *lo, int *hi)
{
	int count = 0;

	*lo = -1;
	*hi = -1;
	for (int i = 0; i < n; i++) {
		int fd = *slots[i];
		if (fd < 0)
			continue;
		for (int j = 0; j < i; j++)
			if (*slots[j] == fd)
				return 0;
		if (*lo < 0 || fd < *lo)
			*lo = fd;
		if (fd > *hi)
			*hi = fd;
		count++;
	}
	return count >= 2 && *hi - *lo + 1 == count;
}

/* fstat as the system call itself: a sanitizer's runtime preloaded
 * before the library wraps fstat and records every descriptor, but never
 * sees the library open or close its own, and would take a program
 * thread's reuse of such a number for a race on it. */
static inline int sys_fstat(int fd, struct stat *st)
{
#if defined(SYS_fstat) && (defined(__x86_64__) || defined(__aarch64__))
	return (int)sys_raw(SYS_fstat, fd, (long)st, 0, 0);
#else
	return fstat(fd, st);
#endif
}

/* fstatat the same way, and for one more reason: glibc before 2.33 has
 * no fstatat function (its headers turn the call into __fxstatat), and
 * the library's lookup of the real one would find nothing. */
static inline int sys_fstatat(int dfd, const char *path, struct stat *st, int flags)
{
#if defined(SYS_newfstatat) && (defined(__x86_64__) || defined(__aarch64__))
	return (int)sys_raw(SYS_newfstatat, dfd, (long)path, (long)st, flags);
#else
	return fstatat(dfd, path, st, flags);
#endif
}

static inline ssize_t sys_pread(int fd, void *buf, size_t n, off_t off) { return pread(fd, buf, n, off); }
static inline off_t sys_lseek(int fd, off_t off, int whence) { return lseek(fd, off, whence); }
static inline int sys_fchmod(int fd, mode_t mode) { return fchmod(fd, mode); }
static inline int sys_fchown(int fd, uid_t uid, gid_t gid) { return fchown(fd, uid, gid); }
static inline int sys_futimens(int fd, const struct timespec ts[2]) { return futimens(fd, ts); }
static inline int sys_ficlone(int to, int from) { return ioctl(to, FICLONE, from); }
static inline ssize_t sys_readlinkat(int dfd, const char *path, char *buf, size_t n)
{
	return readlinkat(dfd, path, buf, n);
}
static inline char *sys_getcwd(char *buf, size_t n) { return getcwd(buf, n); }
static inline long sys_getdents64(int fd, void *buf, size_t n)
{
	return sys_raw(SYS_getdents64, fd, (long)buf, (long)n, 0);
}
/* One entry of what sys_getdents64 fills in (the kernel's
 * linux_dirent64): RECLEN bytes from its start to the next. */
struct sys_dirent {
	unsigned long long ino;
	long long off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};
static inline ssize_t sys_flistxattr(int fd, char *list, size_t n) { return flistxattr(fd, list, n); }
static inline ssize_t sys_llistxattr(const char *path, char *list, size_t n)
{
	return llistxattr(path, list, n);
}
static inline ssize_t sys_fgetxattr(int fd, const char *name, void *v, size_t n)
{
	return fgetxattr(fd, name, v, n);
}
static inline ssize_t sys_getxattr(const char *path, const char *name, void *v, size_t n)
{
	return getxattr(path, name, v, n);
}
static inline ssize_t sys_lgetxattr(const char *path, const char *name, void *v, size_t n)
{
	return lgetxattr(path, name, v, n);
}
static inline int sys_fsetxattr(int fd, const char *name, const void *v, size_t n, int flags)
{
	return fsetxattr(fd, name, v, n, flags);
}
static inline int sys_fremovexattr(int fd, const char *name) { return fremovexattr(fd, name); }
static inline int sys_kill(pid_t pid, int sig) { return kill(pid, sig); }
static inline pid_t sys_getpid(void) { return getpid(); }
static inline uid_t sys_geteuid(void) { return geteuid(); }
/* The calling thread's filesystem user ID: the one the kernel's checks
 * of files use (the effective one, unless setfsuid changed it).
 * setfsuid(-1) changes nothing, as no ID is -1, and returns the current
 * one (setfsuid(2)).  By number, never through a setfsuid that another
 * preload may wrap (fakeroot's): the owners it is compared with come
 * from sys_fstatat, the kernel's own too. */
static inline uid_t sys_fsuid(void)
{
#ifdef SYS_setfsuid32
	return (uid_t)sys_raw(SYS_setfsuid32, -1, 0, 0, 0);
#else
	return (uid_t)sys_raw(SYS_setfsuid, -1, 0, 0, 0);
#endif
}
static inline int sys_nanosleep(const struct timespec *ts) { return nanosleep(ts, NULL); }
static inline double sys_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the interposed names, refused from here on ---- */

#ifndef SYS_IMPLEMENTATION
/* The list scripts/check_hooks.sh holds against what the library exports:
 * keep it whole when a hook is added. */
#pragma GCC poison open open64 openat openat64 creat creat64
#pragma GCC poison __open_2 __open64_2 __openat_2 __openat64_2
#pragma GCC poison fopen fopen64 freopen freopen64 fclose fcloseall
#pragma GCC poison close close_range closefrom dup dup2 dup3 fcntl fcntl64
#pragma GCC poison write pwrite pwrite64 writev pwritev pwritev64 pwritev2 pwritev64v2
#pragma GCC poison sendfile sendfile64 copy_file_range splice
#pragma GCC poison ftruncate ftruncate64 fallocate fallocate64 posix_fallocate posix_fallocate64
#pragma GCC poison clearerr clearerr_unlocked
#pragma GCC poison lstat fstatat lstat64 fstatat64 access faccessat fstat fstat64
#pragma GCC poison __xstat __lxstat __fxstatat __xstat64 __lxstat64 __fxstatat64 __fxstat __fxstat64
#pragma GCC poison chmod fchmodat lchmod chown lchown fchownat
#pragma GCC poison utime utimes lutimes futimesat utimensat truncate truncate64 fsync fdatasync
#pragma GCC poison rename renameat renameat2 link linkat symlink symlinkat
#pragma GCC poison mkdir mkdirat unlink unlinkat rmdir opendir fdopendir syscall remove
#pragma GCC poison closedir rewinddir readdir readdir64 readdir_r readdir64_r
#pragma GCC poison scandir scandir64 scandirat scandirat64 nftw nftw64 ftw ftw64 fts_open glob glob64
#pragma GCC poison fork vfork posix_spawn posix_spawnp system popen pclose
#pragma GCC poison wait waitpid wait3 wait4 waitid mmap mmap64 munmap
#pragma GCC poison execve execv execvp execvpe execl execlp execle fexecve
#pragma GCC poison exit _exit _Exit quick_exit __libc_start_main
/* Also the names of structures: refused as calls only. */
#define stat(...) sys_h_refuses_stat__call_sys_fstatat(__VA_ARGS__)
#define stat64(...) sys_h_refuses_stat64__call_sys_fstatat(__VA_ARGS__)
#define statx(...) sys_h_refuses_statx__call_sys_fstatat(__VA_ARGS__)
#define flock(...) sys_h_refuses_flock__call_sys_flock(__VA_ARGS__)
#endif

#endif
