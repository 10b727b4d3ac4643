/* sys_real.c - the core's way to the kernel inside a wrapped program:
 * the real functions (real.h), never the public names, which would land
 * in the library's own hooks; descriptors kept hidden from the program
 * (ownfd.h); the environment read by hand (env.h). */
#define SYS_IMPLEMENTATION
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "core/sys.h"
#include "env.h"
#include "ownfd.h"
#include "real.h"

int sys_openat(int dfd, const char *path, int flags, mode_t mode)
{
	return real.openat(dfd, path, flags, mode);
}

int sys_close(int fd)
{
	return real.close(fd);
}

int sys_faccessat(int dfd, const char *path, int mode, int flags)
{
	return real.faccessat(dfd, path, mode, flags);
}

int sys_mkdirat(int dfd, const char *path, mode_t mode)
{
	return real.mkdirat(dfd, path, mode);
}

/* The commit's own syncs go to the first fsync of the process but the
 * library's hook, as a call of the public name did before there was one:
 * a preload put before the library (eatmydata, which swallows them) keeps
 * its say. */
static _Atomic(int (*)(int)) first_fsync, first_fdatasync;

static int (*first_of(_Atomic(int (*)(int)) *cache, const char *name))(int)
{
	int (*f)(int) = atomic_load_explicit(cache, memory_order_relaxed);

	if (!f) {
		f = (int (*)(int))real_first(name);
		atomic_store_explicit(cache, f, memory_order_relaxed);
	}
	return f;
}

int sys_fsync(int fd)
{
	return first_of(&first_fsync, "fsync")(fd);
}

int sys_fdatasync(int fd)
{
	return first_of(&first_fdatasync, "fdatasync")(fd);
}

int sys_unlinkat(int dfd, const char *path, int flags)
{
	return real.unlinkat(dfd, path, flags);
}

int sys_renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	/* renameat2 only when flags need it: a libc or kernel without it
	 * still renames. */
	return flags ? real.renameat2(fromfd, from, tofd, to, flags)
		     : real.renameat(fromfd, from, tofd, to);
}

int sys_linkat(int fromfd, const char *from, int tofd, const char *to, int flags)
{
	return real.linkat(fromfd, from, tofd, to, flags);
}

ssize_t sys_write(int fd, const void *buf, size_t n)
{
	return real.write(fd, buf, n);
}

ssize_t sys_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return real.pwrite(fd, buf, n, off);
}

int sys_ftruncate(int fd, off_t len)
{
	return real.ftruncate(fd, len);
}

ssize_t sys_copy_file_range(int in, off_t *inoff, int out, off_t *outoff, size_t n)
{
	return real.copy_file_range(in, inoff, out, outoff, n, 0);
}

int sys_fcntl(int fd, int cmd, int arg)
{
	return real.fcntl(fd, cmd, arg);
}

int sys_fcntl_lock(int fd, int cmd, struct flock *fl)
{
	return real.fcntl(fd, cmd, fl);
}

int sys_flock(int fd, int op)
{
	return real.flock(fd, op);
}

int sys_dup3(int from, int to, int flags)
{
	return real.dup3(from, to, flags);
}

/* The library's memory: past the mmap hook (hook_map.c), which is for
 * the program's mappings of its files. */
static void *map_anonymous(size_t size, int extra)
{
	void *p = real.mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra,
			    -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void *sys_map(size_t size)
{
	return map_anonymous(size, 0);
}

void *sys_reserve(size_t size)
{
	return map_anonymous(size, MAP_NORESERVE);
}

void sys_unmap(void *p, size_t size)
{
	real.munmap(p, size);
}

long sys_raw(long number, long a, long b, long c, long d)
{
	return real.syscall(number, a, b, c, d, 0L, 0L);
}

long sys_raw5(long number, long a, long b, long c, long d, long e)
{
	return real.syscall(number, a, b, c, d, e, 0L);
}

const char *sys_getenv(const char *name)
{
	return env_get(name);
}

int sys_fd_keep(int fd, int *slot)
{
	return ownfd_keep(fd, slot);
}

int sys_fd_dup(int fd, int *slot)
{
	return ownfd_dup(fd, slot);
}

void sys_fd_adopt(int fd, int *slot)
{
	ownfd_adopt(fd, slot);
}

void sys_fd_close_n(int *const *slots, int n)
{
	ownfd_close_n(slots, n);
}

void sys_fd_close(int *slot)
{
	ownfd_close(slot);
}
