/* state.c - the library's process-wide state. */
#include <unistd.h>

#include "core/sys.h"
#include "state.h"

struct lib_state lib;
__thread int lib_guard __attribute__((tls_model("initial-exec")));

/* The process this memory belongs to, and the core's actor with it. */
void lib_set_pid(pid_t pid)
{
	lib.pid = pid;
	lib.actor.pid = pid;
}

void lib_after_fork_child(void)
{
	lib_set_pid(getpid());
}
