/* hooks.h - what the entry points of the library (hook_*.c) share.
 *
 * Each hook_*.c interposes one family of libc's calls; each hook is a
 * thin door: it decides in a few instructions whether the call concerns
 * a matched file (flags first, then the rules; close needs only one
 * atomic load) and otherwise makes the real call with errno untouched.
 * The work lives in pending.c, handover.c, tombstone.c and the core.
 * These files, with real.c and sys_real.c, are the only ones that may
 * name the functions the library interposes (core/sys.h).
 */
#ifndef ATOMICALLY_HOOKS_H
#define ATOMICALLY_HOOKS_H

/* An entry point of the library: exported, unlike everything else. */
#define EXPORT __attribute__((visibility("default")))

struct pending;

/* The pending file behind descriptor FD, taken out of the table, when
 * this process may act on it (not a vfork child, which shares its
 * parent's memory and must leave the table alone); NULL when there is
 * none.  (hook_fd.c) */
struct pending *take_fd(int fd);

/* Release P after its descriptor was closed with result R (errno as the
 * close left it): R, or -1 with errno when P's commit failed. */
int after_close(struct pending *p, int r);

/* Register the library's at_quick_exit handler, which commits after the
 * program's own (hook_process.c; called at start). */
void lib_register_quick_exit(void);

#endif
