/* log.h - the library's messages.
 *
 * Every message starts with "atomically: " and names the file it is
 * about.  Nothing is printed at the default level (warn) unless something
 * failed.  Messages are formatted on the stack and written with one
 * write(2): no stdio, no allocation.
 */
#ifndef ATOMICALLY_LOG_H
#define ATOMICALLY_LOG_H

#include "rules.h"

/* Set the level and destination from the rules, then from ATOMICALLY_LOG
 * ("LEVEL" or "LEVEL:FILE"), which wins.  FILE is kept, not copied: it
 * must live as long as the process (the ruleset's strings do). */
void log_setup(int level, const char *file);

/* What a value of ATOMICALLY_LOG says: the level it names, or -1 (none,
 * or not a level's name), and in *FILE what follows its first ':', or
 * NULL when it has none.  Reads VALUE alone: no environment, no
 * allocation (it runs in every process's constructor). */
int log_env_parse(const char *value, const char **file);

/* Is a message at LEVEL printed?  Cheap: check before building one. */
int log_enabled(int level);

/* Do the messages go to standard error (no log file, no syslog)?  A
 * process that closes its descriptors keeps that one for them. */
int log_to_stderr(void);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_enabled(LEVEL_DEBUG)) log_msg(LEVEL_DEBUG, __VA_ARGS__); } while (0)

#endif
