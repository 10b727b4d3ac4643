/* failfdopen.c - a fault-injection preload for the bats suites
 * (bats/library.bats): fdopen fails with ENOMEM while the file named by
 * FAILFDOPEN_TRIGGER exists.
 *
 * The library builds a matched fopen on its own open and fdopen, which
 * it finds after itself in the lookup order (real.c): this preload,
 * placed after the library in LD_PRELOAD, makes that fdopen fail, and
 * the library must then give up the descriptor it opened without
 * harming a pending file that descriptor shared.  The trigger is looked
 * at with the faccessat system call itself, never a function the
 * library hooks. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((visibility("default"))) FILE *fdopen(int fd, const char *mode)
{
	static FILE *(*next)(int, const char *);
	const char *trigger = getenv("FAILFDOPEN_TRIGGER");

	if (trigger && syscall(SYS_faccessat, AT_FDCWD, trigger, F_OK) == 0) {
		errno = ENOMEM;
		return NULL;
	}
	if (!next)
		next = (FILE *(*)(int, const char *))dlsym(RTLD_NEXT, "fdopen");
	return next(fd, mode);
}
