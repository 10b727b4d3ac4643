/* keeper.h - the session's tree dies with its supervisor.
 *
 * When the supervisor is killed (SIGKILL, the OOM killer), the locks it
 * held go with it, so the processes of its tree must not go on writing
 * as if they held them.  COMMAND's death alone would not do: a shell's
 * children outlive it.  So COMMAND runs under a keeper, a small child of
 * the supervisor that does nothing but wait:
 *
 *     atomically (the supervisor)
 *       `- keeper: adopts the tree's orphans (PR_SET_CHILD_SUBREAPER)
 *            `- COMMAND ...
 *
 * The keeper learns of the supervisor's death from the kernel
 * (PR_SET_PDEATHSIG) and kills every process below it, which it can
 * find: every orphan of the tree has become its child.  When COMMAND
 * exits, the keeper reports the status and stays, until the supervisor
 * has finished the session and lets it go (keeper_release); then what
 * COMMAND left running goes on, as without a session.  No privilege is
 * needed.
 *
 * The keeper's pid is in ATOMICALLY_SESSION (session_wire.h): a process
 * of the tree that finds the session gone while the keeper is still its
 * ancestor knows that the session was killed (and it is about to be).
 */
#ifndef ATOMICALLY_KEEPER_H
#define ATOMICALLY_KEEPER_H

#include <sys/types.h>

/* Fork the keeper, which forks COMMAND: START(ARG) runs in COMMAND's
 * process and does not return (it execs, or exits).  Returns COMMAND's
 * pid, or -1 with errno. */
pid_t keeper_start(void (*start)(void *), void *arg);

/* Wait for COMMAND's end.  Returns its wait status, or -1 when the keeper
 * died without saying it (*KEEPER_STATUS: the keeper's wait status). */
int keeper_wait(int *keeper_status);

/* The session is over: the keeper goes, and the tree's orphans with it
 * to the next subreaper above (or init).  *KEEPER_STATUS (unless NULL):
 * its wait status. */
void keeper_release(int *keeper_status);

#endif
