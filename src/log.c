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
static char log_file[4096];   /* "" = stderr */

void log_setup(int level, const char *file)
{
	const char *env = env_get("ATOMICALLY_LOG");

	log_level = level;
	snprintf(log_file, sizeof(log_file), "%s", file ? file : "");
	if (env && *env) {
		const char *colon = strchr(env, ':');
		char name[16];
		size_t n = colon ? (size_t)(colon - env) : strlen(env);
		int v;

		snprintf(name, sizeof(name), "%.*s", (int)(n < 15 ? n : 15), env);
		v = enum_value(log_level_name, name);
		if (v >= 0)
			log_level = v;
		if (colon)
			snprintf(log_file, sizeof(log_file), "%s", colon + 1);
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
