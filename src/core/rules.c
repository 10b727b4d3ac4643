/* rules.c - defaults, names and the one-line encoding of compiled rules.
 *
 * The encoding is a line of fields separated by ';':
 *
 *   a2;L<level>;X<exit code>;F<log file>;D<lock dir>;R<rule>;R<rule>...
 *
 * and each rule is "<10 digits>,<timeout>,<backup>,<pattern>", the digits
 * being basename, enabled, durability, lock, commit, append, hardlinks,
 * fallback, skip_unchanged and fsync.  Every character outside a small safe set
 * is written as %XX, so the line needs no quoting in single quotes, in a
 * $GITHUB_ENV file or in the environment, and ';' and ',' only ever
 * separate fields.  Decoding unescapes in place and allocates nothing: it
 * runs in the constructor of every process started under the launcher.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "sys.h"
#include "textout.h"

#define RULES_MAGIC "a2"

static const char *const durability_names[] = { "full", "file", "data", "none", NULL };
static const char *const scope_names[] = { "none", "write", "process", "session", NULL };
static const char *const commit_names[] = { "close", "exit", "session", NULL };
static const char *const append_names[] = { "atomic", "passthrough", NULL };
static const char *const hardlinks_names[] = { "break", "inplace", "fail", NULL };
static const char *const fallback_names[] = { "inplace", "fail", NULL };
static const char *const fsync_names[] = { "commit", "temp", NULL };
static const char *const level_names[] = { "error", "warn", "info", "debug", NULL };

static const char *name_of(const char *const *names, int v)
{
	for (int i = 0; names[i]; i++)
		if (i == v)
			return names[i];
	return NULL;
}

const char *durability_name(int v) { return name_of(durability_names, v); }
const char *lock_scope_name(int v) { return name_of(scope_names, v); }
const char *commit_mode_name(int v) { return name_of(commit_names, v); }
const char *append_mode_name(int v) { return name_of(append_names, v); }
const char *hardlinks_mode_name(int v) { return name_of(hardlinks_names, v); }
const char *fallback_mode_name(int v) { return name_of(fallback_names, v); }
const char *fsync_mode_name(int v) { return name_of(fsync_names, v); }
const char *log_level_name(int v) { return name_of(level_names, v); }

int enum_value(const char *(*namef)(int), const char *name)
{
	const char *n;

	for (int v = 0; (n = namef(v)) != NULL; v++)
		if (strcmp(n, name) == 0)
			return v;
	return -1;
}

void rule_set_defaults(struct rule *r)
{
	memset(r, 0, sizeof(*r));
	r->pattern = "";
	r->backup = "";
	r->lock_timeout = 30;
	r->enabled = 1;
	r->durability = DUR_FULL;
	r->lock = SCOPE_WRITE;
	r->commit = COMMIT_CLOSE;
	r->append = APPEND_ATOMIC;
	r->hardlinks = HARDLINKS_BREAK;
	r->fallback = FALLBACK_INPLACE;
	r->skip_unchanged = 0;
	r->on_fsync = FSYNC_COMMIT;
}

void ruleset_set_defaults(struct ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->log_level = LEVEL_WARN;
	rs->log_file = "";
	rs->lock_dir = "";
	rs->failure_exit_code = 74;
}

/* ---- encoding ---- */

static int is_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("/._-*?[]!^:=@+~", c));
}

static void put_escaped(struct textout *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (is_safe(c)) {
			textout_char(o, (char)c);
		} else {
			textout_char(o, '%');
			textout_char(o, hex[c >> 4]);
			textout_char(o, hex[c & 15]);
		}
	}
}

size_t rules_encode(const struct ruleset *rs, char *buf, size_t size)
{
	struct textout o = { buf, size, 0 };

	textout_str(&o, RULES_MAGIC ";L");
	textout_num(&o, rs->log_level);
	textout_str(&o, ";X");
	textout_num(&o, rs->failure_exit_code);
	textout_str(&o, ";F");
	put_escaped(&o, rs->log_file);
	textout_str(&o, ";D");
	put_escaped(&o, rs->lock_dir);
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];
		const unsigned char flags[] = {
			r->basename, r->enabled, r->durability, r->lock, r->commit,
			r->append, r->hardlinks, r->fallback, r->skip_unchanged, r->on_fsync,
		};
		textout_str(&o, ";R");
		for (size_t k = 0; k < sizeof(flags); k++)
			textout_char(&o, (char)('0' + flags[k] % 10));
		textout_char(&o, ',');
		textout_num(&o, r->lock_timeout);
		textout_char(&o, ',');
		put_escaped(&o, r->backup);
		textout_char(&o, ',');
		put_escaped(&o, r->pattern);
	}
	return textout_end(&o);
}

/* ---- decoding ---- */

size_t rules_count(const char *text)
{
	size_t n = 0;

	for (const char *p = text; *p; p++)
		if (p[0] == ';' && p[1] == 'R')
			n++;
	return n;
}

/* The rest of S after its first C, which becomes a NUL; NULL when S has
 * no C.  Decoding is written with loops of its own rather than strchr
 * and strtol: it runs in every process's constructor, and each libc
 * function it calls is one more lazy binding and page of libc to touch. */
static char *cut(char *s, char c)
{
	for (; *s; s++)
		if (*s == c) {
			*s = '\0';
			return s + 1;
		}
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Unescape the NUL-terminated field S in place. */
static int unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*w++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return 0;
}

/* Parse a decimal integer filling the whole of S, from -1 to 10^9. */
static int parse_int(const char *s, int *v)
{
	int neg = *s == '-';
	long n = 0;

	s += neg;
	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > 100000000L)  /* no overflow */
			return -1;
		n = n * 10 + (*s - '0');
	}
	if (neg)
		n = -n;
	if (n < -1 || n > 1000000000L)
		return -1;
	*v = (int)n;
	return 0;
}

/* The upper bound of each flag digit of a rule. */
#define RULE_FLAGS 10
static const unsigned char flag_max[RULE_FLAGS] = { 1, 1, DUR_NONE, SCOPE_SESSION,
	COMMIT_SESSION, APPEND_PASSTHROUGH, HARDLINKS_FAIL, FALLBACK_FAIL, 1, FSYNC_TEMP };

static int decode_rule(char *f, struct rule *r)
{
	char *timeout, *backup, *pattern;
	int t;

	rule_set_defaults(r);
	for (int k = 0; k < RULE_FLAGS; k++)
		if (f[k] < '0' || f[k] - '0' > flag_max[k])
			return -1;
	if (f[RULE_FLAGS] != ',')
		return -1;
	timeout = f + RULE_FLAGS + 1;
	if ((backup = cut(timeout, ',')) == NULL || (pattern = cut(backup, ',')) == NULL)
		return -1;
	if (parse_int(timeout, &t) < 0 || unescape(backup) < 0 ||
	    unescape(pattern) < 0 || *pattern == '\0')
		return -1;
	r->basename = f[0] - '0';
	r->enabled = f[1] - '0';
	r->durability = f[2] - '0';
	r->lock = f[3] - '0';
	r->commit = f[4] - '0';
	r->append = f[5] - '0';
	r->hardlinks = f[6] - '0';
	r->fallback = f[7] - '0';
	r->skip_unchanged = f[8] - '0';
	r->on_fsync = f[9] - '0';
	r->lock_timeout = t;
	r->backup = backup;
	r->pattern = pattern;
	return 0;
}

int rules_decode(char *text, struct ruleset *rs, struct rule *rules)
{
	char *field, *next;

	ruleset_set_defaults(rs);
	rs->rules = rules;
	if (text[0] != RULES_MAGIC[0] || text[1] != RULES_MAGIC[1])
		return -1;
	if (text[2] == '\0')
		return 0;
	if (text[2] != ';')
		return -1;
	/* Each field is cut off at its ';' so that the strings the ruleset
	 * points to end where they should. */
	for (field = text + 3; field; field = next) {
		next = cut(field, ';');
		switch (*field) {
		case 'L':
			if (parse_int(field + 1, &rs->log_level) < 0 ||
			    rs->log_level < LEVEL_ERROR || rs->log_level > LEVEL_DEBUG)
				return -1;
			break;
		case 'X':
			if (parse_int(field + 1, &rs->failure_exit_code) < 0 ||
			    rs->failure_exit_code < 0 || rs->failure_exit_code > 255)
				return -1;
			break;
		case 'F':
			if (unescape(field + 1) < 0)
				return -1;
			rs->log_file = field + 1;
			break;
		case 'D':
			if (unescape(field + 1) < 0)
				return -1;
			rs->lock_dir = field + 1;
			break;
		case 'R':
			if (decode_rule(field + 1, &rules[rs->nrules]) < 0)
				return -1;
			rs->nrules++;
			break;
		default:
			return -1;
		}
	}
	return 0;
}
