/* crash_content.h - the self-checking content of the crash tests, shared
 * by tests/helpers/crash_writer.c (which writes it) and tests/helpers/crash_kill.c (which
 * checks what a killed writer left).  tests/helpers/crash_writer.py writes the
 * JSON form; crash_kill.c rebuilds it the way Python's json.dump prints it.
 *
 * text form, version V, N lines:
 *
 *   crash-writer version=V lines=N\n
 *   N lines of 64 bytes: "%08ld %06ld " + 47 letters derived from V and
 *     the line number + "\n"
 *   end version=V\n
 *
 * json form, version V, N items (json.dump with its default separators):
 *
 *   {"version": V, "count": N, "body": [V*1000003+0, ..., V*1000003+N-1], "end": V}
 *
 * Each version is told apart from every other by every line, and a file
 * is whole only when it is byte for byte the version its first line
 * names: a truncated, half-written or mixed file is not.
 */
#ifndef CRASH_CONTENT_H
#define CRASH_CONTENT_H

#include <stdio.h>
#include <string.h>

#define CRASH_LINE 64
#define CRASH_MAX_LINES 65536L
#define CRASH_MAX_COUNT 1000000L

/* crash_text(buf, version, lines): the text form into buf (NULL: only
 * its length); returns its length. */
static inline size_t crash_text(char *buf, long version, long lines)
{
	char head[80], tail[40];
	int hn = snprintf(head, sizeof(head), "crash-writer version=%ld lines=%ld\n",
			  version, lines);
	int tn = snprintf(tail, sizeof(tail), "end version=%ld\n", version);
	size_t len = (size_t)hn + (size_t)lines * CRASH_LINE + (size_t)tn;

	if (!buf)
		return len;
	memcpy(buf, head, (size_t)hn);
	char *p = buf + hn;
	for (long l = 0; l < lines; l++, p += CRASH_LINE) {
		char num[32];
		int n = snprintf(num, sizeof(num), "%08ld %06ld ", version % 100000000L, l);
		memcpy(p, num, (size_t)n);
		for (int k = n; k < CRASH_LINE - 1; k++)
			p[k] = (char)('a' + (version * 7 + l * 3 + k) % 26);
		p[CRASH_LINE - 1] = '\n';
	}
	memcpy(p, tail, (size_t)tn);
	return len;
}

/* crash_json(buf, cap, version, count): the json form into buf (at most
 * cap bytes); returns its length, or 0 when it does not fit. */
static inline size_t crash_json(char *buf, size_t cap, long version, long count)
{
	size_t len = 0;
	int n;

#define CRASH_PUT(...)                                                        \
	do {                                                                  \
		n = snprintf(buf + len, cap - len, __VA_ARGS__);              \
		if (n < 0 || (size_t)n >= cap - len)                          \
			return 0;                                             \
		len += (size_t)n;                                             \
	} while (0)
	CRASH_PUT("{\"version\": %ld, \"count\": %ld, \"body\": [", version, count);
	for (long i = 0; i < count; i++)
		CRASH_PUT("%s%lld", i ? ", " : "", (long long)version * 1000003LL + i);
	CRASH_PUT("], \"end\": %ld}", version);
#undef CRASH_PUT
	return len;
}

#endif
