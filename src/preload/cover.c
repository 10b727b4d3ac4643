/* cover.c - a static or Go image exec'd inside a session, handed to the
 * supervisor. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>

#include "core/covered.h"
#include "core/elfcheck.h"
#include "core/log.h"
#include "core/rules.h"
#include "core/seccomp_filter.h"
#include "core/sys.h"
#include "cover.h"
#include "env.h"
#include "handover.h"
#include "session.h"
#include "state.h"

/* Does a rule ask for the session (only then is a supervisor above)?
 * And does one keep its lock past the write, for the program or the
 * session, or its files for the session (then the filter sends the
 * looks at names too: they take the lock, or read the session's
 * pending file)? */
static int rules_want(int reads)
{
	for (size_t i = 0; i < lib.rs.nrules; i++) {
		const struct rule *r = &lib.rs.rules[i];

		if (reads ? r->lock >= SCOPE_PROCESS || r->commit == COMMIT_SESSION
			  : r->lock == SCOPE_SESSION || r->commit == COMMIT_SESSION)
			return 1;
	}
	return 0;
}

/* PATH runs uncovered.  Said as a warning inside a session, whose
 * rules asked for the whole tree; outside one at info level only: the
 * library is silent at the default level, and a CI step's tree execs
 * static and Go programs (sudo, kubectl, gh) all the time. */
static void uncovered(const char *path, const char *why, const char *more)
{
	if (rules_want(0))
		log_warn("warning: %s: %s%s; its writes are not made atomic", path, why, more);
	else
		log_info("%s: %s%s; its writes are not made atomic", path, why, more);
}

/* The filter is in this process and the supervisor never got its
 * listener: every open for writing and the exit would fail (ENOSYS).
 * Nothing to do but go, saying why. */
static void orphaned(const char *path)
{
	static const char msg[] = "atomically: the session's supervisor cannot serve the "
				  "seccomp listener: killed before the exec of ";

	sys_raw(SYS_write, 2, (long)msg, sizeof(msg) - 1, 0);
	sys_raw(SYS_write, 2, (long)path, (long)strlen(path), 0);
	sys_raw(SYS_write, 2, (long)"\n", 1, 0);
	sys_raw(SYS_kill, sys_getpid(), SIGKILL, 0, 0);
}

/* PATH (WHY: why the library does not reach it) handed to the session's
 * supervisor: the connection it was handed over on when it covers it,
 * else -1. */
static int cover(const char *path, const char *why)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int watched, reads = rules_want(1), fd, s, r;

	/* The connection first: once the filter is in, nothing on the way
	 * to the reply may make a call it sends. */
	if (!rules_want(0) || (s = session_cover_connect()) < 0) {
		uncovered(path, why, "");
		return -1;
	}
	watched = seccomp_filter_range(seccomp_filter_soft_limit());
	if ((fd = seccomp_filter_install(watched, reads, 1)) < 0) {
		log_warn("warning: %s: %s; and the supervisor cannot cover it (seccomp: %s); its "
			 "writes are not made atomic", path, why, strerror(errno));
		sys_raw(SYS_close, s, 0, 0, 0);
		return -1;
	}
	r = session_cover(s, fd, watched, reads, name);
	if (r < 0)
		orphaned(path);
	sys_close(fd);
	if (r > 0) {
		sys_raw(SYS_close, s, 0, 0, 0);
		uncovered(path, why, "; and the session does not cover it");
		return -1;
	}
	log_info("%s: %s; the session's supervisor covers its opens for writing and renames "
		 "of matched files (seccomp)", path, why);
	return s;
}

/* ENV with COVERED_ENV naming this process (core/covered.h), built in
 * SCRATCH (SIZE bytes: a vfork child may allocate nothing): the library
 * stands aside in any image that loads it under this filter, a Go
 * program built with cgo, or a dynamic program a covered static one
 * execs in its place (a wrapper: su-exec, tini): two of us acting for
 * one process would wait for each other's locks, and its commit fail.
 * NULL when it does not fit, or the name cannot be had. */
static char *const *env_naming_self(char *const env[], char *scratch, size_t size)
{
	size_t n = 0, k = 0, prefix = sizeof(COVERED_ENV), need;
	char **out;
	char *var;

	while (env && env[n])
		n++;
	need = (n + 2) * sizeof(char *) + prefix + 64;
	if (need > size)
		return NULL;
	out = (char **)scratch;
	var = scratch + (n + 2) * sizeof(char *);
	memcpy(var, COVERED_ENV "=", prefix);
	if (covered_name_self(var + prefix, 64) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(env[i], COVERED_ENV "=", prefix) != 0)
			out[k++] = env[i];
	out[k++] = var;
	out[k] = NULL;
	return out;
}

int cover_before_exec(const char *file, int search, char *const **env, char *scratch,
		      size_t size)
{
	char path[PATH_MAX];
	enum elf_kind kind;
	const char *why;
	char *const *named = NULL;

	/* Outside a session there is nothing to cover, and only the info
	 * level would hear of it: no $PATH search, no ELF header read, at
	 * every exec of every wrapped process. */
	if (!lib_should_act() || (!rules_want(0) && !log_enabled(LEVEL_INFO)) ||
	    handover_exec_path(file, search, path, sizeof(path)) < 0)
		return -1;
	kind = elf_preload_kind(path, &why);
	if (kind == ELF_REACHED || (kind == ELF_MUSL && elf_reaches(kind, env_get_in(*env, "LD_PRELOAD"))))
		return -1;
	if (kind != ELF_STATIC && kind != ELF_GO && kind != ELF_MUSL) {
		uncovered(path, why, "");
		return -1;
	}
	/* The environment names the process, for whatever image comes to
	 * load the library under the filter (see env_naming_self). */
	if (rules_want(0) && (named = env_naming_self(*env, scratch, size))) {
		int s = cover(path, why);

		if (s >= 0)
			*env = named;
		return s;
	}
	uncovered(path, why, rules_want(0) ? "; and its environment has no room to say it" : "");
	return -1;
}

void cover_exec_failed(int s)
{
	if (s < 0)
		return;
	session_uncover(s);
	sys_raw(SYS_close, s, 0, 0, 0);
}
