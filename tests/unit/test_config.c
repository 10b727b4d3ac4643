/* test_config.c - unit tests of src/config/config.c: parsing, validation with
 * FILE:LINE messages, patterns, -p rules, the embedded default, file
 * permissions and discovery.  Prints "N passed, M failed"; exits 1 when
 * something failed. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/match.h"
#include "core/rules.h"

static int passed, failed;

#define CHECK(cond, ...) check((cond), __LINE__, #cond, __VA_ARGS__)

static void check(bool ok, int line, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "FAIL line %d: %s: ", line, what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char top[256];          /* the test's temporary directory */
static char err[4096];

/* TOP/NAME, in one of 8 static buffers used in turn: copy what must last. */
static const char *in_top(const char *name)
{
	static char bufs[8][PATH_MAX];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, PATH_MAX, "%s/%s", top, name);
	return b;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) == EOF || fclose(f) != 0 || chmod(path, mode) != 0) {
		perror(path);
		exit(2);
	}
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(2);
	}
}

/* Write TEXT to TOP/t.conf and load it. */
static int load_text(struct config *cfg, const char *text)
{
	write_file(in_top("t.conf"), text, 0644);
	return config_load(cfg, in_top("t.conf"), NULL, 0, err, sizeof(err));
}

/* TEXT must be refused with a message on line LINE containing NEEDLE. */
static void expect_error(const char *text, int line, const char *needle)
{
	struct config cfg;
	char prefix[PATH_MAX + 32];
	int rc = load_text(&cfg, text);

	snprintf(prefix, sizeof(prefix), "%s:%d: ", in_top("t.conf"), line);
	CHECK(rc == -1, "accepted: %s", text);
	CHECK(strstr(err, prefix) != NULL, "no '%s' in '%s'", prefix, err);
	CHECK(strstr(err, needle) != NULL, "no '%s' in '%s'", needle, err);
	if (rc == 0)
		config_free(&cfg);
}

static void test_defaults(void)
{
	struct config cfg;
	struct ruleset g;
	struct rule d;
	const struct rule *r;

	ruleset_set_defaults(&g);
	rule_set_defaults(&d);
	CHECK(load_text(&cfg, "\n\npath \"*.x\" { }\n") == 0, "%s", err);
	CHECK(cfg.rs.nrules == 1, "%zu rules", cfg.rs.nrules);
	if (cfg.rs.nrules != 1)
		return;
	r = &cfg.rs.rules[0];
	CHECK(strcmp(r->pattern, "*.x") == 0 && r->basename, "%s", r->pattern);
	CHECK(r->enabled == d.enabled && r->durability == d.durability &&
	      r->lock == d.lock && r->lock_timeout == d.lock_timeout &&
	      r->commit == d.commit && r->append == d.append &&
	      r->hardlinks == d.hardlinks && r->fallback == d.fallback &&
	      strcmp(r->backup, d.backup) == 0 &&
	      r->skip_unchanged == d.skip_unchanged, "%s", "rule defaults differ");
	CHECK(r->source_file && strcmp(r->source_file, in_top("t.conf")) == 0 &&
	      r->source_line == 3, "%s:%d", r->source_file, r->source_line);
	CHECK(strcmp(cfg.path, in_top("t.conf")) == 0, "%s", cfg.path);
	CHECK(cfg.rs.log_level == g.log_level && strcmp(cfg.rs.log_file, g.log_file) == 0 &&
	      strcmp(cfg.rs.lock_dir, g.lock_dir) == 0 &&
	      cfg.rs.failure_exit_code == g.failure_exit_code, "%s", "global defaults differ");
	config_free(&cfg);

	/* An empty file is a valid config without rules. */
	CHECK(load_text(&cfg, "") == 0 && cfg.rs.nrules == 0, "%s", err);
	config_free(&cfg);
}

static void test_all_options(void)
{
	struct config cfg;
	const struct rule *r;

	CHECK(load_text(&cfg,
		"log_level = \"debug\"\n"
		"log_file = \"syslog\"\n"
		"lock_dir = \"sidecar\"\n"
		"failure_exit_code = 0\n"
		"path \"/srv/*.yaml\" {\n"
		"  enabled = false\n"
		"  durability = \"data\"\n"
		"  lock = \"session\"\n"
		"  lock_timeout = -1\n"
		"  commit = \"exit\"\n"
		"  append = \"passthrough\"\n"
		"  hardlinks = \"fail\"\n"
		"  fallback = \"fail\"\n"
		"  backup = \".bak\"\n"
		"  skip_unchanged = true\n"
		"}\n") == 0, "%s", err);
	CHECK(cfg.rs.log_level == LEVEL_DEBUG && strcmp(cfg.rs.log_file, "syslog") == 0 &&
	      strcmp(cfg.rs.lock_dir, "sidecar") == 0 && cfg.rs.failure_exit_code == 0,
	      "%s", "globals not read");
	CHECK(cfg.rs.nrules == 1, "%zu rules", cfg.rs.nrules);
	if (cfg.rs.nrules == 1) {
		r = &cfg.rs.rules[0];
		CHECK(!r->enabled && r->durability == DUR_DATA && r->lock == SCOPE_SESSION &&
		      r->lock_timeout == -1 && r->commit == COMMIT_EXIT &&
		      r->append == APPEND_PASSTHROUGH && r->hardlinks == HARDLINKS_FAIL &&
		      r->fallback == FALLBACK_FAIL && strcmp(r->backup, ".bak") == 0 &&
		      r->skip_unchanged && !r->basename &&
		      strcmp(r->pattern, "/srv/*.yaml") == 0, "%s", "section not read");
		CHECK(r->source_line == 5, "line %d", r->source_line);
	}
	config_free(&cfg);

	/* Every other value of every enumerated option is accepted. */
	CHECK(load_text(&cfg,
		"log_level = \"error\"\n"
		"path \"a\" { durability = \"file\" lock = \"none\" commit = \"session\" hardlinks = \"inplace\" }\n"
		"path \"b\" { durability = \"none\" lock = \"process\" lock_timeout = 0 }\n"
		"path \"c\" { durability = \"full\" lock = \"write\" commit = \"close\" append = \"atomic\" fallback = \"inplace\" hardlinks = \"break\" }\n") == 0,
	      "%s", err);
	if (cfg.rs.nrules == 3) {
		CHECK(cfg.rs.log_level == LEVEL_ERROR, "%d", cfg.rs.log_level);
		CHECK(cfg.rs.rules[0].durability == DUR_FILE && cfg.rs.rules[0].lock == SCOPE_NONE &&
		      cfg.rs.rules[0].commit == COMMIT_SESSION &&
		      cfg.rs.rules[0].hardlinks == HARDLINKS_INPLACE, "%s", "rule a");
		CHECK(cfg.rs.rules[1].durability == DUR_NONE && cfg.rs.rules[1].lock == SCOPE_PROCESS &&
		      cfg.rs.rules[1].lock_timeout == 0, "%s", "rule b");
		CHECK(cfg.rs.rules[2].source_line == 4, "line %d", cfg.rs.rules[2].source_line);
	}
	config_free(&cfg);
}

static void test_bad_values(void)
{
	expect_error("# bad level\nlog_level = \"loud\"\n", 2, "error, warn, info, debug");
	expect_error("\npath \"*.a\" {\n  durability = \"fast\"\n}\n", 3, "full, file, data, none");
	expect_error("path \"*.a\" {\n  lock = \"all\"\n}\n", 2, "none, write, process, session");
	expect_error("path \"*.a\" {\n\n  commit = \"now\"\n}\n", 3, "close, exit, session");
	expect_error("path \"*.a\" {\n  append = \"yes\"\n}\n", 2, "atomic, passthrough");
	expect_error("path \"*.a\" {\n  hardlinks = \"keep\"\n}\n", 2, "break, inplace, fail");
	expect_error("path \"*.a\" {\n  fallback = \"copy\"\n}\n", 2, "inplace, fail");
	expect_error("path \"*.a\" {\n  lock_timeout = -2\n}\n", 2, "lock_timeout");
	expect_error("path \"*.a\" {\n  lock_timeout = 2000000000\n}\n", 2, "lock_timeout");
	expect_error("path \"*.a\" {\n  lock_timeout = soon\n}\n", 2, "lock_timeout");
	expect_error("\n\nfailure_exit_code = 256\n", 3, "failure_exit_code");
	expect_error("failure_exit_code = -1\n", 1, "failure_exit_code");
	expect_error("path \"*.a\" {\n  backup = \"old/\"\n}\n", 2, "backup");
	expect_error("path \"*.a\" {\n  enabled = maybe\n}\n", 2, "enabled");
}

static void test_unknown_and_syntax(void)
{
	expect_error("path \"*.a\" {\n  colour = \"red\"\n}\n", 2, "colour");
	expect_error("log_level = \"warn\"\nverbose = true\n", 2, "verbose");
	expect_error("log_level = \"warn\"\n}\n", 2, "closing brace");
	expect_error("path \"*.a\" {\n  lock = \"none\"\n  path \"*.b\" { }\n}\n", 3, "path");
	expect_error("path \"*.a\" {\n}\n\npath \"*.a\" {\n}\n", 4, "duplicate");
	/* libconfuse 3.3 alone counts a comment line as three lines. */
	expect_error("# one\n# two\n/* three\n four */ // four\npath \"*.a\" { # five\n"
		     "  lock = \"none\" # six\n  colour = 1\n}\n", 7, "colour");
	expect_error("#\n#\n#\n#\nlog_level = \"warn\" }\n", 5, "closing brace");
	/* libconfuse alone would ignore the rest of the file. */
	expect_error("failure_exit_code = 74\n\" path\n\n", 2, "unterminated");
	expect_error("log_level = \"warn\"\n/* open\npath \"*.a\" { }\n", 2, "unterminated");
	expect_error("log_file = 'a\n", 1, "unterminated");
}

static void test_bad_patterns(void)
{
	struct config cfg;

	/* Every bad pattern is reported, with the line of its "path". */
	expect_error("path \"*.ok\" { }\npath \"a[b\" {\n  durability = \"none\"\n}\n"
		     "path \"x\\\\\"\n{\n}\n", 2, "unterminated character class");
	CHECK(strstr(err, ":5: ") && strstr(err, "trailing backslash"), "%s", err);
	CHECK(strchr(err, '\n') != NULL, "one message per line: %s", err);
	expect_error("\npath \"\" { }\n", 2, "empty pattern");
	expect_error("path \"dir/\" { }\n", 1, "trailing '/'");
	/* Normalised, "/a/b\/" would become "/a/b\": a rule for the file
	 * named "b\" (found by tests/fuzz/fuzz_config). */
	expect_error("path \"/a/b\\\\/\" { }\n", 1, "trailing '/'");
	/* Patterns that are bad only once normalised: the root directory
	 * (found by tests/fuzz/fuzz_config), and a '\' left trailing. */
	expect_error("path \"*.ok\" { }\npath \"/a/..\" { }\n", 2, "normalised to \"/\"");
	expect_error("path \"sub/..\" { }\npath \"/a/b\\\\/.\" { }\n", 2,
		     "normalised to \"/a/b\\\": trailing backslash");
	/* libconfuse drops the '*' of an unquoted word: "*.json" would be
	 * the title ".json". */
	expect_error("path *.json { }\n", 1, "quoted");
	expect_error("path plain { }\n", 1, "quoted");

	/* The start line is found past comments, strings and a value that
	 * happens to be the word "path". */
	CHECK(load_text(&cfg, "# path \"no\" { }\n/* path\n path */\nlog_file = path\n"
			"lock_dir = \"a \\\" path\n b\"\n// path\npath\n  \"*.b\"\n{\n}\n") == 0,
	      "%s", err);
	CHECK(cfg.rs.nrules == 1 && cfg.rs.rules[0].source_line == 8, "line %d",
	      cfg.rs.nrules ? cfg.rs.rules[0].source_line : -1);
	config_free(&cfg);
}

static void test_patterns(void)
{
	/* A config directory full of glob characters. */
	const char *dir = in_top("we[i]rd*?dir");
	const char *conf = in_top("we[i]rd*?dir/x.conf");
	char path[PATH_MAX], expect[PATH_MAX];
	struct config cfg;

	make_dir(dir);
	write_file(conf,
		   "path \"*.yaml\" { }\n"
		   "path \"/etc/../srv//x/./*.json\" { }\n"
		   "path \"sub/*.toml\" { }\n"
		   "path \"../up/*.ini\" { }\n"
		   "path \"~/notes/*.md\" { }\n"
		   "log_file = \"logs/../a.log\"\n"
		   "lock_dir = \"~/locks\"\n", 0644);
	for (int relative = 0; relative < 2; relative++) {
		/* The same file named relative to the current directory. */
		if (chdir(relative ? top : "/") < 0)
			perror("chdir");
		CHECK(config_load(&cfg, relative ? "we[i]rd*?dir/x.conf" : conf, NULL, 0,
				  err, sizeof(err)) == 0, "%s", err);
		if (cfg.rs.nrules != 5) {
			CHECK(cfg.rs.nrules == 5, "%zu rules", cfg.rs.nrules);
			continue;
		}
		CHECK(cfg.rs.rules[0].basename && strcmp(cfg.rs.rules[0].pattern, "*.yaml") == 0,
		      "%s", cfg.rs.rules[0].pattern);
		CHECK(!cfg.rs.rules[1].basename &&
		      strcmp(cfg.rs.rules[1].pattern, "/srv/x/*.json") == 0,
		      "%s", cfg.rs.rules[1].pattern);
		snprintf(expect, sizeof(expect), "%s/we\\[i\\]rd\\*\\?dir/sub/*.toml", top);
		CHECK(strcmp(cfg.rs.rules[2].pattern, expect) == 0, "%s", cfg.rs.rules[2].pattern);
		snprintf(path, sizeof(path), "%s/sub/a.toml", dir);
		CHECK(glob_match(cfg.rs.rules[2].pattern, path), "%s", path);
		/* Unescaped, "we[i]rd*?dir" would match this one. */
		snprintf(path, sizeof(path), "%s/weirdXYdir/sub/a.toml", top);
		CHECK(!glob_match(cfg.rs.rules[2].pattern, path), "%s", path);
		snprintf(expect, sizeof(expect), "%s/up/*.ini", top);
		CHECK(strcmp(cfg.rs.rules[3].pattern, expect) == 0, "%s", cfg.rs.rules[3].pattern);
		/* HOME is TOP/h*me: escaped in a pattern, not in a path. */
		snprintf(expect, sizeof(expect), "%s/h\\*me/notes/*.md", top);
		CHECK(strcmp(cfg.rs.rules[4].pattern, expect) == 0, "%s", cfg.rs.rules[4].pattern);
		snprintf(expect, sizeof(expect), "%s/a.log", dir);
		CHECK(strcmp(cfg.rs.log_file, expect) == 0, "%s", cfg.rs.log_file);
		snprintf(expect, sizeof(expect), "%s/h*me/locks", top);
		CHECK(strcmp(cfg.rs.lock_dir, expect) == 0, "%s", cfg.rs.lock_dir);
		CHECK(strcmp(cfg.rs.rules[4].source_file, relative ? "we[i]rd*?dir/x.conf" : conf) == 0 &&
		      cfg.rs.rules[4].source_line == 5, "%s:%d", cfg.rs.rules[4].source_file,
		      cfg.rs.rules[4].source_line);
		config_free(&cfg);
	}
}

static void test_extra(void)
{
	const char *extra[] = { "state.yaml", "sub/*.json", "/abs/../x.ini" };
	const char *bad[] = { "ok.yaml", "a[", "" };
	const char *root[] = { "/.." };
	char expect[PATH_MAX];
	struct config cfg;
	const struct rule *r;

	if (chdir(top) < 0)
		perror("chdir");
	write_file(in_top("t.conf"), "path \"*.yaml\" {\n  durability = \"none\"\n}\n", 0644);
	CHECK(config_load(&cfg, in_top("t.conf"), extra, 3, err, sizeof(err)) == 0, "%s", err);
	CHECK(cfg.rs.nrules == 4, "%zu rules", cfg.rs.nrules);
	if (cfg.rs.nrules == 4) {
		/* After the file's rules, so the -p rule wins. */
		r = rules_find(&cfg.rs, path_basename("/a/state.yaml"), "/a/state.yaml");
		CHECK(r == &cfg.rs.rules[1] && r->durability == DUR_FULL && !r->source_file &&
		      r->source_line == 0, "%s", "-p rule does not win");
		CHECK(rules_find(&cfg.rs, path_basename("/a/other.yaml"), "/a/other.yaml") == &cfg.rs.rules[0], "%s", "file rule");
		snprintf(expect, sizeof(expect), "%s/sub/*.json", top);
		CHECK(strcmp(cfg.rs.rules[2].pattern, expect) == 0, "%s", cfg.rs.rules[2].pattern);
		CHECK(strcmp(cfg.rs.rules[3].pattern, "/x.ini") == 0, "%s", cfg.rs.rules[3].pattern);
	}
	config_free(&cfg);

	/* No file: the -p rules alone. */
	CHECK(config_load(&cfg, NULL, extra, 1, err, sizeof(err)) == 0, "%s", err);
	CHECK(cfg.rs.nrules == 1 && !cfg.path && rules_find(&cfg.rs, path_basename("/a/state.yaml"), "/a/state.yaml") &&
	      !rules_find(&cfg.rs, path_basename("/a/other.yaml"), "/a/other.yaml"), "%zu rules", cfg.rs.nrules);
	config_free(&cfg);

	CHECK(config_load(&cfg, NULL, bad, 3, err, sizeof(err)) == -1, "%s", "bad -p accepted");
	CHECK(strstr(err, "-p a[: ") && strstr(err, "unterminated") &&
	      strstr(err, "empty pattern"), "%s", err);
	CHECK(cfg.rs.nrules == 0 && cfg.storage == NULL, "%s", "not emptied on error");
	config_free(&cfg);      /* harmless after an error */

	CHECK(config_load(&cfg, NULL, root, 1, err, sizeof(err)) == -1, "%s", "-p /.. accepted");
	CHECK(strstr(err, "-p /..: bad pattern: normalised to \"/\"") != NULL, "%s", err);
	config_free(&cfg);
}

static void test_embedded(void)
{
	struct config cfg;
	const struct rule *r;

	CHECK(config_load(&cfg, NULL, NULL, 0, err, sizeof(err)) == 0, "%s", err);
	CHECK(cfg.rs.nrules > 10, "%zu rules", cfg.rs.nrules);
	r = rules_find(&cfg.rs, path_basename("/x/a.yaml"), "/x/a.yaml");
	CHECK(r && r->enabled && r->basename && !r->source_file, "%s", "a.yaml not matched");
	CHECK(rules_find(&cfg.rs, path_basename("/x/CHANGELOG.md"), "/x/CHANGELOG.md") != NULL, "%s", "CHANGELOG.md");
	CHECK(rules_find(&cfg.rs, path_basename("/x/.env"), "/x/.env") != NULL, "%s", ".env");
	CHECK(rules_find(&cfg.rs, path_basename("/x/app.db"), "/x/app.db") == NULL, "%s", "a database is matched");
	CHECK(rules_find(&cfg.rs, path_basename("/x/app.log"), "/x/app.log") == NULL, "%s", "a log is matched");
	for (size_t i = 0; i < cfg.rs.nrules; i++)
		CHECK(cfg.rs.rules[i].basename, "%s", cfg.rs.rules[i].pattern);
	config_free(&cfg);
}

/* Run config_find with stderr captured into WARNING. */
static enum config_origin find_capturing(const char *explicit, char *buf, size_t size,
					 char *warning, size_t wsize)
{
	int saved = dup(2), fd = open(in_top("stderr"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	enum config_origin o;
	ssize_t n;

	fflush(stderr);
	dup2(fd, 2);
	o = config_find(explicit, buf, size);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, warning, wsize - 1, 0);
	warning[n > 0 ? n : 0] = '\0';
	close(fd);
	return o;
}

static void test_unsafe(void)
{
	struct config cfg;

	write_file(in_top("open.conf"), "path \"*.a\" { }\n", 0666);
	CHECK(config_load(&cfg, in_top("open.conf"), NULL, 0, err, sizeof(err)) == -1,
	      "%s", "world-writable accepted");
	CHECK(strstr(err, in_top("open.conf")) && strstr(err, "refused") &&
	      strstr(err, "writable by every user"), "%s", err);

	if (geteuid() != 0)
		return;
	/* As root: owned by someone else, or writable by a foreign group. */
	write_file(in_top("other.conf"), "path \"*.a\" { }\n", 0644);
	CHECK(chown(in_top("other.conf"), 1, 1) == 0, "%s", strerror(errno));
	CHECK(config_load(&cfg, in_top("other.conf"), NULL, 0, err, sizeof(err)) == -1 &&
	      strstr(err, "owned by another user"), "%s", err);
	write_file(in_top("group.conf"), "path \"*.a\" { }\n", 0664);
	CHECK(chown(in_top("group.conf"), 0, 12345) == 0, "%s", strerror(errno));
	CHECK(config_load(&cfg, in_top("group.conf"), NULL, 0, err, sizeof(err)) == -1 &&
	      strstr(err, "group"), "%s", err);
	/* Group-writable by root's group is fine. */
	CHECK(chown(in_top("group.conf"), 0, 0) == 0, "%s", strerror(errno));
	CHECK(config_load(&cfg, in_top("group.conf"), NULL, 0, err, sizeof(err)) == 0, "%s", err);
	config_free(&cfg);
}

static void test_find(void)
{
	char buf[PATH_MAX], warning[1024], xdg_conf[PATH_MAX], home_conf[PATH_MAX];
	struct config cfg;
	enum config_origin o;

	snprintf(xdg_conf, sizeof(xdg_conf), "%s", in_top("xdg/atomically/atomically.conf"));
	snprintf(home_conf, sizeof(home_conf), "%s", in_top("h*me/.config/atomically/atomically.conf"));

	make_dir(in_top("xdg"));
	make_dir(in_top("xdg/atomically"));
	write_file(xdg_conf, "path \"*.xdg\" { }\n", 0644);
	setenv("XDG_CONFIG_HOME", in_top("xdg"), 1);
	unsetenv("ATOMICALLY_CONF");

	CHECK(config_find(NULL, buf, sizeof(buf)) == ORIGIN_XDG && strcmp(buf, xdg_conf) == 0,
	      "%s", buf);
	/* ATOMICALLY_CONF beats XDG, and is returned even when missing. */
	setenv("ATOMICALLY_CONF", in_top("missing.conf"), 1);
	CHECK(config_find(NULL, buf, sizeof(buf)) == ORIGIN_ENV &&
	      strcmp(buf, in_top("missing.conf")) == 0, "%s", buf);
	CHECK(config_load(&cfg, buf, NULL, 0, err, sizeof(err)) == -1 &&
	      strstr(err, "missing.conf: cannot read: No such file"), "%s", err);
	/* -c beats everything. */
	CHECK(config_find("/nowhere.conf", buf, sizeof(buf)) == ORIGIN_OPTION &&
	      strcmp(buf, "/nowhere.conf") == 0, "%s", buf);
	/* An empty ATOMICALLY_CONF is not set. */
	setenv("ATOMICALLY_CONF", "", 1);
	CHECK(config_find(NULL, buf, sizeof(buf)) == ORIGIN_XDG, "%s", buf);
	unsetenv("ATOMICALLY_CONF");

	/* A discovered file others can write is skipped with a warning. */
	chmod(xdg_conf, 0666);
	o = find_capturing(NULL, buf, sizeof(buf), warning, sizeof(warning));
	CHECK(o == ORIGIN_ETC || o == ORIGIN_NONE, "origin %d %s", o, buf);
	CHECK(strncmp(warning, "atomically: ", 12) == 0 && strstr(warning, xdg_conf) &&
	      strstr(warning, "writable by every user") && strchr(warning, '\n') ==
	      warning + strlen(warning) - 1, "warning '%s'", warning);
	/* ... and refused when named explicitly. */
	CHECK(find_capturing(xdg_conf, buf, sizeof(buf), warning, sizeof(warning)) ==
	      ORIGIN_OPTION && warning[0] == '\0', "%s", warning);
	CHECK(config_load(&cfg, buf, NULL, 0, err, sizeof(err)) == -1 &&
	      strstr(err, "refused"), "%s", err);
	chmod(xdg_conf, 0644);

	/* Without XDG_CONFIG_HOME (or with a relative one): ~/.config. */
	make_dir(in_top("h*me/.config"));
	make_dir(in_top("h*me/.config/atomically"));
	write_file(home_conf, "path \"*.home\" { }\n", 0644);
	unsetenv("XDG_CONFIG_HOME");
	CHECK(config_find(NULL, buf, sizeof(buf)) == ORIGIN_XDG && strcmp(buf, home_conf) == 0,
	      "%s", buf);
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	CHECK(config_find(NULL, buf, sizeof(buf)) == ORIGIN_XDG && strcmp(buf, home_conf) == 0,
	      "%s", buf);
	setenv("XDG_CONFIG_HOME", in_top("xdg"), 1);

	/* A path that does not fit is not truncated into another one. */
	CHECK(config_find("/a/long/name.conf", buf, 5) == ORIGIN_OPTION && buf[0] == '\0',
	      "%s", buf);
}

static void test_compile(void)
{
	char *line, *copy;
	struct ruleset rs;
	struct rule rules[8];

	unsetenv("ATOMICALLY_CONF");
	setenv("XDG_CONFIG_HOME", in_top("xdg"), 1);
	write_file(in_top("xdg/atomically/atomically.conf"),
		   "lock_dir = \"sidecar\"\npath \"*.xdg\" {\n  durability = \"none\"\n}\n", 0644);
	line = atomically_conf_compile(err, sizeof(err));
	CHECK(line != NULL, "%s", err);
	if (line) {
		copy = strdup(line);
		CHECK(rules_count(copy) == 1 && rules_decode(copy, &rs, rules) == 0 &&
		      rs.nrules == 1 && strcmp(rs.rules[0].pattern, "*.xdg") == 0 &&
		      rs.rules[0].durability == DUR_NONE && strcmp(rs.lock_dir, "sidecar") == 0,
		      "%s", line);
		free(copy);
		free(line);
	}

	write_file(in_top("xdg/atomically/atomically.conf"), "path \"*.xdg\" {\n  lock = 1\n}\n", 0644);
	line = atomically_conf_compile(err, sizeof(err));
	CHECK(line == NULL && strstr(err, "atomically.conf:2: "), "%s", err);
	free(line);
}

static void test_errbuf(void)
{
	struct config cfg;
	char small[12];

	write_file(in_top("t.conf"), "path \"[\" { }\npath \"]\\\\\" { }\n", 0644);
	memset(small, 'x', sizeof(small));
	CHECK(config_load(&cfg, in_top("t.conf"), NULL, 0, small, sizeof(small)) == -1,
	      "%s", "accepted");
	CHECK(memchr(small, '\0', sizeof(small)) != NULL, "%s", "not NUL-terminated");
	CHECK(config_load(&cfg, in_top("t.conf"), NULL, 0, NULL, 0) == -1, "%s", "accepted");
	CHECK(config_load(&cfg, in_top("t.conf"), NULL, 0, small, 1) == -1 && small[0] == '\0',
	      "%s", "size 1");
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static void test_read(void)
{
	struct config cfg;
	int fd;

	/* A directory, a file with a NUL byte, a file too large. */
	CHECK(config_load(&cfg, top, NULL, 0, err, sizeof(err)) == -1 &&
	      strstr(err, "cannot read: Is a directory"), "%s", err);
	fd = open(in_top("nul.conf"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, "a\0b", 3) == 3 && close(fd) == 0, "%s", strerror(errno));
	CHECK(config_load(&cfg, in_top("nul.conf"), NULL, 0, err, sizeof(err)) == -1 &&
	      strstr(err, "NUL byte"), "%s", err);
	fd = open(in_top("big.conf"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, 4 << 20) == 0 && close(fd) == 0, "%s", strerror(errno));
	CHECK(config_load(&cfg, in_top("big.conf"), NULL, 0, err, sizeof(err)) == -1 &&
	      strstr(err, "larger than"), "%s", err);
}

int main(void)
{
	snprintf(top, sizeof(top), "/tmp/test_config.XXXXXX");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 2;
	}
	make_dir(in_top("h*me"));
	setenv("HOME", in_top("h*me"), 1);
	setenv("XDG_CONFIG_HOME", in_top("xdg"), 1);
	unsetenv("ATOMICALLY_CONF");

	test_defaults();
	test_all_options();
	test_bad_values();
	test_unknown_and_syntax();
	test_bad_patterns();
	test_patterns();
	test_extra();
	test_embedded();
	test_unsafe();
	test_find();
	test_compile();
	test_errbuf();
	test_read();

	/* Leave the files for a look when something failed. */
	if (failed == 0 && chdir("/") == 0)
		nftw(top, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		fprintf(stderr, "files kept in %s\n", top);
	printf("%d passed, %d failed\n", passed, failed);
	return failed > 0;
}
