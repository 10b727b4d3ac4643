/* log.c - messages to stderr, a file, or syslog. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "sys.h"

static int log_level = LEVEL_WARN;
static const char *log_file = "";  /* "" = stderr, "syslog", or a path */

/* What ATOMICALLY_LOG says, read once: a level (-1: none) and a file
 * (NULL: none). */
static int env_level = -1;
static const char *env_file;

/* A copy of ATOMICALLY_LOG's file in memory of its own: a program may
 * overwrite its environment strings.  mmap, not malloc, and only when
 * the variable names a file: this runs in every process's constructor. */
static const char *keep(const char *s)
{
	size_t len = strlen(s) + 1;
	char *copy = sys_map(len);

	if (!copy)
		return NULL;
	return memcpy(copy, s, len);
}

static void read_env(void)
{
	const char *env = sys_getenv("ATOMICALLY_LOG");
	char name[16];
	size_t n = 0;

	if (!env)
		return;
	/* The level name, copied by hand: snprintf would cost every process
	 * the pages of vfprintf. */
	while (env[n] && env[n] != ':' && n + 1 < sizeof(name)) {
		name[n] = env[n];
		n++;
	}
	name[n] = '\0';
	env_level = enum_value(log_level_name, name);
	if ((env = strchr(env, ':')) != NULL)
		env_file = keep(env + 1);
}

void log_setup(int level, const char *file)
{
	static int env_read;

	if (!env_read) {
		read_env();
		env_read = 1;
	}
	log_level = env_level >= 0 ? env_level : level;
	log_file = env_file ? env_file : file ? file : "";
}

int log_enabled(int level)
{
	return level <= log_level;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = sys_write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void log_msg(int level, const char *fmt, ...)
{
	int saved = errno;
	char buf[2048];
	int prefix, n;
	va_list ap;

	if (!log_enabled(level))
		return;
	prefix = snprintf(buf, sizeof(buf), "atomically: ");
	va_start(ap, fmt);
	n = vsnprintf(buf + prefix, sizeof(buf) - (size_t)prefix - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	n += prefix;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';

	if (strcmp(log_file, "syslog") == 0) {
		buf[n - 1] = '\0';
		syslog(level == LEVEL_ERROR ? LOG_ERR : level == LEVEL_WARN ? LOG_WARNING :
		       level == LEVEL_INFO ? LOG_INFO : LOG_DEBUG, "%s", buf + prefix);
	} else if (log_file[0]) {
		int fd = sys_openat(AT_FDCWD, log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0) {
			write_all(fd, buf, (size_t)n);
			sys_close(fd);
		} else {
			write_all(STDERR_FILENO, buf, (size_t)n);
		}
	} else {
		write_all(STDERR_FILENO, buf, (size_t)n);
	}
	errno = saved;
}
