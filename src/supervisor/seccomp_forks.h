/* seccomp_forks.h - the processes a covered program forks, served too.
 *
 * A child made by fork or clone inherits its parent's filter: its calls
 * come up the program's listener, from a thread of another process.  A
 * shell forks for a subshell and for each stage of a pipeline
 * (busybox's `(echo a > f)`, `echo b | cat > g`), and such a child
 * writes files as any process does.  Each forked process gets a record
 * of its own (a struct seccomp_program sharing the program's listener:
 * its pending files, its watched numbers, its locks), as a forked child
 * in the library has its own state (SPEC §3 "fork": it inherits the
 * descriptors but not the duty to commit).
 *
 * Only a process whose image cannot load the library is acted for: one
 * that exec'd a dynamic program has the library in it, which acts; its
 * record, when it had one, still follows the closes and the exit of the
 * files it had (a pipeline's `cat > g` opens g in busybox's child, and
 * the cat it execs writes and ends it).  Its end is its exit_group (the
 * filter sends exits: it is not our child, its status is not ours to
 * wait for), which commits what it left open; a fork killed by a signal
 * is seen gone (a zombie, or no more) at the next call the program
 * makes, or at its end, and what it had pending is discarded.
 */
#ifndef ATOMICALLY_SECCOMP_FORKS_H
#define ATOMICALLY_SECCOMP_FORKS_H

#include <sys/types.h>

struct seccomp_program;

/* The record of the process of TID, a thread of no process P serves
 * itself, and a descendant of P under its filter: found, or made when
 * MAKE and its image cannot load the library.  NULL when there is none
 * (the call goes on in the kernel).  *PRELOADED, when one is returned:
 * its image is one the library reaches now (it exec'd a dynamic
 * program): its opens, looks and renames are the library's, while its
 * closes, dups and exit still end what it had. */
struct seccomp_program *forks_of(struct seccomp_program *p, pid_t tid, int make, int *preloaded);

/* Has P any fork recorded?  (No system call: the receiving thread asks
 * at each exit it is sent.) */
int forks_any(const struct seccomp_program *p);

/* The forks of P that died without exiting (a signal killed them): what
 * they had pending is discarded, their locks let go of. */
void forks_sweep(struct seccomp_program *p);

/* P ends: its forks that are still running are let go of (what they
 * have pending discarded, said with WHY: "outlives the session", ...;
 * their calls go on in the kernel from now on), those that died are
 * swept.  0, or -1 when a commit of theirs failed. */
int forks_end(struct seccomp_program *p, const char *why);

#endif
