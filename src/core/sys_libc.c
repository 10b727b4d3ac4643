/* sys_libc.c - the core's way to the kernel in a plain process: the
 * launcher, the supervisor, the unit tests.  libc, and descriptors kept
 * at whatever number the kernel gave them.
 *
 * The library is never active in such a process (it stays inert in the
 * launcher, see preload/state.c), so these names reach libc. */
#define SYS_IMPLEMENTATION
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sys.h"

int sys_openat(int dfd, const char *path, int flags, mode_t mode)
{
	return openat(dfd, path, flags, mode);
}

int sys_close(int fd)
{
	return close(fd);
}

int sys_faccessat(int dfd, const char *path, int mode, int flags)
{
	return faccessat(dfd, path, mode, flags);
}

int sys_mkdirat(int dfd, const char *path, mode_t mode)
{
	return mkdirat(dfd, path, mode);
}

int sys_fsync(int fd)
{
	return fsync(fd);
}

int sys_fdatasync(int fd)
{
	return fdatasync(fd);
}

int sys_unlinkat(int dfd, const char *path, int flags)
{
	return unlinkat(dfd, path, flags);
}

int sys_renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	return flags ? renameat2(fromfd, from, tofd, to, flags) : renameat(fromfd, from, tofd, to);
}

int sys_linkat(int fromfd, const char *from, int tofd, const char *to, int flags)
{
	return linkat(fromfd, from, tofd, to, flags);
}

ssize_t sys_write(int fd, const void *buf, size_t n)
{
	return write(fd, buf, n);
}

ssize_t sys_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}

int sys_ftruncate(int fd, off_t len)
{
	return ftruncate(fd, len);
}

ssize_t sys_copy_file_range(int in, off_t *inoff, int out, off_t *outoff, size_t n)
{
	return copy_file_range(in, inoff, out, outoff, n, 0);
}

int sys_fcntl(int fd, int cmd, int arg)
{
	return fcntl(fd, cmd, arg);
}

int sys_fcntl_lock(int fd, int cmd, struct flock *fl)
{
	return fcntl(fd, cmd, fl);
}

int sys_flock(int fd, int op)
{
	return flock(fd, op);
}

int sys_dup3(int from, int to, int flags)
{
	return dup3(from, to, flags);
}

void *sys_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void *sys_reserve(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void sys_unmap(void *p, size_t size)
{
	munmap(p, size);
}

long sys_raw(long number, long a, long b, long c, long d)
{
	return syscall(number, a, b, c, d, 0L, 0L);
}

long sys_raw5(long number, long a, long b, long c, long d, long e)
{
	return syscall(number, a, b, c, d, e, 0L);
}

const char *sys_getenv(const char *name)
{
	return getenv(name);
}

int sys_fd_keep(int fd, int *slot)
{
	*slot = fd;
	return fd;
}

int sys_fd_dup(int fd, int *slot)
{
	*slot = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return *slot;
}

void sys_fd_adopt(int fd, int *slot)
{
	*slot = fd;
}

void sys_fd_close(int *slot)
{
	int saved = errno;

	if (*slot >= 0)
		close(*slot);
	*slot = -1;
	errno = saved;
}

void sys_fd_close_n(int *const *slots, int n)
{
	int lo, hi, saved = errno;

	if (sys_fd_span(slots, n, &lo, &hi) &&
	    sys_raw(SYS_close_range, lo, hi, 0, 0) == 0) {
		for (int i = 0; i < n; i++)
			*slots[i] = -1;
		errno = saved;
		return;
	}
	for (int i = 0; i < n; i++)
		sys_fd_close(slots[i]);
	errno = saved;
}
