/* failmmap.c - a fault-injection preload for the bats suites
 * (bats/handover.bats): mmap fails with ENOMEM in a process image that was
 * already running when a trigger file appeared, and only there.
 *
 *   FAILMMAP_TRIGGER=/abs/path/trigger LD_PRELOAD=.../failmmap.so prog
 *
 * The constructor records whether the trigger existed when this image
 * started, then sets `ready'.  mmap (and mmap64) fail iff ready, the
 * trigger did not exist at the start, and it exists now.  So a shell can
 * create the trigger (`: > trigger', a builtin: no child) and then exec:
 * the exec's preparation in the old image (the library's handover) sees
 * mmap fail, while the new image, which finds the trigger at its start,
 * is unaffected.  A constructor that runs before this one (the library's,
 * whatever the order of the preloads) sees ready = 0: unaffected too.
 *
 * Only calls through the PLT are caught: the library's (it calls mmap
 * like any program), not glibc's malloc nor ld.so, which map memory by
 * their own internal calls.  Everything here is a raw system call, never
 * a libc function the atomically library hooks (access, stat, write):
 * the trigger is looked at with faccessat(2), the real mmap is mmap(2),
 * and each injected failure is reported on standard error by write(2),
 * as "failmmap: mmap of N bytes failed (ENOMEM) in pid P", so that a test
 * can prove that the injection hit.  Unset FAILMMAP_TRIGGER: a plain
 * pass-through.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#if __SIZEOF_POINTER__ != 8
#error "failmmap.c: 64-bit targets only (SYS_mmap, off_t = off64_t)"
#endif

#define EXPORT __attribute__((visibility("default")))

static char trigger[4096];
static int existed_at_start = 1;
static volatile int ready;

static int trigger_exists(void)
{
	return trigger[0] && syscall(SYS_faccessat, AT_FDCWD, trigger, F_OK) == 0;
}

__attribute__((constructor)) static void failmmap_init(void)
{
	const char *t = getenv("FAILMMAP_TRIGGER");

	if (t && *t && strlen(t) < sizeof(trigger)) {
		memcpy(trigger, t, strlen(t) + 1);
		existed_at_start = trigger_exists();
	}
	ready = 1;
}

static void report(size_t len)
{
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "failmmap: mmap of %zu bytes failed (ENOMEM) in pid %ld\n",
			 len, (long)syscall(SYS_getpid));

	if (n > 0)
		syscall(SYS_write, 2, msg, (size_t)n);
}

static void *do_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (ready && !existed_at_start && trigger_exists()) {
		report(len);
		errno = ENOMEM;
		return MAP_FAILED;
	}
	/* syscall() returns -1 and sets errno on failure: MAP_FAILED. */
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap(addr, len, prot, flags, fd, off);
}

/* glibc exports mmap64 too (an alias of mmap on 64-bit targets); a caller
 * built with _FILE_OFFSET_BITS=64 binds to it. */
EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap(addr, len, prot, flags, fd, off);
}
