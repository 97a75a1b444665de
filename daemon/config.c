/*
 * The config file, futured.conf(5): "key = value" lines whose keys are
 * the daemon's long options.  main.c reads it before the command line,
 * so an option given there wins; for plugin, the one key that may be
 * repeated, any --plugin replaces the file's whole list (plugin.c).
 *
 * Every error names the file and the line, and stops the start: a
 * daemon that ignored a line would run with settings nobody asked for.
 */

#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futured.h"
#include "duration.h"
#include "log.h"
#include "xmalloc.h"

#define CONFIG_SYSTEM_PATH	"/etc/futured/futured.conf"
#define CONFIG_USER_PATH	"futured/futured.conf"	/* in XDG_CONFIG_HOME */

/* The keys, in the order of futured.conf(5). */
enum config_key {
	CONFIG_SOCKET,
	CONFIG_THREADS,
	CONFIG_PROCS,
	CONFIG_GRACE,
	CONFIG_SHUTDOWN_GRACE,
	CONFIG_MAX_OUTPUT,
	CONFIG_WORKER_MEMORY,
	CONFIG_LOG_LEVEL,
	CONFIG_JOURNAL,
	CONFIG_FSYNC,
	CONFIG_FSYNC_INTERVAL,
	CONFIG_OUTPUT_DIR,
	CONFIG_PLUGIN,		/* the one that may be repeated */
	CONFIG_NKEYS
};
static const char *const config_keys[CONFIG_NKEYS] = {
	"socket",
	"threads",
	"procs",
	"grace",
	"shutdown-grace",
	"max-output",
	"worker-memory",
	"log-level",
	"journal",
	"fsync",
	"fsync-interval",
	"output-dir",
	"plugin",
};

/*
 * The default config file into path: /etc/futured/futured.conf for root,
 * else under $XDG_CONFIG_HOME or ~/.config.  -1 if there is none (no
 * home directory to be found).
 */
int
config_default_path(char *path, size_t len)
{
	struct passwd	*pw;
	const char	*dir;
	int		 n;

	if (geteuid() == 0)
		n = snprintf(path, len, "%s", CONFIG_SYSTEM_PATH);
	else if ((dir = getenv("XDG_CONFIG_HOME")) != NULL && *dir == '/')
		n = snprintf(path, len, "%s/%s", dir, CONFIG_USER_PATH);
	else {
		if ((dir = getenv("HOME")) == NULL || *dir != '/') {
			if ((pw = getpwuid(geteuid())) == NULL)
				return (-1);
			dir = pw->pw_dir;
		}
		n = snprintf(path, len, "%s/.config/%s", dir,
		    CONFIG_USER_PATH);
	}
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

/*
 * A size in bytes: a number with an optional K, M or G (powers of 1024).
 * 0, or -1 for anything else.
 */
int
config_size(const char *s, uint64_t *out)
{
	unsigned long long	 n;
	char			*end;
	int			 shift = 0;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		return (-1);
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return (-1);
	}
	if (*end != '\0' && end[1] != '\0')
		return (-1);
	if (n > (UINT64_MAX >> shift))
		return (-1);
	*out = (uint64_t)n << shift;
	return (0);
}

static int
config_number(const char *s, long min, long max, int *out)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
		return (-1);
	*out = (int)n;
	return (0);
}

/* Apply one key; -1 and *cause (the caller frees) if value is bad. */
static int
config_set(enum config_key key, const char *value, int *level, char **cause)
{
	uint64_t	 size;
	int		 n;

	switch (key) {
	case CONFIG_SOCKET:
		settings.socket_path = xstrdup(value);
		return (0);
	case CONFIG_THREADS:
		if (config_number(value, 1, 4096, &settings.threads) == -1)
			goto bad;
		return (0);
	case CONFIG_PROCS:
		if (config_number(value, 1, 4096, &settings.procs) == -1)
			goto bad;
		return (0);
	case CONFIG_GRACE:
		if (duration_parse(value, &settings.grace_ms) == -1)
			goto bad;
		return (0);
	case CONFIG_SHUTDOWN_GRACE:
		if (duration_parse(value, &settings.shutdown_grace_ms) == -1)
			goto bad;
		return (0);
	case CONFIG_MAX_OUTPUT:
		/* 0 would read as "no limit" to struct buf: refuse it. */
		if (config_size(value, &size) == -1 || size < 1 ||
		    size > INT_MAX)
			goto bad;
		settings.max_output = size;
		return (0);
	case CONFIG_WORKER_MEMORY:
		if (config_size(value, &size) == -1 ||
		    (size != 0 && size < WORKER_MEMORY_MIN))
			goto bad;
		settings.worker_memory = size;
		return (0);
	case CONFIG_LOG_LEVEL:
		if ((n = log_level_from_name(value)) == -1)
			goto bad;
		*level = n;
		return (0);
	case CONFIG_JOURNAL:
		settings.journal_path = xstrdup(value);
		return (0);
	case CONFIG_FSYNC:
		if ((n = journal_fsync_from_name(value)) == -1)
			goto bad;
		settings.fsync = n;
		return (0);
	case CONFIG_FSYNC_INTERVAL:
		if (duration_parse(value, &settings.fsync_interval_ms) == -1 ||
		    settings.fsync_interval_ms < 1)
			goto bad;
		return (0);
	case CONFIG_OUTPUT_DIR:
		if (*value == '\0')
			goto bad;
		settings.output_dir = xstrdup(value);
		return (0);
	case CONFIG_PLUGIN:
		plugin_add(value);
		return (0);
	case CONFIG_NKEYS:
		break;
	}
bad:
	xasprintf(cause, "bad %s \"%s\"", config_keys[key], value);
	return (-1);
}

/* Cut a comment: # at the start or after a blank; then trim blanks. */
static char *
config_trim(char *s)
{
	char	*p, *e;

	for (p = s; *p != '\0'; p++) {
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return (s);
}

/*
 * Read the config file at path into settings (and *level, the log
 * level).  A missing file is not an error unless must_exist.  -1 and
 * *cause (the caller frees), which starts with "path:line: " when a
 * line is at fault.
 */
int
config_load(const char *path, int must_exist, int *level, char **cause)
{
	FILE		*f;
	char		*line = NULL, *s, *eq, *key, *value, *why;
	char		 real[PATH_MAX];
	size_t		 sz = 0, k;
	ssize_t		 n;
	u_int		 lineno = 0, seen[CONFIG_NKEYS];
	int		 rv = -1;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return (0);
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	/* Its plugin lines choose code that root would run. */
	if (geteuid() == 0) {
		if (realpath(path, real) == NULL) {
			xasprintf(cause, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (plugin_path_safe(real, &why) == -1) {
			xasprintf(cause, "%s: refused because %s", path, why);
			free(why);
			goto out;
		}
	}

	memset(seen, 0, sizeof(seen));
	while ((n = getline(&line, &sz, f)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		s = config_trim(line);
		if (*s == '\0')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			xasprintf(cause, "%s:%u: expected \"key = value\"",
			    path, lineno);
			goto out;
		}
		*eq = '\0';
		key = config_trim(s);
		value = config_trim(eq + 1);
		for (k = 0; k < CONFIG_NKEYS; k++) {
			if (strcmp(key, config_keys[k]) == 0)
				break;
		}
		if (k == CONFIG_NKEYS) {
			xasprintf(cause, "%s:%u: unknown key \"%s\"", path,
			    lineno, key);
			goto out;
		}
		if (*value == '\0') {
			xasprintf(cause, "%s:%u: no value for %s", path,
			    lineno, key);
			goto out;
		}
		if (seen[k] != 0 && k != CONFIG_PLUGIN) {
			xasprintf(cause, "%s:%u: %s is already set on line %u",
			    path, lineno, key, seen[k]);
			goto out;
		}
		seen[k] = lineno;
		if (config_set((enum config_key)k, value, level, &why) == -1) {
			xasprintf(cause, "%s:%u: %s", path, lineno, why);
			free(why);
			goto out;
		}
	}
	if (ferror(f)) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	log_debug("%s: read %s", __func__, path);
	rv = 0;
out:
	free(line);
	fclose(f);
	return (rv);
}
