/* test_rules.c - the one-line encoding of compiled rules round-trips,
 * needs no quoting, and malformed lines are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rules.h"

static int passed, failed;

#define CHECK(cond, ...) do { \
	if (cond) { passed++; } else { failed++; \
		printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } \
} while (0)

static void test_roundtrip(void)
{
	struct rule in[3], out[3];
	struct ruleset rs, back;
	char text[4096];
	size_t n;

	ruleset_set_defaults(&rs);
	rs.log_level = LEVEL_DEBUG;
	rs.failure_exit_code = 0;
	rs.log_file = "/var/log/a b;c,%.log";
	rs.lock_dir = "sidecar";
	for (int i = 0; i < 3; i++)
		rule_set_defaults(&in[i]);
	in[0].pattern = "*.yaml";
	in[0].basename = 1;
	in[1].pattern = "/srv/we'ird dir;x,y/**/[a-c]?.json";
	in[1].durability = DUR_DATA;
	in[1].lock = SCOPE_PROCESS;
	in[1].commit = COMMIT_EXIT;
	in[1].append = APPEND_PASSTHROUGH;
	in[1].hardlinks = HARDLINKS_FAIL;
	in[1].fallback = FALLBACK_FAIL;
	in[1].skip_unchanged = 1;
	in[1].on_fsync = FSYNC_TEMP;
	in[1].lock_timeout = -1;
	in[1].backup = "~";
	in[2].pattern = "/x/\\*literal\n";
	in[2].enabled = 0;
	in[2].lock_timeout = 0;
	rs.rules = in;
	rs.nrules = 3;

	n = rules_encode(&rs, NULL, 0);
	CHECK(n > 0 && n < sizeof(text), "encoded length %zu", n);
	CHECK(rules_encode(&rs, text, sizeof(text)) == n && strlen(text) == n, "length agrees");
	CHECK(strpbrk(text, "' \"\n\\$`") == NULL, "no character needing quotes: %s", text);
	CHECK(rules_count(text) == 3, "rules_count %zu", rules_count(text));
	CHECK(rules_decode(text, &back, out) == 0, "decodes");
	CHECK(back.log_level == LEVEL_DEBUG && back.failure_exit_code == 0, "globals");
	CHECK(strcmp(back.log_file, rs.log_file) == 0, "log_file %s", back.log_file);
	CHECK(strcmp(back.lock_dir, "sidecar") == 0, "lock_dir");
	CHECK(back.nrules == 3, "nrules %zu", back.nrules);
	for (int i = 0; i < 3; i++) {
		CHECK(strcmp(out[i].pattern, in[i].pattern) == 0, "pattern %d: %s", i, out[i].pattern);
		CHECK(strcmp(out[i].backup, in[i].backup) == 0, "backup %d", i);
		CHECK(out[i].basename == in[i].basename && out[i].enabled == in[i].enabled &&
		      out[i].durability == in[i].durability && out[i].lock == in[i].lock &&
		      out[i].commit == in[i].commit && out[i].append == in[i].append &&
		      out[i].hardlinks == in[i].hardlinks && out[i].fallback == in[i].fallback &&
		      out[i].skip_unchanged == in[i].skip_unchanged && out[i].on_fsync == in[i].on_fsync &&
		      out[i].lock_timeout == in[i].lock_timeout, "settings of rule %d", i);
	}
}

static void test_truncated_buffer(void)
{
	struct ruleset rs;
	char small[8];
	size_t n;

	ruleset_set_defaults(&rs);
	n = rules_encode(&rs, small, sizeof(small));
	CHECK(n >= sizeof(small) && strlen(small) == sizeof(small) - 1, "truncated safely");
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"", "a3", "x1;L1", "a2;L9", "a2;Lx", "a2;X300", "a2;Q1",
		"a1;R110100000,30,,*.y", "a2;R110100000,30,,*.y", "a2;R1101000000",
		"a2;R11010000001,30,,*.y", "a2;R1101000002,30,,*.y", "a2;R1101000000,30",
		"a2;R1101000000,30,,",
		"a2;R1901000000,30,,*.y", "a2;R1101000000,abc,,*.y", "a2;R1101000000,30,,%zz",
		"a2;R1101000000,30,,%00", "a2;R1101000000,-2,,*.y", "a2;F%4",
		"a2;R1101000000,1000000001,,*.y", "a2;R1101000000,99999999999,,*.y",
		"a2;R1101000000,-,,*.y", "a2;R1101000000,3x,,*.y", "a2;X-1",
	};
	static const char *const good[] = {
		"a2", "a2;L0", "a2;R1101000000,30,,*.y", "a2;L1;X0;F;D;R0101000001,-1,%7E,/a%3Bb",
		"a2;R1101000000,1000000000,,*.y",
	};
	struct rule rules[4];
	struct ruleset rs;
	char buf[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		CHECK(rules_decode(buf, &rs, rules) < 0, "refuses \"%s\"", bad[i]);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", good[i]);
		CHECK(rules_decode(buf, &rs, rules) == 0, "accepts \"%s\"", good[i]);
	}
	snprintf(buf, sizeof(buf), "%s", good[3]);
	rules_decode(buf, &rs, rules);
	CHECK(strcmp(rules[0].pattern, "/a;b") == 0 && strcmp(rules[0].backup, "~") == 0 &&
	      rules[0].lock_timeout == -1 && !rules[0].basename, "fields of a good line");
}

static void test_names(void)
{
	CHECK(enum_value(durability_name, "data") == DUR_DATA, "durability");
	CHECK(enum_value(lock_scope_name, "session") == SCOPE_SESSION, "scope");
	CHECK(enum_value(commit_mode_name, "exit") == COMMIT_EXIT, "commit");
	CHECK(enum_value(append_mode_name, "passthrough") == APPEND_PASSTHROUGH, "append");
	CHECK(enum_value(hardlinks_mode_name, "inplace") == HARDLINKS_INPLACE, "hardlinks");
	CHECK(enum_value(fallback_mode_name, "fail") == FALLBACK_FAIL, "fallback");
	CHECK(enum_value(log_level_name, "debug") == LEVEL_DEBUG, "level");
	CHECK(enum_value(log_level_name, "loud") == -1, "unknown name");
	CHECK(durability_name(4) == NULL, "out of range");
}

int main(void)
{
	test_roundtrip();
	test_truncated_buffer();
	test_malformed();
	test_names();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
