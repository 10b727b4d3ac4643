/* fuzz_match.c - libFuzzer target for src/core/match.c.
 *
 * The input is PATTERN NUL PATH [NUL BASE].  Beyond "no crash, no
 * out-of-bounds read, no runaway time" (libFuzzer's -timeout catches a
 * matcher that backtracks exponentially), it checks what can be stated
 * about the answers:
 *
 *  - glob_match agrees with a reference matcher written here from the
 *    description in match.h (dynamic programming: slow, but obviously
 *    polynomial and with no "saved star" cleverness to get wrong);
 *  - it agrees with fnmatch(3) (FNM_PATHNAME, no FNM_PERIOD) on the
 *    syntax the two share: well-formed patterns without '**', an escaped
 *    '/' or a '[' inside a class;
 *  - a pattern with its glob characters escaped (what config.c does to
 *    a config's directory) matches that string and no other;
 *  - path_normalise gives a normal path ('/' first, no "//", no "." or
 *    ".." component, no trailing '/'), is idempotent, and fails only for
 *    want of room;
 *  - rules_find finds the rule when, and only when, glob_match says so,
 *    and on the name alone gives the same answer or asks for the path.
 *
 * Any disagreement aborts, which libFuzzer reports as a crash.
 */
#include <fnmatch.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/match.h"
#include "core/rules.h"

/* Inputs longer than this are matched but not compared with the
 * reference, whose cost is cubic. */
#define REF_MAX 160

static void fail(const char *what, const char *pat, const char *s, int got)
{
	fprintf(stderr, "fuzz_match: %s: pattern \"%s\" path \"%s\": glob_match says %d\n",
		what, pat, s, got);
	abort();
}

/* ---- the reference matcher ---- */

enum { LIT, ONE, CLASS, STAR, DSTAR_ANY, DSTAR_DIRS };

struct token {
	int kind;
	unsigned char c;          /* LIT */
	bool neg, set[256];       /* CLASS */
};

/* Parse the class at P ('[') into T; the pointer past its ']', or NULL
 * when it is malformed (unterminated, a reversed range, "[:"), in which
 * case the '[' is a literal. */
static const char *ref_class(const char *p, struct token *t)
{
	const unsigned char *q = (const unsigned char *)p + 1;

	memset(t->set, 0, sizeof(t->set));
	t->kind = CLASS;
	t->neg = *q == '!' || *q == '^';
	q += t->neg;
	for (bool first = true; first || *q != ']'; first = false) {
		unsigned lo, hi;

		if (*q == '\0' || (q[0] == '[' && q[1] == ':'))
			return NULL;
		if (*q == '\\' && q[1])
			q++;
		lo = hi = *q++;
		if (q[0] == '-' && q[1] && q[1] != ']') {
			q++;
			if (*q == '\\' && q[1])
				q++;
			hi = *q++;
		}
		if (hi < lo)
			return NULL;
		for (unsigned c = lo; c <= hi; c++)
			t->set[c] = true;
	}
	return (const char *)q + 1;
}

/* The tokens of PAT; returns how many. */
static size_t ref_tokens(const char *pat, struct token *t)
{
	const char *p = pat;
	size_t n = 0;

	while (*p) {
		struct token *k = &t[n++];
		const char *next;

		if (*p == '*') {
			size_t stars = strspn(p, "*");
			bool starts = p == pat || p[-1] == '/';

			p += stars;
			if (stars == 1) {
				k->kind = STAR;
			} else if (starts && *p == '/') {
				k->kind = DSTAR_DIRS;  /* "" or anything ending in '/' */
				p++;
			} else {
				k->kind = DSTAR_ANY;
			}
		} else if (*p == '?') {
			k->kind = ONE;
			p++;
		} else if (*p == '[' && (next = ref_class(p, k)) != NULL) {
			p = next;
		} else {
			if (*p == '\\' && p[1])
				p++;
			k->kind = LIT;
			k->c = (unsigned char)*p++;
		}
	}
	return n;
}

struct ref {
	const struct token *t;
	size_t nt;
	const unsigned char *s;
	size_t ns;
	signed char *memo;        /* (nt + 1) * (ns + 1): -1 unknown */
};

static bool ref_at(struct ref *r, size_t ti, size_t si)
{
	signed char *m = &r->memo[ti * (r->ns + 1) + si];
	const struct token *t = &r->t[ti];
	unsigned char c = r->s[si];
	bool ok = false;

	if (*m >= 0)
		return *m;
	if (ti == r->nt) {
		ok = si == r->ns;
	} else if (t->kind == STAR) {
		for (size_t k = si;; k++) {
			if ((ok = ref_at(r, ti + 1, k)) || k == r->ns || r->s[k] == '/')
				break;
		}
	} else if (t->kind == DSTAR_ANY) {
		for (size_t k = si; k <= r->ns && !ok; k++)
			ok = ref_at(r, ti + 1, k);
	} else if (t->kind == DSTAR_DIRS) {
		ok = ref_at(r, ti + 1, si);
		for (size_t k = si + 1; k <= r->ns && !ok; k++)
			ok = r->s[k - 1] == '/' && ref_at(r, ti + 1, k);
	} else if (si < r->ns) {
		if (t->kind == LIT)
			ok = c == t->c;
		else if (t->kind == ONE)
			ok = c != '/';
		else
			ok = c != '/' && t->set[c] != t->neg;
		ok = ok && ref_at(r, ti + 1, si + 1);
	}
	*m = ok;
	return ok;
}

static bool ref_match(const char *pat, const char *s)
{
	static struct token t[REF_MAX];
	static signed char memo[(REF_MAX + 1) * (REF_MAX + 1)];
	struct ref r = { t, ref_tokens(pat, t), (const unsigned char *)s,
			 strlen(s), memo };

	memset(memo, -1, (r.nt + 1) * (r.ns + 1));
	return ref_at(&r, 0, 0);
}

/* ---- the checks ---- */

/* Is PAT in the syntax glob_match shares with fnmatch(FNM_PATHNAME)? */
static bool fnmatch_syntax(const char *pat)
{
	bool in_class = false;

	/* glibc's '*' with FNM_PATHNAME looks ahead for an unescaped '/'
	 * only: it never lets "*\\/b" match "a/b".  An escaped '/' is a '/'
	 * here, as match.h says of every escaped character. */
	if (glob_check(pat) || strstr(pat, "**") || strstr(pat, "\\/"))
		return false;
	/* glob_check accepted it, so every '[' opens a class that closes. */
	for (const char *p = pat; *p; p++) {
		if (*p == '\\') {
			p++;
		} else if (!in_class && *p == '[') {
			in_class = true;
			p += p[1] == '!' || p[1] == '^';
			p += p[1] == ']';  /* a literal ']' first */
		} else if (in_class && *p == '[') {
			return false;
		} else if (in_class && *p == ']') {
			in_class = false;
		}
	}
	return true;
}

/* S with the glob characters escaped, as config.c escapes a directory. */
static char *escaped(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *w = out;

	if (!out)
		abort();
	for (; *s; s++) {
		if (strchr("*?[]\\", *s))
			*w++ = '\\';
		*w++ = *s;
	}
	*w = '\0';
	return out;
}

static bool is_normal(const char *p)
{
	if (p[0] != '/' || (p[1] && p[strlen(p) - 1] == '/'))
		return false;
	for (const char *c = p; (c = strchr(c, '/')) != NULL; c++) {
		size_t n = strcspn(c + 1, "/");

		if (p[1] && (n == 0 || (n == 1 && c[1] == '.') ||
			     (n == 2 && c[1] == '.' && c[2] == '.')))
			return false;
	}
	return true;
}

static void check_normalise(const char *base, const char *path)
{
	char out[512], again[512], small[512];
	int n = path_normalise(base, path, out, sizeof(out));

	if (n < 0)
		return;  /* too long for the buffer: nothing to say */
	if ((size_t)n != strlen(out) || !is_normal(out))
		fail("path_normalise: not a normal path", out, path, n);
	if (path_normalise(NULL, out, again, sizeof(again)) != n || strcmp(out, again))
		fail("path_normalise: not idempotent", out, again, n);
	/* Exactly the room of the result suffices; one byte less does not. */
	if (path_normalise(base, path, small, n + 1) != n || strcmp(out, small))
		fail("path_normalise: the room of the result does not suffice", out, path, n);
	if (path_normalise(base, path, small, n) != -1)
		fail("path_normalise: accepted less room than the result needs", out, path, n);
	if (strchr(path_basename(out), '/'))
		fail("path_basename: holds a '/'", out, path, n);
}

static void check_rules_find(const char *pat, const char *path)
{
	char abs[512];
	struct rule r[2];
	struct ruleset rs;
	const struct rule *got, *lazy;
	bool base;

	if (path_normalise(NULL, path, abs, sizeof(abs)) < 0)
		return;
	ruleset_set_defaults(&rs);
	rule_set_defaults(&r[0]);
	rule_set_defaults(&r[1]);
	r[0].pattern = "**";    /* matches every absolute path */
	r[1].pattern = pat;
	r[1].basename = base = strchr(pat, '/') == NULL;
	rs.rules = r;
	rs.nrules = 2;
	got = rules_find(&rs, path_basename(abs), abs);
	if ((got == &r[1]) != glob_match(pat, base ? path_basename(abs) : abs))
		fail("rules_find disagrees with glob_match", pat, abs, got == &r[1]);
	if (!got)
		fail("rules_find: the last match is not the one found", pat, abs, 0);
	/* On the name alone (the library's first try): the same answer, or
	 * a request for the path; never that request when the name decided. */
	lazy = rules_find(&rs, path_basename(abs), NULL);
	if (lazy != RULES_NEED_PATH && lazy != got)
		fail("rules_find on the name alone disagrees with it on the path", pat, abs, 0);
	if (lazy == RULES_NEED_PATH && base && got == &r[1])
		fail("rules_find asked for the path when a basename rule decided", pat, abs, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 3), *pat, *path, *base, *esc;
	bool got;

	if (!buf)
		return 0;
	/* Three NULs after the input: PATH and BASE exist (maybe empty). */
	memcpy(buf, data, size);
	memset(buf + size, 0, 3);
	pat = buf;
	path = pat + strlen(pat) + 1;
	base = path + strlen(path) + 1;

	got = glob_match(pat, path);
	glob_check(pat);
	if (strlen(pat) < REF_MAX && strlen(path) < REF_MAX &&
	    got != ref_match(pat, path))
		fail("differs from the reference", pat, path, got);
	if (fnmatch_syntax(pat) &&
	    got != (fnmatch(pat, path, FNM_PATHNAME) == 0))
		fail("differs from fnmatch", pat, path, got);

	esc = escaped(pat);
	if (glob_match(esc, path) != (strcmp(pat, path) == 0))
		fail("an escaped string is not a literal", esc, path, !got);
	free(esc);

	check_normalise(base[0] == '/' ? base : NULL, path);
	if (pat[0])
		check_rules_find(pat, path);
	free(buf);
	return 0;
}
