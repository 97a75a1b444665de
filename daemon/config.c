/*
 * The config file, futured.conf(5): "key = value" lines whose keys are
 * the daemon's long options.  main.c reads it before the command line,
 * so an option given there wins; for plugin, the one key that may be
 * repeated, any --plugin replaces the file's whole list (plugin.c).
 * The pool keys declare supervised pools (supervise.c) instead.
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
#include "metrics.h"
#include "slurm_parse.h"
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
	CONFIG_METRICS_TEXTFILE,
	CONFIG_METRICS_INTERVAL,
	CONFIG_METRICS_LISTEN,
	CONFIG_OUTPUT_DIR,
	CONFIG_SLURM_DIR,
	CONFIG_SLURM_PARTITION,
	CONFIG_SLURM_ACCOUNT,
	CONFIG_SLURM_INTERVAL,
	CONFIG_SLURM_NICE_BASE,
	CONFIG_SLURM_HANDLERS,
	CONFIG_POOL_IDLE,
	CONFIG_SLURM_OPTION,	/* may be repeated */
	CONFIG_PLUGIN,		/* may be repeated */
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
	"metrics-textfile",
	"metrics-interval",
	"metrics-listen",
	"output-dir",
	"slurm-dir",
	"slurm-partition",
	"slurm-account",
	"slurm-interval",
	"slurm-nice-base",
	"slurm-handlers",
	"pool-idle",
	"slurm-option",
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

/* The duration of key, at least min ms; -1 and *cause saying why. */
static int
config_duration(enum config_key key, const char *value, int64_t min,
    int64_t *out, char **cause)
{
	char	 b[32];
	int64_t	 ms;

	if (duration_parse(value, &ms) == -1) {
		xasprintf(cause, "bad %s \"%s\" (want %s)", config_keys[key],
		    value, DURATION_FORMS);
		return (-1);
	}
	if (ms < min) {
		xasprintf(cause, "bad %s \"%s\" (want %s or more)",
		    config_keys[key], value, duration_format(min, b, sizeof(b)));
		return (-1);
	}
	*out = ms;
	return (0);
}

/* Apply one key; -1 and *cause (the caller frees) if value is bad. */
static int
config_set(enum config_key key, const char *value, int *level, char **cause)
{
	uint64_t	 size;
	char		*host, *why;
	u_short		 port;
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
		return (config_duration(key, value, 0, &settings.grace_ms,
		    cause));
	case CONFIG_POOL_IDLE:
		return (config_duration(key, value, 0, &settings.pool_idle_ms,
		    cause));
	case CONFIG_SHUTDOWN_GRACE:
		return (config_duration(key, value, 0,
		    &settings.shutdown_grace_ms, cause));
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
		return (config_duration(key, value, 1,
		    &settings.fsync_interval_ms, cause));
	case CONFIG_METRICS_TEXTFILE:
		settings.metrics_textfile = xstrdup(value);
		return (0);
	case CONFIG_METRICS_INTERVAL:
		return (config_duration(key, value, 100,
		    &settings.metrics_interval_ms, cause));
	case CONFIG_METRICS_LISTEN:
		if (metrics_http_parse(value, &host, &port, &why) == -1) {
			free(why);
			goto bad;
		}
		free(host);
		settings.metrics_listen = xstrdup(value);
		return (0);
	case CONFIG_OUTPUT_DIR:
		if (*value == '\0')
			goto bad;
		settings.output_dir = xstrdup(value);
		return (0);
	case CONFIG_SLURM_DIR:
		if (*value == '\0')
			goto bad;
		settings.slurm_dir = xstrdup(value);
		return (0);
	case CONFIG_SLURM_PARTITION:
		if (*value == '\0')
			goto bad;
		settings.slurm_partition = xstrdup(value);
		return (0);
	case CONFIG_SLURM_ACCOUNT:
		if (*value == '\0')
			goto bad;
		settings.slurm_account = xstrdup(value);
		return (0);
	case CONFIG_SLURM_INTERVAL:
		return (config_duration(key, value, 100,
		    &settings.slurm_interval_ms, cause));
	case CONFIG_SLURM_NICE_BASE:
		if (config_number(value, -SLURM_NICE_BASE_MAX,
		    SLURM_NICE_BASE_MAX, &settings.slurm_nice_base) == -1)
			goto bad;
		return (0);
	case CONFIG_SLURM_HANDLERS:
		/* Handlers whose jobs run on Slurm by default. */
		if (settings_slurm_handlers(value) == -1)
			goto bad;
		return (0);
	case CONFIG_SLURM_OPTION:
		/* One sbatch option a line, as --slurm-option. */
		if (*value != '-')
			goto bad;
		settings_slurm_option(value);
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

/*
 * The keys of a supervised pool (supervise.c): "pool = NAME COMMAND
 * ARG..." declares it, and "pool-KEY.NAME = value" lines after it set
 * the rest.  In the order of struct sup_conf's lines[].
 */
static const char *const config_pool_keys[] = {
	"pool-size",
	"pool-kinds",
	"pool-cwd",
	"pool-env",		/* may be repeated */
	"pool-user",
	"pool-owners",		/* may be repeated */
	"pool-spares",
	"pool-idle",
};
#define CONFIG_POOL_NKEYS	8

/* The blank-separated words of s, appended to *v (NULL-terminated). */
static size_t
config_words(char *s, const char *sep, char ***v, size_t n)
{
	char	*w, *last;

	for (w = strtok_r(s, sep, &last); w != NULL;
	    w = strtok_r(NULL, sep, &last)) {
		*v = xreallocarray(*v, n + 2, sizeof(**v));
		(*v)[n++] = xstrdup(w);
		(*v)[n] = NULL;
	}
	return (n);
}

/*
 * A command line into words: blanks separate them, and a word may hold
 * blanks within '...' or "..." (no escapes, no expansion: no shell).
 * The count, or -1 for a quote left open.
 */
static ssize_t
config_argv(const char *s, char ***v)
{
	char	*w;
	size_t	 n = 0, k;
	char	 q;

	*v = xcalloc(1, sizeof(**v));
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			return (n);
		w = xmalloc(strlen(s) + 1);
		k = 0;
		while (*s != '\0' && *s != ' ' && *s != '\t') {
			if (*s != '"' && *s != '\'') {
				w[k++] = *s++;
				continue;
			}
			q = *s++;
			while (*s != '\0' && *s != q)
				w[k++] = *s++;
			if (*s == '\0') {
				free(w);
				return (-1);
			}
			s++;
		}
		w[k] = '\0';
		*v = xreallocarray(*v, n + 2, sizeof(**v));
		(*v)[n++] = w;
		(*v)[n] = NULL;
	}
}

/* A pool line; -1 and *cause (without file and line) if it is bad. */
static int
config_pool(const char *key, char *value, const char *path, u_int line,
    char **cause)
{
	struct sup_conf	*sc;
	const char	*dot;
	char		**words = NULL, *name;
	size_t		  k, n, len;
	ssize_t		  nw;
	int		  size;

	if (strcmp(key, "pool") == 0) {
		if ((nw = config_argv(value, &words)) == -1) {
			xasprintf(cause, "pool: a quote is not closed");
			goto fail;
		}
		n = nw;
		if (n < 2) {
			xasprintf(cause, "pool needs a name and a command");
			goto fail;
		}
		if ((sc = supervise_conf_add(words[0], path, line,
		    cause)) == NULL)
			goto fail;
		free(words[0]);
		memmove(words, words + 1, n * sizeof(*words));
		sc->argv = words;
		return (0);
	}
	if ((dot = strchr(key, '.')) == NULL)
		goto unknown;
	len = dot - key;
	for (k = 0; k < CONFIG_POOL_NKEYS; k++) {
		if (strlen(config_pool_keys[k]) == len &&
		    strncmp(key, config_pool_keys[k], len) == 0)
			break;
	}
	if (k == CONFIG_POOL_NKEYS)
		goto unknown;
	name = (char *)(uintptr_t)(dot + 1);
	if ((sc = supervise_conf_find(name)) == NULL) {
		xasprintf(cause, "no pool %s declared above", name);
		return (-1);
	}
	if (sc->lines[k] != 0 && k != 3 && k != 5) {
		xasprintf(cause, "%.*s.%s is already set on line %u", (int)len,
		    key, name, sc->lines[k]);
		return (-1);
	}
	switch (k) {
	case 0:
		if (config_number(value, 1, SUP_SIZE_MAX, &size) == -1)
			goto bad;
		sc->size = size;
		break;
	case 1:
		n = config_words(value, " \t,", &words, 0);
		for (k = 0; k < n; k++) {
			if (strcmp(words[k], "async") == 0)
				sc->kinds |= 1U << JOB_ASYNC;
			else if (strcmp(words[k], "blocking") == 0)
				sc->kinds |= 1U << JOB_BLOCKING;
			else if (strcmp(words[k], "cpu") == 0)
				sc->kinds |= 1U << JOB_CPU;
			else {
				xasprintf(cause, "bad pool-kinds.%s \"%s\" "
				    "(async, blocking, cpu)", name, words[k]);
				goto fail;
			}
		}
		k = 1;
		for (n = 0; words != NULL && words[n] != NULL; n++)
			free(words[n]);
		free(words);
		break;
	case 2:
		if (*value != '/')
			goto bad;
		sc->cwd = xstrdup(value);
		break;
	case 3:
		if (*value == '=' || strchr(value, '=') == NULL)
			goto bad;
		sc->env = xreallocarray(sc->env, sc->nenv + 2,
		    sizeof(*sc->env));
		sc->env[sc->nenv++] = xstrdup(value);
		sc->env[sc->nenv] = NULL;
		break;
	case 4:
		if (strpbrk(value, " \t") != NULL)
			goto bad;
		sc->user = xstrdup(value);
		break;
	case 5:
		sc->nowners = config_words(value, " \t,", &sc->owners,
		    sc->nowners);
		break;
	case 6:
		if (config_number(value, 0, SUP_SPARES_MAX, &size) == -1)
			goto bad;
		sc->spares = size;
		break;
	case 7:
		if (duration_parse(value, &sc->idle_ms) == -1) {
			xasprintf(cause, "bad %s \"%s\" (want %s)", key, value,
			    DURATION_FORMS);
			return (-1);
		}
		break;
	}
	sc->lines[k] = line;
	return (0);
unknown:
	xasprintf(cause, "unknown key \"%s\"", key);
	return (-1);
bad:
	xasprintf(cause, "bad %s \"%s\"", key, value);
	return (-1);
fail:
	for (n = 0; words != NULL && words[n] != NULL; n++)
		free(words[n]);
	free(words);
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
		if (strcmp(key, "pool") == 0 || strncmp(key, "pool-", 5) == 0) {
			if (*value == '\0') {
				xasprintf(cause, "%s:%u: no value for %s",
				    path, lineno, key);
				goto out;
			}
			if (config_pool(key, value, path, lineno, &why) == -1) {
				xasprintf(cause, "%s:%u: %s", path, lineno,
				    why);
				free(why);
				goto out;
			}
			continue;
		}
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
		if (seen[k] != 0 && k != CONFIG_PLUGIN &&
		    k != CONFIG_SLURM_OPTION) {
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
