/* test_match.c - table-driven tests of src/core/match.c: glob_match, glob_check,
 * path_normalise, path_basename and rules_find.
 *
 * Prints each failing row and a last line "N passed, M failed"; exits 1
 * when anything failed.
 */
#include <stdio.h>
#include <string.h>

#include "core/match.h"
#include "core/rules.h"

static int passed, failed;

static void check(bool ok, const char *table, int row, const char *fmt,
		  const char *a, const char *b, const char *got,
		  const char *want)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s row %d: ", table, row);
	printf(fmt, a, b);
	printf(": got %s, want %s\n", got, want);
}

/* ---- glob_match ------------------------------------------------------ */

static const struct {
	const char *pat, *s;
	bool want;
} globs[] = {
	/* literals, whole-string match */
	{ "abc", "abc", true },
	{ "abc", "abcd", false },
	{ "abc", "ab", false },
	{ "abc", "xabc", false },
	{ "", "", true },
	{ "", "a", false },
	{ "a", "", false },
	{ "/a/b", "/a/b", true },
	{ "/a/b", "/a/B", false },          /* case-sensitive */

	/* '*' within one component */
	{ "*", "", true },
	{ "*", "abc", true },
	{ "*", "a/b", false },
	{ "*.yaml", "x.yaml", true },
	{ "*.yaml", ".yaml", true },
	{ "*.yaml", "x.yml", false },
	{ "*.yaml", "d/x.yaml", false },
	{ "a*", "a", true },
	{ "a*c", "abbbc", true },
	{ "a*c", "abbbcd", false },
	{ "a*c", "ab/c", false },
	{ "a*b*c", "aXbYc", true },
	{ "a*b*c", "acb", false },
	{ "*a*", "bab", true },
	{ "*/b", "a/b", true },
	{ "*/b", "/b", true },              /* '*' matches the empty component */
	{ "*/b", "a/c/b", false },
	{ "/d/*", "/d/x", true },
	{ "/d/*", "/d/x/y", false },
	{ "CHANGELOG*", "CHANGELOG.md", true },
	{ "CHANGELOG*", "CHANGES", false },

	/* '?' */
	{ "?", "a", true },
	{ "?", "", false },
	{ "?", "ab", false },
	{ "?", "/", false },
	{ "a?c", "abc", true },
	{ "a?c", "a/c", false },
	{ "a??", "ab", false },

	/* dotfiles are not special */
	{ "*", ".bashrc", true },
	{ "?bashrc", ".bashrc", true },
	{ "/h/*/x", "/h/.cfg/x", true },
	{ "**/*.env", "/srv/.env", true },

	/* '**' across components */
	{ "**", "", true },
	{ "**", "a/b/c", true },
	{ "**", "/", true },
	{ "**/x", "x", true },              /* zero directories at the start */
	{ "**/x", "a/x", true },
	{ "**/x", "a/b/c/x", true },
	{ "**/x", "/a/x", true },
	{ "**/x", "ax", false },            /* not "any run" + "x" */
	{ "**/x", "a/bx", false },
	{ "/**/x", "/x", true },
	{ "/**/x", "/a/b/x", true },
	{ "/**/x", "x", false },
	{ "a/**/b", "a/b", true },          /* zero directories in the middle */
	{ "a/**/b", "a/x/b", true },
	{ "a/**/b", "a/x/y/z/b", true },
	{ "a/**/b", "a/xb", false },
	{ "a/**/b", "ab", false },
	{ "a/**/b", "a/b/c", false },
	{ "a/**/b", "x/a/b", false },
	{ "a/**", "a/x", true },            /* everything below ... */
	{ "a/**", "a/x/y/z", true },
	{ "a/**", "a", false },             /* ... but not a itself */
	{ "a/**", "ab/x", false },
	{ "/**", "/anything/at/all", true },
	{ "/srv/**.yaml", "/srv/a/b/c.yaml", true },  /* '**' as any run */
	{ "/srv/**.yaml", "/srv/c.yaml", true },
	{ "/srv/**.yaml", "/srv/c.yml", false },
	{ "/srv/**.yaml", "/etc/c.yaml", false },
	{ "a**b", "ab", true },
	{ "a**b", "ax/yb", true },
	{ "a**/b", "ab", false },           /* not a whole component: no zero-dir */
	{ "a**/b", "ax/b", true },
	{ "a/**b", "a/b", true },
	{ "a/**b", "a/x/b", true },
	{ "a/***/b", "a/b", true },         /* three stars are two */
	{ "a/***/b", "a/x/y/b", true },
	{ "**/**/x", "x", true },
	{ "**/**/x", "a/b/x", true },
	{ "a/**/b/**/c", "a/b/c", true },
	{ "a/**/b/**/c", "a/x/b/y/z/c", true },
	{ "a/**/b/**/c", "a/x/c/b", false },
	{ "a/**/*.c", "a/m.c", true },
	{ "a/**/*.c", "a/x/y/m.c", true },
	{ "a/**/*.c", "a/x/y/m.h", false },
	{ "**/d/*", "/a/d/f", true },
	{ "**/d/*", "/a/d/e/f", false },
	{ "**/d/**", "/a/d/e/f", true },

	/* empty components are matched literally */
	{ "a//b", "a//b", true },
	{ "a//b", "a/b", false },
	{ "a/*/b", "a//b", true },
	{ "a/?/b", "a//b", false },

	/* character classes */
	{ "[abc]", "b", true },
	{ "[abc]", "d", false },
	{ "[abc]", "", false },
	{ "[a-c]x", "bx", true },
	{ "[a-c]x", "dx", false },
	{ "[a-cx-z]", "y", true },
	{ "[a-cx-z]", "m", false },
	{ "[0-9][0-9]", "42", true },
	{ "[0-9][0-9]", "4a", false },
	{ "[!abc]", "d", true },
	{ "[!abc]", "a", false },
	{ "[^abc]", "d", true },
	{ "[^abc]", "c", false },
	{ "[!a-z]", "Q", true },
	{ "[!a-z]", "q", false },
	{ "[]]", "]", true },               /* ']' first is literal */
	{ "[]]", "a", false },
	{ "[]a]", "a", true },
	{ "[!]]", "]", false },
	{ "[!]]", "x", true },
	{ "[^]a]", "b", true },
	{ "[]-a]", "^", true },             /* range from ']' to 'a' */
	{ "[a-]", "-", true },              /* '-' last is literal */
	{ "[-a]", "-", true },              /* '-' first is literal */
	{ "[a-]", "b", false },
	{ "[\\]]", "]", true },             /* escaped ']' */
	{ "[\\]a]", "a", true },
	{ "[\\!a]", "!", true },            /* escaped '!' is not negation */
	{ "[\\!a]", "b", false },
	{ "[a\\-z]", "-", true },           /* escaped '-' is not a range */
	{ "[a\\-z]", "m", false },
	{ "[*?]", "*", true },              /* no wildcards inside */
	{ "[*?]", "x", false },
	{ "[!a]", "/", false },             /* never '/' */
	{ "a[!x]b", "a/b", false },
	{ "[[]", "[", true },
	{ "*.[ch]", "main.c", true },
	{ "*.[ch]", "main.o", false },
	{ "[a-c]*/[!.]*", "b1/x", true },
	{ "[a-c]*/[!.]*", "b1/.x", false },

	/* escapes */
	{ "\\*", "*", true },
	{ "\\*", "a", false },
	{ "\\?", "?", true },
	{ "\\?", "a", false },
	{ "\\[a]", "[a]", true },
	{ "\\[a]", "a", false },
	{ "\\\\", "\\", true },
	{ "\\\\*", "\\abc", true },
	{ "\\a", "a", true },
	{ "a\\**", "a*bc", true },          /* '\*' then '*' */
	{ "a\\**", "abc", false },
	{ "\\**", "*/x", false },           /* '\*' then '*': not '**' */
	{ "a/\\**/b", "a/*x/b", true },
	{ "a/\\**/b", "a/b", false },

	/* malformed patterns still get a sensible answer */
	{ "[ab", "[ab", true },             /* unterminated '[' is literal */
	{ "[ab", "a", false },
	{ "ab\\", "ab\\", true },           /* trailing '\' is literal */
};

static void test_glob(void)
{
	for (size_t i = 0; i < sizeof globs / sizeof globs[0]; i++) {
		bool got = glob_match(globs[i].pat, globs[i].s);

		check(got == globs[i].want, "glob_match", (int)i,
		      "pattern \"%s\" string \"%s\"", globs[i].pat, globs[i].s,
		      got ? "true" : "false", globs[i].want ? "true" : "false");
	}
}

/* ---- glob_check ------------------------------------------------------ */

static const struct {
	const char *pat;
	const char *want;   /* NULL = well formed; else a word of the reason */
} checks[] = {
	{ "*.yaml", NULL },
	{ "/srv/**/*.yaml", NULL },
	{ "**", NULL },
	{ "a/**", NULL },
	{ "[abc]", NULL },
	{ "[]]", NULL },
	{ "[!]]", NULL },
	{ "[a-]", NULL },
	{ "\\*", NULL },
	{ "\\\\", NULL },
	{ "a\\/b", NULL },
	{ "[\\]]", NULL },
	{ "[ -~]", NULL },                  /* a range spanning '/' is fine */
	{ "", "empty" },
	{ "[abc", "unterminated" },
	{ "a[b-", "unterminated" },
	{ "[]abc", "unterminated" },
	{ "x[\\", "unterminated" },
	{ "[]", "empty character class" },
	{ "[!]", "empty character class" },
	{ "x[^]", "empty character class" },
	{ "a\\", "trailing backslash" },
	{ "\\", "trailing backslash" },
	{ "[z-a]", "reversed" },
	{ "[a/]", "'/'" },
	{ "[!/]", "'/'" },
	{ "[[:alpha:]]", "not supported" },
	{ "dir/", "trailing '/'" },
	{ "/", "trailing '/'" },
	{ "/a/b\\/", "trailing '/'" },     /* escaped, it is a '/' all the same */
	{ "a\\/\\/", "trailing '/'" },
	{ "/a/\\./b", "escaped dot" },       /* "." never survives normalising */
	{ "/a/.\\./b", "escaped dot" },      /* nor ".." */
	{ "/a/\\.", "escaped dot" },
	{ "\\.\\.", "escaped dot" },
	{ "a\\/\\./b", "escaped dot" },    /* after an escaped '/' too */
	{ "/a/\\.b", NULL },                /* ".b" is a name */
	{ "/a/\\.\\.\\./b", NULL },         /* so is "..." */
	{ "/a/./b", NULL },                  /* unescaped: normalised away */
	{ "/a/b\\.", NULL },
};

static void test_check(void)
{
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
		const char *got = glob_check(checks[i].pat);
		const char *want = checks[i].want;
		bool ok = want ? got && strstr(got, want) : !got;

		check(ok, "glob_check", (int)i, "pattern \"%s\"%s",
		      checks[i].pat, "", got ? got : "NULL",
		      want ? want : "NULL");
	}
}

/* ---- path_normalise and path_basename ------------------------------- */

static const struct {
	const char *base, *path, *want;
} norms[] = {
	{ "/", "a", "/a" },
	{ "/", "", "/" },
	{ "/", ".", "/" },
	{ "/", "/", "/" },
	{ "/", "..", "/" },
	{ "/", "../../a", "/a" },           /* never above "/" */
	{ "/home/u", "f.yaml", "/home/u/f.yaml" },
	{ "/home/u", "./f.yaml", "/home/u/f.yaml" },
	{ "/home/u", "../v/f", "/home/v/f" },
	{ "/home/u", "../../../../f", "/f" },
	{ "/home/u", "/etc/x", "/etc/x" },  /* absolute: base ignored */
	{ "/home/u", "//etc//x//", "/etc/x" },
	{ "/home/u", "", "/home/u" },
	{ "/home/u", "d/", "/home/u/d" },   /* trailing '/' dropped */
	{ "/home/u/", "d", "/home/u/d" },
	{ "//home//./u/../v", "x", "/home/v/x" },  /* base normalised too */
	{ "/a", "b/./c/../d", "/a/b/d" },
	{ "/a", "b/..", "/a" },
	{ "/a", "b/../..", "/" },
	{ "/a", "...", "/a/..." },          /* "..." is a name */
	{ "/a", ".x/..y/x..", "/a/.x/..y/x.." },
	{ "/a/b", "/x/./y/../../z", "/z" },
	{ "/a", "/..", "/" },
	{ NULL, "a/b", "/a/b" },            /* NULL base is "/" */
};

static void test_normalise(void)
{
	char out[64];

	for (size_t i = 0; i < sizeof norms / sizeof norms[0]; i++) {
		int n = path_normalise(norms[i].base, norms[i].path, out,
				       sizeof out);
		bool ok = n >= 0 && strcmp(out, norms[i].want) == 0 &&
			  (size_t)n == strlen(norms[i].want);

		check(ok, "path_normalise", (int)i, "base \"%s\" path \"%s\"",
		      norms[i].base ? norms[i].base : "(null)", norms[i].path,
		      n >= 0 ? out : "-1", norms[i].want);
	}

	/* Sizes: "/abc/de" needs 8 bytes; 7 is too few. */
	static const struct {
		const char *base, *path;
		size_t size;
		int want;
	} sizes[] = {
		{ "/", "abc/de", 8, 7 },
		{ "/", "abc/de", 7, -1 },
		{ "/", "abc/de", 0, -1 },
		{ "/", "", 2, 1 },
		{ "/", "", 1, -1 },
		{ "/abc", "../x", 3, 2 },       /* only the result must fit */
		{ "/", "abc/a-very-long-component-indeed/..", 5, 4 },
		{ "/", "a-very-long-component-indeed/b/../..", 2, 1 },
		{ "/", "a-very-long-component-indeed/b/..", 8, -1 },
	};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char buf[64], got[16], want[16], size[16];
		int n;

		memset(buf, 'X', sizeof buf);
		n = path_normalise(sizes[i].base, sizes[i].path, buf,
				   sizes[i].size);
		snprintf(got, sizeof got, "%d", n);
		snprintf(want, sizeof want, "%d", sizes[i].want);
		snprintf(size, sizeof size, "%zu", sizes[i].size);
		check(n == sizes[i].want && buf[sizes[i].size] == 'X',
		      "path_normalise size", (int)i, "path \"%s\" size %s",
		      sizes[i].path, size, got, want);
	}

	static const struct {
		const char *p, *want;
	} bases[] = {
		{ "/", "" },
		{ "/a", "a" },
		{ "/a/b.yaml", "b.yaml" },
		{ "/a/.env", ".env" },
		{ "rel", "rel" },
	};
	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
		const char *got = path_basename(bases[i].p);

		check(strcmp(got, bases[i].want) == 0, "path_basename",
		      (int)i, "path \"%s\"%s", bases[i].p, "", got,
		      bases[i].want);
	}
}

/* ---- rules_find ------------------------------------------------------ */

static struct rule rule_list[] = {
	/* 0 */ { .pattern = "*.yaml", .basename = 1, .enabled = 1 },
	/* 1 */ { .pattern = "*.json", .basename = 1, .enabled = 1 },
	/* 2 */ { .pattern = "/srv/**", .basename = 0, .enabled = 1 },
	/* 3 */ { .pattern = "/srv/cache/**", .basename = 0, .enabled = 0 },
	/* 4 */ { .pattern = "/srv/cache/keep.yaml", .basename = 0, .enabled = 1 },
	/* 5 */ { .pattern = "secret*", .basename = 1, .enabled = 0 },
	/* 6 */ { .pattern = "/etc/*.conf", .basename = 0, .enabled = 1 },
	/* 7: not a basename rule, so it never matches an absolute path */
	/* 7 */ { .pattern = "*.conf", .basename = 0, .enabled = 1 },
};

static const struct {
	const char *abs;
	int want;           /* index into rule_list, -1 = NULL */
} finds[] = {
	{ "/home/u/a.yaml", 0 },
	{ "/home/u/a.json", 1 },
	{ "/home/u/a.txt", -1 },
	{ "/srv/a.yaml", 2 },               /* later rule wins over rule 0 */
	{ "/srv/x/y.txt", 2 },
	{ "/srv/cache/y.yaml", 3 },         /* disabled rule is returned */
	{ "/srv/cache/keep.yaml", 4 },
	{ "/srv/cache/secret.yaml", 5 },    /* basename rule, last, disabled */
	{ "/home/u/secret", 5 },
	{ "/home/secret/a.yaml", 0 },       /* basename: last component only */
	{ "/etc/app.conf", 6 },
	{ "/etc/sub/app.conf", -1 },        /* '*' does not cross '/' */
	{ "/", -1 },
	{ "/home/u/yaml", -1 },
};

/* Without the absolute path (ABS NULL): decided on the name as far as
 * the last rules go, RULES_NEED_PATH at the first rule (from the last)
 * that needs the path. */
static struct rule by_name_list[] = {
	/* 0 */ { .pattern = "/srv/**", .basename = 0, .enabled = 1 },
	/* 1 */ { .pattern = "*.yaml", .basename = 1, .enabled = 1 },
	/* 2 */ { .pattern = "secret*", .basename = 1, .enabled = 0 },
};

static const struct {
	const char *name, *abs;
	int want;           /* index into by_name_list, -1 = NULL, -2 = RULES_NEED_PATH */
} by_name[] = {
	{ "a.yaml", NULL, 1 },
	{ "secret.yaml", NULL, 2 },
	{ "a.txt", NULL, -2 },
	{ "a.txt", "/srv/a.txt", 0 },
	{ "a.txt", "/home/a.txt", -1 },
	{ "a.yaml", "/srv/a.yaml", 1 },
};

static void test_rules_by_name(void)
{
	struct ruleset rs = { .nrules = sizeof by_name_list / sizeof by_name_list[0],
			      .rules = by_name_list };

	for (size_t i = 0; i < sizeof by_name / sizeof by_name[0]; i++) {
		const struct rule *r = rules_find(&rs, by_name[i].name, by_name[i].abs);
		int got = r == RULES_NEED_PATH ? -2 : r ? (int)(r - by_name_list) : -1;
		char g[16], w[16];

		snprintf(g, sizeof g, "rule %d", got);
		snprintf(w, sizeof w, "rule %d", by_name[i].want);
		check(got == by_name[i].want, "rules_find by name", (int)i,
		      "name \"%s\"%s", by_name[i].name, by_name[i].abs ? " with its path" : "",
		      g, w);
	}
}

static void test_rules(void)
{
	struct ruleset rs = { .nrules = sizeof rule_list / sizeof rule_list[0],
			      .rules = rule_list };
	struct ruleset empty = { .nrules = 0, .rules = NULL };

	for (size_t i = 0; i < sizeof finds / sizeof finds[0]; i++) {
		const struct rule *r = rules_find(&rs, path_basename(finds[i].abs), finds[i].abs);
		int got = r ? (int)(r - rule_list) : -1;
		char g[16], w[16];

		snprintf(g, sizeof g, "rule %d", got);
		snprintf(w, sizeof w, "rule %d", finds[i].want);
		check(got == finds[i].want, "rules_find", (int)i,
		      "path \"%s\"%s", finds[i].abs, "", g, w);
	}
	check(rules_find(&empty, path_basename("/a.yaml"), "/a.yaml") == NULL, "rules_find", -1,
	      "empty ruleset%s%s", "", "", "a rule", "NULL");
	check(rules_find(NULL, path_basename("/a.yaml"), "/a.yaml") == NULL, "rules_find", -2,
	      "NULL ruleset%s%s", "", "", "a rule", "NULL");
	test_rules_by_name();
}

/* ---- pathological inputs: must simply finish quickly ----------------- */

static void test_pathological(void)
{
	static char s[4096];
	static const struct {
		const char *pat;
		int fill;       /* 0: "aaa...", 1: "a/a/a/...", 2: 63 'a' then '/' */
		size_t len;
		bool want;
	} cases[] = {
		{ "*a*a*a*a*a*a*a*a*a*a*b", 0, 200, false },
		{ "*a*a*a*a*a*a*a*a*a*a*a", 0, 200, true },
		{ "*a*a*a*a*a*a*a*a*a*a*b", 0, 4095, false },
		{ "**a*a*a*a*a*a*a*a*a*a*b", 0, 4095, false },
		{ "**a**a**a**a**a**a**b", 0, 4095, false },
		{ "**?*?*?*?*?*b", 0, 4095, false },
		{ "**/**/**/**/**/x", 1, 4095, false },
		{ "**/**/**/**/**/a", 1, 4095, true },
		{ "**/a/**/a/**/a/**/b", 1, 4095, false },
		{ "**/*/*/*/*/*/*/*/b", 1, 4095, false },
		{ "**a*a*a*a*a*a*a*a*a*a*b", 2, 4095, false },
		{ "/**a*a*a*/a*a*a*a*a*a*a*b", 2, 4095, false },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = cases[i].len;
		bool got;

		for (size_t j = 0; j < n; j++) {
			switch (cases[i].fill) {
			case 0: s[j] = 'a'; break;
			case 1: s[j] = j % 2 ? '/' : 'a'; break;
			default: s[j] = j % 64 == 63 ? '/' : 'a'; break;
			}
		}
		s[n] = '\0';
		got = glob_match(cases[i].pat, s);
		check(got == cases[i].want, "pathological", (int)i,
		      "pattern \"%s\"%s", cases[i].pat, "",
		      got ? "true" : "false", cases[i].want ? "true" : "false");
	}
}

int main(void)
{
	test_glob();
	test_check();
	test_normalise();
	test_rules();
	test_pathological();
	printf("%d passed, %d failed\n", passed, failed);
	return failed > 0;
}
