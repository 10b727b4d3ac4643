/* launcher.c - `atomically`: run a command with the library preloaded.
 *
 * The launcher parses the config once, encodes the rules into
 * ATOMICALLY_RULES, prepends the library to LD_PRELOAD and runs the
 * command, whose processes then only decode the rules.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "elfcheck.h"
#include "match.h"
#include "rules.h"

#ifndef VERSION
#define VERSION "unknown"
#endif
#ifndef LIBDIR
#define LIBDIR "/usr/local/lib/atomically"
#endif

#define EXIT_OWN_ERROR 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127
#define MAX_EXTRA 256

static const char usage_text[] =
	"usage: atomically [-c FILE] [-p GLOB]... [-v|-q] [--] COMMAND [ARG...]\n"
	"       atomically --env [-c FILE] [-p GLOB]...\n"
	"       atomically --explain [-c FILE] [-p GLOB]... PATH...\n"
	"       atomically --check-config [FILE]\n"
	"       atomically --version | --help\n"
	"\n"
	"Runs COMMAND so that its writes to files matching the config are atomic:\n"
	"each is written to a temp file beside the target and renamed over it,\n"
	"after an fsync, under an advisory lock.\n"
	"\n"
	"  -c, --config FILE   use FILE instead of the config found by default\n"
	"  -p, --path GLOB     also match GLOB (repeatable); without a config file,\n"
	"                      only the -p patterns match\n"
	"  -v, --verbose       say what the library does (twice: debug)\n"
	"  -q, --quiet         report errors only\n"
	"      --env           print the variables that wrap every later command\n"
	"                      (for eval, or >> \"$GITHUB_ENV\")\n"
	"      --explain       tell which rule decides for each PATH\n"
	"      --check-config  validate the config (or FILE) and say where it is wrong\n"
	"\n"
	"Config: -c, $ATOMICALLY_CONF, $XDG_CONFIG_HOME/atomically/atomically.conf,\n"
	"/etc/atomically.conf, else the embedded default.  See atomically(1) and\n"
	"atomically.conf(5).\n"
	"Exit status: COMMAND's (128+N when killed by signal N); 125 for an error\n"
	"of atomically's own (a bad config); 126 COMMAND cannot run; 127 not found.\n";

enum mode { MODE_RUN, MODE_ENV, MODE_EXPLAIN, MODE_CHECK };

struct options {
	enum mode mode;
	const char *config;
	const char *extra[MAX_EXTRA];
	size_t nextra;
	int verbosity;          /* -1 quiet, 0 config's level, 1 info, 2 debug */
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
	enum { OPT_ENV = 256, OPT_EXPLAIN, OPT_CHECK, OPT_VERSION, OPT_HELP };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "path", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "env", no_argument, NULL, OPT_ENV },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	/* '+': stop at COMMAND, whose own options are its business. */
	while ((c = getopt_long(argc, argv, "+c:p:vq", longopts, NULL)) != -1) {
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
		case 'q':
			o->verbosity = -1;
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
		case OPT_VERSION:
			printf("atomically %s\n", VERSION);
			exit(0);
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
 * `make install` puts it relative to the launcher (so that an installed
 * tree can be moved, or staged with DESTDIR), then the LIBDIR compiled in. */
static void find_library(char *out, size_t size)
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
			goto found;
		snprintf(out, size, "%.*s/../lib/atomically/libatomically.so", dir, self);
		if (access(out, R_OK) == 0 && realpath(out, self))
			snprintf(out, size, "%s", self);
		if (access(out, R_OK) == 0)
			goto found;
	}
	snprintf(out, size, "%s/libatomically.so", LIBDIR);
	if (access(out, R_OK) < 0)
		die(EXIT_OWN_ERROR, "%s: cannot find the library: %s", out, strerror(errno));
found:
	/* LD_PRELOAD splits on spaces and colons. */
	if (strpbrk(out, " :"))
		die(EXIT_OWN_ERROR, "%s: the library's path has a space or colon, which LD_PRELOAD cannot carry", out);
}

/* Does the LD_PRELOAD list LIST (separated by spaces or colons) name LIB? */
static int preload_names(const char *list, const char *lib)
{
	size_t len = strlen(lib);

	while (*list) {
		size_t n = strcspn(list, " :");
		if (n == len && strncmp(list, lib, len) == 0)
			return 1;
		list += n + (list[n] != '\0');
	}
	return 0;
}

/* LD_PRELOAD with LIB first, keeping what was there; unchanged when LIB is
 * there already (the dynamic linker loads a library once anyway). */
static char *preload_value(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	char *v;

	if (!old || !*old)
		v = strdup(lib);
	else if (preload_names(old, lib))
		v = strdup(old);
	else if (asprintf(&v, "%s:%s", lib, old) < 0)
		v = NULL;
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

static int print_env(const char *lib, const char *rules)
{
	char *preload = preload_value(lib);

	/* The values hold no quote: the rules are escaped, and the library
	 * path has no space or colon. */
	if (stdout_is_github_env()) {
		printf("LD_PRELOAD=%s\n%s=%s\n", preload, RULES_ENV, rules);
	} else {
		if (strchr(preload, '\''))
			die(EXIT_OWN_ERROR, "LD_PRELOAD holds a quote: cannot print it for a shell");
		printf("export LD_PRELOAD='%s'\nexport %s='%s'\n", preload, RULES_ENV, rules);
	}
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
	       "hardlinks=%s fallback=%s backup=\"%s\" skip_unchanged=%s\n",
	       durability_name(r->durability), lock_scope_name(r->lock), r->lock_timeout,
	       commit_mode_name(r->commit), append_mode_name(r->append),
	       hardlinks_mode_name(r->hardlinks), fallback_mode_name(r->fallback),
	       r->backup, r->skip_unchanged ? "true" : "false");
}

/* Like `git check-ignore`: 0 when some PATH is matched, 1 when none. */
static int explain(const struct ruleset *rs, size_t nextra, char **paths, int n)
{
	char cwd[PATH_MAX], abs[PATH_MAX];
	int matched = 0;

	if (!getcwd(cwd, sizeof(cwd)))
		die(EXIT_OWN_ERROR, "cannot tell the current directory: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		if (path_normalise(cwd, paths[i], abs, sizeof(abs)) < 0) {
			printf("%s: path too long\n", paths[i]);
			continue;
		}
		const struct rule *r = rules_find(rs, abs);
		printf("%s: ", abs);
		if (!r) {
			printf("no rule matches: written as usual\n");
			continue;
		}
		matched += r->enabled;
		print_rule(rs, r, nextra);
	}
	return matched ? 0 : 1;
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

/* Run COMMAND as a child and wait: the launcher stays the parent of the
 * whole run (the session of SPEC section 5 grows from here).  The child
 * dies with us if we are killed, as it would had we exec'd it. */
static int run(char **argv, const char *file)
{
	static const int forwarded[] = { SIGHUP, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGWINCH };
	struct sigaction sa = { .sa_handler = forward_signal };
	int status;
	pid_t parent = getpid();

	child = fork();
	if (child < 0)
		die(EXIT_OWN_ERROR, "fork: %s", strerror(errno));
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(EXIT_OWN_ERROR);
		execv(file, argv);
		fprintf(stderr, "atomically: %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
	}
	/* A terminal's ^C and ^\ reach the whole process group: the child
	 * decides what they mean, the launcher waits for its verdict. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			die(EXIT_OWN_ERROR, "waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	struct options o;
	struct config cfg;
	char lib[PATH_MAX], file[PATH_MAX];
	char *rules;
	int status;

	parse_options(argc, argv, &o);

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
	config_free(&cfg);

	if (o.mode == MODE_ENV) {
		if (optind < argc)
			die(EXIT_OWN_ERROR, "--env takes no COMMAND");
		status = print_env(lib, rules);
		free(rules);
		return status;
	}

	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EXIT_OWN_ERROR;
	}
	resolve_command(argv[optind], file, sizeof(file));
	const char *problem = o.verbosity < 0 ? NULL : elf_preload_problem(file);
	if (problem)
		fprintf(stderr, "atomically: warning: %s: %s; its writes are not made atomic\n",
			argv[optind], problem);

	char *preload = preload_value(lib);
	if (setenv("LD_PRELOAD", preload, 1) < 0 || setenv(RULES_ENV, rules, 1) < 0)
		die(EXIT_OWN_ERROR, "setenv: %s", strerror(errno));
	free(preload);
	free(rules);
	return run(argv + optind, file);
}
