/* fuzz_config.c - libFuzzer target for the config loader (src/config/config.c)
 * and the encoding of its result (src/core/rules.c).
 *
 * The input is the text of a config file, optionally followed by NUL and
 * -p patterns separated by NULs.  The text is written to a file and
 * loaded with config_load, as the launcher loads "-c FILE -p ...".  The
 * file's directory, the current directory and $HOME hold glob characters,
 * so that the escaping of the directory put before a relative pattern is
 * exercised too.  Then:
 *
 *  - a failed load leaves messages and an empty config; a successful one
 *    leaves none;
 *  - every compiled rule is what the library can use: a pattern that
 *    glob_check accepts, absolute unless it is a basename rule, values
 *    in range; log_file and lock_dir are "", special, or absolute;
 *  - the ruleset survives rules_encode and rules_decode unchanged (the
 *    launcher encodes what every process decodes), and an encoding cut
 *    short by a small buffer is a prefix of the whole;
 *  - a -p pattern without glob characters matches the file it names;
 *  - loading the same input again gives the same encoding (libconfuse's
 *    lexer is global state: nothing of one parse may reach the next).
 *
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/match.h"
#include "core/rules.h"

#define MAX_EXTRA 8

static char top[PATH_MAX - 64], conf_dir[PATH_MAX], conf_path[PATH_MAX];
static int start_dir = -1;   /* libFuzzer's paths are relative to it */

static void die(const char *what)
{
	fprintf(stderr, "fuzz_config: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_config: %s: %s\n", what, detail ? detail : "(null)");
	abort();
}

static void remove_files(void)
{
	unlink(conf_path);
	rmdir(conf_dir);
	rmdir(top);
}

/* A directory of our own, with glob characters in its name, to hold the
 * config file and to be the current directory while it is loaded (-p
 * patterns are relative to it); $HOME beside it. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char home[PATH_MAX];

	(void)argc;
	(void)argv;
	snprintf(top, sizeof(top), "%s/atomically-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(top))
		die("mkdtemp");
	snprintf(home, sizeof(home), "%s/h*m[e]?", top);
	snprintf(conf_dir, sizeof(conf_dir), "%s/c[o]n*f\\?", top);
	snprintf(conf_path, sizeof(conf_path), "%s/atomically.conf", conf_dir);
	if (mkdir(conf_dir, 0700) < 0)
		die(conf_dir);
	if ((start_dir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("open .");
	atexit(remove_files);
	setenv("HOME", home, 1);
	return 0;
}

static void write_conf(const uint8_t *data, size_t size)
{
	int fd = open(conf_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd) < 0)
		die(conf_path);
}

static bool absolute_or(const char *s, const char *special)
{
	return s && (s[0] == '\0' || s[0] == '/' || strcmp(s, special) == 0);
}

/* What the library needs of a loaded ruleset. */
static void check_usable(const struct ruleset *rs)
{
	if (rs->log_level < LEVEL_ERROR || rs->log_level > LEVEL_DEBUG)
		fail("log_level out of range", NULL);
	if (rs->failure_exit_code < 0 || rs->failure_exit_code > 255)
		fail("failure_exit_code out of range", NULL);
	if (!absolute_or(rs->log_file, "syslog"))
		fail("log_file is relative", rs->log_file);
	if (!absolute_or(rs->lock_dir, "sidecar"))
		fail("lock_dir is relative", rs->lock_dir);
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];
		const char *why;

		if (!r->pattern || !r->backup)
			fail("a rule without a pattern or backup", NULL);
		if ((why = glob_check(r->pattern)) != NULL)
			fail(why, r->pattern);
		if (r->basename != (strchr(r->pattern, '/') == NULL))
			fail("basename flag and pattern disagree", r->pattern);
		if (!r->basename && r->pattern[0] != '/')
			fail("a path pattern that is not absolute", r->pattern);
		if (strchr(r->backup, '/'))
			fail("a backup suffix with '/'", r->backup);
		if (r->lock_timeout < -1 || r->lock_timeout > 1000000000)
			fail("lock_timeout out of range", r->pattern);
	}
}

static void same_string(const char *what, const char *a, const char *b)
{
	if (strcmp(a, b) != 0)
		fail(what, b);
}

/* Encode RS, decode the line, and compare.  Returns the line (malloc'd). */
static char *round_trip(const struct ruleset *rs)
{
	size_t len = rules_encode(rs, NULL, 0), cut = len / 2;
	char *line = malloc(len + 1), *copy = malloc(len + 1), *part = malloc(cut + 1);
	struct rule *rules = calloc(rs->nrules + 1, sizeof(*rules));
	struct ruleset back;

	if (!line || !copy || !part || !rules)
		die("malloc");
	if (rules_encode(rs, line, len + 1) != len || strlen(line) != len)
		fail("rules_encode: the length it returns is not the line's", line);
	if (rules_encode(rs, part, cut + 1) != len || strncmp(part, line, cut) || part[cut])
		fail("rules_encode: a short buffer does not hold a prefix", part);
	if (strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789/._-*?[]!^:=@+~%;,") != len)
		fail("rules_encode: a character that needs quoting", line);
	if (rules_count(line) != rs->nrules)
		fail("rules_count: not the number of rules", line);
	memcpy(copy, line, len + 1);
	if (rules_decode(copy, &back, rules) < 0)
		fail("rules_decode: refuses what rules_encode wrote", line);
	if (back.log_level != rs->log_level || back.failure_exit_code != rs->failure_exit_code ||
	    back.nrules != rs->nrules)
		fail("rules_decode: the globals differ", line);
	same_string("rules_decode: log_file differs", rs->log_file, back.log_file);
	same_string("rules_decode: lock_dir differs", rs->lock_dir, back.lock_dir);
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *a = &rs->rules[i], *b = &back.rules[i];

		same_string("rules_decode: a pattern differs", a->pattern, b->pattern);
		same_string("rules_decode: a backup differs", a->backup, b->backup);
		if (a->lock_timeout != b->lock_timeout || a->basename != b->basename ||
		    a->enabled != b->enabled || a->durability != b->durability ||
		    a->lock != b->lock || a->commit != b->commit || a->append != b->append ||
		    a->hardlinks != b->hardlinks || a->fallback != b->fallback ||
		    a->skip_unchanged != b->skip_unchanged)
			fail("rules_decode: a setting of a rule differs", a->pattern);
	}
	free(copy);
	free(part);
	free(rules);
	return line;
}

/* A -p pattern X without glob characters names one file: its rule must
 * match that file's normalised path (X itself for a basename rule),
 * whatever glob characters the directory it is relative to holds. */
static void check_literal(const char *x, const struct rule *r)
{
	char want[PATH_MAX];
	const char *base = conf_dir;

	if (strpbrk(x, "*?[]\\"))
		return;
	if (r->basename) {
		same_string("a -p file name is not kept as it is", x, r->pattern);
		return;
	}
	if (x[0] == '~' && x[1] == '/') {
		/* "~//a" is $HOME/a, not /a */
		base = getenv("HOME");
		x += strspn(x + 1, "/") + 1;
	}
	if (path_normalise(base, x, want, sizeof(want)) >= 0 &&
	    !glob_match(r->pattern, want))
		fail("a -p path does not match the file it names", r->pattern);
}

/* Load the file and the EXTRA patterns; the encoded result (malloc'd) or
 * NULL when the config is refused. */
static char *load(const char *const *extra, size_t nextra)
{
	static char err[4096];
	struct config cfg;
	char *line = NULL;

	memset(err, 'x', sizeof(err));
	if (config_load(&cfg, conf_path, extra, nextra, err, sizeof(err)) == 0) {
		if (err[0] != '\0')
			fail("success, with messages", err);
		check_usable(&cfg.rs);
		for (size_t i = 0; i < nextra; i++)
			check_literal(extra[i], &cfg.rs.rules[cfg.rs.nrules - nextra + i]);
		line = round_trip(&cfg.rs);
	} else {
		if (err[0] == '\0' || !memchr(err, '\0', sizeof(err)))
			fail("a refusal without a message", NULL);
		if (cfg.rs.nrules || cfg.rs.rules || cfg.storage || cfg.path)
			fail("a refusal leaves a config behind", err);
	}
	config_free(&cfg);
	return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t text_len = nul ? (size_t)(nul - data) : size;
	const char *extra[MAX_EXTRA];
	size_t nextra = 0;
	char *tail = NULL, *first, *second;

	write_conf(data, text_len);
	if (nul) {
		/* The -p patterns: NUL-terminated pieces of what follows. */
		size_t n = size - text_len - 1;

		if (!(tail = malloc(n + 1)))
			die("malloc");
		memcpy(tail, nul + 1, n);
		tail[n] = '\0';
		for (char *p = tail; p < tail + n && nextra < MAX_EXTRA; p += strlen(p) + 1)
			extra[nextra++] = p;
	}
	if (chdir(conf_dir) < 0)
		die(conf_dir);
	first = load(extra, nextra);
	second = load(extra, nextra);
	if (fchdir(start_dir) < 0)
		die("fchdir");
	if ((first == NULL) != (second == NULL) || (first && strcmp(first, second)))
		fail("a second load differs from the first", second);
	free(first);
	free(second);
	free(tail);
	return 0;
}
