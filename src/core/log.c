/* log.c - messages to stderr, a file, or syslog. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "escape.h"
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

int log_env_parse(const char *value, const char **file)
{
	char name[16];
	size_t n = 0;

	/* The level name, copied by hand: snprintf would cost every process
	 * the pages of vfprintf.  A name too long for NAME is no level's. */
	while (value[n] && value[n] != ':' && n + 1 < sizeof(name)) {
		name[n] = value[n];
		n++;
	}
	name[n] = '\0';
	*file = strchr(value, ':');
	if (*file)
		(*file)++;
	return enum_value(log_level_name, name);
}

static void read_env(void)
{
	const char *env = sys_getenv("ATOMICALLY_LOG"), *file;

	if (!env)
		return;
	env_level = log_env_parse(env, &file);
	if (file)
		env_file = keep(file);
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

int log_to_stderr(void)
{
	return log_file[0] == '\0';
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

/* The log file named: not followed if it is a symlink (another user's
 * in a shared directory could point it anywhere), and trusted only when
 * it is a regular file of this user (or root's, for root) with one link.
 * -1 when it cannot be had or trusted: the message goes to stderr. */
static int open_log_file(void)
{
	int fd = sys_openat(AT_FDCWD, log_file,
			    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
	struct stat st;

	if (fd < 0)
		return -1;
	if (sys_fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != sys_geteuid()) {
		sys_close(fd);
		return -1;
	}
	return fd;
}

void log_msg(int level, const char *fmt, ...)
{
	int saved = errno;
	char raw[2048], buf[4096];
	int prefix, n;
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(raw))
		n = sizeof(raw) - 1;
	/* One line, whatever the names in it hold (escape.h). */
	prefix = snprintf(buf, sizeof(buf), "atomically: ");
	n = prefix + (int)escape_text(buf + prefix, sizeof(buf) - (size_t)prefix - 1, raw, (size_t)n);
	buf[n++] = '\n';

	if (strcmp(log_file, "syslog") == 0) {
		buf[n - 1] = '\0';
		syslog(level == LEVEL_ERROR ? LOG_ERR : level == LEVEL_WARN ? LOG_WARNING :
		       level == LEVEL_INFO ? LOG_INFO : LOG_DEBUG, "%s", buf + prefix);
	} else if (log_file[0]) {
		int fd = open_log_file();
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
