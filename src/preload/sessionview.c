/* sessionview.c - reads and stats of the files a session keeps. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>

#include "core/lookup.h"
#include "core/path.h"
#include "core/record.h"
#include "core/rules.h"
#include "pending.h"
#include "session.h"
#include "sessionview.h"
#include "state.h"
#include "core/sys.h"

/* The session's pending file of PATH into R (its descriptors in FDS, the
 * caller's to close), or PENDING_PASS / -1 (errno) with nothing kept. */
static int lookup(int dirfd, const char *path, int nofollow, struct record *r, int fds[3])
{
	struct session_file_reply *rep;
	const struct rule *rule;
	char abs[PATH_MAX];
	struct target t;
	int status, lfd;

	fds[0] = fds[1] = fds[2] = -1;
	if (!lib.session_files || !path)
		return PENDING_PASS;
	rule = lib_rule_for(dirfd, path, abs, sizeof(abs));
	if (!rule || rule->commit != COMMIT_SESSION || !session_present())
		return PENDING_PASS;
	if (!abs[0] && path_absolute(dirfd, path, abs, sizeof(abs)) < 0)
		return PENDING_PASS;
	if (target_find(dirfd, path, nofollow, &t) < 0)
		return PENDING_PASS;
	if (!(rep = sys_map(sizeof(*rep)))) {
		sys_close(t.dfd);
		return PENDING_PASS;
	}
	status = session_file_lookup(t.dfd, t.name, abs, rep, fds);
	sys_close(t.dfd);
	if (status == 0 && record_decode(rep->record, &lib.rs, fds, 3, r, &lfd) < 0)
		status = 1;  /* not a record of our rules: none of ours */
	sys_unmap(rep, sizeof(*rep));
	if (status != 0) {
		sys_fd_close(&fds[0]);
		sys_fd_close(&fds[1]);
		return status < 0 ? -1 : PENDING_PASS;
	}
	return 0;
}

int sessionview_read(int dirfd, const char *path, int flags)
{
	const int kept = O_CLOEXEC | O_NONBLOCK | O_NOATIME | O_LARGEFILE;
	struct record r;
	int fds[3], fd, saved;

	/* A directory or a path is asked for, not the content: the file
	 * itself answers (mv opens its target O_DIRECTORY to learn which). */
	if (flags & (O_DIRECTORY | O_PATH))
		return PENDING_PASS;
	if ((fd = lookup(dirfd, path, flags & O_NOFOLLOW, &r, fds)) != 0)
		return fd;
	fd = record_open_temp(&r, O_RDONLY | (flags & kept));
	saved = errno;
	sys_fd_close(&fds[0]);
	sys_fd_close(&fds[1]);
	errno = saved;
	return fd;
}

int sessionview_stat(int dirfd, const char *path, int nofollow, struct stat *st)
{
	struct record r;
	int fds[3], ret;

	if ((ret = lookup(dirfd, path, nofollow, &r, fds)) != 0)
		return ret;
	ret = sys_fstat(r.tfd, st);
	if (ret == 0)
		record_view(&r, st, 0);
	sys_fd_close(&fds[0]);
	sys_fd_close(&fds[1]);
	return ret;
}
