/*
 * daemon/config.c and the path check of daemon/plugin.c: sizes, the
 * "key = value" syntax with its comments, the file:line of each error,
 * repeated plugin lines, and which paths root may trust.
 */

#include <sys/stat.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "futured.h"
#include "log.h"

/* Defined by daemon/main.c, which the tests do not link. */
struct settings		 settings;
struct event_base	*base;

static char	 dir[] = "/tmp/check_config.XXXXXX";
static char	 path[sizeof(dir) + 32];

static void
setup(void)
{
	memset(&settings, 0, sizeof(settings));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/futured.conf", dir);
}

static void
teardown(void)
{
	free((char *)(uintptr_t)settings.socket_path);
	unlink(path);
	rmdir(dir);
	memcpy(dir + sizeof(dir) - 7, "XXXXXX", 6);
	plugin_clear();
	supervise_conf_clear();
}

/* Write text to the config file and load it; the cause or NULL. */
static char *
load(const char *text, int *level)
{
	FILE	*f;
	char	*cause = NULL;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
	if (config_load(path, 1, level, &cause) == 0)
		return (NULL);
	ck_assert_ptr_nonnull(cause);
	return (cause);
}

START_TEST(test_size_units)
{
	uint64_t	 v;

	ck_assert_int_eq(config_size("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(config_size("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(config_size("64M", &v), 0);
	ck_assert_uint_eq(v, 64ULL << 20);
	ck_assert_int_eq(config_size("2g", &v), 0);
	ck_assert_uint_eq(v, 2ULL << 30);
	ck_assert_int_eq(config_size("8k", &v), 0);
	ck_assert_uint_eq(v, 8192);
}
END_TEST

START_TEST(test_size_rejects_junk)
{
	uint64_t	 v;

	ck_assert_int_eq(config_size("", &v), -1);
	ck_assert_int_eq(config_size("-1", &v), -1);
	ck_assert_int_eq(config_size("M", &v), -1);
	ck_assert_int_eq(config_size("64MB", &v), -1);
	ck_assert_int_eq(config_size("1.5G", &v), -1);
	ck_assert_int_eq(config_size("99999999999999999999", &v), -1);
	ck_assert_int_eq(config_size("99999999999G", &v), -1);
}
END_TEST

START_TEST(test_load_sets_settings)
{
	int	 level = LOG_LEVEL_INFO;
	char	*cause, want[256];

	ck_assert_ptr_null(load("# comment\n\n  threads=3\n"
	    "procs = 2   # trailing comment\n"
	    "grace = 250ms\nshutdown-grace = 2s\nmax-output = 100\n"
	    "worker-memory = 64M\nlog-level = debug\n"
	    "socket = /tmp/a#b.sock\n", &level));
	ck_assert_int_eq(settings.threads, 3);
	ck_assert_int_eq(settings.procs, 2);
	ck_assert_int_eq(settings.grace_ms, 250);
	ck_assert_int_eq(settings.shutdown_grace_ms, 2000);
	ck_assert_uint_eq(settings.max_output, 100);
	ck_assert_uint_eq(settings.worker_memory, 64ULL << 20);
	ck_assert_int_eq(level, LOG_LEVEL_DEBUG);
	/* A # inside a word is not a comment. */
	ck_assert_str_eq(settings.socket_path, "/tmp/a#b.sock");

	/* The metrics' keys, checked as their options are. */
	ck_assert_ptr_null(load("metrics-textfile = /tmp/x/futured.prom\n"
	    "metrics-interval = 2s\nmetrics-listen = [::1]:9464\n", &level));
	ck_assert_str_eq(settings.metrics_textfile, "/tmp/x/futured.prom");
	ck_assert_int_eq(settings.metrics_interval_ms, 2000);
	ck_assert_str_eq(settings.metrics_listen, "[::1]:9464");

	/* The Slurm engine's keys. */
	ck_assert_ptr_null(load("slurm-dir = /shared/futured\n"
	    "slurm-partition = batch\nslurm-account = lab\n"
	    "slurm-interval = 5s\n", &level));
	ck_assert_str_eq(settings.slurm_dir, "/shared/futured");
	ck_assert_str_eq(settings.slurm_partition, "batch");
	ck_assert_str_eq(settings.slurm_account, "lab");
	ck_assert_int_eq(settings.slurm_interval_ms, 5000);
	ck_assert_uint_eq(settings.slurm_nhandlers, 0);
	ck_assert_int_eq(settings_slurm_routed("exec"), 0);
	ck_assert_ptr_null(load("slurm-handlers = exec\n", &level));
	ck_assert_uint_eq(settings.slurm_nhandlers, 1);
	ck_assert_int_eq(settings_slurm_routed("exec"), 1);
	ck_assert_int_eq(settings_slurm_routed("echo"), 0);
	/* Names and patterns: built-ins, plugins, worker pools' names. */
	ck_assert_ptr_null(load("slurm-handlers =  exec sha256\tpy.cpu:*\n",
	    &level));
	ck_assert_uint_eq(settings.slurm_nhandlers, 3);
	ck_assert_int_eq(settings_slurm_routed("sha256"), 1);
	ck_assert_int_eq(settings_slurm_routed("py.cpu:main.x.0123456789"), 1);
	ck_assert_int_eq(settings_slurm_routed("py:app"), 0);
	ck_assert_int_eq(settings_slurm_routed("sha"), 0);
	settings_slurm_handlers_free();
	/* slurm-option may be repeated, in order; the nice base bounded. */
	settings_slurm_options_clear();
	ck_assert_ptr_null(load("slurm-option = --qos=low\n"
	    "slurm-nice-base = -20\nslurm-option = --hold\n", &level));
	ck_assert_uint_eq(settings.slurm_noptions, 2);
	ck_assert_str_eq(settings.slurm_options[0], "--qos=low");
	ck_assert_str_eq(settings.slurm_options[1], "--hold");
	ck_assert_int_eq(settings.slurm_nice_base, -20);
	settings_slurm_options_clear();
	ck_assert_ptr_null(load("slurm-nice-base = 10000\n", &level));
	ck_assert_int_eq(settings.slurm_nice_base, 10000);
	free(cause = load("slurm-nice-base = 10001\n", &level));
	ck_assert_ptr_nonnull(cause);
	free(cause = load("slurm-nice-base = 2x\n", &level));
	ck_assert_ptr_nonnull(cause);
	cause = load("slurm-option = hold\n", &level);
	snprintf(want, sizeof(want), "%s:1: bad slurm-option \"hold\"", path);
	ck_assert_str_eq(cause, want);
	free(cause);
	cause = load("slurm-nice-base = 1\nslurm-nice-base = 2\n", &level);
	snprintf(want, sizeof(want), "%s:2: slurm-nice-base is already set "
	    "on line 1", path);
	ck_assert_str_eq(cause, want);
	free(cause);
	settings_slurm_options_clear();

	/* max-output takes K, M, G like the other sizes. */
	ck_assert_ptr_null(load("max-output = 2M\n", &level));
	ck_assert_uint_eq(settings.max_output, 2U << 20);
}
END_TEST

START_TEST(test_errors_name_file_and_line)
{
	char	*cause, want[256];
	int	 level;

	cause = load("threads = 2\n\nprocs = 0\n", &level);
	snprintf(want, sizeof(want), "%s:3: bad procs \"0\"", path);
	ck_assert_str_eq(cause, want);
	free(cause);

	cause = load("threads\n", &level);
	snprintf(want, sizeof(want), "%s:1: expected \"key = value\"", path);
	ck_assert_str_eq(cause, want);
	free(cause);

	cause = load("# x\ncolour = blue\n", &level);
	snprintf(want, sizeof(want), "%s:2: unknown key \"colour\"", path);
	ck_assert_str_eq(cause, want);
	free(cause);

	cause = load("grace =   # nothing\n", &level);
	snprintf(want, sizeof(want), "%s:1: no value for grace", path);
	ck_assert_str_eq(cause, want);
	free(cause);

	cause = load("procs = 1\nprocs = 2\n", &level);
	snprintf(want, sizeof(want),
	    "%s:2: procs is already set on line 1", path);
	ck_assert_str_eq(cause, want);
	free(cause);

	cause = load("metrics-interval = 10ms\n", &level);
	snprintf(want, sizeof(want), "%s:1: bad metrics-interval \"10ms\" "
	    "(want 100ms or more)",
	    path);
	ck_assert_str_eq(cause, want);
	free(cause);

	cause = load("grace = 5x\n", &level);
	snprintf(want, sizeof(want), "%s:1: bad grace \"5x\" (want %s)",
	    path, DURATION_FORMS);
	ck_assert_str_eq(cause, want);
	free(cause);

	cause = load("slurm-handlers = sleep ec;ho\n", &level);
	snprintf(want, sizeof(want),
	    "%s:1: bad slurm-handlers \"sleep ec;ho\"", path);
	ck_assert_str_eq(cause, want);
	free(cause);

	cause = load("slurm-interval = 50ms\n", &level);
	snprintf(want, sizeof(want), "%s:1: bad slurm-interval \"50ms\" "
	    "(want 100ms or more)",
	    path);
	ck_assert_str_eq(cause, want);
	free(cause);

	cause = load("metrics-listen = localhost:80\n", &level);
	snprintf(want, sizeof(want),
	    "%s:1: bad metrics-listen \"localhost:80\"", path);
	ck_assert_str_eq(cause, want);
	free(cause);

	cause = load("worker-memory = 1000\n", &level);
	snprintf(want, sizeof(want), "%s:1: bad worker-memory \"1000\"",
	    path);
	ck_assert_str_eq(cause, want);
	free(cause);
}
END_TEST

START_TEST(test_missing_file)
{
	char	*cause = NULL;
	int	 level;

	ck_assert_int_eq(config_load(path, 0, &level, &cause), 0);
	ck_assert_int_eq(config_load(path, 1, &level, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "No such file"));
	free(cause);
}
END_TEST

START_TEST(test_plugin_lines_repeat)
{
	char	*cause = NULL;
	int	 level;

	/* Both lines are kept: loading the first one fails, naming it. */
	ck_assert_ptr_null(load("plugin = /nonexistent/a.so\n"
	    "plugin = /nonexistent/b.so\n", &level));
	ck_assert_int_eq(plugin_load_all(&cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent/a.so"));
	free(cause);
	plugin_clear();
	ck_assert_int_eq(plugin_load_all(&cause), 0);
}
END_TEST

START_TEST(test_path_safe)
{
	char	*cause = NULL;
	int	 level;

	/* / itself belongs to root and is not open to others. */
	ck_assert_int_eq(plugin_path_safe("/", &cause), 0);
	ck_assert_int_eq(plugin_path_safe("relative.so", &cause), -1);
	free(cause);

	ck_assert_ptr_null(load("", &level));
	chmod(path, 0666);
	ck_assert_int_eq(plugin_path_safe(path, &cause), -1);
	if (geteuid() == 0)
		ck_assert_ptr_nonnull(strstr(cause, "writable by group"));
	free(cause);
	chmod(path, 0600);
	/* As root the file, mkdtemp's 0700 dir and sticky /tmp pass. */
	if (geteuid() == 0 && plugin_path_safe("/tmp", &cause) == 0)
		ck_assert_int_eq(plugin_path_safe(path, &cause), 0);
}
END_TEST


START_TEST(test_pool_lines)
{
	struct sup_conf	*sc;
	int		 level;

	ck_assert_ptr_null(load("pool = py python3 -m futured.worker "
	    "myapp.tasks\n"
	    "pool-size.py = 4\npool-kinds.py = cpu, blocking\n"
	    "pool-cwd.py = /srv/app\npool-env.py = PYTHONPATH=/srv/a=b\n"
	    "pool-env.py = LANG=C\npool-user.py = nobody\n"
	    "pool-owners.py = alice bob\npool-owners.py = 1001\n"
	    "pool = sh sh -c 'echo \"hi there\" >&2; exit 3' x\n", &level));
	ck_assert_ptr_nonnull(sc = supervise_conf_find("py"));
	ck_assert_str_eq(sc->argv[0], "python3");
	ck_assert_str_eq(sc->argv[3], "myapp.tasks");
	ck_assert_ptr_null(sc->argv[4]);
	ck_assert_uint_eq(sc->size, 4);
	ck_assert_uint_eq(sc->kinds, (1U << JOB_CPU) | (1U << JOB_BLOCKING));
	ck_assert_str_eq(sc->cwd, "/srv/app");
	ck_assert_uint_eq(sc->nenv, 2);
	ck_assert_str_eq(sc->env[0], "PYTHONPATH=/srv/a=b");
	ck_assert_str_eq(sc->env[1], "LANG=C");
	ck_assert_str_eq(sc->user, "nobody");
	ck_assert_uint_eq(sc->nowners, 3);
	ck_assert_str_eq(sc->owners[2], "1001");
	ck_assert_uint_eq(sc->line, 1);
	/* Quotes keep blanks in a word, and go. */
	ck_assert_ptr_nonnull(sc = supervise_conf_find("sh"));
	ck_assert_str_eq(sc->argv[1], "-c");
	ck_assert_str_eq(sc->argv[2], "echo \"hi there\" >&2; exit 3");
	ck_assert_str_eq(sc->argv[3], "x");
	ck_assert_uint_eq(sc->size, 0);
	ck_assert_uint_eq(sc->kinds, 0);
}
END_TEST

START_TEST(test_pool_errors)
{
	static const struct {
		const char	*text;
		const char	*err;
	} bad[] = {
		{ "pool = py\n", "1: pool needs a name and a command" },
		{ "pool = p/y x\n", "1: bad pool name \"p/y\"" },
		{ "pool = py x\n\npool = py y\n",
		    "3: pool py is already declared on line 1" },
		{ "pool-size.py = 2\n", "1: no pool py declared above" },
		{ "pool = py x\npool-size.py = 0\n",
		    "2: bad pool-size.py \"0\"" },
		{ "pool = py x\npool-size.py = 1025\n",
		    "2: bad pool-size.py \"1025\"" },
		{ "pool = py x\npool-size.py = 2\npool-size.py = 3\n",
		    "3: pool-size.py is already set on line 2" },
		{ "pool = py x\npool-kinds.py = cpu gpu\n",
		    "2: bad pool-kinds.py \"gpu\"" },
		{ "pool = py x\npool-cwd.py = srv\n",
		    "2: bad pool-cwd.py \"srv\"" },
		{ "pool = py x\npool-env.py = NOEQUALS\n",
		    "2: bad pool-env.py \"NOEQUALS\"" },
		{ "pool = py x\npool-env.py = =v\n",
		    "2: bad pool-env.py \"=v\"" },
		{ "pool = py x\npool-colour.py = blue\n",
		    "2: unknown key \"pool-colour.py\"" },
		{ "pool-size = 2\n", "1: unknown key \"pool-size\"" },
		{ "pool = py sh -c 'exit\n", "1: pool: a quote is not closed" },
		{ "pool =\n", "1: no value for pool" },
	};
	char	*cause, want[512];
	size_t	 i;
	int	 level;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cause = load(bad[i].text, &level);
		ck_assert_msg(cause != NULL, "accepted: %s", bad[i].text);
		snprintf(want, sizeof(want), "%s:%s", path, bad[i].err);
		ck_assert_msg(strncmp(cause, want, strlen(want)) == 0,
		    "%s: got \"%s\", want \"%s\"", bad[i].text, cause, want);
		free(cause);
		supervise_conf_clear();
	}
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("size");
	tcase_add_test(tc, test_size_units);
	tcase_add_test(tc, test_size_rejects_junk);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_load_sets_settings);
	tcase_add_test(tc, test_errors_name_file_and_line);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_plugin_lines_repeat);
	tcase_add_test(tc, test_path_safe);
	tcase_add_test(tc, test_pool_lines);
	tcase_add_test(tc, test_pool_errors);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(config_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
