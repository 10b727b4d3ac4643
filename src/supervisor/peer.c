/* peer.c - the session's peers: same user, same tree. */
#include <sys/socket.h>
#include <unistd.h>

#include "core/proc.h"
#include "peer.h"

int peer_in_tree(int sock, pid_t top, pid_t *pid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	*pid = 0;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.uid != geteuid())
		return 0;
	*pid = cred.pid;
	return proc_descends(cred.pid, top);
}
