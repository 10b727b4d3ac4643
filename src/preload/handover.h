/* handover.h - pending files across exec.
 *
 * `sh -c 'prog > state.yaml'`: the shell opens the file (a temp, under
 * the lock), makes it prog's standard output and execs prog.  The new
 * image must commit what prog writes, so the old image describes its
 * pending files in the environment of the exec (ATOMICALLY_PENDING), keeps
 * their directory and lock descriptors open across it, and the library in
 * the new image adopts them.  Files whose every descriptor closes at exec
 * (close-on-exec) are committed before it.  When the new image cannot load
 * the library (LD_PRELOAD gone from its environment, a static or
 * set-user-ID binary), the files are committed before the exec instead:
 * what the new image writes then goes to the file in place.
 */
#ifndef ATOMICALLY_HANDOVER_H
#define ATOMICALLY_HANDOVER_H

#include <stddef.h>

/* Before this process execs FILE (searched in $PATH when SEARCH) with the
 * environment ENVP: returns the environment to exec with, ENVP itself
 * when there is nothing to hand over.  SCRATCH (of SIZE bytes, on the
 * caller's stack) serves a vfork child, which may not allocate: it hands
 * its shared descriptors over as watch-only. */
char *const *handover_before_exec(const char *file, int search, char *const envp[],
				  char *scratch, size_t size);

/* The file an exec of FILE runs (searched in $PATH as execvp does when
 * SEARCH and FILE has no '/'), into OUT.  0, or -1 when none is found
 * (the exec will fail). */
int handover_exec_path(const char *file, int search, char *out, size_t size);

/* The exec failed: take back what handover_before_exec gave out. */
void handover_exec_failed(char *const *env, char *const envp[]);

/* In the new image, once the rules are loaded: adopt what the previous
 * image handed over, and remove ATOMICALLY_PENDING from the environment
 * so that no child adopts it again. */
void handover_adopt(void);

#endif
