/*
 * daemon/oneshot.c: which jobs have a one-shot form (the Slurm engine
 * runs the others' commands or refuses them at submit), the command of
 * a built-in's, and the Task file, decodable as the worker protocol's
 * Task and never written through a link.  Its outcome's way into a job
 * is tested against a real Slurm (slurm_handlers.sh) and without one
 * (run_once.sh).
 */

#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "log.h"
#include "testlib.h"
#include "xmalloc.h"

static int
loopy_start(struct fut_handler_ctx *ctx)
{
	(void)ctx;
	return (0);
}

/* A handler of the loop's own, as exec is. */
static const struct fut_handler handler_loopy = {
	.abi = FUT_HANDLER_ABI,
	.name = "t_loopy",
	.kinds = FUT_HK_ASYNC,
	.default_kind = FUT_HK_ASYNC,
	.flags = FUT_HF_LOOP,
	.start = loopy_start,
};

/* A worker handler, as pool_worker.c makes one (not registered). */
static const struct fut_handler handler_wk = {
	.abi = FUT_HANDLER_ABI,
	.name = "py.cpu:t_mod",
	.kinds = FUT_HK_CPU,
	.default_kind = FUT_HK_CPU,
	.flags = HANDLER_F_WORKER,
};

static char	 dir[] = "/tmp/futured-oneshot.XXXXXX";

static void
setup(void)
{
	loop_setup();
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char	 cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/futured-oneshot.XXXXXX");
	loop_teardown();
}

static struct job *
new_job(const struct fut_handler *h, enum job_kind kind)
{
	struct job	*j = job_new();

	j->handler = h;
	j->kind = kind;
	j->owner = getuid();
	return (j);
}

START_TEST(test_able)
{
	struct job	*j;
	char		*cause = NULL;

	j = new_job(handler_find("echo"), JOB_CPU);
	ck_assert_int_eq(oneshot_able(j, 0, &cause), 0);
	job_unref(j);
	/* sleep has no run(): its start() runs on a loop of the one-shot's. */
	j = new_job(handler_find("sleep"), JOB_ASYNC);
	ck_assert_int_eq(oneshot_able(j, 0, &cause), 0);
	job_unref(j);

	j = new_job(&handler_loopy, JOB_ASYNC);
	ck_assert_int_eq(oneshot_able(j, 0, &cause), -1);
	ck_assert_str_eq(cause, "handler \"t_loopy\" runs only inside the "
	    "daemon");
	free(cause);
	cause = NULL;
	job_unref(j);

	/* A worker handler needs a supervised pool's command... */
	j = new_job(&handler_wk, JOB_CPU);
	ck_assert_int_eq(oneshot_able(j, 0, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "no supervised pool serves "
	    "handler \"py.cpu:t_mod\""));
	free(cause);
	cause = NULL;
	/* ...which a replay cannot know yet: the launch says. */
	ck_assert_int_eq(oneshot_able(j, 1, &cause), 0);
	ck_assert_ptr_null(cause);
	job_unref(j);
}
END_TEST

/* job_link_check() asks it for engine slurm, and only for that. */
START_TEST(test_link_check)
{
	struct job	*j;
	char		*cause = NULL;
	int		 code;

	j = new_job(&handler_loopy, JOB_ASYNC);
	ck_assert_int_eq(job_link_check(j, 0, &code, &cause), 0);
	job_spec_own(j)->engine = JOB_ENGINE_SLURM;
	ck_assert_int_eq(job_link_check(j, 0, &code, &cause), -1);
	ck_assert_int_eq(code, FERR_INVALID);
	ck_assert_ptr_nonnull(strstr(cause, "runs only inside the daemon"));
	free(cause);
	cause = NULL;
	job_unref(j);
	j = new_job(handler_find("exec"), JOB_ASYNC);
	job_spec_own(j)->engine = JOB_ENGINE_SLURM;
	ck_assert_int_eq(job_link_check(j, 0, &code, &cause), 0);
	job_unref(j);
	j = new_job(handler_find("sha256"), JOB_CPU);
	job_spec_own(j)->engine = JOB_ENGINE_SLURM;
	ck_assert_int_eq(job_link_check(j, 0, &code, &cause), 0);
	job_unref(j);
}
END_TEST

START_TEST(test_command_of_a_builtin)
{
	struct oneshot_cmd	 oc;
	struct job		*j;
	const char		*was = settings.self_exe;
	char			*cause = NULL;

	j = new_job(handler_find("sha256"), JOB_CPU);
	settings.self_exe = "/opt/futured/sbin/futured";
	ck_assert_int_eq(oneshot_command(j, &oc, &cause), 0);
	ck_assert_str_eq(oc.argv[0], "/opt/futured/sbin/futured");
	ck_assert_str_eq(oc.argv[1], "--run-once");
	/* Every plugin the daemon loaded follows: none here. */
	ck_assert_ptr_null(oc.argv[2 + 2 * plugin_count()]);
	/* The job's own environment and directory. */
	ck_assert_ptr_null(oc.env);
	ck_assert_ptr_null(oc.cwd);
	oneshot_cmd_free(&oc);
	ck_assert_ptr_null(oc.argv);

	settings.self_exe = NULL;
	ck_assert_int_eq(oneshot_command(j, &oc, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "own path"));
	free(cause);
	settings.self_exe = was;
	job_unref(j);
}
END_TEST

static uint8_t *
slurp(const char *path, size_t *len)
{
	static uint8_t	 buf[4096];
	ssize_t		 n;
	int		 fd;

	ck_assert_int_ge(fd = open(path, O_RDONLY), 0);
	ck_assert_int_ge(n = read(fd, buf, sizeof(buf)), 0);
	close(fd);
	*len = (size_t)n;
	return (buf);
}

START_TEST(test_task_file)
{
	struct job	*j;
	struct job_spec	*js;
	Futured__Task	*t;
	struct stat	 st;
	char		 path[256], victim[256], *cause = NULL;
	uint8_t		*data;
	size_t		 len;
	FILE		*f;

	j = new_job(handler_find("sha256"), JOB_CPU);
	j->id = 42;
	j->payload = (uint8_t *)xstrdup("some payload");
	j->payload_len = strlen("some payload");
	js = job_spec_own(j);
	js->args = xcalloc(1, sizeof(*js->args));
	js->args[0] = xstrdup("a1");
	js->nargs = 1;
	js->ctx = xcalloc(1, sizeof(*js->ctx));
	js->ctx[0].key = xstrdup("K");
	js->ctx[0].value = xstrdup("v");
	js->nctx = 1;
	/* Not started: the timeout is no deadline yet. */
	js->timeout_ms = 5000;

	/* A link planted at the name: replaced, its target untouched. */
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	ck_assert_ptr_nonnull(f = fopen(victim, "w"));
	fputs("intact", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/42.3.task", dir);
	ck_assert_int_eq(symlink(victim, path), 0);
	ck_assert_msg(oneshot_write_task(j, 3, path, &cause) == 0, "%s",
	    cause);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	data = slurp(victim, &len);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(data, "intact", 6);

	data = slurp(path, &len);
	ck_assert_ptr_nonnull(t = futured__task__unpack(NULL, len, data));
	ck_assert_uint_eq(t->job_id, 42);
	ck_assert_uint_eq(t->attempt, 3);
	ck_assert_str_eq(t->handler, "sha256");
	ck_assert_int_eq(t->kind, FUTURED__KIND__KIND_CPU);
	ck_assert(t->has_payload);
	ck_assert_uint_eq(t->payload.len, strlen("some payload"));
	ck_assert_mem_eq(t->payload.data, "some payload", t->payload.len);
	ck_assert_uint_eq(t->n_args, 1);
	ck_assert_str_eq(t->args[0], "a1");
	ck_assert_uint_eq(t->n_ctx, 1);
	ck_assert_str_eq(t->ctx[0]->key, "K");
	ck_assert_str_eq(t->ctx[0]->value, "v");
	ck_assert(!t->has_deadline_at);
	ck_assert(t->has_owner_uid);
	ck_assert_uint_eq(t->owner_uid, getuid());
	futured__task__free_unpacked(t, NULL);

	/* Nowhere to write it: said. */
	snprintf(path, sizeof(path), "%s/no/such/dir/42.3.task", dir);
	ck_assert_int_eq(oneshot_write_task(j, 3, path, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "no/such/dir"));
	free(cause);
	job_unref(j);
}
END_TEST

static Suite *
oneshot_suite(void)
{
	Suite	*s = suite_create("oneshot");
	TCase	*tc = tcase_create("oneshot");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_able);
	tcase_add_test(tc, test_link_check);
	tcase_add_test(tc, test_command_of_a_builtin);
	tcase_add_test(tc, test_task_file);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(oneshot_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
