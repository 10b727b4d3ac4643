/* match.c - glob patterns and lexical path normalisation (SPEC section 2).
 *
 * Runs inside every open() of every wrapped process: no allocation, no
 * stdio, no system calls, no mutable globals, no recursion.
 *
 * How glob_match stays polynomial.  A pattern is a sequence of segments
 * separated by '**'.  Inside a segment, '*' cannot cross '/', so the part
 * of the pattern after a '/' is aligned with the string independently of
 * where the '*' before it stopped: only the most recent '*' needs to be
 * retried (the classic "one saved star" technique).  Across segments,
 * matching each segment so that it ends as early as possible is always
 * safe, because the '**' after it can swallow whatever lies between; so
 * on reaching a new '**' the previous '**' and '*' are forgotten.  The
 * matcher thus keeps one saved '*' and one saved '**' and never
 * backtracks further, for O(len(pattern) * len(s)^2) in the worst case
 * and about linear time on real patterns.
 */
#include "match.h"
#include "rules.h"
#include "sys.h"

#include <string.h>

/* Parse the character class at P (which points at '[').  When C >= 0,
 * set *HIT to whether character C belongs to the class.  Returns the
 * pointer just past the closing ']', or NULL when the class is malformed,
 * with a reason in *WHY if WHY is not NULL. */
static const char *class_parse(const char *p, int c, bool *hit,
			       const char **why)
{
	const char *start = p;
	const unsigned char *q = (const unsigned char *)p + 1;
	bool neg = false, in = false;

	if (*q == '!' || *q == '^') {
		neg = true;
		q++;
	}
	for (bool first = true;; first = false) {
		unsigned char lo = *q, hi;

		if (lo == ']' && !first)
			break;
		if (lo == '\0') {
			if (why) {
				/* "[]" or "[!]" with no ']' later: the user
				 * most likely meant an empty class. */
				size_t n = (const char *)q - start;
				*why = (n == 2 || (n == 3 && neg)) && start[n - 1] == ']'
					? "empty character class"
					: "unterminated character class";
			}
			return NULL;
		}
		if (lo == '[' && q[1] == ':') {
			if (why)
				*why = "character class names ([:alpha:]) are not supported";
			return NULL;
		}
		if (lo == '\\' && q[1] != '\0')
			lo = *++q;
		q++;
		hi = lo;
		if (*q == '-' && q[1] != ']' && q[1] != '\0') {
			q++;
			hi = *q;
			if (hi == '\\' && q[1] != '\0')
				hi = *++q;
			q++;
			if (hi < lo) {
				if (why)
					*why = "reversed range in character class";
				return NULL;
			}
		}
		if (lo == '/' || hi == '/') {
			if (why)
				*why = "'/' in character class";
			/* Harmless for matching: a class never matches '/'. */
			if (c < 0)
				return NULL;
		}
		if (c >= lo && c <= hi)
			in = true;
	}
	if (hit)
		*hit = c != '/' && in != neg;
	return (const char *)q + 1;
}

/* Does the single-character token at *PP (not '*', not NUL) match C (not
 * NUL)?  On a match, advance *PP past the token.  Malformed tokens match
 * literally: an unterminated '[' is a '[', a trailing '\' is a '\'. */
static bool token_match(const char **pp, unsigned char c)
{
	const char *p = *pp, *next;
	bool hit;

	if (*p == '?') {
		hit = c != '/';
		next = p + 1;
	} else if (*p != '[' || !(next = class_parse(p, c, &hit, NULL))) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		hit = (unsigned char)*p == c;
		next = p + 1;
	}
	if (hit)
		*pp = next;
	return hit;
}

bool glob_match(const char *pat, const char *s)
{
	const char *p = pat;
	const char *sp = NULL, *ss = NULL;  /* after the last '*'; where it stops */
	const char *dp = NULL, *ds = NULL;  /* after the last '**'; where it stops */
	bool dslash = false;                /* it was a component followed by '/' */

	for (;;) {
		if (*p == '*') {
			const char *q = p;

			while (*q == '*')
				q++;
			if (q - p == 1) {
				sp = p = q;
				ss = s;
				continue;
			}
			if (*q == '\0')
				return true;
			/* "**" starting a component and followed by '/'
			 * matches "" or any string ending in '/'. */
			dslash = *q == '/' && (p == pat || p[-1] == '/');
			dp = p = q + dslash;
			ds = s;
			sp = NULL;
			continue;
		}
		if (*p == '\0') {
			if (*s == '\0')
				return true;
		} else if (*s != '\0' && token_match(&p, (unsigned char)*s)) {
			s++;
			continue;
		}
		/* Mismatch: let the last '*' take one more character ... */
		if (sp && *ss != '/') {
			/* It has tried every end already: so would it from
			 * any later start of the last '**'. */
			if (*ss == '\0')
				return false;
			p = sp;
			s = ++ss;
			continue;
		}
		/* ... or else the last '**'. */
		if (!dp || *ds == '\0')
			return false;
		if (dslash) {
			ds = strchr(ds, '/');
			if (!ds)
				return false;
		}
		p = dp;
		s = ++ds;
		sp = NULL;
	}
}

/* Is the component at P "." or "..", with a dot escaped?  A path is
 * normalised before it is matched, so none has such a component, and an
 * unescaped one is normalised away from the pattern too: the escaped one
 * would never match. */
static int escaped_dot_component(const char *p)
{
	int dots = 0, escaped = 0;

	for (;; dots++) {
		if (p[0] == '\\' && p[1] == '.')
			p += 2, escaped = 1;
		else if (p[0] == '.')
			p++;
		else
			break;
	}
	if (p[0] != '\0' && p[0] != '/' && !(p[0] == '\\' && p[1] == '/'))
		return 0;
	return escaped && (dots == 1 || dots == 2);
}

const char *glob_check(const char *pat)
{
	const char *p = pat, *why = NULL;

	if (*p == '\0')
		return "empty pattern";
	while (*p) {
		if ((p == pat || p[-1] == '/') && escaped_dot_component(p))
			return "a component '.' or '..' with an escaped dot never matches (paths are normalised)";
		if (*p == '[') {
			const char *next = class_parse(p, -1, NULL, &why);

			if (!next)
				return why;
			p = next;
		} else if (*p == '\\') {
			if (p[1] == '\0')
				return "trailing backslash";
			/* An escaped '/' is a '/': trailing, it would be
			 * dropped by path_normalise and leave a trailing '\'
			 * that matches a literal '\'. */
			if (p[1] == '/' && p[2] == '\0')
				return "trailing '/' (use DIR/** for what is below DIR)";
			p += 2;
		} else {
			if (*p == '/' && p[1] == '\0')
				return "trailing '/' (use DIR/** for what is below DIR)";
			p++;
		}
	}
	return NULL;
}

int path_normalise(const char *base, const char *path, char *out, size_t size)
{
	/* Components that did not fit in OUT, kept only as a count so that
	 * a later ".." can still cancel them. */
	size_t len = 1, hidden = 0;

	if (size < 2)
		return -1;
	out[0] = '/';
	for (int pass = 0; pass < 2; pass++) {
		const char *p = pass ? path : base;

		if (!p || (pass == 0 && path[0] == '/'))
			continue;
		while (*p) {
			const char *c;
			size_t n;

			while (*p == '/')
				p++;
			c = p;
			while (*p && *p != '/')
				p++;
			n = p - c;
			if (n == 0 || (n == 1 && c[0] == '.'))
				continue;
			if (n == 2 && c[0] == '.' && c[1] == '.') {
				if (hidden)
					hidden--;
				else
					while (len > 1 && out[--len] != '/')
						;
				continue;
			}
			if (hidden || len + (len > 1) + n >= size) {
				hidden++;
				continue;
			}
			if (len > 1)
				out[len++] = '/';
			memcpy(out + len, c, n);
			len += n;
		}
	}
	if (hidden)
		return -1;
	out[len] = '\0';
	return (int)len;
}

const char *path_basename(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash ? slash + 1 : p;
}

const struct rule rules_need_path;

const struct rule *rules_find(const struct ruleset *rs, const char *name, const char *abs)
{
	if (!rs)
		return NULL;
	for (size_t i = rs->nrules; i-- > 0;) {
		const struct rule *r = &rs->rules[i];

		if (!r->pattern)
			continue;
		if (!r->basename && !abs)
			return RULES_NEED_PATH;
		if (glob_match(r->pattern, r->basename ? name : abs))
			return r;
	}
	return NULL;
}
