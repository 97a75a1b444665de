/*
 * Log functions after OpenBSD's log.c: log_warn appends strerror(errno),
 * the x variants do not; fatal and fatalx exit.  One write(2) per line so
 * lines from the loop and from pool threads never interleave.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int	 log_level = LOG_LEVEL_INFO;
static int	 log_syslog;
static int	 log_tee;	/* stderr as well as syslog */
static const char *log_name = "futured";

void
log_init(int level, int to_syslog)
{
	log_level = level;
	log_syslog = to_syslog;
	if (to_syslog)
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/*
 * A detached daemon logs to syslog, and to stderr as well until it is
 * ready: its stderr is then a pipe to the "futured --detach" that
 * started it, which shows why a start failed.
 */
void
log_stderr_too(int on)
{
	log_tee = on;
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return (log_level);
}

int
log_level_from_name(const char *s)
{
	if (strcmp(s, "error") == 0)
		return (LOG_LEVEL_ERROR);
	if (strcmp(s, "warn") == 0)
		return (LOG_LEVEL_WARN);
	if (strcmp(s, "info") == 0)
		return (LOG_LEVEL_INFO);
	if (strcmp(s, "debug") == 0)
		return (LOG_LEVEL_DEBUG);
	return (-1);
}

void
log_procname(const char *name)
{
	log_name = name;
}

static void
log_vwrite(int level, int prio, const char *fmt, va_list ap, int err)
{
	char	 msg[1024], line[1200];
	int	 n;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err != 0) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(err));
	}
	if (log_syslog) {
		syslog(prio, "%s", msg);
		if (!log_tee)
			return;
	}
	n = snprintf(line, sizeof(line), "%s[%ld]: %s\n", log_name,
	    (long)getpid(), msg);
	if (n > (int)sizeof(line))
		n = sizeof(line);
	(void)write(STDERR_FILENO, line, n);
}

#define LOG_BODY(level, prio, err) do {				\
	va_list	 ap;						\
	int	 saved = errno;					\
	va_start(ap, fmt);					\
	log_vwrite(level, prio, fmt, ap, err);			\
	va_end(ap);						\
	errno = saved;						\
} while (0)

void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, LOG_WARNING, errno);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, LOG_WARNING, 0);
}

void
log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, LOG_ERR, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, LOG_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, LOG_DEBUG, 0);
}

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, LOG_CRIT, errno);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, LOG_CRIT, 0);
	exit(1);
}
