/* summary.h - what the library did in the run, said at its end: files
 * committed, left unchanged, not committed, written in place, and the
 * longest lock waits (core/tally.h gathers them).  For `atomically -v`
 * and `--summary`. */
#ifndef ATOMICALLY_SUMMARY_H
#define ATOMICALLY_SUMMARY_H

#include <stdio.h>

/* Before the command starts: make the tally file and name it in the
 * environment the command inherits.  Returns 0, or -1 (said why on
 * stderr: the run goes on without a summary). */
int summary_begin(void);

/* After the command and every commit of the launcher's own: add up the
 * tally, write the summary to OUT, remove the file.  Nothing when
 * summary_begin was not called or failed. */
void summary_end(FILE *out);

#endif
