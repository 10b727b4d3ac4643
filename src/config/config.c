/* config.c - the config file (libconfuse) to compiled rules (SPEC section 2).
 *
 * config_find discovers the file, config_load parses and validates it into
 * a struct ruleset whose strings the struct config owns, and
 * atomically_conf_compile does both for the library and encodes the result.
 *
 * Every error is reported as "FILE:LINE: message".  libconfuse stops at
 * the first error it meets while parsing (syntax, unknown option, bad
 * value); the checks made after parsing (patterns) report every error.
 */
#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "core/match.h"
#include "core/rules.h"

#define EMBEDDED_NAME "(embedded default)"
/* A config file is a few kilobytes; this bounds what "-c /dev/zero" reads. */
#define MAX_CONFIG_SIZE (1024 * 1024)
/* rules_decode accepts no larger lock_timeout. */
#define MAX_LOCK_TIMEOUT 1000000000L

/* ---- error messages ---- */

/* Messages, one per line (no trailing newline), in the caller's buffer. */
struct errbuf {
	char *buf;
	size_t size, len;
	int count;          /* errors reported, including those that did not fit */
};

static void err_add(struct errbuf *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void err_add(struct errbuf *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	e->count++;
	if (!e->buf || e->len + 1 >= e->size)
		return;
	if (e->len > 0)
		e->buf[e->len++] = '\n';
	va_start(ap, fmt);
	n = vsnprintf(e->buf + e->len, e->size - e->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	/* One message per line, even with a newline in a quoted value. */
	for (char *c = e->buf + e->len; *c; c++)
		if (*c == '\n')
			*c = ' ';
	e->len += (size_t)n < e->size - e->len ? (size_t)n : e->size - e->len - 1;
}

/* libconfuse's error function takes no user pointer, so the parse in
 * progress leaves its buffer here.  (libconfuse's lexer is a global
 * state machine anyway: parses cannot run concurrently.) */
static struct errbuf *parse_errors;

static void confuse_error(cfg_t *c, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!parse_errors)
		return;
	if (c && c->filename && c->line > 0)
		err_add(parse_errors, "%s:%d: %s", c->filename, c->line, msg);
	else if (c && c->filename)
		err_add(parse_errors, "%s: %s", c->filename, msg);
	else
		err_add(parse_errors, "%s", msg);
}

/* ---- ownership of strings ---- */

struct storage {
	char **strings;     /* every string the ruleset points to */
	size_t n;
};

/* Hand the malloc'd string S (may be NULL) over to CFG; returns S, or
 * NULL (and frees S) when S is NULL or there is no memory to track it. */
static const char *own(struct config *cfg, char *s)
{
	struct storage *st = cfg->storage;
	char **grown;

	if (!s)
		return NULL;
	grown = realloc(st->strings, (st->n + 1) * sizeof(*grown));
	if (!grown) {
		free(s);
		return NULL;
	}
	st->strings = grown;
	st->strings[st->n++] = s;
	return s;
}

/* A new rule with default settings at the end of CFG's ruleset. */
static struct rule *new_rule(struct config *cfg)
{
	struct ruleset *rs = &cfg->rs;
	struct rule *grown = realloc(rs->rules, (rs->nrules + 1) * sizeof(*grown));

	if (!grown)
		return NULL;
	rs->rules = grown;
	rule_set_defaults(&rs->rules[rs->nrules]);
	return &rs->rules[rs->nrules++];
}

/* ---- paths and patterns ---- */

/* The home directory: $HOME, else the password database's. */
static const char *home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home && home[0] == '/')
		return home;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

/* The absolute directory of the file PATH (lexically: a symlinked config
 * file is taken where it is named, like a .gitignore), or of the current
 * directory when PATH is NULL.  malloc'd; NULL when it cannot be had. */
static char *base_dir(const char *path)
{
	char cwd[PATH_MAX] = "/", *out;
	size_t size;

	if ((!path || path[0] != '/') && !getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (!path)
		return strdup(cwd);
	size = strlen(cwd) + strlen(path) + 3;
	if (!(out = malloc(size)))
		return NULL;
	if (path_normalise(cwd, path, out, size) < 0) {
		free(out);
		return NULL;
	}
	/* Drop the file name; what remains of "/name" is "/". */
	*strrchr(out, '/') = '\0';
	if (out[0] == '\0')
		strcpy(out, "/");
	return out;
}

/* A malloc'd copy of the directory DIR in which the glob characters are
 * escaped, so that as the prefix of a pattern it matches only itself. */
static char *glob_escape(const char *dir)
{
	char *out = malloc(2 * strlen(dir) + 1), *w = out;

	if (!out)
		return NULL;
	for (; *dir; dir++) {
		if (strchr("*?[]\\", *dir))
			*w++ = '\\';
		*w++ = *dir;
	}
	*w = '\0';
	return out;
}

/* PREFIX/REST (PREFIX absolute, or NULL when REST is) normalised
 * lexically, malloc'd; NULL without memory. */
static char *join_normalised(const char *prefix, const char *rest)
{
	size_t size = (prefix ? strlen(prefix) : 0) + strlen(rest) + 3;
	char *joined = malloc(size), *out = malloc(size);

	if (joined && out) {
		snprintf(joined, size, "%s/%s", prefix ? prefix : "", rest);
		if (path_normalise("/", joined, out, size) >= 0) {
			free(joined);
			return out;
		}
	}
	free(joined);
	free(out);
	return NULL;
}

/* Make the path-like string S absolute: "~/" is the home directory, a
 * relative one is taken relative to BASE (NULL when unknown).  With
 * ESCAPE, S is a pattern and the directory put before it is escaped.
 * Returns a malloc'd string, or NULL with the reason in *WHY. */
static char *absolute(const char *s, const char *base, bool escape,
		      const char **why)
{
	const char *dir = base, *rest = s;
	char *prefix, *out;

	*why = "out of memory";
	if (s[0] == '/')
		return join_normalised(NULL, s);
	if (s[0] == '~' && s[1] == '/') {
		dir = home_dir();
		rest = s + 2;
		if (!dir) {
			*why = "no home directory for '~/' (HOME is not set)";
			return NULL;
		}
	} else if (!dir) {
		*why = "the directory it is relative to cannot be found";
		return NULL;
	}
	prefix = escape ? glob_escape(dir) : strdup(dir);
	out = prefix ? join_normalised(prefix, rest) : NULL;
	free(prefix);
	return out;
}

/* The compiled form of the pattern TITLE written in a config whose
 * directory is BASE: TITLE itself when it has no '/' (a basename rule),
 * else an absolute pattern.  malloc'd; NULL with the reason in *WHY
 * (which may be a static buffer, valid until the next call). */
static char *compile_pattern(const char *title, const char *base,
			     unsigned char *basename, const char **why)
{
	static char reason[160];
	const char *bad;
	char *out;

	if ((*why = glob_check(title)) != NULL)
		return NULL;
	*basename = strchr(title, '/') == NULL;
	if (*basename) {
		char *copy = strdup(title);

		if (!copy)
			*why = "out of memory";
		return copy;
	}
	/* Normalising can leave what no path matches, or what matches
	 * another file: "/a/.." is "/", and "/a/b\/." is "/a/b\", whose
	 * trailing backslash is a literal one. */
	out = absolute(title, base, true, why);
	if (out && (bad = glob_check(out)) != NULL) {
		snprintf(reason, sizeof(reason), "normalised to \"%.64s%s\": %s",
			 out, strlen(out) > 64 ? "..." : "", bad);
		*why = reason;
		free(out);
		return NULL;
	}
	return out;
}

/* ---- what libconfuse does not tell ---- */

/* The tokens of libconfuse's lexer (its src/lexer.l), as far as this
 * file needs them: to blank out comments and to find where sections
 * start. */
enum token { T_END, T_WORD, T_STRING, T_COMMENT, T_OTHER, T_UNTERMINATED };

/* The token after the blanks at *PP: sets *START to its first character
 * and moves *PP past it. */
static enum token next_token(const char **pp, const char **start)
{
	const char *p = *pp, *end;
	enum token t;

	/* Blanks, and what libconfuse drops: a '*' outside quotes, a '+'
	 * not followed by '='. */
	while (*p && (strchr(" \t\r\n*", *p) || (p[0] == '+' && p[1] != '=')))
		p++;
	*start = p;
	if (*p == '\0')
		return T_END;
	if (p[0] == '#' || (p[0] == '/' && p[1] == '/')) {
		p += strcspn(p, "\n");
		t = T_COMMENT;
	} else if (p[0] == '/' && p[1] == '*') {
		end = strstr(p + 2, "*/");
		p = end ? end + 2 : p + strlen(p);
		t = end ? T_COMMENT : T_UNTERMINATED;
	} else if (p[0] == '"' || p[0] == '\'') {
		char quote = *p++;

		while (*p && *p != quote)
			p += (p[0] == '\\' && p[1]) + 1;
		t = *p ? T_STRING : T_UNTERMINATED;
		p += *p == quote;
	} else if (p[0] == '$' && p[1] == '{') {
		/* ${VAR}; with no '}' after it, no config is valid. */
		p += strcspn(p, "}");
		t = *p ? T_STRING : T_UNTERMINATED;
		p += *p == '}';
	} else if (p[0] == '+') {       /* "+=" */
		p += 2;
		t = T_OTHER;
	} else if (strchr("{}()=,", *p)) {
		p++;
		t = T_OTHER;
	} else {
		/* A word may hold '/', even "//" after its first character. */
		p += strcspn(p, " \t\r\n#\"'{}()=+,*");
		t = T_WORD;
	}
	*pp = p;
	return t;
}

/* A malloc'd copy of TEXT with every comment turned into spaces, its
 * newlines kept.  Why: libconfuse 3.3 miscounts lines after a comment
 * (a "# ..." line counts as three), so its messages would name the
 * wrong lines; comments mean nothing else to it.  Sets *UNTERMINATED to
 * the line where a string or comment opens that the text does not close
 * (libconfuse would silently ignore the rest of the file), else 0; and
 * *UNCLOSED to the line of a '{' that the text never closes (libconfuse
 * would take the end of the file for its '}'), else 0. */
static char *blank_comments(const char *text, int *unterminated, int *unclosed)
{
	char *copy = strdup(text);
	const char *p = copy, *start, *counted = copy;
	int line = 1, depth = 0;
	enum token t;

	*unterminated = *unclosed = 0;
	if (!copy)
		return NULL;
	while ((t = next_token(&p, &start)) != T_END) {
		for (; counted < start; counted++)
			line += *counted == '\n';
		if (t == T_UNTERMINATED && !*unterminated)
			*unterminated = line;
		if (t == T_OTHER && *start == '{' && depth++ == 0)
			*unclosed = line;
		if (t == T_OTHER && *start == '}' && depth > 0 && --depth == 0)
			*unclosed = 0;
		if (t == T_COMMENT)
			for (char *c = copy + (start - copy); c < p; c++)
				if (*c != '\n')
					*c = ' ';
	}
	return copy;
}

struct section_pos {
	int line;           /* of the "path" keyword */
	bool quoted;        /* its title is a quoted string */
};

/* Find the "path" keywords at the top level of TEXT, which libconfuse
 * has parsed without error, and record the first MAX of them in POS.
 * Returns how many there are; the caller checks that libconfuse found as
 * many sections.
 *
 * Why: libconfuse keeps only the line where a section ends, and messages
 * and --explain should name the line where it starts.  Why "quoted":
 * libconfuse silently drops a '*' from an unquoted word, so that
 * path *.json { } is a section titled ".json". */
static size_t scan_sections(const char *text, struct section_pos *pos,
			    size_t max)
{
	const char *p = text, *start, *counted = text;
	int line = 1, depth = 0;
	bool after_equals = false, want_title = false;
	enum token t;
	size_t n = 0;

	while ((t = next_token(&p, &start)) != T_END) {
		for (; counted < start; counted++)
			line += *counted == '\n';
		if (t == T_COMMENT)
			continue;
		if (want_title && n <= max)
			pos[n - 1].quoted = t == T_STRING && *start != '$';
		want_title = false;
		if (t == T_OTHER)
			depth += (*start == '{') - (*start == '}');
		/* "path" after '=' is a value, not a section. */
		if (t == T_WORD && depth == 0 && !after_equals &&
		    p - start == 4 && strncmp(start, "path", 4) == 0) {
			if (n < max)
				pos[n] = (struct section_pos){ line, false };
			n++;
			want_title = true;
		}
		after_equals = t == T_OTHER && (*start == '=' || *start == '+');  /* "=", "+=" */
	}
	return n;
}

/* ---- the options ---- */

/* The options whose value is one of the names of an enum. */
static const struct {
	const char *where;      /* how cfg_set_validate_func names it */
	const char *option;
	const char *(*names)(int);
} enum_options[] = {
	{ "log_level", "log_level", log_level_name },
	{ "path|durability", "durability", durability_name },
	{ "path|lock", "lock", lock_scope_name },
	{ "path|commit", "commit", commit_mode_name },
	{ "path|append", "append", append_mode_name },
	{ "path|hardlinks", "hardlinks", hardlinks_mode_name },
	{ "path|fallback", "fallback", fallback_mode_name },
	{ "path|fsync", "fsync", fsync_mode_name },
};

static const char *(*enum_names(const char *option))(int)
{
	for (size_t i = 0; i < sizeof(enum_options) / sizeof(enum_options[0]); i++)
		if (strcmp(enum_options[i].option, option) == 0)
			return enum_options[i].names;
	return NULL;
}

/* Validate callback: the value is one of the option's names. */
static int check_enum(cfg_t *sec, cfg_opt_t *opt)
{
	const char *(*names)(int) = enum_names(opt->name);
	const char *value = cfg_opt_getnstr(opt, 0);
	char allowed[128] = "";
	size_t len = 0;

	if (!value)
		value = "";
	if (!names || enum_value(names, value) >= 0)
		return 0;
	for (int v = 0; names(v) && len < sizeof(allowed); v++)
		len += snprintf(allowed + len, sizeof(allowed) - len, "%s%s",
				v ? ", " : "", names(v));
	cfg_error(sec, "invalid value '%s' for option '%s' (expected one of: %s)",
		  value, opt->name, allowed);
	return -1;
}

/* Validate callback: lock_timeout and failure_exit_code are in range. */
static int check_int(cfg_t *sec, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);
	bool timeout = strcmp(opt->name, "lock_timeout") == 0;
	long lo = timeout ? -1 : 0, hi = timeout ? MAX_LOCK_TIMEOUT : 255;

	if (v >= lo && v <= hi)
		return 0;
	cfg_error(sec, "invalid value %ld for option '%s' (expected %ld to %ld)",
		  v, opt->name, lo, hi);
	return -1;
}

/* Validate callback: backup is a suffix, not a path. */
static int check_backup(cfg_t *sec, cfg_opt_t *opt)
{
	const char *value = cfg_opt_getnstr(opt, 0);

	if (!value || !strchr(value, '/'))
		return 0;
	cfg_error(sec, "invalid value '%s' for option 'backup' (a suffix such as \"~\"; it must not contain '/')",
		  value);
	return -1;
}

/* A libconfuse tree for the options of SPEC section 2, with the defaults
 * of rules.c (one source of defaults), or NULL without memory.
 * cfg_init copies the option tables. */
static cfg_t *new_confuse(void)
{
	struct ruleset g;
	struct rule d;
	cfg_t *c;

	ruleset_set_defaults(&g);
	rule_set_defaults(&d);
	cfg_opt_t path_opts[] = {
		CFG_BOOL("enabled", d.enabled ? cfg_true : cfg_false, CFGF_NONE),
		CFG_STR("durability", durability_name(d.durability), CFGF_NONE),
		CFG_STR("lock", lock_scope_name(d.lock), CFGF_NONE),
		CFG_INT("lock_timeout", d.lock_timeout, CFGF_NONE),
		CFG_STR("commit", commit_mode_name(d.commit), CFGF_NONE),
		CFG_STR("append", append_mode_name(d.append), CFGF_NONE),
		CFG_STR("hardlinks", hardlinks_mode_name(d.hardlinks), CFGF_NONE),
		CFG_STR("fallback", fallback_mode_name(d.fallback), CFGF_NONE),
		CFG_STR("backup", d.backup, CFGF_NONE),
		CFG_BOOL("skip_unchanged", d.skip_unchanged ? cfg_true : cfg_false, CFGF_NONE),
		CFG_STR("fsync", fsync_mode_name(d.on_fsync), CFGF_NONE),
		CFG_END()
	};
	cfg_opt_t opts[] = {
		CFG_STR("log_level", log_level_name(g.log_level), CFGF_NONE),
		CFG_STR("log_file", g.log_file, CFGF_NONE),
		CFG_STR("lock_dir", g.lock_dir, CFGF_NONE),
		CFG_INT("failure_exit_code", g.failure_exit_code, CFGF_NONE),
		/* A repeated title would silently replace the first section
		 * in its place, which breaks "the last one wins". */
		CFG_SEC("path", path_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_END()
	};

	if (!(c = cfg_init(opts, CFGF_NONE)))
		return NULL;
	cfg_set_error_function(c, confuse_error);
	for (size_t i = 0; i < sizeof(enum_options) / sizeof(enum_options[0]); i++)
		cfg_set_validate_func(c, enum_options[i].where, check_enum);
	cfg_set_validate_func(c, "failure_exit_code", check_int);
	cfg_set_validate_func(c, "path|lock_timeout", check_int);
	cfg_set_validate_func(c, "path|backup", check_backup);
	return c;
}

/* ---- from the libconfuse tree to the ruleset ---- */

/* The string option NAME of C; "" rather than NULL. */
static const char *str_of(cfg_t *c, const char *name)
{
	const char *s = cfg_getstr(c, name);

	return s ? s : "";
}

static unsigned char get_enum(cfg_t *sec, const char *option)
{
	/* check_enum let only known names through. */
	return (unsigned char)enum_value(enum_names(option), str_of(sec, option));
}

/* Copy the settings of section SEC into R (all but the pattern). */
static int read_section(struct config *cfg, cfg_t *sec, struct rule *r)
{
	r->enabled = cfg_getbool(sec, "enabled");
	r->durability = get_enum(sec, "durability");
	r->lock = get_enum(sec, "lock");
	r->lock_timeout = (int)cfg_getint(sec, "lock_timeout");
	r->commit = get_enum(sec, "commit");
	r->append = get_enum(sec, "append");
	r->hardlinks = get_enum(sec, "hardlinks");
	r->fallback = get_enum(sec, "fallback");
	r->skip_unchanged = cfg_getbool(sec, "skip_unchanged");
	r->on_fsync = get_enum(sec, "fsync");
	r->backup = own(cfg, strdup(str_of(sec, "backup")));
	return r->backup ? 0 : -1;
}

/* The path-like global OPTION ("" or SPECIAL are kept as they are; others
 * are made absolute against BASE); NULL with a message in E. */
static const char *read_path_setting(struct config *cfg, cfg_t *c,
				     const char *option, const char *special,
				     const char *base, struct errbuf *e)
{
	const char *value = str_of(c, option), *why = "out of memory", *s;

	if (value[0] == '\0' || strcmp(value, special) == 0)
		s = own(cfg, strdup(value));
	else
		s = own(cfg, absolute(value, base, false, &why));
	if (!s)
		err_add(e, "%s: %s \"%s\": %s", c->filename, option, value, why);
	return s;
}

static int read_globals(struct config *cfg, cfg_t *c, const char *base,
			struct errbuf *e)
{
	struct ruleset *rs = &cfg->rs;

	rs->log_level = enum_value(log_level_name, str_of(c, "log_level"));
	rs->failure_exit_code = (int)cfg_getint(c, "failure_exit_code");
	rs->log_file = read_path_setting(cfg, c, "log_file", "syslog", base, e);
	rs->lock_dir = read_path_setting(cfg, c, "lock_dir", "sidecar", base, e);
	return rs->log_file && rs->lock_dir ? 0 : -1;
}

/* One rule per path section of C, in order; TEXT is what C was parsed
 * from, BASE the directory relative patterns are relative to.  Reports
 * every bad pattern. */
static void read_sections(struct config *cfg, cfg_t *c, const char *text,
			  const char *base, bool from_file, struct errbuf *e)
{
	size_t n = cfg_size(c, "path");
	struct section_pos *pos = calloc(n ? n : 1, sizeof(*pos));
	/* Without the start lines, fall back on the lines where sections end. */
	bool scanned = pos && scan_sections(text, pos, n) == n;

	for (size_t i = 0; i < n; i++) {
		cfg_t *sec = cfg_getnsec(c, "path", i);
		const char *title = cfg_title(sec), *why;
		int line = scanned ? pos[i].line : sec->line;
		struct rule *r = new_rule(cfg);
		char *pattern;

		if (!r || read_section(cfg, sec, r) < 0) {
			err_add(e, "%s:%d: out of memory", c->filename, line);
			break;
		}
		r->source_file = from_file ? cfg->path : NULL;
		r->source_line = from_file ? line : 0;
		if (scanned && !pos[i].quoted) {
			err_add(e, "%s:%d: the pattern must be quoted: path \"PATTERN\" { ... }",
				c->filename, line);
			continue;
		}
		pattern = compile_pattern(title, base, &r->basename, &why);
		if (!(r->pattern = own(cfg, pattern)))
			err_add(e, "%s:%d: bad pattern \"%s\": %s", c->filename,
				line, title, pattern ? "out of memory" : why);
	}
	free(pos);
}

/* Parse TEXT, named NAME in messages, into CFG. */
static int load_text(struct config *cfg, const char *text, const char *name,
		     const char *base, bool from_file, struct errbuf *e)
{
	int before = e->count, rc = CFG_SUCCESS, unterminated, unclosed;
	char *blanked = blank_comments(text, &unterminated, &unclosed);
	cfg_t *c = new_confuse();
	FILE *fp = NULL;

	if (!blanked || !c || !(c->filename = strdup(name))) {
		err_add(e, "%s: out of memory", name);
		goto out;
	}
	if (unterminated) {
		err_add(e, "%s:%d: unterminated string or comment", name, unterminated);
		goto out;
	}
	if (unclosed) {
		err_add(e, "%s:%d: this '{' is never closed", name, unclosed);
		goto out;
	}
	/* An empty text: fmemopen may refuse a zero size. */
	if (blanked[0] != '\0') {
		if (!(fp = fmemopen(blanked, strlen(blanked), "r"))) {
			err_add(e, "%s: %s", name, strerror(errno));
			goto out;
		}
		parse_errors = e;
		rc = cfg_parse_fp(c, fp);
		parse_errors = NULL;
	}
	if (rc != CFG_SUCCESS) {
		if (e->count == before)
			err_add(e, "%s: cannot parse", name);
		goto out;
	}
	if (read_globals(cfg, c, base, e) == 0)
		read_sections(cfg, c, blanked, base, from_file, e);
out:
	if (fp)
		fclose(fp);
	if (c)
		cfg_free(c);
	free(blanked);
	return e->count == before ? 0 : -1;
}

/* ---- reading a file safely ---- */

/* Why another non-root user could change the file ST describes, or NULL
 * when only root and the caller can.  Root and the caller can change
 * what the caller runs anyway; anybody else must not be able to make the
 * caller's programs, say, skip fsync or wait forever on a lock. */
static const char *unsafe_reason(const struct stat *st)
{
	struct group *gr;
	struct passwd *pw;

	if (st->st_uid != 0 && st->st_uid != geteuid())
		return "it is owned by another user";
	if (st->st_mode & S_IWOTH)
		return "it is writable by every user";
	if (!(st->st_mode & S_IWGRP) || st->st_gid == 0)
		return NULL;  /* root's group is as trusted as root */
	/* Group-writable is safe only for a group of the caller alone:
	 * the caller's own group, listing nobody else as a member.  (Users
	 * whose primary group it is are not listed; a personal group has
	 * none but its user.) */
	if (st->st_gid != getegid())
		return "it is writable by a group other users may be in";
	if (!(gr = getgrgid(st->st_gid)))
		return "it is writable by a group whose members cannot be checked";
	pw = gr->gr_mem[0] ? getpwuid(geteuid()) : NULL;
	for (char **m = gr->gr_mem; *m; m++)
		if (!pw || strcmp(*m, pw->pw_name) != 0)
			return "it is writable by a group that has other members";
	return NULL;
}

/* Read all of FD into a malloc'd NUL-terminated string. */
static char *read_all(int fd, const char *path, struct errbuf *e)
{
	size_t len = 0, cap = 4096;
	char *text = malloc(cap), *grown;
	ssize_t n;

	while (text) {
		if (len + 1 == cap) {
			if (cap >= MAX_CONFIG_SIZE) {
				err_add(e, "%s: larger than %d bytes; not a config file?",
					path, MAX_CONFIG_SIZE);
				break;
			}
			if (!(grown = realloc(text, cap * 2)))
				break;
			text = grown;
			cap *= 2;
		}
		n = read(fd, text + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_add(e, "%s: cannot read: %s", path, strerror(errno));
			break;
		}
		if (n == 0) {
			text[len] = '\0';
			if (strlen(text) == len)
				return text;
			err_add(e, "%s: contains a NUL byte; not a config file?", path);
			break;
		}
		len += (size_t)n;
	}
	if (!text)
		err_add(e, "%s: out of memory", path);
	free(text);
	return NULL;
}

/* The text of the config file PATH, which no other user may be able to
 * change; malloc'd, or NULL with a message in E.  The check is made on
 * the descriptor read from, so the file cannot be swapped in between. */
static char *read_config(const char *path, struct errbuf *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	const char *why;
	char *text = NULL;

	if (fd < 0) {
		err_add(e, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		err_add(e, "%s: cannot read: %s", path, strerror(errno));
	else if ((why = unsafe_reason(&st)) != NULL)
		err_add(e, "%s: refused: %s (only you and root may be able to change a config file)",
			path, why);
	else
		text = read_all(fd, path, e);
	close(fd);
	return text;
}

/* ---- the interface ---- */

/* Is PATH a config file to use?  Warns when it exists but is unsafe. */
static bool usable(const char *path)
{
	struct stat st;
	const char *why;

	if (stat(path, &st) < 0)
		return false;
	if ((why = unsafe_reason(&st)) != NULL) {
		fprintf(stderr, "atomically: ignoring %s: %s\n", path, why);
		return false;
	}
	return true;
}

/* Copy S into BUF; false (and BUF empty) when it does not fit. */
static bool copy_path(char *buf, size_t size, const char *s)
{
	if (size == 0)
		return false;
	if ((size_t)snprintf(buf, size, "%s", s) < size)
		return true;
	buf[0] = '\0';
	return false;
}

enum config_origin config_find(const char *explicit, char *buf, size_t size)
{
	const char *env = getenv("ATOMICALLY_CONF");
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = home_dir();
	char path[PATH_MAX];
	int n = -1;

	if (explicit) {
		copy_path(buf, size, explicit);
		return ORIGIN_OPTION;
	}
	if (env && env[0]) {
		copy_path(buf, size, env);
		return ORIGIN_ENV;
	}
	/* The XDG spec ignores a relative XDG_CONFIG_HOME. */
	if (xdg && xdg[0] == '/')
		n = snprintf(path, sizeof(path), "%s/atomically/atomically.conf", xdg);
	else if (home)
		n = snprintf(path, sizeof(path), "%s/.config/atomically/atomically.conf", home);
	if (n > 0 && (size_t)n < sizeof(path) && usable(path) &&
	    copy_path(buf, size, path))
		return ORIGIN_XDG;
	if (usable("/etc/atomically.conf") &&
	    copy_path(buf, size, "/etc/atomically.conf"))
		return ORIGIN_ETC;
	if (size)
		buf[0] = '\0';
	return ORIGIN_NONE;
}

/* Append one default rule per -p pattern, relative ones relative to the
 * current directory. */
static void add_extra(struct config *cfg, const char *const *extra,
		      size_t nextra, struct errbuf *e)
{
	char *cwd = base_dir(NULL);

	for (size_t i = 0; i < nextra; i++) {
		struct rule *r = new_rule(cfg);
		const char *why;
		char *pattern;

		if (!r) {
			err_add(e, "-p %s: out of memory", extra[i]);
			break;
		}
		pattern = compile_pattern(extra[i], cwd, &r->basename, &why);
		if (!(r->pattern = own(cfg, pattern)))
			err_add(e, "-p %s: bad pattern: %s", extra[i],
				pattern ? "out of memory" : why);
	}
	free(cwd);
}

int config_load(struct config *cfg, const char *path,
		const char *const *extra, size_t nextra,
		char *err, size_t errsize)
{
	struct errbuf e = { err, errsize, 0, 0 };
	char *text, *base;

	if (err && errsize)
		err[0] = '\0';
	memset(cfg, 0, sizeof(*cfg));
	ruleset_set_defaults(&cfg->rs);
	if (!(cfg->storage = calloc(1, sizeof(struct storage)))) {
		err_add(&e, "out of memory");
		return -1;
	}
	if (path) {
		if (!(cfg->path = strdup(path))) {
			err_add(&e, "%s: out of memory", path);
		} else if ((text = read_config(path, &e)) != NULL) {
			base = base_dir(path);
			load_text(cfg, text, path, base, true, &e);
			free(base);
			free(text);
		}
	} else if (nextra == 0) {
		base = base_dir(NULL);
		load_text(cfg, config_default_text, EMBEDDED_NAME, base, false, &e);
		free(base);
	}
	if (e.count == 0)
		add_extra(cfg, extra, nextra, &e);
	if (e.count == 0)
		return 0;
	config_free(cfg);
	return -1;
}

void config_free(struct config *cfg)
{
	struct storage *st = cfg->storage;

	if (st) {
		for (size_t i = 0; i < st->n; i++)
			free(st->strings[i]);
		free(st->strings);
		free(st);
	}
	free(cfg->rs.rules);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
	ruleset_set_defaults(&cfg->rs);
}

__attribute__((visibility("default")))
char *atomically_conf_compile(char *err, size_t errsize)
{
	char path[PATH_MAX];
	enum config_origin origin = config_find(NULL, path, sizeof(path));
	struct config cfg;
	size_t len;
	char *line;

	if (config_load(&cfg, origin == ORIGIN_NONE ? NULL : path, NULL, 0,
			err, errsize) < 0)
		return NULL;
	len = rules_encode(&cfg.rs, NULL, 0);
	if ((line = malloc(len + 1)) != NULL)
		rules_encode(&cfg.rs, line, len + 1);
	else if (err && errsize)
		snprintf(err, errsize, "out of memory");
	config_free(&cfg);
	return line;
}
