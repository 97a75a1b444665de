/*
 * Logging in the OpenBSD daemons' manner: to stderr in the foreground,
 * to syslog once detached.
 */

#ifndef FUTURED_LOG_H
#define FUTURED_LOG_H

#include <stdarg.h>

#define LOG_LEVEL_ERROR	0
#define LOG_LEVEL_WARN	1
#define LOG_LEVEL_INFO	2
#define LOG_LEVEL_DEBUG	3

/* "1 job", "2 jobs": "%u job%s", n, LOG_PLURAL(n). */
#define LOG_PLURAL(n)	((n) == 1 ? "" : "s")

void	log_init(int, int);		/* level, to syslog? */
void	log_stderr_too(int);
void	log_setlevel(int);
int	log_getlevel(void);
int	log_level_from_name(const char *);
void	log_procname(const char *);
void	log_warn(const char *, ...) __attribute__((__format__(__printf__, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((__format__(__printf__, 1, 2)));
void	log_info(const char *, ...) __attribute__((__format__(__printf__, 1, 2)));
void	log_debug(const char *, ...) __attribute__((__format__(__printf__, 1, 2)));
void	log_error(const char *, ...) __attribute__((__format__(__printf__, 1, 2)));
void	fatal(const char *, ...) __attribute__((__format__(__printf__, 1, 2), __noreturn__));
void	fatalx(const char *, ...) __attribute__((__format__(__printf__, 1, 2), __noreturn__));

#endif
