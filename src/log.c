/* log.c - messages to stderr, a file, or syslog. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "env.h"
#include "log.h"
#include "real.h"

static int log_level = LEVEL_WARN;
/* "" = stderr, "syslog", or a path: the ruleset's string, which lives as
 * long as the process, or the copy below of ATOMICALLY_LOG's. */
static const char *log_file = "";
static char log_file_env[4096];

/* Copy at most SIZE - 1 bytes of SRC up to STOP (or its end) into DST.
 * By hand: this runs in every process's constructor, where snprintf
 * would cost its own pages of libc. */
static void copy_until(char *dst, size_t size, const char *src, char stop)
{
	size_t n = 0;

	while (src[n] && src[n] != stop && n + 1 < size) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = '\0';
}

void log_setup(int level, const char *file)
{
	const char *env = env_get("ATOMICALLY_LOG");
	const char *colon;
	char name[16];
	int v;

	log_level = level;
	log_file = file ? file : "";
	if (!env || !*env)
		return;
	copy_until(name, sizeof(name), env, ':');
	v = enum_value(log_level_name, name);
	if (v >= 0)
		log_level = v;
	if ((colon = strchr(env, ':')) != NULL) {
		copy_until(log_file_env, sizeof(log_file_env), colon + 1, '\0');
		log_file = log_file_env;
	}
}

int log_enabled(int level)
{
	return level <= log_level;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
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
		int fd = real.open(log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0) {
			write_all(fd, buf, (size_t)n);
			real.close(fd);
		} else {
			write_all(STDERR_FILENO, buf, (size_t)n);
		}
	} else {
		write_all(STDERR_FILENO, buf, (size_t)n);
	}
	errno = saved;
}
