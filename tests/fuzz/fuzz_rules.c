/* fuzz_rules.c - libFuzzer target for the decoding of ATOMICALLY_RULES
 * (src/core/rules.c).
 *
 * The input is the variable's value, cut at its first NUL (the
 * environment holds no other), copied into a buffer of exactly its size
 * (AddressSanitizer then sees a read past its end), and decoded as every
 * process decodes it: rules_count sizes the rule array, also of exactly
 * that size, and rules_decode fills it in place.  Whatever the line,
 * nothing is read or written outside the two.  When it decodes:
 *
 *  - every value is one the library can use: the level, the exit code,
 *    each rule's settings and timeout in range, a non-empty pattern;
 *    every string lies within the line, ended there by the decoder's
 *    NUL (the ruleset points into the line: nothing is allocated);
 *  - the ruleset re-encodes (rules_encode: measured as written, the safe
 *    characters only, rules_count counting its rules) to a line that
 *    decodes to the same ruleset, field for field, and encodes to that
 *    same line again: the encoding is a fixed point after one round.
 *
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rules.h"

static void fail(const char *what, const char *line)
{
	fprintf(stderr, "fuzz_rules: %s: \"%s\"\n", what, line ? line : "(null)");
	abort();
}

static void *alloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "fuzz_rules: out of memory\n");
		exit(2);
	}
	return p;
}

/* Does S lie within [BUF, BUF + SIZE), its NUL included? */
static int inside(const char *s, const char *buf, size_t size)
{
	return s >= buf && s < buf + size && memchr(s, '\0', (size_t)(buf + size - s));
}

/* What the library needs of a decoded ruleset, whose strings point into
 * the SIZE bytes of TEXT. */
static void check_usable(const struct ruleset *rs, const char *text, size_t size)
{
	if (rs->log_level < LEVEL_ERROR || rs->log_level > LEVEL_DEBUG)
		fail("log_level out of range", text);
	if (rs->failure_exit_code < 0 || rs->failure_exit_code > 255)
		fail("failure_exit_code out of range", text);
	/* The defaults are string constants, not in TEXT. */
	if ((*rs->log_file && !inside(rs->log_file, text, size)) ||
	    (*rs->lock_dir && !inside(rs->lock_dir, text, size)))
		fail("a global string outside the line", text);
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];

		if (!inside(r->pattern, text, size) || !r->pattern[0])
			fail("a pattern empty or outside the line", text);
		if (*r->backup && !inside(r->backup, text, size))
			fail("a backup outside the line", text);
		if (r->basename > 1 || r->enabled > 1 || r->durability > DUR_NONE ||
		    r->lock > SCOPE_SESSION || r->commit > COMMIT_SESSION ||
		    r->append > APPEND_PASSTHROUGH || r->hardlinks > HARDLINKS_FAIL ||
		    r->fallback > FALLBACK_FAIL || r->skip_unchanged > 1 || r->on_fsync > FSYNC_TEMP)
			fail("a rule's setting out of range", r->pattern);
		if (r->lock_timeout < -1 || r->lock_timeout > 1000000000)
			fail("lock_timeout out of range", r->pattern);
	}
}

static void same_string(const char *what, const char *a, const char *b)
{
	if (strcmp(a, b) != 0)
		fail(what, b);
}

static void same_ruleset(const struct ruleset *a, const struct ruleset *b, const char *line)
{
	if (a->log_level != b->log_level || a->failure_exit_code != b->failure_exit_code ||
	    a->nrules != b->nrules)
		fail("the globals differ after a round", line);
	same_string("log_file differs after a round", a->log_file, b->log_file);
	same_string("lock_dir differs after a round", a->lock_dir, b->lock_dir);
	for (size_t i = 0; i < a->nrules; i++) {
		const struct rule *x = &a->rules[i], *y = &b->rules[i];

		same_string("a pattern differs after a round", x->pattern, y->pattern);
		same_string("a backup differs after a round", x->backup, y->backup);
		if (x->lock_timeout != y->lock_timeout || x->basename != y->basename ||
		    x->enabled != y->enabled || x->durability != y->durability ||
		    x->lock != y->lock || x->commit != y->commit || x->append != y->append ||
		    x->hardlinks != y->hardlinks || x->fallback != y->fallback ||
		    x->skip_unchanged != y->skip_unchanged || x->on_fsync != y->on_fsync)
			fail("a setting of a rule differs after a round", x->pattern);
	}
}

/* RS encoded (malloc'd, exactly its size), checked as a line. */
static char *encode(const struct ruleset *rs)
{
	size_t len = rules_encode(rs, NULL, 0);
	char *line = alloc(len + 1);

	if (rules_encode(rs, line, len + 1) != len || strlen(line) != len)
		fail("rules_encode: the length it returns is not the line's", line);
	if (strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789/._-*?[]!^:=@+~%;,") != len)
		fail("rules_encode: a character that needs quoting", line);
	if (rules_count(line) != rs->nrules)
		fail("rules_count: not the number of rules encoded", line);
	return line;
}

/* Decode a copy of LINE, which must decode; compare with RS; the copy
 * encoded again must be LINE. */
static void round_trip(const struct ruleset *rs, const char *line)
{
	size_t len = strlen(line), n = rules_count(line);
	char *copy = alloc(len + 1), *again;
	struct rule *rules = alloc(n * sizeof(*rules));
	struct ruleset back;

	memcpy(copy, line, len + 1);
	if (rules_decode(copy, &back, rules) < 0)
		fail("rules_decode refuses what rules_encode wrote", line);
	same_ruleset(rs, &back, line);
	again = encode(&back);
	same_string("a second round encodes another line", line, again);
	free(again);
	free(rules);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t len = nul ? (size_t)(nul - data) : size, n;
	char *text = alloc(len + 1), *orig = alloc(len + 1), *line;
	struct rule *rules;
	struct ruleset rs;

	memcpy(text, data, len);
	text[len] = '\0';
	memcpy(orig, text, len + 1);
	n = rules_count(text);
	rules = alloc(n * sizeof(*rules));
	if (rules_decode(text, &rs, rules) == 0) {
		if (rs.nrules > n || rs.rules != rules)
			fail("more rules than rules_count counted", orig);
		check_usable(&rs, text, len + 1);
		line = encode(&rs);
		round_trip(&rs, line);
		free(line);
	}
	free(rules);
	free(orig);
	free(text);
	return 0;
}
