/*
 * libFuzzer target for the config file parser: the input is written as
 * a futured.conf(5) and config_load() reads it into fresh settings, as
 * main.c does at start.  Any text must give either settings within the
 * bounds futured.conf(5) states, or an error that names the file and,
 * for a bad line, its number; never a crash or fatal().
 *
 * The plugins asked for are only listed, never loaded.  Everything the
 * parser allocated is freed after each input, so leaks show.
 */

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured.h"
#include "fuzzfile.h"
#include "log.h"
#include "slurm_parse.h"

/* main.c's globals: the daemon's main() is not linked in. */
struct settings		 settings;
struct event_base	*base;

static const char	*path;

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(LOG_LEVEL_ERROR, 0);
	path = fuzzfile_init("fuzz_config", "futured.conf", 0);
	return (0);
}

/* "path:N: " with N at least 1, or "path: " (the file itself). */
static int
fuzz_config_cause_ok(const char *cause)
{
	size_t		 len = strlen(path);
	const char	*p;

	if (strncmp(cause, path, len) != 0 || cause[len] != ':')
		return (0);
	p = cause + len + 1;
	if (*p == ' ')
		return (1);
	if (*p < '1' || *p > '9')
		return (0);
	while (*p >= '0' && *p <= '9')
		p++;
	return (p[0] == ':' && p[1] == ' ' && p[2] != '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*cause = NULL;
	int	 level = LOG_LEVEL_INFO;
	size_t	 i;

	fuzzfile_write(data, size);

	settings_defaults(&settings);
	if (config_load(path, 1, &level, &cause) == -1) {
		if (cause == NULL || !fuzz_config_cause_ok(cause)) {
			fprintf(stderr, "bad cause: %s\n", cause);
			abort();
		}
		free(cause);
	} else {
		/* The bounds of futured.conf(5). */
		if (settings.threads < 1 || settings.threads > 4096 ||
		    settings.procs < 1 || settings.procs > 4096 ||
		    settings.grace_ms < 0 || settings.shutdown_grace_ms < 0 ||
		    settings.max_output < 1 || settings.max_output > INT_MAX ||
		    (settings.worker_memory != 0 &&
		    settings.worker_memory < WORKER_MEMORY_MIN) ||
		    settings.fsync_interval_ms < 1 ||
		    settings.slurm_interval_ms < 100 ||
		    settings.slurm_nice_base < -SLURM_NICE_BASE_MAX ||
		    settings.slurm_nice_base > SLURM_NICE_BASE_MAX ||
		    level < LOG_LEVEL_ERROR || level > LOG_LEVEL_DEBUG ||
		    journal_fsync_name(settings.fsync)[0] == 'u')
			abort();
	}
	/* Every string a line may set, and the pools it may declare. */
	free((char *)(uintptr_t)settings.socket_path);
	free((char *)(uintptr_t)settings.journal_path);
	free((char *)(uintptr_t)settings.metrics_textfile);
	free((char *)(uintptr_t)settings.metrics_listen);
	free((char *)(uintptr_t)settings.output_dir);
	free((char *)(uintptr_t)settings.slurm_dir);
	free((char *)(uintptr_t)settings.slurm_partition);
	free((char *)(uintptr_t)settings.slurm_account);
	settings_slurm_handlers_free();
	for (i = 0; i < settings.slurm_noptions; i++) {
		if (settings.slurm_options[i][0] != '-')
			abort();
	}
	settings_slurm_options_clear();
	supervise_conf_clear();
	plugin_clear();
	return (0);
}
