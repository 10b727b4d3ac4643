/* seccomp_forks.h - the processes a covered program forks, served too.
 *
 * A child made by fork or clone inherits its parent's filter: its calls
 * come up the program's listener, from a thread of another process.  A
 * shell forks for a subshell and for each stage of a pipeline
 * (busybox's `(echo a > f)`, `echo b | cat > g`), and such a child
 * writes files as any process does.  Each forked process gets a record
 * of its own (a struct seccomp_program sharing the program's listener:
 * its pending files, its watched numbers, its locks, owned by its
 * table), as a forked child in the library has its own state (SPEC §3
 * "fork": it inherits the descriptors but not the duty to commit).
 *
 * Only a process whose image cannot load the library is acted for: one
 * that exec'd a dynamic program has the library in it, which acts; its
 * record, when it had one, still follows the closes and the exit of the
 * files it had (a pipeline's `cat > g` opens g in busybox's child, and
 * the cat it may exec writes and ends it).  Its end is its exit_group
 * (the filter sends exits: it is not our child, its status is not ours
 * to wait for), which commits what it left open; a fork killed by a
 * signal is found gone (a zombie, or no more) by a sweep, at the
 * program's next call about a matched name and every 100 ms while the
 * program makes calls or none, and what it had pending is discarded,
 * its locks let go of.
 *
 * A record is held while a call of its process is served
 * (forks_of ... forks_put), and freed once its process has ended and
 * no call holds it.
 */
#ifndef ATOMICALLY_SECCOMP_FORKS_H
#define ATOMICALLY_SECCOMP_FORKS_H

#include <sys/types.h>

struct seccomp_program;

/* The record of the process of TID, a thread of no process P serves
 * itself, and a descendant of P under its filter: found, or made when
 * MAKE and its image cannot load the library; held until forks_put.
 * NULL when there is none (the call goes on in the kernel).
 * *PRELOADED, when one is returned: its image is one the library
 * reaches now (it exec'd a dynamic program): its opens, looks and
 * renames are the library's, while its closes, dups and exit still end
 * what it had. */
struct seccomp_program *forks_of(struct seccomp_program *p, pid_t tid, int make, int *preloaded);

/* The call of the record Q (of P's forks, or P itself: nothing to do)
 * is served: Q is freed when its process has ended and nothing else
 * holds it. */
void forks_put(struct seccomp_program *p, struct seccomp_program *q);

/* Has P any fork recorded?  (No system call: the receiving thread asks
 * at each exit it is sent.) */
int forks_any(const struct seccomp_program *p);

/* The forks of P that died without exiting (a signal killed them): what
 * they had pending is discarded, their locks let go of. */
void forks_sweep(struct seccomp_program *p);

/* A fork of P still running with files pending (its pid), or 0. */
pid_t forks_live(struct seccomp_program *p);

/* P's own end has come: wait while a fork of P still runs with files
 * pending (it may be finishing what the program started: a shell's
 * background job), for LIMIT seconds at most (< 0: as long as it
 * takes). */
void forks_wait(struct seccomp_program *p, int limit);

/* P ends (its calls no longer served): its forks that died are swept,
 * and those still running with files pending have them committed as
 * they stand (said: what they write from now on goes into the file in
 * place, not lost).  0, or -1 when a commit of a fork's, now or before,
 * failed. */
int forks_end(struct seccomp_program *p);

#endif
