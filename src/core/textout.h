/* textout.h - one line of text written into a buffer of a given size,
 * counting what it would write and writing what fits: an encoder
 * measures a line (size 0) and writes it with the same code.  The
 * encoders of the rules (rules.c) and of a pending file (record.c) use
 * it; both run where no allocator may be called. */
#ifndef ATOMICALLY_TEXTOUT_H
#define ATOMICALLY_TEXTOUT_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct textout {
	char *buf;
	size_t size, len;
};

static inline void textout_char(struct textout *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static inline void textout_str(struct textout *o, const char *s)
{
	while (*s)
		textout_char(o, *s++);
}

static inline void textout_num(struct textout *o, int64_t v)
{
	char digits[24];

	snprintf(digits, sizeof(digits), "%" PRId64, v);
	textout_str(o, digits);
}

/* Terminate the line (cut where it did not fit); its whole length,
 * without the NUL. */
static inline size_t textout_end(struct textout *o)
{
	if (o->size)
		o->buf[o->len < o->size ? o->len : o->size - 1] = '\0';
	return o->len;
}

#endif
