/* seccomp_call.h - one call of a covered program, served.
 *
 * An open for writing of a matched path by the covered program gets a
 * temp (seccomp_files.h), a rename onto one is made by the supervisor, a
 * look at one takes its lock (lock = "process"), an exit_group of a
 * program of the tree commits its files, and anything else goes on in
 * the kernel (SECCOMP_USER_NOTIF_FLAG_CONTINUE).  For one call:
 *
 *   1. the path read from the thread's memory (process_vm_readv) and
 *      matched by name against the rules: most calls end here, going on
 *      in the kernel;
 *   2. the thread is one of the covered program's (/proc/PID/task/TID),
 *      with the supervisor's root and rights (/proc/TID/status): else
 *      the kernel decides, as without us;
 *   3. its cwd or dirfd opened from /proc/TID (seccomp_remote.h);
 *   4. SECCOMP_IOCTL_NOTIF_ID_VALID: the call is still there, so TID was
 *      still that thread while 1 to 3 read it; only then is anything
 *      done;
 *   5. the core makes the temp, with the thread's umask (each worker has
 *      a umask of its own: unshare(CLONE_FS));
 *   6. the temp goes into the program as the call's result
 *      (seccomp_answer.h); if the call went away meanwhile (killed, or
 *      interrupted: a new notification comes when it is made again), the
 *      temp is removed, so that nothing is done twice.
 */
#ifndef ATOMICALLY_SECCOMP_CALL_H
#define ATOMICALLY_SECCOMP_CALL_H

struct seccomp_notif;
struct seccomp_program;

/* On the receiving thread: can REQ be answered at once?  A call about a
 * name no rule matches goes on in the kernel from here, without the
 * hand-over to a worker (two more switches between threads); so does a
 * call the filter sends that is none of ours, and the exit of a process
 * other than the program (a child it forked has its filter).  1 when
 * answered, 0 when REQ is for a worker. */
int seccomp_call_at_once(struct seccomp_program *p, const struct seccomp_notif *req);

/* On a worker (or, with no worker to be had, on the receiving thread):
 * serve REQ, a call of the program CTX (a struct seccomp_program).  It
 * is answered in every case, but when the program was let go of. */
void seccomp_call_serve(void *ctx, const struct seccomp_notif *req);

#endif
