/* launcher.c - `atomically`: run a command with the library preloaded.
 *
 * The launcher parses the config once, encodes the rules into
 * ATOMICALLY_RULES, prepends the library to LD_PRELOAD and runs the
 * command, whose processes then only decode the rules.  With --clean it
 * removes the temps of writers that were killed before their commit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adopt.h"
#include "gitenv.h"
#include "preloadenv.h"
#include "summary.h"
#include "version.h"
#include "config/config.h"
#include "core/elfcheck.h"
#include "core/log.h"
#include "core/escape.h"
#include "core/journal.h"
#include "core/lookup.h"
#include "core/match.h"
#include "core/path.h"
#include "core/rules.h"
#include "core/session_wire.h"
#include "core/tally.h"
#include "core/tempname.h"
#include "supervisor/keeper.h"
#include "supervisor/seccomp_cover.h"
#include "supervisor/session.h"

/* A plain process: the library, when a CI job preloads it here too,
 * finds this name defined here first and stays inert (preload/state.c),
 * so that whatever the launcher does with files, and the core with them
 * (on plain libc, core/sys_libc.c), reaches the kernel, not the
 * library's hooks. */
__attribute__((visibility("default"))) const char *const atomically_library_copy = "plain process";

#define EXIT_OWN_ERROR 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127
#define MAX_EXTRA 256

static const char usage_text[] =
	"usage: atomically [-c FILE] [-p GLOB]... [-v|-q] [--summary] [--] COMMAND [ARG...]\n"
	"       atomically --env [-c FILE] [-p GLOB]...\n"
	"       atomically --explain [-c FILE] [-p GLOB]... PATH...\n"
	"       atomically --check-config [FILE]\n"
	"       atomically --clean [-n] [-v|-q] DIR...\n"
	"       atomically --version | --help\n"
	"\n"
	"Runs COMMAND so that its writes to files matching the config are atomic:\n"
	"each is written to a temp file beside the target and renamed over it,\n"
	"after an fsync, under an advisory lock.\n"
	"\n"
	"  -c, --config FILE   use FILE instead of the config found by default\n"
	"  -p, --path GLOB     also match GLOB (repeatable); without a config file,\n"
	"                      only the -p patterns match\n"
	"  -v, --verbose       say what the library does (twice: debug), and at the\n"
	"                      end a summary of the run (as --summary)\n"
	"      --summary       at the end, what the library did in the run: files\n"
	"                      committed, unchanged, not committed, written in place,\n"
	"                      and the longest lock waits\n"
	"  -q, --quiet         report errors only\n"
	"      --env           print the variables that wrap every later command\n"
	"                      (for eval, or >> \"$GITHUB_ENV\")\n"
	"      --explain       tell which rule decides for each PATH\n"
	"      --check-config  validate the config (or FILE) and say where it is wrong\n"
	"      --clean         remove the temps left in each DIR and below by writers\n"
	"                      killed before their commit (their pid is gone); -v also\n"
	"                      lists the temps kept\n"
	"  -n, --dry-run       with --clean: only say what would be removed\n"
	"\n"
	"Config: -c, $ATOMICALLY_CONF, $XDG_CONFIG_HOME/atomically/atomically.conf,\n"
	"/etc/atomically.conf, else the embedded default.  See atomically(1) and\n"
	"atomically.conf(5).\n"
	"Exit status: COMMAND's (128+N when killed by signal N); 125 for an error\n"
	"of atomically's own (a bad config); 126 COMMAND cannot run; 127 not found.\n"
	"--clean: 0, or 1 when a temp could not be removed or a DIR not read.\n";

enum mode { MODE_RUN, MODE_ENV, MODE_EXPLAIN, MODE_CHECK, MODE_CLEAN, MODE_VERSION };

struct options {
	enum mode mode;
	const char *config;
	const char *extra[MAX_EXTRA];
	size_t nextra;
	int verbosity;          /* -1 quiet, 0 config's level, 1 info, 2 debug */
	int dry_run;            /* -n */
	int summary;            /* --summary (-v too, unless -q came after) */
};

static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("atomically: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* S fit to print in one line (core/escape.h): itself, or its escape in
 * memory of its own, which lives until the launcher exits (it prints a
 * few such names, then exits or execs). */
static const char *shown(const char *s)
{
	size_t size = strlen(s) * 4 + 1;
	char *e;

	if (!escape_needed(s) || !(e = malloc(size)))
		return s;
	escape_text(e, size, s, strlen(s));
	return e;
}

/* Print ERR, whose lines are "FILE:LINE: message", each with our prefix. */
static void print_config_errors(const char *err)
{
	char line[4096];

	while (*err) {
		size_t n = strcspn(err, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)n, err);
		if (n)
			fprintf(stderr, "atomically: %s\n", line);
		err += n + (err[n] == '\n');
	}
}

static void parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_ENV = 256, OPT_EXPLAIN, OPT_CHECK, OPT_CLEAN, OPT_VERSION, OPT_HELP, OPT_SUMMARY };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "path", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "env", no_argument, NULL, OPT_ENV },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "clean", no_argument, NULL, OPT_CLEAN },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "summary", no_argument, NULL, OPT_SUMMARY },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	/* '+': stop at COMMAND, whose own options are its business. */
	while ((c = getopt_long(argc, argv, "+c:p:vqn", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'p':
			if (o->nextra == MAX_EXTRA)
				die(EXIT_OWN_ERROR, "too many -p patterns (at most %d)", MAX_EXTRA);
			o->extra[o->nextra++] = optarg;
			break;
		case 'v':
			o->verbosity = o->verbosity < 0 ? 1 : o->verbosity + 1;
			break;
		case OPT_SUMMARY:
			o->summary = 1;
			break;
		case 'q':
			o->verbosity = -1;
			break;
		case 'n':
			o->dry_run = 1;
			break;
		case OPT_ENV:
			o->mode = MODE_ENV;
			break;
		case OPT_EXPLAIN:
			o->mode = MODE_EXPLAIN;
			break;
		case OPT_CHECK:
			o->mode = MODE_CHECK;
			break;
		case OPT_CLEAN:
			o->mode = MODE_CLEAN;
			break;
		case OPT_VERSION:
			o->mode = MODE_VERSION;
			return;
		case OPT_HELP:
			fputs(usage_text, stdout);
			exit(0);
		default:
			fputs(usage_text, stderr);
			exit(EXIT_OWN_ERROR);
		}
	}
}

/* Find and load the config as the options say; exit 125 when it is bad. */
static void load_config(const struct options *o, const char *explicit, struct config *cfg)
{
	char path[PATH_MAX], err[8192];
	enum config_origin origin = config_find(explicit, path, sizeof(path));
	const char *file = origin == ORIGIN_NONE ? NULL : path;

	for (size_t i = 0; i < o->nextra; i++) {
		const char *why = glob_check(o->extra[i]);
		if (why)
			die(EXIT_OWN_ERROR, "-p %s: bad pattern: %s", o->extra[i], why);
	}
	if (config_load(cfg, file, o->extra, o->nextra, err, sizeof(err)) < 0) {
		print_config_errors(err);
		exit(EXIT_OWN_ERROR);
	}
	if (o->verbosity < 0)
		cfg->rs.log_level = LEVEL_ERROR;
	else if (o->verbosity > 0)
		cfg->rs.log_level = o->verbosity > 1 ? LEVEL_DEBUG : LEVEL_INFO;
}

static char *encode_rules(const struct ruleset *rs)
{
	size_t n = rules_encode(rs, NULL, 0);
	char *text = malloc(n + 1);

	if (!text)
		die(EXIT_OWN_ERROR, "out of memory");
	rules_encode(rs, text, n + 1);
	return text;
}

/* Where the library is: beside the launcher (a build tree), then where
 * `make install` put it relative to the launcher (LIBDIR as seen from
 * BINDIR: an installed tree moved, or staged with DESTDIR, or unpacked
 * from the package into a scratch root), then the LIBDIR compiled in.
 * Returns 0, or -1 with OUT the last place looked at. */
static int look_for_library(char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash = NULL;

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
	}
	if (slash) {
		int dir = (int)(slash - self);
		snprintf(out, size, "%.*s/libatomically.so", dir, self);
		if (access(out, R_OK) == 0)
			return 0;
		snprintf(out, size, "%.*s/%s/libatomically.so", dir, self, version_libdir_from_bin());
		if (access(out, R_OK) == 0 && realpath(out, self))
			snprintf(out, size, "%s", self);
		if (access(out, R_OK) == 0)
			return 0;
	}
	snprintf(out, size, "%s/libatomically.so", version_libdir());
	return access(out, R_OK) == 0 ? 0 : -1;
}

static void find_library(char *out, size_t size)
{
	if (look_for_library(out, size) < 0)
		die(EXIT_OWN_ERROR, "%s: cannot find the library: %s", out, strerror(errno));
	/* LD_PRELOAD splits on spaces and colons. */
	if (strpbrk(out, " :"))
		die(EXIT_OWN_ERROR, "%s: the library's path has a space or colon, which LD_PRELOAD cannot carry", out);
}

/* LD_PRELOAD for COMMAND (preloadenv.h). */
static char *preload_value(const char *lib)
{
	char entry[PATH_MAX];
	char *v;

	if (preload_entry(lib, version_glibc_lib(), entry, sizeof(entry)) < 0)
		die(EXIT_OWN_ERROR, "%s: the library's path is too long", lib);
	/* Named already by another of its names (a user's LD_PRELOAD with its
	 * path): that name becomes the launcher's in its place, so that a
	 * musl program does not meet the glibc build under it. */
	const char *old = getenv("LD_PRELOAD");
	int nomem;

	v = old ? preload_renamed(old, lib, entry, &nomem) : NULL;
	if (!v && (!old || !nomem))
		v = preload_list(old, entry);

	if (!v)
		die(EXIT_OWN_ERROR, "out of memory");
	return v;
}

/* ---- --env ---- */

/* Is standard output the file $GITHUB_ENV names?  Then it wants plain
 * NAME=value lines; a shell's eval wants export statements. */
static int stdout_is_github_env(void)
{
	const char *f = getenv("GITHUB_ENV");
	struct stat a, b;

	return f && *f && stat(f, &a) == 0 && fstat(STDOUT_FILENO, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int print_env(const char *lib, const char *rules, int session)
{
	char *preload = preload_value(lib);
	/* No launcher stays above the job's processes: no session.  Said
	 * here once, and "none" tells every process that it is known. */
	const char *no_session = session ? SESSION_ENV "=" SESSION_NONE : "";

	if (session)
		fprintf(stderr, "atomically: warning: --env starts no session: the rules with lock = "
			"\"session\" hold their locks per process, and commit = \"session\" commits "
			"at each process's exit; run a step as `atomically COMMAND` for a session\n");

	/* The values hold no quote: the rules are escaped, and the library
	 * path has no space or colon. */
	int github = stdout_is_github_env();

	if (github) {
		/* A newline would start a line of its own in $GITHUB_ENV: a
		 * variable of the preload's choosing for every later step. */
		if (strchr(preload, '\n') || strchr(preload, '\r'))
			die(EXIT_OWN_ERROR, "LD_PRELOAD holds a newline: cannot write it to $GITHUB_ENV");
		printf("LD_PRELOAD=%s\n%s=%s\n", preload, RULES_ENV, rules);
		if (session)
			printf("%s\n", no_session);
	} else {
		if (strchr(preload, '\''))
			die(EXIT_OWN_ERROR, "LD_PRELOAD holds a quote: cannot print it for a shell");
		printf("export LD_PRELOAD='%s'\nexport %s='%s'\n", preload, RULES_ENV, rules);
		if (session)
			printf("export %s\n", no_session);
	}
	if (gitenv_print(github) < 0)
		die(EXIT_OWN_ERROR, "a GIT_CONFIG_ variable cannot be printed for %s",
		    github ? "$GITHUB_ENV" : "a shell");
	free(preload);
	return fflush(stdout) == 0 ? 0 : EXIT_OWN_ERROR;
}

/* ---- --explain ---- */

/* Where the rules without a source file came from: the last NEXTRA are
 * the -p patterns, the others the embedded default. */
static void print_rule(const struct ruleset *rs, const struct rule *r, size_t nextra)
{
	if (r->source_file)
		printf("%s:%d: ", r->source_file, r->source_line);
	else if ((size_t)(r - rs->rules) >= rs->nrules - nextra)
		printf("-p: ");
	else
		printf("(embedded default): ");
	printf("path \"%s\"", r->pattern);
	if (!r->enabled) {
		printf(" (enabled = false: excluded)\n");
		return;
	}
	printf(": durability=%s lock=%s lock_timeout=%d commit=%s append=%s "
	       "hardlinks=%s fallback=%s backup=\"%s\" skip_unchanged=%s fsync=%s\n",
	       durability_name(r->durability), lock_scope_name(r->lock), r->lock_timeout,
	       commit_mode_name(r->commit), append_mode_name(r->append),
	       hardlinks_mode_name(r->hardlinks), fallback_mode_name(r->fallback),
	       r->backup, r->skip_unchanged ? "true" : "false", fsync_mode_name(r->on_fsync));
}

/* Does PATH end in '/', "." or "..", as only a directory's name can?
 * (rule_for decides nothing for it.) */
static int names_directory(const char *path)
{
	const char *name = strrchr(path, '/');

	name = name ? name + 1 : path;
	return !*name || !strcmp(name, ".") || !strcmp(name, "..");
}

/* Like `git check-ignore`: 0 when some PATH is matched, 1 when none.
 * The rule comes from rule_for, the lookup the library makes. */
static int explain(const struct ruleset *rs, size_t nextra, char **paths, int n)
{
	char cwd[PATH_MAX], abs[PATH_MAX], scratch[PATH_MAX];
	int matched = 0;

	if (!getcwd(cwd, sizeof(cwd)))
		die(EXIT_OWN_ERROR, "cannot tell the current directory: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		const struct rule *r;

		if (path_absolute(AT_FDCWD, paths[i], abs, sizeof(abs)) < 0) {
			printf("%s: %s\n", paths[i],
			       errno == ENAMETOOLONG ? "path too long" : strerror(errno));
			continue;
		}
		r = rule_for(rs, AT_FDCWD, paths[i], scratch, sizeof(scratch));
		printf("%s: ", abs);
		if (!r && names_directory(paths[i])) {
			printf("%s names a directory (it ends in '/', '.' or '..'): never redirected\n",
			       paths[i]);
			continue;
		}
		if (!r) {
			printf("no rule matches: written as usual\n");
			continue;
		}
		matched += r->enabled;
		print_rule(rs, r, nextra);
	}
	return matched ? 0 : 1;
}

/* ---- --clean ---- */

/* A writer killed before its commit can leave a named temp,
 * .NAME.atomically.PID.RANDOM (tempname.h).  The next writer of NAME
 * removes it under the lock; --clean is for the temps no writer comes
 * back for (lock = "none", a file no longer written, a workspace about
 * to be archived).  It reads no config: temps are known by their names,
 * whatever the rules were when they were made. */

/* Which mount a directory is on: its device, and where the kernel tells
 * (statx, Linux 5.8), its mount id, which also tells apart a bind mount
 * of the same file system (a volume mounted into a CI workspace). */
struct mount_key {
	unsigned major, minor;
	uint64_t id;            /* 0: not known */
};

static int mount_key_of(int fd, struct mount_key *k)
{
	struct statx stx;
	struct stat st;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) == 0) {
		k->major = stx.stx_dev_major;
		k->minor = stx.stx_dev_minor;
		k->id = stx.stx_mask & STATX_MNT_ID ? stx.stx_mnt_id : 0;
		return 0;
	}
	/* No statx (an old kernel, a seccomp filter): the device alone, as
	 * find -xdev does. */
	if (fstat(fd, &st) < 0)
		return -1;
	k->major = major(st.st_dev);
	k->minor = minor(st.st_dev);
	k->id = 0;
	return 0;
}

static int same_mount(const struct mount_key *a, const struct mount_key *b)
{
	return a->major == b->major && a->minor == b->minor &&
	       (!a->id || !b->id || a->id == b->id);
}

/* The dead committers whose journals in the directory at hand reached
 * their commit point (-n: their temps are not simply removed). */
#define JOURNALS_SHOWN 16

struct clean {
	int dry_run;
	int verbosity;          /* -1: errors only; 1: also the temps kept */
	int status;             /* 0, or 1 once something could not be done */
	struct mount_key top;   /* the mount of the DIR being walked */
	int committers[JOURNALS_SHOWN];
	int ncommitters;
};

static void clean_error(struct clean *c, const char *path, const char *what, int err)
{
	fprintf(stderr, "atomically: %s: %s%s%s\n", shown(path), what, *what ? ": " : "",
		strerror(err));
	c->status = 1;
}

/* PATH/NAME, for messages; a PATH given with a trailing slash keeps one. */
static char *join(const char *path, const char *name)
{
	size_t n = strlen(path);
	char *s;

	if (asprintf(&s, "%s%s%s", path, n && path[n - 1] == '/' ? "" : "/", name) < 0)
		die(EXIT_OWN_ERROR, "out of memory");
	return s;
}

static int committed_by(const struct clean *c, int pid)
{
	for (int i = 0; i < c->ncommitters; i++)
		if (c->committers[i] == pid)
			return 1;
	return 0;
}

/* -n: the journals of dead committers in the directory FD (PATH), as a
 * settle would take them; those that reached their commit point
 * remembered, for their temps. */
static void report_journals(struct clean *c, int fd, const char *path)
{
	int dir = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dir >= 0 ? fdopendir(dir) : NULL;
	struct dirent *e;
	int pid, reached;

	c->ncommitters = 0;
	if (!d) {
		if (dir >= 0)
			close(dir);
		return;
	}
	while ((e = readdir(d))) {
		if ((pid = journal_owner(e->d_name)) <= 0 || !temp_owner_dead(pid) ||
		    (reached = journal_reached(fd, e->d_name)) < 0)
			continue;
		if (reached && c->ncommitters < JOURNALS_SHOWN)
			c->committers[c->ncommitters++] = pid;
		if (c->verbosity >= 0)
			printf(reached ? "would complete the session commit recorded in %s/%s (pid %d "
					 "is gone)\n"
				       : "would drop %s/%s, a session commit short of its commit "
					 "point (pid %d is gone)\n",
			       shown(path), e->d_name, pid);
	}
	closedir(d);
}

/* The temp NAME in DFD (PATH for messages), of the process PID. */
static void clean_temp(struct clean *c, int dfd, const char *name, const char *path, int pid)
{
	/* A pid that names a process now may be one that reused the dead
	 * writer's: the temp is kept all the same, the safe side. */
	if (!temp_owner_dead(pid)) {
		if (c->verbosity > 0)
			printf("kept %s (pid %d is alive)\n", shown(path), pid);
		return;
	}
	if (c->dry_run) {
		if (c->verbosity >= 0 && committed_by(c, pid))
			printf("would rename %s into place if its journal names it, else remove it "
			       "(pid %d is gone)\n", shown(path), pid);
		else if (c->verbosity >= 0)
			printf("would remove %s (pid %d is gone)\n", shown(path), pid);
		return;
	}
	/* Relative to the directory we hold: a directory renamed or swapped
	 * for a symlink since cannot redirect the removal elsewhere.  A
	 * dead pid never comes back, so nobody can be about to use the temp.
	 * The system call itself: in a CI step after --env the library is
	 * preloaded here too, and would hold back the unlink of a matched
	 * path until we exit (tombstone.c), after we said it was done. */
	if (syscall(SYS_unlinkat, dfd, name, 0) < 0) {
		/* Gone meanwhile: the next writer's sweep, another --clean. */
		if (errno != ENOENT)
			clean_error(c, path, "cannot remove", errno);
		return;
	}
	if (c->verbosity >= 0)
		printf("removed %s (pid %d is gone)\n", shown(path), pid);
}

static void clean_dir(struct clean *c, int fd, const char *path);

/* Walk into the directory NAME of DFD, never through a symlink and never
 * onto another mount. */
static void clean_subdir(struct clean *c, int dfd, const char *name, const char *path)
{
	struct mount_key k;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		/* Removed, or replaced by a symlink or a file, since it was
		 * listed: nothing of ours to walk. */
		if (errno != ENOENT && errno != ELOOP && errno != ENOTDIR)
			clean_error(c, path, "", errno);
		return;
	}
	/* Looked at once open, so that what is judged is what is walked. */
	if (mount_key_of(fd, &k) < 0) {
		clean_error(c, path, "", errno);
		close(fd);
		return;
	}
	if (!same_mount(&k, &c->top)) {
		if (c->verbosity > 0)
			printf("skipped %s (another mount)\n", shown(path));
		close(fd);
		return;
	}
	clean_dir(c, fd, path);
}

/* Clean the directory FD (PATH for messages), which this closes. */
static void clean_dir(struct clean *c, int fd, const char *path)
{
	DIR *d;
	struct dirent *e;
	int settled;

	/* A session's commit that its supervisor did not live to finish:
	 * completed (or, short of its commit point, left to the removal of
	 * its temps below), before any temp here is judged. */
	if (c->dry_run)
		report_journals(c, fd, path);
	else if ((settled = journal_settle(fd, 0)) > 0 && c->verbosity >= 0)
		printf("completed %d session commit%s recorded in %s\n", settled,
		       settled == 1 ? "" : "s", shown(path));
	d = fdopendir(fd);

	if (!d) {
		clean_error(c, path, "", errno);
		close(fd);
		return;
	}
	for (;;) {
		unsigned char type;
		char *sub;
		int pid;

		errno = 0;
		if (!(e = readdir(d))) {
			if (errno)
				clean_error(c, path, "cannot read", errno);
			break;
		}
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		type = e->d_type;
		if (type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		}
		/* Only a regular file is a temp: a directory named like one is
		 * walked, a symlink named like one is left alone (and so is
		 * what it points to). */
		if (type == DT_DIR) {
			/* The subdirectory's journals are its own. */
			struct clean here = *c;

			sub = join(path, e->d_name);
			clean_subdir(c, fd, e->d_name, sub);
			free(sub);
			memcpy(c->committers, here.committers, sizeof(c->committers));
			c->ncommitters = here.ncommitters;
		} else if (type == DT_REG && (pid = temp_owner(e->d_name, NULL)) > 0) {
			sub = join(path, e->d_name);
			clean_temp(c, fd, e->d_name, sub, pid);
			free(sub);
		}
	}
	closedir(d);
}

/* --clean DIR...: 0, or 1 when some DIR could not be read or some temp
 * not removed (each said on stderr; the rest is cleaned all the same). */
static int clean(char **dirs, int n, int dry_run, int verbosity)
{
	struct clean c = { .dry_run = dry_run, .verbosity = verbosity };

	/* Each line out as it happens, in order with the errors. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < n; i++) {
		/* A DIR named here is followed if it is a symlink: the user
		 * chose it.  Below it, nothing is followed. */
		int fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0 || mount_key_of(fd, &c.top) < 0) {
			clean_error(&c, dirs[i], "", errno);
			if (fd >= 0)
				close(fd);
			continue;
		}
		clean_dir(&c, fd, dirs[i]);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		clean_error(&c, "standard output", "", errno ? errno : EIO);
	return c.status;
}

/* ---- running COMMAND ---- */

/* Where COMMAND is, as execvp would find it, into OUT; exit 126 or 127 as
 * env(1) does when it cannot be run. */
static void resolve_command(const char *cmd, char *out, size_t size)
{
	const char *path = getenv("PATH");
	int saw_eacces = 0;

	if (strchr(cmd, '/')) {
		snprintf(out, size, "%s", cmd);
		if (access(out, F_OK) < 0)
			die(EXIT_NOT_FOUND, "%s: %s", cmd, strerror(errno));
		if (access(out, X_OK) < 0)
			die(EXIT_CANNOT_RUN, "%s: %s", cmd, strerror(errno));
		return;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		struct stat st;

		snprintf(out, size, "%.*s%s%s", (int)n, n ? path : ".", "/", cmd);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(out, X_OK) == 0)
				return;
			saw_eacces = 1;
		}
		path += n + (path[n] == ':');
	}
	if (saw_eacces)
		die(EXIT_CANNOT_RUN, "%s: permission denied", cmd);
	die(EXIT_NOT_FOUND, "%s: command not found", cmd);
}

static pid_t child;

static void forward_signal(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* Signals sent to the launcher are COMMAND's: forwarded.  A terminal's ^C
 * and ^\ reach the whole process group: the child decides what they
 * mean, the launcher waits for its verdict. */
static void forward_signals(void)
{
	static const int forwarded[] = { SIGHUP, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGWINCH };
	struct sigaction sa = { .sa_handler = forward_signal };

	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
}

/* COMMAND as execv takes it, and whether the supervisor covers it
 * (seccomp_cover.h). */
struct command {
	char **argv;
	const char *file;
	int cover;
	const char *why;        /* why no preload reaches it; NULL: one does */
	int quiet;
};

/* In COMMAND's process: become it. */
static void exec_command(void *arg)
{
	const struct command *c = arg;

	adopt_pass_watch();
	if (c->cover)
		seccomp_cover_child();
	execv(c->file, c->argv);
	fprintf(stderr, "atomically: %s: %s\n", c->argv[0], strerror(errno));
	_exit(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
}

/* COMMAND's wait status as the launcher's exit status. */
static int exit_status(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* COMMAND has started as PID: the supervisor covers it, or the
 * warning says why nothing does (a preload does, when C->why is NULL). */
static void cover_start(const struct command *c, pid_t pid)
{
	if (c->why)
		seccomp_cover_start(pid, c->argv[0], c->why, c->quiet);
}

/* COMMAND's wait STATUS as our exit status, once its files the
 * supervisor kept are committed (or discarded): FAILURE_EXIT when a
 * commit failed and it would have been 0. */
static int command_status(int status, int failure_exit)
{
	int r = seccomp_cover_end(status);

	return r < 0 && exit_status(status) == 0 ? failure_exit : exit_status(status);
}

/* Run COMMAND as a child and wait.  The child dies with us if we are
 * killed, as it would had we exec'd it. */
static int run(const struct command *c, int failure_exit)
{
	int status;
	pid_t parent = getpid();

	child = fork();
	if (child < 0)
		die(EXIT_OWN_ERROR, "fork: %s", strerror(errno));
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(EXIT_OWN_ERROR);
		exec_command((void *)c);
	}
	cover_start(c, child);
	forward_signals();
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			die(EXIT_OWN_ERROR, "waitpid: %s", strerror(errno));
	return command_status(status, failure_exit);
}

/* Does some rule ask for the session (SPEC section 5)? */
static int wants_session(const struct ruleset *rs)
{
	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rules[i].lock == SCOPE_SESSION || rs->rules[i].commit == COMMIT_SESSION)
			return 1;
	return 0;
}

/* Run COMMAND as the session's supervisor (src/supervisor/): the socket
 * named in the environment first, then COMMAND under the keeper (which
 * kills the tree if we are killed), then the requests served until
 * COMMAND exits. */
static int run_session(const struct command *c, const char *rules, int failure_exit)
{
	char **argv = c->argv;
	int status, keeper_status, ok;
	char why[64];

	if (session_open(rules) < 0)
		die(EXIT_OWN_ERROR, "cannot open the session's socket: %s", strerror(errno));
	child = keeper_start(exec_command, (void *)c);
	if (child < 0)
		die(EXIT_OWN_ERROR, "cannot start %s: %s", argv[0], strerror(errno));
	cover_start(c, child);
	/* A failure from here on kills the tree: the keeper sees us go. */
	if (session_serve() < 0)
		die(EXIT_OWN_ERROR, "cannot serve the session: %s", strerror(errno));
	forward_signals();
	status = keeper_wait(&keeper_status);
	if (status < 0) {
		seccomp_cover_end(-1);
		session_end(0, "the command's keeper died");
		return WIFSIGNALED(keeper_status) ? 128 + WTERMSIG(keeper_status) : EXIT_OWN_ERROR;
	}
	ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "%s was killed by signal %d", argv[0], WTERMSIG(status));
	else
		snprintf(why, sizeof(why), "%s exited with status %d", argv[0], WEXITSTATUS(status));
	/* The covered program's own files first: they are its writes,
	 * which the session's commit then follows. */
	status = command_status(status, failure_exit);
	if (session_end(ok, why) < 0 && ok)
		return failure_exit;
	return status;
}

int main(int argc, char **argv)
{
	struct options o;
	struct config cfg;
	char lib[PATH_MAX], file[PATH_MAX];
	char *rules;
	int status, session, failure_exit;

	/* Inside a tallied run (an outer launcher's --summary), this one's
	 * commits count too: those of the files handed over below, and of
	 * the supervisor a wrapped shell starts for a static program. */
	tally_setup(getenv(TALLY_ENV));
	/* Files the image before (a wrapped shell) handed over: committed
	 * when COMMAND is done, or at exit. */
	adopt_handover();
	parse_options(argc, argv, &o);

	if (o.dry_run && o.mode != MODE_CLEAN)
		die(EXIT_OWN_ERROR, "-n goes with --clean only");
	if (o.mode == MODE_VERSION) {
		int found = look_for_library(lib, sizeof(lib)) == 0;
		version_print(stdout, found ? lib : NULL);
		return 0;
	}
	if (o.mode == MODE_CLEAN) {
		if (o.config || o.nextra)
			die(EXIT_OWN_ERROR, "--clean takes no -c or -p: temps are known by their names");
		if (optind >= argc)
			die(EXIT_OWN_ERROR, "--clean needs a DIR");
		/* Options end at the first DIR: a -n written after one must
		 * not be taken for a directory while the others are cleaned
		 * for real.  After --, anything is a DIR. */
		if (strcmp(argv[optind - 1], "--") != 0)
			for (int i = optind; i < argc; i++)
				if (argv[i][0] == '-' && argv[i][1])
					die(EXIT_OWN_ERROR, "%s: options go before the first DIR "
					    "(a DIR named so: ./%s, or after --)", argv[i], argv[i]);
		return clean(argv + optind, argc - optind, o.dry_run, o.verbosity);
	}

	if (o.mode == MODE_CHECK) {
		/* --check-config [FILE]: FILE, or -c, or the one found. */
		const char *explicit = optind < argc ? argv[optind] : o.config;
		load_config(&o, explicit, &cfg);
		printf("%s: ok, %zu rules\n", cfg.path ? cfg.path : o.nextra ? "(-p patterns)" :
		       "(embedded default)", cfg.rs.nrules);
		config_free(&cfg);
		return 0;
	}
	load_config(&o, o.config, &cfg);

	if (o.mode == MODE_EXPLAIN) {
		if (optind >= argc)
			die(EXIT_OWN_ERROR, "--explain needs a PATH");
		status = explain(&cfg.rs, o.nextra, argv + optind, argc - optind);
		config_free(&cfg);
		return status;
	}

	find_library(lib, sizeof(lib));
	rules = encode_rules(&cfg.rs);
	session = wants_session(&cfg.rs);
	failure_exit = cfg.rs.failure_exit_code;
	/* The supervisor's own messages follow the config (and -q, -v); the
	 * name is kept, as the config goes. */
	static char log_file[PATH_MAX];
	snprintf(log_file, sizeof(log_file), "%s", cfg.rs.log_file ? cfg.rs.log_file : "");
	log_setup(cfg.rs.log_level, log_file);
	config_free(&cfg);

	if (o.mode == MODE_ENV) {
		if (optind < argc)
			die(EXIT_OWN_ERROR, "--env takes no COMMAND");
		status = print_env(lib, rules, session);
		free(rules);
		return status;
	}

	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EXIT_OWN_ERROR;
	}
	resolve_command(argv[optind], file, sizeof(file));
	/* Before the seccomp supervisor is made ready, and the session's:
	 * they tally their commits too. */
	if (o.summary || o.verbosity > 0)
		summary_begin();
	struct command c = { argv + optind, file, 0, NULL, o.verbosity < 0 };
	char *preload = preload_value(lib);
	/* A static or Go program, or a musl one with no musl build of the
	 * library: the supervisor covers it (the warning comes once its
	 * filter is known to be in place, or not); a privileged or 32-bit one
	 * is left alone. */
	enum elf_kind kind = elf_preload_kind(file, &c.why);
	if (kind == ELF_MUSL && elf_reaches(kind, preload)) {
		kind = ELF_REACHED;
		c.why = NULL;
	} else if (kind == ELF_MUSL) {
		/* Named by its path (no tree beside it: preload_tree.sh), the
		 * glibc build would keep the musl program from starting at all:
		 * not named for it; the supervisor covers it. */
		int nomem;
		char *without = preload_renamed(preload, lib, "", &nomem);

		if (without) {
			free(preload);
			preload = without;
		}
	}
	if (kind == ELF_STATIC || kind == ELF_GO || kind == ELF_MUSL) {
		c.cover = seccomp_cover_prepare(rules) == 0;
	} else if (kind != ELF_REACHED) {
		if (!c.quiet)
			fprintf(stderr, "atomically: warning: %s: %s; its writes are not made atomic\n",
				argv[optind], c.why);
		c.why = NULL;
	}

	if (setenv("LD_PRELOAD", preload, 1) < 0 || setenv(RULES_ENV, rules, 1) < 0 ||
	    gitenv_apply() < 0)
		die(EXIT_OWN_ERROR, "setenv: %s", strerror(errno));
	free(preload);
	/* Inside a session already: join it (its socket stays named in the
	 * environment), rather than start one whose locks would exclude the
	 * outer command's own processes. */
	if (session && !session_above())
		status = run_session(&c, rules, failure_exit);
	else
		status = run(&c, failure_exit);
	free(rules);
	status = adopt_commit_all(status);
	summary_end(stderr);
	return status;
}
