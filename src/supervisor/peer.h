/* peer.h - may a process that connects to the session be served?
 *
 * Only a process of the session's user, in the session's own tree: an
 * abstract socket can be reached by any process in the network
 * namespace, and a stranger must not hold files for as long as it likes
 * in our name, nor learn what the tree writes.
 */
#ifndef ATOMICALLY_PEER_H
#define ATOMICALLY_PEER_H

#include <sys/types.h>

/* Is the process at the other end of SOCK one of our user's, and a
 * descendant of TOP?  Its parents are followed up from it: the keeper
 * (keeper.h) adopts the tree's orphans, so none of them drops out of the
 * chain while the session lasts.  *PID gets its pid. */
int peer_in_tree(int sock, pid_t top, pid_t *pid);

#endif
