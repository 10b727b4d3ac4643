/* real.c - find the functions the library interposes. */
#include <dlfcn.h>
#include <stdatomic.h>

#include "real.h"

struct real_functions real;

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

void real_resolve(void)
{
	static atomic_int done;

	if (atomic_load_explicit(&done, memory_order_acquire))
		return;
	/* Two threads may race here; both store the same values. */
	real.open = next("open");
	real.open64 = next("open64");
	real.openat = next("openat");
	real.openat64 = next("openat64");
	real.creat = next("creat");
	real.creat64 = next("creat64");
	real.open_2 = next("__open_2");
	real.open64_2 = next("__open64_2");
	real.openat_2 = next("__openat_2");
	real.openat64_2 = next("__openat64_2");
	real.fopen = next("fopen");
	real.fopen64 = next("fopen64");
	real.freopen = next("freopen");
	real.freopen64 = next("freopen64");
	real.fdopen = next("fdopen");
	real.close = next("close");
	real.fclose = next("fclose");
	real.fcloseall = next("fcloseall");
	real.close_range = next("close_range");
	real.closefrom = next("closefrom");
	real.dup = next("dup");
	real.dup2 = next("dup2");
	real.dup3 = next("dup3");
	real.fcntl = next("fcntl");
	real.fcntl64 = next("fcntl64");
	real.fork = next("fork");
	real.unlink = next("unlink");
	real.unlinkat = next("unlinkat");
	real._exit = next("_exit");
	real.quick_exit = next("quick_exit");
	real.execve = next("execve");
	real.execvpe = next("execvpe");
	real.fexecve = next("fexecve");
	atomic_store_explicit(&done, 1, memory_order_release);
}
