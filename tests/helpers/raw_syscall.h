/* raw_syscall.h - a system call made by the instruction itself, for the
 * helper programs that read a file "as another process reads it".
 *
 * The library sees every way libc offers to reach the kernel, syscall()
 * included (it hands a process its own pending content when it opens a
 * file it is writing: read-your-writes).  A helper that must see what
 * the disk holds, what every other process sees, makes the calls below
 * the library: no libc, no preload, no sanitizer in between (a
 * ThreadSanitizer that saw the read but not the close would take another
 * thread's later use of the number for a race). */
#ifndef RAW_SYSCALL_H
#define RAW_SYSCALL_H

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>

static inline long raw_syscall3(long n, long a, long b, long c)
{
	long r;
#if defined(__x86_64__)
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	r = x0;
#else
#error "raw_syscall.h: x86_64 and aarch64 only"
#endif
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* PATH opened for reading, read, closed: below the library. */
static inline int raw_open(const char *path)
{
	return (int)raw_syscall3(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC);
}

static inline long raw_read(int fd, void *buf, unsigned long n)
{
	return raw_syscall3(SYS_read, fd, (long)buf, (long)n);
}

static inline void raw_close(int fd)
{
	raw_syscall3(SYS_close, fd, 0, 0);
}

#endif
