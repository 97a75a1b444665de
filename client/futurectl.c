/*
 * futurectl: control futured(8) from the command line.
 *
 * futurectl never speaks the protocol itself: every request goes through
 * libfutured's public calls (fut_status, fut_wait_jobs, fut_watch_*, ...),
 * as lldpcli goes through liblldpctl, so the command line is the
 * library's first user and its best test.  One connection per run, made
 * on first use.
 *
 * Exit status: see INTERFACE.md and futurectl(1).  0 success, 1 a job
 * failed, 2 usage, 3 cancelled, 4 timed out, 5 not finished, 6 daemon
 * unreachable or protocol error, 7 no such job, 8 the output was cut.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "futured/futured.h"

#include "bar.h"
#include "buf.h"
#include "duration.h"
#include "sockpath.h"
#include "json.h"

#define EX_OK		0
#define EX_FAILED	1
#define EX_USAGE	2
#define EX_CANCELLED	3
#define EX_TIMEDOUT	4
#define EX_NOTREADY	5
#define EX_DAEMON	6
#define EX_NOTFOUND	7
#define EX_TRUNCATED	8

extern char	**environ;

static const char	*ctl_path;
static volatile sig_atomic_t	 run_sig;
static uint64_t		 run_job;
static void	run_die(int) __attribute__((noreturn));
static const char *vis(const char *);
static int		 ctl_json;
static int		 ctl_allow_truncated;
static struct fut_client *ctl_client;
static struct bar	 ctl_bar;	/* on a terminal: wait, watch, run */
static int		 ctl_out_tty;	/* stdout shares the bar's terminal */

static const char *const state_names[] = {
	"waiting", "queued", "running", "succeeded", "failed", "cancelled",
	"timed_out"
};

/* The summary: on stdout with exit 0 when asked for, else a usage error. */
static void __attribute__((noreturn))
usage_to(FILE *fp, int rc)
{
	fprintf(fp,
	    "usage: futurectl [-s path] [--json] command [argument ...]\n"
	    "commands:\n"
	    "  submit [options] handler [--] [arg ...]\n"
	    "  run [options] -- command [arg ...]\n"
	    "  status id ...\n"
	    "  wait [--any] [-t duration] [--progress] id ... | -g group\n"
	    "  result [--allow-truncated] id\n"
	    "  cancel [--grace duration] id ... | -g group\n"
	    "  watch [--allow-truncated] id ... | -g group\n"
	    "  logs [-f] [--stderr] id\n"
	    "  list [--state state] [-g group]\n"
	    "  group name [--fail-fast] [--parallel n]\n"
	    "  handlers\n"
	    "  stats\n"
	    "  metrics\n"
	    "  ping\n"
	    "submit and run options:\n"
	    "  -k kind  -t duration  --deadline duration  -a id[,id...]\n"
	    "  -i id  -g group  -p priority  -C key=value  -e key=value\n"
	    "  -d string  -D file  -r retries  --retry-delay duration\n"
	    "  --retry-timeouts  -n name  --engine local|slurm  -w\n"
	    "  --allow-truncated\n");
	exit(rc);
}

static void __attribute__((noreturn))
usage(void)
{
	usage_to(stderr, EX_USAGE);
}

/*
 * getopt_long() refused argv[optind - 1] (opterr is 0): name the option,
 * not the whole summary.  -h and --help anywhere print the summary.
 */
static void __attribute__((noreturn))
bad_option(const char *cmd, char **argv, const char *shortopts,
    const struct option *longopts)
{
	const char	*arg = argv[optind - 1], *sep = ": ";
	int		 islong = strncmp(arg, "--", 2) == 0;

	if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
		usage_to(stdout, EX_OK);
	if (cmd == NULL)
		cmd = sep = "";
	for (; islong && optopt != 0 && longopts != NULL &&
	    longopts->name != NULL; longopts++)
		if (longopts->val == optopt)
			errx(EX_USAGE, "%s%soption --%s needs a value", cmd,
			    sep, longopts->name);
	if (!islong && optopt != 0 && strchr(shortopts, optopt) != NULL)
		errx(EX_USAGE, "%s%soption -%c needs a value", cmd, sep,
		    optopt);
	if (!islong && optopt != 0)
		errx(EX_USAGE, "%s%sunknown option -%c (futurectl -h lists "
		    "them)", cmd, sep, optopt);
	errx(EX_USAGE, "%s%sunknown option %s (futurectl -h lists them)",
	    cmd, sep, vis(arg));
}

static const char *
state_name(enum fut_state s)
{
	return (fut_state_name(s));
}

static const char *
kind_name(enum fut_kind k)
{
	return (fut_kind_name(k));
}

static int
state_parse(const char *s, enum fut_state *st)
{
	size_t	 i;

	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*st = (enum fut_state)i;
			return (0);
		}
	}
	return (-1);
}

static int64_t
parse_duration(const char *s)
{
	int64_t	 ms;

	if (duration_parse(s, &ms) == -1)
		errx(EX_USAGE, "bad duration \"%s\" (want 250ms, 10s, 1.5m, "
		    "2h or a bare number of seconds)", s);
	return (ms);
}

static uint64_t
parse_id(const char *s)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	if (*s < '0' || *s > '9')
		errx(EX_USAGE, "bad job id \"%s\"", s);
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		errx(EX_USAGE, "bad job id \"%s\"", s);
	return (v);
}

static long long
parse_int(const char *s, long long min, long long max, const char *what)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		errx(EX_USAGE, "bad %s \"%s\"", what, s);
	return (v);
}

/* Exit status for a library error. */
static int
error_exit(int code)
{
	switch (code) {
	case FUT_ENOTFOUND:
	case FUT_EPERM:
		return (EX_NOTFOUND);
	case FUT_ENOTREADY:
		return (EX_NOTREADY);
	case FUT_EINVAL:
	case FUT_EHANDLER:
	case FUT_ETOOBIG:
		return (EX_USAGE);
	case FUT_EPROTO:
	case FUT_ESHUTDOWN:
	case FUT_ECONN:
		return (EX_DAEMON);
	default:
		return (EX_FAILED);
	}
}

/* Exit status of a final job, as wait, result and submit -w report it. */
static int
state_exit(enum fut_state s)
{
	switch (s) {
	case FUT_SUCCEEDED:
		return (EX_OK);
	case FUT_CANCELLED:
		return (EX_CANCELLED);
	case FUT_TIMED_OUT:
		return (EX_TIMEDOUT);
	case FUT_FAILED:
		return (EX_FAILED);
	default:
		return (EX_NOTREADY);
	}
}

static int
state_final(enum fut_state s)
{
	return ((int)s >= FUT_SUCCEEDED);
}

/* The connection, made on first use. */
static struct fut_client *
ctl_connect(void)
{
	struct sockaddr_un	 sun;
	static char		 def[sizeof(sun.sun_path)];

	if (ctl_client != NULL)
		return (ctl_client);
	if (ctl_path == NULL) {
		if (sockpath_default(def, sizeof(def)) == -1)
			errx(EX_DAEMON, "socket path too long");
		ctl_path = def;
	}
	if (sockpath_addr(ctl_path, &sun) == -1)
		errx(EX_DAEMON, "socket path too long: %s", ctl_path);
	if ((ctl_client = fut_connect(ctl_path)) == NULL) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			errx(EX_DAEMON, "cannot connect to %s: %s; is futured "
			    "running?", ctl_path, strerror(errno));
		err(EX_DAEMON, "cannot connect to %s", ctl_path);
	}
	return (ctl_client);
}

/* Exit with the message of the error rc, the last call's. */
static void __attribute__((noreturn))
ctl_fail(int rc)
{
	bar_end(&ctl_bar);
	errx(error_exit(rc), "%s", vis(fut_client_error(ctl_client)));
}

/* Output. */

/*
 * s made safe for one line of a terminal, as vis(1) does: control
 * characters (C0, DEL and C1), backslashes and bytes that are not UTF-8
 * become escapes (\n, \t, \\, \xHH), so that a name cannot break the
 * one-job-per-line output nor send escape sequences to the terminal.
 * The string lives until the eighth call after this one.
 */
static const char *
vis(const char *s)
{
	static char		*ring[8];
	static unsigned int	 next;
	const unsigned char	*p;
	char			*out, *o;
	size_t			 n, l;

	if (s == NULL)
		return (NULL);
	n = strlen(s);
	if ((out = malloc(4 * n + 1)) == NULL)
		err(EX_FAILED, NULL);
	for (p = (const unsigned char *)s, o = out; *p != '\0'; ) {
		l = utf8_seq(p, n - (size_t)((const char *)p - s));
		if (l > 1 && !(p[0] == 0xc2 && p[1] < 0xa0)) {
			memcpy(o, p, l);
			o += l;
			p += l;
			continue;
		}
		if (*p == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (*p == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (*p == '\t') {
			*o++ = '\\';
			*o++ = 't';
		} else if (l == 1 && *p >= 0x20 && *p != 0x7f)
			*o++ = *p;
		else {
			/* C1 in UTF-8: both bytes, one escape each. */
			o += sprintf(o, "\\x%02x", *p);
			if (l == 2)
				o += sprintf(o, "\\x%02x", *++p);
		}
		p++;
	}
	*o = '\0';
	free(ring[next]);
	ring[next] = out;
	next = (next + 1) % 8;
	return (out);
}

static void
write_all(int fd, const void *data, size_t len)
{
	const uint8_t	*p = data;
	ssize_t		 n;

	/* Output goes around the bar: off the line first. */
	if (ctl_bar.on && len > 0 && (fd == STDERR_FILENO || ctl_out_tty)) {
		bar_clear(&ctl_bar);
		bar_output(&ctl_bar, data, len);
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE && run_job != 0)
				run_die(SIGPIPE);
			err(EX_FAILED, "write");
		}
		p += n;
		len -= n;
	}
}

/* A job as one JSON object; out, when has_out, stands for its output. */
static void
json_job_output(const struct fut_info *ji, int has_out, const void *out,
    size_t outlen)
{
	struct json	 j;
	const char	*key, *val;
	const void	*p;
	size_t		 i, len;

	json_begin(&j, stdout);
	json_uint(&j, "id", fut_info_id(ji));
	json_string(&j, "state", state_name(fut_info_state(ji)));
	if (fut_info_has(ji, FUT_FIELD_KIND))
		json_string(&j, "kind", kind_name(fut_info_kind(ji)));
	else
		json_null(&j, "kind");
	json_text(&j, "handler", fut_info_handler(ji));
	json_text(&j, "name", fut_info_name(ji));
	json_text(&j, "group", fut_info_group(ji));
	if (fut_info_has(ji, FUT_FIELD_PROGRESS))
		json_double(&j, "progress", fut_info_progress(ji));
	else
		json_null(&j, "progress");
	json_text(&j, "progress_msg", fut_info_progress_msg(ji));
	if (fut_info_has(ji, FUT_FIELD_EXIT_STATUS))
		json_int(&j, "exit_status", fut_info_exit_status(ji));
	else
		json_null(&j, "exit_status");
	if (fut_info_has(ji, FUT_FIELD_SIGNAL))
		json_int(&j, "signal", fut_info_signal(ji));
	else
		json_null(&j, "signal");
	json_text(&j, "error", fut_info_error(ji));
	if (has_out)
		json_bytes(&j, "output", out, outlen);
	else
		json_null(&j, "output");
	if (fut_info_has(ji, FUT_FIELD_OUTPUT_TRUNCATED))
		json_bool(&j, "output_truncated",
		    fut_info_output_truncated(ji));
	if (fut_info_has(ji, FUT_FIELD_OUTPUT_SIZE))
		json_uint(&j, "output_size", fut_info_output_size(ji));
	if ((p = fut_info_stderr(ji, &len)) != NULL) {
		json_bytes(&j, "stderr", p, len);
		if (fut_info_has(ji, FUT_FIELD_STDERR_TRUNCATED))
			json_bool(&j, "stderr_truncated",
			    fut_info_stderr_truncated(ji));
	}
	json_array(&j, "after");
	for (i = 0; i < fut_info_nafter(ji); i++)
		json_uint(&j, NULL, fut_info_after(ji, i));
	json_array_end(&j);
	if (fut_info_has(ji, FUT_FIELD_INPUT_FROM))
		json_uint(&j, "input_from", fut_info_input_from(ji));
	else
		json_null(&j, "input_from");
	if (fut_info_has(ji, FUT_FIELD_SUBMITTED))
		json_time(&j, "submitted_at", fut_info_submitted_ms(ji));
	else
		json_null(&j, "submitted_at");
	if (fut_info_has(ji, FUT_FIELD_STARTED))
		json_time(&j, "started_at", fut_info_started_ms(ji));
	else
		json_null(&j, "started_at");
	if (fut_info_has(ji, FUT_FIELD_FINISHED))
		json_time(&j, "finished_at", fut_info_finished_ms(ji));
	else
		json_null(&j, "finished_at");
	if (fut_info_has(ji, FUT_FIELD_ATTEMPTS))
		json_uint(&j, "attempts", fut_info_attempts(ji));
	json_uint(&j, "retries", fut_info_retries(ji));
	json_string(&j, "ended", fut_info_ended(ji));
	json_string(&j, "engine", fut_info_engine(ji));
	json_string(&j, "slurm_job_id", fut_info_slurm_job_id(ji));
	if (fut_info_has(ji, FUT_FIELD_PARENT))
		json_uint(&j, "parent", fut_info_parent(ji));
	else
		json_null(&j, "parent");
	json_object(&j, "ctx");
	for (i = 0; i < fut_info_nctx(ji); i++) {
		key = fut_info_ctx(ji, i, &val);
		json_string(&j, key, val);
	}
	json_object_end(&j);
	if (fut_info_has(ji, FUT_FIELD_PRIORITY))
		json_int(&j, "priority", fut_info_priority(ji));
	json_array(&j, "args");
	for (i = 0; i < fut_info_nargs(ji); i++)
		json_string(&j, NULL, fut_info_arg(ji, i));
	json_array_end(&j);
	/* Arguments not UTF-8: all of them again, as their bytes. */
	for (i = 0; i < fut_info_nargs(ji); i++)
		if (!utf8_valid(fut_info_arg(ji, i), strlen(fut_info_arg(ji,
		    i))))
			break;
	if (i < fut_info_nargs(ji)) {
		json_array(&j, "args_base64");
		for (i = 0; i < fut_info_nargs(ji); i++)
			json_base64_string(&j, NULL, fut_info_arg(ji, i),
			    strlen(fut_info_arg(ji, i)));
		json_array_end(&j);
	}
	json_end(&j);
}

static void
json_job(const struct fut_info *ji)
{
	const void	*out;
	size_t		 len;

	out = fut_info_output(ji, &len);
	json_job_output(ji, out != NULL, out, len);
}

/* An instant as the local time of day, with the date if not today's. */
static void
time_format(int64_t ms, char *buf, size_t len)
{
	struct tm	 tm, today;
	time_t		 t = (time_t)(ms / 1000), now = time(NULL);

	if (localtime_r(&t, &tm) == NULL || localtime_r(&now, &today) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
		strftime(buf, len, "%H:%M:%S", &tm);
	else
		strftime(buf, len, "%m-%d", &tm);
}

/* A duration in two units at most: 12ms, 3.4s, 5m07s, 2h05m, 3d04h. */
static void
span_format(int64_t ms, char *buf, size_t len)
{
	int64_t	 s = ms / 1000;

	if (ms < 0)
		ms = s = 0;
	if (ms < 1000)
		snprintf(buf, len, "%lldms", (long long)ms);
	else if (s < 60)
		snprintf(buf, len, "%lld.%llds", (long long)s,
		    (long long)(ms % 1000 / 100));
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600),
		    (long long)(s / 60 % 60));
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400),
		    (long long)(s / 3600 % 24));
}

/*
 * The STARTED, FINISHED and TIME columns: when the last attempt started
 * and the job ended, and how long it ran (so far, while it runs).
 */
static void
print_job_times(const struct fut_info *ji)
{
	char		 started[32] = "-", finished[32] = "-";
	char		 span[32] = "-";
	int64_t		 from = 0, to = 0;
	struct timespec	 ts;

	if (fut_info_has(ji, FUT_FIELD_STARTED) &&
	    (from = fut_info_started_ms(ji)) > 0)
		time_format(from, started, sizeof(started));
	if (fut_info_has(ji, FUT_FIELD_FINISHED) &&
	    (to = fut_info_finished_ms(ji)) > 0)
		time_format(to, finished, sizeof(finished));
	if (from > 0 && to == 0 && fut_info_state(ji) == FUT_RUNNING) {
		clock_gettime(CLOCK_REALTIME, &ts);
		to = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	if (from > 0 && to >= from)
		span_format(to - from, span, sizeof(span));
	printf("%-8s %-8s %-7s ", started, finished, span);
}

/*
 * The COMMAND column: the job's arguments, quoted as a shell would need
 * them and escaped (vis()); "-" for none.
 */
static void
print_job_command(const struct fut_info *ji)
{
	const char	*a, *p;
	char		*seg;
	size_t		 i, n = fut_info_nargs(ji);

	if (n == 0) {
		fputc('-', stdout);
		return;
	}
	for (i = 0; i < n; i++) {
		a = fut_info_arg(ji, i);
		if (i > 0)
			fputc(' ', stdout);
		if (*a != '\0' && strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_./=:,+@%-") ==
		    strlen(a)) {
			fputs(a, stdout);
			continue;
		}
		/* 'it'\''s': each piece between quotes escaped whole. */
		for (;;) {
			if ((p = strchr(a, '\'')) == NULL)
				p = a + strlen(a);
			if ((seg = strndup(a, p - a)) == NULL)
				err(EX_FAILED, NULL);
			printf("'%s'", vis(seg));
			free(seg);
			if (*p == '\0')
				break;
			fputs("\\'", stdout);
			a = p + 1;
		}
	}
}

/* " waiting for 12, 13": the jobs a waiting job waits for. */
static void
print_waiting_for(const struct fut_info *ji, char *buf, size_t len)
{
	size_t		 i, n, na = fut_info_nafter(ji);
	uint64_t	 in = fut_info_input_from(ji);
	const char	*sep = " waiting for ";

	for (i = 0; i < na; i++) {
		n = strlen(buf);
		snprintf(buf + n, len - n, "%s%" PRIu64, sep,
		    fut_info_after(ji, i));
		sep = ", ";
		/* Its input from a job it waits for anyway: named once. */
		if (fut_info_after(ji, i) == in)
			in = 0;
	}
	if (in != 0) {
		n = strlen(buf);
		snprintf(buf + n, len - n, "%s%" PRIu64, sep, in);
	}
}

/* One line of status/list output. */
static void
print_job_line(const struct fut_info *ji)
{
	enum fut_state	 st = fut_info_state(ji);
	const char	*group, *ended, *handler, *name;
	char		 extra[160] = "";
	size_t		 n;

	if (fut_info_has(ji, FUT_FIELD_PROGRESS) && st == FUT_RUNNING)
		snprintf(extra, sizeof(extra), " %.0f%%",
		    fut_info_progress(ji) * 100);
	else if (fut_info_signal(ji) != 0)
		snprintf(extra, sizeof(extra), " signal %d",
		    fut_info_signal(ji));
	else if (fut_info_has(ji, FUT_FIELD_EXIT_STATUS) && state_final(st))
		snprintf(extra, sizeof(extra), " exit %d",
		    fut_info_exit_status(ji));
	n = strlen(extra);
	if (fut_info_retries(ji) > 0 && fut_info_has(ji, FUT_FIELD_ATTEMPTS))
		snprintf(extra + n, sizeof(extra) - n, " attempt %u/%u",
		    fut_info_attempts(ji), fut_info_retries(ji) + 1);
	n = strlen(extra);
	if (st == FUT_WAITING)
		print_waiting_for(ji, extra + n, sizeof(extra) - n);
	n = strlen(extra);
	if (state_final(st) && fut_info_output_truncated(ji))
		snprintf(extra + n, sizeof(extra) - n, " output truncated");
	n = strlen(extra);
	if ((group = fut_info_group(ji)) != NULL && *group != '\0')
		snprintf(extra + n, sizeof(extra) - n, " group %s",
		    vis(group));
	n = strlen(extra);
	if (fut_info_has(ji, FUT_FIELD_PARENT))
		snprintf(extra + n, sizeof(extra) - n, " parent %" PRIu64,
		    fut_info_parent(ji));
	n = strlen(extra);
	if ((ended = fut_info_ended(ji)) != NULL && state_final(st) &&
	    st != FUT_SUCCEEDED)
		snprintf(extra + n, sizeof(extra) - n, " (%s)", vis(ended));
	handler = vis(fut_info_handler(ji));
	name = vis(fut_info_name(ji));
	printf("%-8" PRIu64 " %-10s %-9s %-10s %-10s ", fut_info_id(ji),
	    state_name(st), fut_info_has(ji, FUT_FIELD_KIND) ?
	    kind_name(fut_info_kind(ji)) : "-",
	    handler != NULL && *handler != '\0' ? handler : "-",
	    name != NULL && *name != '\0' ? name : "-");
	print_job_times(ji);
	print_job_command(ji);
	/* After a shell comment's mark: the command is quoted, this not. */
	printf("%s%s\n", *extra != '\0' ? "  #" : "", extra);
}

/* The header of status and list, on a terminal only. */
static void
print_job_header(void)
{
	if (!isatty(STDOUT_FILENO))
		return;
	printf("%-8s %-10s %-9s %-10s %-10s %-8s %-8s %-7s %s\n", "ID",
	    "STATE", "KIND", "HANDLER", "NAME", "STARTED", "FINISHED",
	    "TIME", "COMMAND");
}

static void
print_job_error(const struct fut_info *ji)
{
	const char	*e = fut_info_error(ji);

	if (e != NULL && *e != '\0')
		fprintf(stderr, "futurectl: job %" PRIu64 " %s: %s\n",
		    fut_info_id(ji), state_name(fut_info_state(ji)), vis(e));
	else if (fut_info_state(ji) != FUT_SUCCEEDED)
		fprintf(stderr, "futurectl: job %" PRIu64 " %s\n",
		    fut_info_id(ji), state_name(fut_info_state(ji)));
}

/*
 * Say on stderr that job ji's output was cut, when cut; returns the exit
 * status rc becomes: EX_TRUNCATED for a job that otherwise succeeded,
 * unless --allow-truncated.
 */
static int
output_cut(const struct fut_info *ji, int cut, int rc)
{
	uint64_t	 kept = 0;

	if (!cut)
		return (rc);
	if (fut_info_has(ji, FUT_FIELD_OUTPUT_SIZE))
		kept = fut_info_output_size(ji);
	else
		(void)fut_client_limit(ctl_connect(), FUT_LIMIT_OUTPUT, &kept);
	warnx("job %" PRIu64 ": output truncated: futured kept only its "
	    "first %" PRIu64 " bytes (futured --max-output)%s",
	    fut_info_id(ji), kept, ctl_allow_truncated || rc != EX_OK ? "" :
	    "; --allow-truncated accepts that");
	return (rc == EX_OK && !ctl_allow_truncated ? EX_TRUNCATED : rc);
}

/*
 * A command's stderr, as the daemon kept it: its tail, marked as such
 * when it fills what the daemon keeps.
 */
static void
print_stderr(const struct fut_info *ji, int raw)
{
	const void	*p;
	uint64_t	 keep;
	size_t		 len;

	if ((p = fut_info_stderr(ji, &len)) == NULL || len == 0)
		return;
	/* Older daemons do not say: a tail as long as the limit was cut. */
	if (fut_info_has(ji, FUT_FIELD_STDERR_TRUNCATED) ?
	    fut_info_stderr_truncated(ji) :
	    (fut_client_limit(ctl_connect(), FUT_LIMIT_STDERR_TAIL,
	    &keep) == 0 && len >= keep)) {
		fflush(stderr);
		warnx("job %" PRIu64 ": only the last %zu bytes of its "
		    "stderr were kept:", fut_info_id(ji), len);
	}
	fflush(stderr);
	write_all(STDERR_FILENO, p, len);
	if (!raw && ((const char *)p)[len - 1] != '\n')
		write_all(STDERR_FILENO, "\n", 1);
}

/* The outcome of a final job: output to stdout, error to stderr. */
static int
print_outcome(const struct fut_info *ji)
{
	const void	*out;
	size_t		 len;

	if (ctl_json)
		json_job(ji);
	else {
		if ((out = fut_info_output(ji, &len)) != NULL && len > 0)
			write_all(STDOUT_FILENO, out, len);
		if (fut_info_state(ji) != FUT_SUCCEEDED)
			print_stderr(ji, 0);
		print_job_error(ji);
	}
	return (output_cut(ji, fut_info_output_truncated(ji),
	    state_exit(fut_info_state(ji))));
}

/* One line on stderr for a change of state or progress. */
static void
print_progress(const struct fut_info *ji)
{
	enum fut_state	 st = fut_info_state(ji);
	const char	*msg = fut_info_progress_msg(ji);

	fprintf(stderr, "futurectl: job %" PRIu64 " %s", fut_info_id(ji),
	    state_name(st));
	if (fut_info_has(ji, FUT_FIELD_PROGRESS) && st == FUT_RUNNING)
		fprintf(stderr, " %.0f%%", fut_info_progress(ji) * 100);
	if (msg != NULL && *msg != '\0' && !state_final(st))
		fprintf(stderr, " %s", vis(msg));
	fputc('\n', stderr);
}

/*
 * Progress on a terminal: the jobs wait --progress, watch and run
 * follow, drawn as one bar (bar.c) on stderr.  One job shows its state,
 * progress and message; several show how many are done, their mean
 * progress (a final job counts whole; 100% only once all are) and the
 * latest message, with its
 * job.  Elapsed counts from the earliest start (or submission, for a
 * job not started) of the jobs not yet final, and so the ETA.
 */
struct ctl_job {
	uint64_t	 id;
	enum fut_state	 state;
	double		 progress;	/* < 0: none said */
	char		*msg;
	int64_t		 since_ms;	/* started, else submitted; 0: unknown */
	int		 final;
	/* watch: output taken so far, and a line not yet ended */
	uint64_t	 got;
	struct buf	 part;
	/* watch without a bar: what its last line on stderr said */
	int		 told_state;
	double		 told_progress;
};

static struct ctl_job	*ctl_jobs;
static size_t		 ctl_njobs;
static uint64_t		 ctl_msg_job;	/* whose message the bar shows */

static int
ctl_job_cmp(const void *a, const void *b)
{
	const struct ctl_job	*x = a, *y = b;

	return (x->id < y->id ? -1 : x->id > y->id);
}

/* Follow ids (duplicates once); the bar is drawn if stderr can. */
static void
ctl_jobs_begin(const uint64_t *ids, size_t n)
{
	size_t	 i, k;

	bar_init(&ctl_bar, STDERR_FILENO, !ctl_json &&
	    bar_wanted(STDERR_FILENO, getenv("TERM")), bar_now());
	ctl_out_tty = isatty(STDOUT_FILENO);
	if (n > 0 && (ctl_jobs = calloc(n, sizeof(*ctl_jobs))) == NULL)
		err(EX_FAILED, NULL);
	for (i = 0; i < n; i++) {
		ctl_jobs[i].id = ids[i];
		ctl_jobs[i].progress = -1;
		ctl_jobs[i].state = FUT_QUEUED;
		ctl_jobs[i].told_state = -1;
		ctl_jobs[i].told_progress = -1;
	}
	qsort(ctl_jobs, n, sizeof(*ctl_jobs), ctl_job_cmp);
	for (i = k = 0; i < n; i++) {
		if (k > 0 && ctl_jobs[k - 1].id == ctl_jobs[i].id)
			continue;
		ctl_jobs[k++] = ctl_jobs[i];
	}
	ctl_njobs = k;
}

static struct ctl_job *
ctl_job_find(uint64_t id)
{
	struct ctl_job	 key;

	key.id = id;
	return (bsearch(&key, ctl_jobs, ctl_njobs, sizeof(*ctl_jobs),
	    ctl_job_cmp));
}

static void
ctl_jobs_end(void)
{
	size_t	 i;

	bar_end(&ctl_bar);
	for (i = 0; i < ctl_njobs; i++) {
		free(ctl_jobs[i].msg);
		buf_reset(&ctl_jobs[i].part);
	}
	free(ctl_jobs);
	ctl_jobs = NULL;
	ctl_njobs = 0;
}

/* The bar's view of the jobs now. */
static void
ctl_jobs_view(void)
{
	struct ctl_job	*cj, *m = NULL;
	struct timespec	 ts;
	char		 label[64], *msg = NULL;
	double		 sum = 0, fraction;
	int64_t		 since = 0, wall, origin;
	size_t		 i, done = 0;

	if (ctl_njobs == 0 || !ctl_bar.on)
		return;
	for (i = 0; i < ctl_njobs; i++) {
		cj = &ctl_jobs[i];
		if (cj->final)
			done++;
		sum += cj->final ? 1 : cj->progress > 0 ? cj->progress : 0;
		/* Jobs long done would make the clock and the ETA lie. */
		if (!cj->final && cj->since_ms > 0 &&
		    (since == 0 || cj->since_ms < since))
			since = cj->since_ms;
		if (cj->id == ctl_msg_job && !cj->final && cj->msg != NULL)
			m = cj;
	}
	if (ctl_njobs == 1) {
		cj = &ctl_jobs[0];
		snprintf(label, sizeof(label), "%s", state_name(cj->state));
		fraction = cj->state == FUT_SUCCEEDED ? 1 : cj->progress;
		if (cj->msg != NULL && (msg = strdup(cj->msg)) == NULL)
			err(EX_FAILED, NULL);
	} else {
		snprintf(label, sizeof(label), "%zu/%zu done", done,
		    ctl_njobs);
		fraction = bar_mean(sum, done, ctl_njobs);
		if (m != NULL && asprintf(&msg, "[%" PRIu64 "] %s", m->id,
		    m->msg) == -1)
			err(EX_FAILED, NULL);
	}
	origin = ctl_bar.has_view ? ctl_bar.origin : ctl_bar.born;
	if (since > 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		wall = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		origin = bar_now() - (wall - since);
	}
	bar_set(&ctl_bar, label, fraction, msg, origin);
	free(msg);
}

/* A job's news (ji from an event): into the bar, drawn if due and draw. */
static void
ctl_jobs_note(const struct fut_info *ji, int draw)
{
	struct ctl_job	*cj;
	const char	*msg;

	if (ji == NULL || (cj = ctl_job_find(fut_info_id(ji))) == NULL)
		return;
	cj->state = fut_info_state(ji);
	cj->final = state_final(cj->state);
	if (fut_info_has(ji, FUT_FIELD_PROGRESS))
		cj->progress = fut_info_progress(ji);
	msg = fut_info_progress_msg(ji);
	if (msg != NULL && *msg != '\0' && (cj->msg == NULL ||
	    strcmp(cj->msg, msg) != 0)) {
		free(cj->msg);
		if ((cj->msg = strdup(msg)) == NULL)
			err(EX_FAILED, NULL);
		ctl_msg_job = cj->id;
	}
	if (fut_info_has(ji, FUT_FIELD_STARTED) && fut_info_started_ms(ji) > 0)
		cj->since_ms = fut_info_started_ms(ji);
	else if (cj->since_ms == 0 && fut_info_has(ji, FUT_FIELD_SUBMITTED))
		cj->since_ms = fut_info_submitted_ms(ji);
	ctl_jobs_view();
	if (draw)
		(void)bar_tick(&ctl_bar, bar_now());
}

/*
 * How long the next wait for events may last: until the bar is due,
 * or timeout_ms (-1: for ever), whichever comes first.
 */
static int64_t
ctl_jobs_timeout(int64_t timeout_ms)
{
	int64_t	 due = bar_due(&ctl_bar, bar_now());

	if (due < 0 || (timeout_ms >= 0 && timeout_ms < due))
		return (timeout_ms);
	return (due);
}

/* Commands. */

static void
not_implemented(const char *what)
{
	errx(EX_USAGE, "%s: not implemented yet", what);
}

/* KEY=VALUE options, in order; a key given again replaces its value. */
struct kv {
	char	*key;
	char	*value;
};

struct kvlist {
	struct kv	*v;
	size_t		 n;
};

static void
kv_set(struct kvlist *l, const char *key, size_t keylen, const char *value)
{
	struct kv	*v;
	char		*k, *val;
	size_t		 i;

	if ((k = strndup(key, keylen)) == NULL ||
	    (val = strdup(value)) == NULL)
		err(EX_FAILED, NULL);
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, k) == 0) {
			free(k);
			free(l->v[i].value);
			l->v[i].value = val;
			return;
		}
	}
	if ((v = reallocarray(l->v, l->n + 1, sizeof(*v))) == NULL)
		err(EX_FAILED, NULL);
	v[l->n].key = k;
	v[l->n].value = val;
	l->v = v;
	l->n++;
}

static void
kv_free(struct kvlist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* "KEY=VALUE" from an option; exits with a usage error otherwise. */
static void
kv_option(struct kvlist *l, const char *arg, const char *what, int strict)
{
	const char	*eq, *p;

	if ((eq = strchr(arg, '=')) == NULL || eq == arg)
		errx(EX_USAGE, "bad %s \"%s\": want KEY=VALUE", what, arg);
	if (strict) {
		for (p = arg; p < eq; p++) {
			if (!((*p >= 'A' && *p <= 'Z') ||
			    (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == '_'))
				errx(EX_USAGE, "bad %s key \"%.*s\": use "
				    "[A-Za-z0-9_]", what, (int)(eq - arg),
				    arg);
		}
	}
	kv_set(l, arg, eq - arg, eq + 1);
}

/*
 * The options of submit and run, parsed before the handler is known;
 * spec_build() makes the libfutured spec of them.
 */
struct opts {
	int		 has_kind;
	enum fut_kind	 kind;
	int64_t		 timeout_ms;	/* -1: none given */
	int64_t		 deadline_ms;
	int64_t		 retry_delay_ms;
	int		 retry_timeouts;
	const char	*engine;	/* NULL: the daemon's choice */
	uint64_t	*after;
	size_t		 nafter;
	uint64_t	 input_from;
	const char	*group;
	int		 has_priority;
	int		 priority;
	struct kvlist	 ctx;
	struct kvlist	 env;
	int		 have_data;
	struct buf	 data;
	int		 has_retries;
	unsigned int	 retries;
	const char	*name;
	int		 wait;
};

static void
opts_free(struct opts *o)
{
	free(o->after);
	kv_free(&o->ctx);
	kv_free(&o->env);
	buf_reset(&o->data);
}

static void
read_data_file(struct opts *o, const char *path)
{
	uint8_t		 chunk[65536];
	ssize_t		 n;
	int		 fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(EX_USAGE, "%s", path);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			err(EX_FAILED, "%s", path);
		if (n == 0)
			break;
		if (buf_append(&o->data, chunk, n) == -1)
			err(EX_FAILED, NULL);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	o->have_data = 1;
}

static void
parse_after(struct opts *o, const char *arg)
{
	char		*copy, *tok, *save = NULL;
	uint64_t	*v;

	if ((copy = strdup(arg)) == NULL)
		err(EX_FAILED, NULL);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		v = reallocarray(o->after, o->nafter + 1, sizeof(*v));
		if (v == NULL)
			err(EX_FAILED, NULL);
		v[o->nafter++] = parse_id(tok);
		o->after = v;
	}
	if (o->nafter == 0)
		errx(EX_USAGE, "bad job id list \"%s\"", arg);
	free(copy);
}

/*
 * Parse submit/run options from argv (argv[0] is the command name).
 * Returns the index of the first non-option argument.
 */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option	 opts[] = {
		{ "kind",	required_argument, NULL, 'k' },
		{ "timeout",	required_argument, NULL, 't' },
		{ "deadline",	required_argument, NULL, 'L' },
		{ "after",	required_argument, NULL, 'a' },
		{ "input-from",	required_argument, NULL, 'i' },
		{ "group",	required_argument, NULL, 'g' },
		{ "priority",	required_argument, NULL, 'p' },
		{ "ctx",	required_argument, NULL, 'C' },
		{ "env",	required_argument, NULL, 'e' },
		{ "data",	required_argument, NULL, 'd' },
		{ "data-file",	required_argument, NULL, 'D' },
		{ "retries",	required_argument, NULL, 'r' },
		{ "retry-delay", required_argument, NULL, 'Y' },
		{ "retry-timeouts", no_argument,   NULL, 'T' },
		{ "name",	required_argument, NULL, 'n' },
		{ "engine",	required_argument, NULL, 'E' },
		{ "wait",	no_argument,	   NULL, 'w' },
		{ "progress",	no_argument,	   NULL, 'P' },
		{ "allow-truncated", no_argument,  NULL, 'W' },
		{ NULL,		0,		   NULL, 0 }
	};
	int	 ch;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = o->deadline_ms = o->retry_delay_ms = -1;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+k:t:a:i:g:p:C:e:d:D:r:n:w",
	    opts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			if (strcmp(optarg, "async") == 0)
				o->kind = FUT_ASYNC;
			else if (strcmp(optarg, "blocking") == 0)
				o->kind = FUT_BLOCKING;
			else if (strcmp(optarg, "cpu") == 0)
				o->kind = FUT_CPU;
			else
				errx(EX_USAGE, "bad kind \"%s\": use async, "
				    "blocking or cpu", optarg);
			o->has_kind = 1;
			break;
		case 't':
			o->timeout_ms = parse_duration(optarg);
			break;
		case 'L':
			o->deadline_ms = parse_duration(optarg);
			break;
		case 'a':
			parse_after(o, optarg);
			break;
		case 'i':
			o->input_from = parse_id(optarg);
			break;
		case 'g':
			if (*optarg == '\0')
				errx(EX_USAGE, "bad group \"\"");
			o->group = optarg;
			break;
		case 'p':
			o->priority = parse_int(optarg, -20, 20, "priority");
			o->has_priority = 1;
			break;
		case 'C':
			kv_option(&o->ctx, optarg, "context", 1);
			break;
		case 'e':
			kv_option(&o->env, optarg, "environment", 0);
			break;
		case 'd':
			if (o->have_data)
				errx(EX_USAGE, "give one of -d and -D");
			if (buf_append(&o->data, optarg, strlen(optarg)) == -1)
				err(EX_FAILED, NULL);
			o->have_data = 1;
			break;
		case 'D':
			if (o->have_data)
				errx(EX_USAGE, "give one of -d and -D");
			read_data_file(o, optarg);
			break;
		case 'r':
			o->retries = parse_int(optarg, 0, UINT32_MAX,
			    "retries");
			o->has_retries = 1;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'E':
			o->engine = optarg;
			break;
		case 'Y':
			o->retry_delay_ms = parse_duration(optarg);
			break;
		case 'T':
			o->retry_timeouts = 1;
			break;
		case 'w':
			o->wait = 1;
			break;
		case 'P':
			not_implemented("--progress");
			break;
		case 'W':
			ctl_allow_truncated = 1;
			break;
		default:
			bad_option(argv[0], argv,
			    "k:t:a:i:g:p:C:e:d:D:r:n:w", opts);
		}
	}
	return (optind);
}

/* A spec setter failed: only memory or a limit can make it. */
static void
spec_check(int rc, const char *what)
{
	if (rc == FUT_ETOOBIG)
		errx(EX_USAGE, "%s too big", what);
	if (rc != 0)
		errx(EX_FAILED, "%s: %s", what, fut_strerror(rc));
}

/*
 * The spec of handler with options o and arguments argv.  An exec job
 * gets the caller's working directory and environment, the -e entries
 * on top (as at(1) does); other handlers get the -e entries alone, and
 * the directory when they have arguments.
 */
static struct fut_spec *
spec_build(const char *handler, struct opts *o, int argc, char **argv)
{
	struct fut_spec	*s;
	char		**e, *eq, *key, *cwd;
	size_t		 i;

	if ((s = fut_spec_new(handler)) == NULL) {
		if (*handler == '\0')
			errx(EX_USAGE, "bad handler \"\"");
		err(EX_FAILED, NULL);
	}
	if (o->has_kind)
		spec_check(fut_spec_kind(s, o->kind), "kind");
	if (o->timeout_ms >= 0)
		spec_check(fut_spec_timeout_ms(s, o->timeout_ms), "timeout");
	if (o->deadline_ms >= 0)
		spec_check(fut_spec_deadline_ms(s, o->deadline_ms),
		    "deadline");
	for (i = 0; i < o->nafter; i++)
		spec_check(fut_spec_after(s, o->after[i]), "after");
	if (o->input_from != 0)
		spec_check(fut_spec_input_from(s, o->input_from),
		    "input-from");
	if (o->group != NULL)
		spec_check(fut_spec_group(s, o->group), "group");
	if (o->has_priority)
		spec_check(fut_spec_priority(s, o->priority), "priority");
	for (i = 0; i < o->ctx.n; i++)
		spec_check(fut_spec_ctx(s, o->ctx.v[i].key,
		    o->ctx.v[i].value), "context");
	if (o->have_data)
		spec_check(fut_spec_payload(s, o->data.data, o->data.len),
		    "payload");
	if (o->has_retries)
		spec_check(fut_spec_retries(s, o->retries), "retries");
	if (o->retry_delay_ms >= 0)
		spec_check(fut_spec_retry_delay_ms(s, o->retry_delay_ms),
		    "retry delay");
	if (o->retry_timeouts)
		spec_check(fut_spec_retry_timeouts(s, 1), "retry-timeouts");
	if (o->name != NULL)
		spec_check(fut_spec_name(s, o->name), "name");
	if (o->engine != NULL)
		spec_check(fut_spec_engine(s, o->engine), "engine");
	for (i = 0; i < (size_t)argc; i++)
		spec_check(fut_spec_arg(s, argv[i]), "argument");
	if (strcmp(handler, "exec") == 0) {
		for (e = environ; *e != NULL; e++) {
			if ((eq = strchr(*e, '=')) == NULL || eq == *e)
				continue;
			if ((key = strndup(*e, eq - *e)) == NULL)
				err(EX_FAILED, NULL);
			spec_check(fut_spec_env(s, key, eq + 1), "environment");
			free(key);
		}
	}
	/* Relative paths among the arguments mean the caller's directory. */
	if (strcmp(handler, "exec") == 0 || argc > 0) {
		if ((cwd = getcwd(NULL, 0)) == NULL)
			err(EX_FAILED, "getcwd");
		spec_check(fut_spec_cwd(s, cwd), "directory");
		free(cwd);
	}
	for (i = 0; i < o->env.n; i++)
		spec_check(fut_spec_env(s, o->env.v[i].key, o->env.v[i].value),
		    "environment");
	return (s);
}

/* Submit s; returns the job's id. */
static uint64_t
submit_spec(struct fut_spec *s)
{
	struct fut_client	*c = ctl_connect();
	struct fut_future	*f;
	uint64_t		 id;

	if ((f = fut_submit(c, s)) == NULL)
		ctl_fail(fut_client_errcode(c));
	id = fut_id(f);
	fut_future_free(f);
	return (id);
}

/* The final info of job id, output included, once it has ended. */
static struct fut_info *
final_info(uint64_t id)
{
	struct fut_client	*c = ctl_connect();
	struct fut_infos	*l;
	struct fut_info		*ji;
	int			 rc;

	if ((rc = fut_wait_jobs(c, &id, 1, NULL, 0, -1, &l, NULL)) != 0)
		ctl_fail(rc);
	fut_infos_free(l);
	if ((rc = fut_result(c, id, &ji)) != 0)
		ctl_fail(rc);
	return (ji);
}

static int
cmd_submit(int argc, char **argv)
{
	struct fut_client	*c;
	struct fut_spec		*s;
	struct fut_info		*ji;
	struct opts		 o;
	const char		*handler;
	const void		*out;
	size_t			 len;
	uint64_t		 id;
	int			 i, rc;

	i = parse_opts(argc, argv, &o);
	if (i >= argc)
		errx(EX_USAGE, "submit: no handler");
	handler = argv[i++];
	/* submit echo -d x: an option meant for submit, not an argument. */
	if (i < argc && argv[i][0] == '-' && argv[i][1] != '\0' &&
	    strcmp(argv[i], "--") != 0)
		errx(EX_USAGE, "submit: option %s after the handler: give "
		    "options before %s, and arguments that start with - "
		    "after --", vis(argv[i]), vis(handler));
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	s = spec_build(handler, &o, argc - i, argv + i);
	id = submit_spec(s);
	fut_spec_free(s);
	if (!o.wait) {
		opts_free(&o);
		if (!ctl_json) {
			printf("%" PRIu64 "\n", id);
			return (EX_OK);
		}
		c = ctl_connect();
		if ((rc = fut_status(c, id, &ji)) == 0) {
			json_job(ji);
			fut_info_free(ji);
		} else if (rc != FUT_ENOTFOUND)
			ctl_fail(rc);
		return (EX_OK);
	}
	opts_free(&o);
	ji = final_info(id);
	rc = print_outcome(ji);
	/* On a terminal, the prompt comes on a line of its own. */
	if (!ctl_json && isatty(STDOUT_FILENO) &&
	    (out = fut_info_output(ji, &len)) != NULL && len > 0 &&
	    ((const char *)out)[len - 1] != '\n')
		write_all(STDOUT_FILENO, "\n", 1);
	fut_info_free(ji);
	return (rc);
}

/*
 * Whether a stream of got bytes of job ji's output missed some: the
 * daemon cut what it keeps, and the stream carried no more than that (a
 * daemon that streams beyond what it keeps sends it all).
 */
static int
stream_cut(const struct fut_info *ji, uint64_t got)
{
	if (!fut_info_output_truncated(ji))
		return (0);
	return (!fut_info_has(ji, FUT_FIELD_OUTPUT_SIZE) ||
	    got <= fut_info_output_size(ji));
}

/*
 * run owns its job as a shell owns its command: SIGINT, SIGTERM and
 * SIGHUP, or a reader that went away (EPIPE, or a pipe on stdout that
 * lost its reader), cancel the job, and run dies of that signal (of
 * SIGPIPE for the pipe) as the command would have.  A signal ignored
 * when futurectl started (a background job of a script, nohup) stays
 * ignored.  The handler only notes the signal and wakes run's poll.
 */
static int			 run_sigfd[2] = { -1, -1 };

static void
run_signal_cb(int sig)
{
	int	 saved = errno;

	if (run_sig == 0)
		run_sig = sig;
	(void)write(run_sigfd[1], "", 1);
	errno = saved;
}

static void
run_signals(void)
{
	static const int	 sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction	 sa, old;
	size_t			 i;

	if (pipe2(run_sigfd, O_CLOEXEC | O_NONBLOCK) == -1)
		err(EX_FAILED, "pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = run_signal_cb;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
	/* A write to a gone reader is an EPIPE that cancels the job. */
	signal(SIGPIPE, SIG_IGN);
}

/* Cancel run's job, then die of sig as its command would have. */
static void
run_die(int sig)
{
	struct fut_cancels	*cs;
	sigset_t		 set;
	uint64_t		 id = run_job;

	run_job = 0;
	bar_end(&ctl_bar);
	if (id != 0 && ctl_client != NULL &&
	    fut_cancel_jobs(ctl_client, &id, 1, NULL, -1, &cs) == 0)
		fut_cancels_free(cs);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

/*
 * run's next event: the client's fd, the signal pipe and a pipe on
 * stdout are polled together, so that a signal or a reader gone ends
 * the wait at once.
 */
static struct fut_event *
run_next(struct fut_client *c, struct fut_watch *w)
{
	struct fut_event	*ev;
	struct pollfd		 pfd[3];
	struct stat		 sb;
	nfds_t			 n = 2;
	int			 rc;

	pfd[0].fd = fut_client_fd(c);
	pfd[0].events = POLLIN;
	pfd[1].fd = run_sigfd[0];
	pfd[1].events = POLLIN;
	/* A pipe's writer hears of its reader's end as POLLERR. */
	if (fstat(STDOUT_FILENO, &sb) == 0 && (S_ISFIFO(sb.st_mode) ||
	    S_ISSOCK(sb.st_mode))) {
		pfd[2].fd = STDOUT_FILENO;
		pfd[2].events = 0;
		n = 3;
	}
	for (;;) {
		if (run_sig != 0)
			run_die(run_sig);
		if ((rc = fut_watch_next(w, 0, &ev)) == 1)
			return (ev);
		if (rc != FUT_ETIMEDOUT)
			ctl_fail(rc == 0 ? FUT_EPROTO : rc);
		(void)bar_tick(&ctl_bar, bar_now());
		if (poll(pfd, n, (int)ctl_jobs_timeout(-1)) == -1) {
			if (errno == EINTR)
				continue;
			err(EX_FAILED, "poll");
		}
		if (n == 3 && (pfd[2].revents & (POLLERR | POLLHUP)))
			run_die(SIGPIPE);
		if (pfd[0].revents != 0)
			(void)fut_client_dispatch(c);
	}
}

/*
 * Whether run should print why its job failed: unless the command exited
 * non-zero by itself, which its exit status says (and its own stderr,
 * if it cared to); a command not found, a signal, a timeout or a cancel
 * are said, as a shell would.
 */
static int
run_says_why(const struct fut_info *ji)
{
	const char	*e = fut_info_error(ji);
	char		 mine[64];

	if (fut_info_state(ji) == FUT_SUCCEEDED)
		return (0);
	if (fut_info_has(ji, FUT_FIELD_EXIT_STATUS) && e != NULL) {
		snprintf(mine, sizeof(mine), "exited with status %d",
		    fut_info_exit_status(ji));
		if (strcmp(e, mine) == 0)
			return (0);
	}
	return (1);
}

/* run's command's stderr, its own bytes: all of it, or its tail, marked. */
static void
run_stderr(const struct fut_info *ji)
{
	print_stderr(ji, 1);
}

/*
 * run: exec the command and exit as it exits.  Its stdout and stderr are
 * streamed as they come, all of them (a watch from the job's start); a
 * daemon that streams no stderr has its kept tail written at the end.
 */
static int
cmd_run(int argc, char **argv)
{
	struct fut_client	*c;
	struct fut_spec		*s;
	struct fut_info		*own = NULL;
	const struct fut_info	*ji;
	struct fut_watch	*w;
	struct fut_event	*ev = NULL;
	struct opts		 o;
	const void		*out;
	size_t			 len;
	struct stat		 sb;
	uint64_t		 id, got = 0, dropped = 0, errdropped = 0;
	int			 i, rc, cut, errstreamed = 0;

	i = parse_opts(argc, argv, &o);
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		errx(EX_USAGE, "run: no command");
	/*
	 * A pipe or a file on stdin goes to the command, as it would have
	 * in the shell (whole: the protocol has no stream for it); a
	 * terminal, /dev/null or a socket does not.
	 */
	if (!o.have_data && o.input_from == 0 &&
	    fstat(STDIN_FILENO, &sb) == 0 && (S_ISFIFO(sb.st_mode) ||
	    S_ISREG(sb.st_mode)))
		read_data_file(&o, "-");
	s = spec_build("exec", &o, argc - i, argv + i);
	opts_free(&o);
	run_signals();
	/*
	 * Stream what the command writes as it writes it (--json: at the
	 * end), watched from its start: a fast command's output cannot
	 * pass before the watch.
	 */
	c = ctl_connect();
	if ((w = fut_submit_watch(c, s, ctl_json ? FUT_WATCH_PROGRESS : 0,
	    &id)) == NULL)
		ctl_fail(fut_client_errcode(c));
	fut_spec_free(s);
	run_job = id;
	if (run_sig != 0)
		run_die(run_sig);
	ctl_jobs_begin(&id, 1);
	for (;;) {
		ev = run_next(c, w);
		if ((out = fut_event_output(ev, &len)) != NULL && len > 0) {
			write_all(STDOUT_FILENO, out, len);
			got += len;
		}
		dropped += fut_event_output_dropped(ev);
		if ((out = fut_event_stderr(ev, &len)) != NULL) {
			errstreamed = 1;
			if (len > 0)
				write_all(STDERR_FILENO, out, len);
		}
		errdropped += fut_event_stderr_dropped(ev);
		if (fut_event_final(ev))
			break;
		/* After the output: the bar is drawn below it. */
		ctl_jobs_note(fut_event_info(ev), 1);
		fut_event_free(ev);
	}
	fut_watch_close(w);
	ctl_jobs_end();
	ji = fut_event_info(ev);
	if (ctl_json) {
		fut_event_free(ev);
		ev = NULL;
		if ((rc = fut_result(c, id, &own)) != 0)
			ctl_fail(rc);
		ji = own;
		json_job(ji);
		cut = fut_info_output_truncated(ji);
	} else {
		cut = stream_cut(ji, got) || dropped > 0;
		if (dropped > 0)
			warnx("job %" PRIu64 ": %" PRIu64 " bytes of its output "
			    "were dropped (its reader read too slowly)", id,
			    dropped);
		if (errdropped > 0)
			warnx("job %" PRIu64 ": %" PRIu64 " bytes of its stderr "
			    "were dropped (its reader read too slowly)", id,
			    errdropped);
		if (!errstreamed)
			run_stderr(ji);
	}
	/* The job is over: a signal now is futurectl's own. */
	run_job = 0;
	/* As timeout(1) and the shell report it. */
	if (fut_info_state(ji) == FUT_TIMED_OUT)
		rc = 124;
	else if (fut_info_signal(ji) > 0)
		rc = 128 + fut_info_signal(ji);
	else if (fut_info_has(ji, FUT_FIELD_EXIT_STATUS))
		rc = fut_info_exit_status(ji) & 0xff;
	else if (fut_info_state(ji) == FUT_SUCCEEDED)
		rc = 0;
	else
		rc = 1;
	if (!ctl_json && run_says_why(ji))
		print_job_error(ji);
	rc = output_cut(ji, cut, rc);
	fut_event_free(ev);
	fut_info_free(own);
	return (rc);
}

/*
 * status --json of job id, with the output of a final job: a wait that
 * does not wait (timeout 0) and carries outputs.  0 or the error.
 */
static int
status_json(struct fut_client *c, uint64_t id)
{
	struct fut_infos	*l;
	int			 r;

	r = fut_wait_jobs(c, &id, 1, NULL, FUT_WAIT_OUTPUT, 0, &l, NULL);
	if (r != 0 && r != FUT_ETIMEDOUT)
		return (r);
	if (fut_infos_count(l) > 0)
		json_job(fut_infos_at(l, 0));
	fut_infos_free(l);
	return (0);
}

static int
cmd_status(int argc, char **argv)
{
	struct fut_client	*c;
	struct fut_info		*ji;
	uint64_t		*ids;
	int			 i, n, r, rc = EX_OK;

	if (argc < 2)
		errx(EX_USAGE, "status: no job id");
	n = argc - 1;
	if ((ids = calloc(n, sizeof(*ids))) == NULL)
		err(EX_FAILED, NULL);
	for (i = 0; i < n; i++)
		ids[i] = parse_id(argv[i + 1]);
	c = ctl_connect();
	/* One unknown id spoils none of the others. */
	for (i = 0; i < n; i++) {
		if (ctl_json) {
			r = status_json(c, ids[i]);
			if (r == FUT_ENOTFOUND || r == FUT_EPERM) {
				warnx("no such job: %" PRIu64, ids[i]);
				rc = EX_NOTFOUND;
			} else if (r != 0)
				ctl_fail(r);
			continue;
		}
		r = fut_status(c, ids[i], &ji);
		if (r == FUT_ENOTFOUND || r == FUT_EPERM) {
			warnx("no such job: %" PRIu64, ids[i]);
			rc = EX_NOTFOUND;
			continue;
		}
		if (r != 0)
			ctl_fail(r);
		if (i == 0)
			print_job_header();
		print_job_line(ji);
		fut_info_free(ji);
	}
	free(ids);
	return (rc);
}

/*
 * wait --progress: watch each job (progress only) until the wait is due,
 * with a bar on a terminal, else a line on stderr for each change;
 * returns what is left of timeout_ms.
 */
static int64_t
wait_progress(const uint64_t *ids, size_t n, int any, int64_t timeout_ms)
{
	struct fut_client	*c = ctl_connect();
	struct fut_watch	*w;
	struct fut_event	*ev;
	struct timespec		 ts;
	int64_t			 now, deadline = -1, left = -1, t;
	size_t			 i;
	int			 rc, done = 0;

	if (n == 0)
		return (timeout_ms);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (timeout_ms >= 0)
		deadline = now + timeout_ms;
	ctl_jobs_begin(ids, n);
	if ((w = fut_watch_open(c, ids[0], FUT_WATCH_PROGRESS)) == NULL)
		ctl_fail(fut_client_errcode(c));
	for (i = 1; i < n; i++)
		if ((rc = fut_watch_add(w, ids[i])) != 0)
			ctl_fail(rc);
	while (!done) {
		if (deadline >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
			left = deadline > now ? deadline - now : 0;
		}
		t = ctl_jobs_timeout(left);
		rc = fut_watch_next(w, t, &ev);
		if (rc == FUT_ETIMEDOUT && (left < 0 || t < left)) {
			/* The bar's turn, not the wait's end. */
			(void)bar_tick(&ctl_bar, bar_now());
			continue;
		}
		if (rc == 0 || rc == FUT_ETIMEDOUT)
			break;
		if (rc < 0)
			ctl_fail(rc);
		ctl_jobs_note(fut_event_info(ev), 1);
		/*
		 * The end too: a success here, the others with their reason
		 * from the wait that follows.
		 */
		if (!ctl_json && !ctl_bar.on && (!fut_event_final(ev) ||
		    fut_info_state(fut_event_info(ev)) == FUT_SUCCEEDED))
			print_progress(fut_event_info(ev));
		done = any && fut_event_final(ev);
		fut_event_free(ev);
	}
	fut_watch_close(w);
	ctl_jobs_end();
	return (left);
}

/*
 * A job wait saw end badly: its error, and the stderr of one that failed
 * (a wait carries no outputs, so a result is asked for it; not for a
 * cancel or a timeout, which the error tells, and which may come as the
 * daemon shuts down).
 */
static void
wait_print_failed(const struct fut_info *ji)
{
	struct fut_info	*full;

	if (fut_info_state(ji) == FUT_FAILED &&
	    fut_result(ctl_connect(), fut_info_id(ji), &full) == 0) {
		print_stderr(full, 0);
		fut_info_free(full);
	}
	print_job_error(ji);
}

/*
 * wait: the exit status says how the jobs ended.  With mixed outcomes
 * the worst wins, in this order: failed (1), timed out (4), cancelled
 * (3), all succeeded (0).  -t running out first is 5.
 */
static int
cmd_wait(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "any",	no_argument,	   NULL, 'A' },
		{ "timeout",	required_argument, NULL, 't' },
		{ "group",	required_argument, NULL, 'g' },
		{ "progress",	no_argument,	   NULL, 'P' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct fut_client	*c;
	struct fut_infos	*l;
	const struct fut_info	*ji;
	const char		*group = NULL;
	uint64_t		*ids = NULL, *gids = NULL, first;
	int64_t			 timeout_ms = -1;
	size_t			 i;
	int			 ch, n, rc, failed = 0, timedout = 0;
	int			 cancelled = 0, progress = 0, any = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+t:g:", opts, NULL)) != -1) {
		switch (ch) {
		case 'A':
			any = 1;
			break;
		case 't':
			timeout_ms = parse_duration(optarg);
			break;
		case 'g':
			group = optarg;
			break;
		case 'P':
			progress = 1;
			break;
		default:
			bad_option(argv[0], argv, "t:g:", opts);
		}
	}
	n = argc - optind;
	if (n == 0 && group == NULL)
		errx(EX_USAGE, "wait: no job id or group");
	if (n > 0 && group != NULL)
		errx(EX_USAGE, "wait: give job ids or -g, not both");
	if (n > 0 && (ids = calloc(n, sizeof(*ids))) == NULL)
		err(EX_FAILED, NULL);
	for (ch = 0; ch < n; ch++)
		ids[ch] = parse_id(argv[optind + ch]);
	if (progress && group != NULL) {
		/* The group's jobs now, as the wait takes them. */
		c = ctl_connect();
		if ((ch = fut_list(c, -1, group, &l)) != 0)
			ctl_fail(ch);
		if (fut_infos_count(l) > 0 &&
		    (gids = calloc(fut_infos_count(l), sizeof(*gids))) == NULL)
			err(EX_FAILED, NULL);
		for (i = 0; i < fut_infos_count(l); i++)
			gids[i] = fut_info_id(fut_infos_at(l, i));
		timeout_ms = wait_progress(gids, fut_infos_count(l), any,
		    timeout_ms);
		fut_infos_free(l);
		free(gids);
	} else if (progress)
		timeout_ms = wait_progress(ids, n, any, timeout_ms);
	c = ctl_connect();
	rc = fut_wait_jobs(c, ids, n, group, any ? FUT_WAIT_ANY : 0,
	    timeout_ms, &l, &first);
	if (rc != 0 && rc != FUT_ETIMEDOUT)
		ctl_fail(rc);

	if (ctl_json) {
		for (i = 0; i < fut_infos_count(l); i++)
			json_job(fut_infos_at(l, i));
	}
	if (rc == FUT_ETIMEDOUT) {
		fut_infos_free(l);
		free(ids);
		return (EX_NOTREADY);
	}
	rc = EX_OK;
	if (any) {
		for (i = 0; i < fut_infos_count(l); i++) {
			if (first != 0 && fut_info_id(fut_infos_at(l, i)) ==
			    first)
				break;
		}
		if (i < fut_infos_count(l)) {
			ji = fut_infos_at(l, i);
			if (!ctl_json)
				printf("%" PRIu64 " %s\n", fut_info_id(ji),
				    state_name(fut_info_state(ji)));
			rc = state_exit(fut_info_state(ji));
		} else if (first != 0 && !ctl_json)
			printf("%" PRIu64 "\n", first);
		fut_infos_free(l);
		free(ids);
		return (rc);
	}
	for (i = 0; i < fut_infos_count(l); i++) {
		ji = fut_infos_at(l, i);
		switch (fut_info_state(ji)) {
		case FUT_SUCCEEDED:
			continue;
		case FUT_FAILED:
			failed = 1;
			break;
		case FUT_TIMED_OUT:
			timedout = 1;
			break;
		case FUT_CANCELLED:
			cancelled = 1;
			break;
		default:
			/* Not final though the wait did not time out. */
			rc = EX_NOTREADY;
			break;
		}
		if (!ctl_json)
			wait_print_failed(ji);
	}
	if (failed)
		rc = EX_FAILED;
	else if (timedout)
		rc = EX_TIMEDOUT;
	else if (cancelled)
		rc = EX_CANCELLED;
	fut_infos_free(l);
	free(ids);
	return (rc);
}

/* The options of result and watch: --allow-truncated; returns optind. */
static int
parse_out_opts(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "allow-truncated", no_argument,  NULL, 'W' },
		{ NULL,		0,		   NULL, 0 }
	};
	int	 ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'W':
			ctl_allow_truncated = 1;
			break;
		default:
			bad_option(argv[0], argv, "", opts);
		}
	}
	return (optind);
}

static int
cmd_result(int argc, char **argv)
{
	struct fut_info	*ji;
	uint64_t	 id;
	int		 rc, i;

	i = parse_out_opts(argc, argv);
	if (argc - i != 1)
		errx(EX_USAGE, "result: want exactly one job id");
	id = parse_id(argv[i]);
	if ((rc = fut_result(ctl_connect(), id, &ji)) == FUT_ENOTREADY)
		errx(EX_NOTREADY, "job %" PRIu64 " has not finished", id);
	if (rc != 0)
		ctl_fail(rc);
	rc = print_outcome(ji);
	fut_info_free(ji);
	return (rc);
}

/* One line (or JSON object) for a job a cancel reached. */
static void
print_cancel(uint64_t id, int took, int state)
{
	struct json	 j;

	if (ctl_json) {
		json_begin(&j, stdout);
		json_uint(&j, "id", id);
		json_bool(&j, "took_effect", took);
		if (state >= 0)
			json_string(&j, "state", state_name(state));
		else
			json_null(&j, "state");
		json_end(&j);
	} else if (took)
		printf("%" PRIu64 " cancelled\n", id);
	else
		printf("%" PRIu64 " already finished (%s)\n", id,
		    state >= 0 ? state_name(state) : "unknown");
}

static int
cmd_cancel(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "grace",	required_argument, NULL, 'G' },
		{ "group",	required_argument, NULL, 'g' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct fut_client	*c;
	struct fut_cancels	*cs;
	const char		*group = NULL;
	uint64_t		*ids = NULL, id;
	int64_t			 grace_ms = -1;
	size_t			 i;
	int			 ch, n, rc = EX_OK, rc2, took, state;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+g:", opts, NULL)) != -1) {
		switch (ch) {
		case 'G':
			grace_ms = parse_duration(optarg);
			break;
		case 'g':
			group = optarg;
			break;
		default:
			bad_option(argv[0], argv, "g:", opts);
		}
	}
	n = argc - optind;
	if (n == 0 && group == NULL)
		errx(EX_USAGE, "cancel: no job id or group");
	if (n > 0 && group != NULL)
		errx(EX_USAGE, "cancel: give job ids or -g, not both");
	if (n > 0 && (ids = calloc(n, sizeof(*ids))) == NULL)
		err(EX_FAILED, NULL);
	for (ch = 0; ch < n; ch++)
		ids[ch] = parse_id(argv[optind + ch]);
	c = ctl_connect();
	if (n == 0) {
		if ((ch = fut_cancel_jobs(c, NULL, 0, group, grace_ms,
		    &cs)) != 0)
			ctl_fail(ch);
		for (i = 0; i < fut_cancels_count(cs); i++) {
			if (fut_cancels_get(cs, i, &id, &took, &state) ==
			    FUT_OK)
				print_cancel(id, took, state);
		}
		fut_cancels_free(cs);
	}
	/*
	 * One request per id: the daemon cancels none of a request's jobs
	 * if one is unknown, and one unknown id must spoil none.
	 */
	for (ch = 0; ch < n; ch++) {
		rc2 = fut_cancel_jobs(c, &ids[ch], 1, NULL, grace_ms, &cs);
		if (rc2 == FUT_ENOTFOUND || rc2 == FUT_EPERM) {
			warnx("no such job: %" PRIu64, ids[ch]);
			rc = EX_NOTFOUND;
			continue;
		}
		if (rc2 != 0)
			ctl_fail(rc2);
		for (i = 0; i < fut_cancels_count(cs); i++) {
			if (fut_cancels_get(cs, i, &id, &took, &state) ==
			    FUT_OK)
				print_cancel(id, took, state);
		}
		fut_cancels_free(cs);
	}
	free(ids);
	return (rc);
}

static int
cmd_list(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "state",	required_argument, NULL, 'S' },
		{ "group",	required_argument, NULL, 'g' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct fut_infos	*l;
	enum fut_state		 st;
	const char		*group = NULL;
	size_t			 i;
	int			 ch, state = -1;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+g:", opts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			if (state_parse(optarg, &st) == -1)
				errx(EX_USAGE, "bad state \"%s\": use waiting, "
				    "queued, running, succeeded, failed, "
				    "cancelled or timed_out", optarg);
			state = st;
			break;
		case 'g':
			group = optarg;
			break;
		default:
			bad_option(argv[0], argv, "g:", opts);
		}
	}
	if (optind != argc)
		errx(EX_USAGE, "list: unexpected argument \"%s\"",
		    argv[optind]);
	if ((ch = fut_list(ctl_connect(), state, group, &l)) != 0)
		ctl_fail(ch);
	if (!ctl_json && fut_infos_count(l) > 0)
		print_job_header();
	for (i = 0; i < fut_infos_count(l); i++) {
		if (ctl_json)
			json_job(fut_infos_at(l, i));
		else
			print_job_line(fut_infos_at(l, i));
	}
	fut_infos_free(l);
	return (EX_OK);
}

static void
no_args(int argc, char **argv)
{
	if (argc > 1)
		errx(EX_USAGE, "%s: unexpected argument \"%s\"", argv[0],
		    argv[1]);
}

static int
cmd_handlers(int argc, char **argv)
{
	struct fut_handlers	*h;
	struct json		 j;
	const char		*desc;
	char			 kinds[64];
	enum fut_kind		 k, dk;
	unsigned int		 mask;
	size_t			 i, len;
	int			 m, rc, nw;

	no_args(argc, argv);
	if ((rc = fut_handlers(ctl_connect(), &h)) != 0)
		ctl_fail(rc);
	for (i = 0; i < fut_handlers_count(h); i++) {
		mask = fut_handlers_kinds(h, i);
		dk = fut_handlers_default_kind(h, i);
		desc = fut_handlers_description(h, i);
		nw = fut_handlers_workers(h, i);
		if (ctl_json) {
			json_begin(&j, stdout);
			json_string(&j, "name", fut_handlers_name(h, i));
			json_array(&j, "kinds");
			for (k = FUT_ASYNC; k <= FUT_CPU; k++)
				if (mask & (1U << k))
					json_string(&j, NULL, kind_name(k));
			json_array_end(&j);
			json_string(&j, "default_kind", kind_name(dk));
			json_string(&j, "description", desc);
			if (nw >= 0)
				json_uint(&j, "workers", (uint64_t)nw);
			json_end(&j);
			continue;
		}
		/* The default kind is marked with a star. */
		kinds[0] = '\0';
		for (k = FUT_ASYNC, len = 0; k <= FUT_CPU &&
		    len < sizeof(kinds); k++) {
			if (!(mask & (1U << k)))
				continue;
			m = snprintf(kinds + len, sizeof(kinds) - len, "%s%s%s",
			    len > 0 ? "," : "", kind_name(k),
			    k == dk ? "*" : "");
			if (m < 0)
				break;
			len += m;
		}
		printf("%-12s %-22s %s", vis(fut_handlers_name(h, i)), kinds,
		    desc != NULL ? vis(desc) : "");
		/* A worker handler says how many serve it, after the rest. */
		if (nw >= 0)
			printf(" [%d worker%s]", nw, nw == 1 ? "" : "s");
		printf("\n");
	}
	fut_handlers_free(h);
	return (EX_OK);
}

/* Uptime as "3d4h5m6s", leading zero units left out. */
static void
uptime_format(int64_t ms, char *buf, size_t len)
{
	int64_t	 sec = ms / 1000, d, h, m;

	d = sec / 86400;
	h = sec / 3600 % 24;
	m = sec / 60 % 60;
	sec %= 60;
	if (d > 0)
		snprintf(buf, len, "%lldd%lldh%lldm%llds", (long long)d,
		    (long long)h, (long long)m, (long long)sec);
	else if (h > 0)
		snprintf(buf, len, "%lldh%lldm%llds", (long long)h,
		    (long long)m, (long long)sec);
	else if (m > 0)
		snprintf(buf, len, "%lldm%llds", (long long)m, (long long)sec);
	else
		snprintf(buf, len, "%llds", (long long)sec);
}

/* A supervised pool's health: futurectl(1), "stats". */
static void
json_pool_health(struct json *j, const struct fut_stats *s, size_t i)
{
	json_string(j, "state", fut_stats_pool_state(s, i));
	json_uint(j, "size", fut_stats_pool_get(s, i, FUT_POOL_SIZE));
	json_uint(j, "alive", fut_stats_pool_get(s, i, FUT_POOL_ALIVE));
	json_uint(j, "restarts", fut_stats_pool_get(s, i,
	    FUT_POOL_RESTARTS));
	json_uint(j, "spares", fut_stats_pool_get(s, i, FUT_POOL_SPARES));
	json_uint(j, "respawns", fut_stats_pool_get(s, i,
	    FUT_POOL_RESPAWNS));
	if (fut_stats_pool_respawn_ms(s, i) >= 0)
		json_int(j, "respawn_ms", fut_stats_pool_respawn_ms(s, i));
	else
		json_null(j, "respawn_ms");
	if (fut_stats_pool_last_failure(s, i) == NULL) {
		json_null(j, "last_failure");
		return;
	}
	json_object(j, "last_failure");
	json_string(j, "error", fut_stats_pool_last_failure(s, i));
	if (fut_stats_pool_last_exit(s, i) >= 0)
		json_int(j, "exit_status", fut_stats_pool_last_exit(s, i));
	else
		json_null(j, "exit_status");
	if (fut_stats_pool_last_signal(s, i) > 0)
		json_int(j, "signal", fut_stats_pool_last_signal(s, i));
	else
		json_null(j, "signal");
	json_text(j, "stderr", fut_stats_pool_last_stderr(s, i));
	json_int(j, "ago_ms", fut_stats_pool_last_ago_ms(s, i));
	json_object_end(j);
}

static int
cmd_stats(int argc, char **argv)
{
	static const enum fut_stat	 counters[] = {
		FUT_STAT_WAITING, FUT_STAT_QUEUED, FUT_STAT_RUNNING,
		FUT_STAT_SUCCEEDED, FUT_STAT_FAILED, FUT_STAT_CANCELLED,
		FUT_STAT_TIMED_OUT, FUT_STAT_POOL_SIZE, FUT_STAT_POOL_BUSY
	};
	static const char *const	 names[] = {
		"waiting", "queued", "running", "succeeded", "failed",
		"cancelled", "timed_out", "pool_size", "pool_busy"
	};
	struct fut_stats	*s;
	struct json		 j;
	char			 up[64];
	size_t			 i, k;
	int			 rc, told = 0;

	no_args(argc, argv);
	if ((rc = fut_stats(ctl_connect(), &s)) != 0)
		ctl_fail(rc);
	if (ctl_json) {
		json_begin(&j, stdout);
		json_string(&j, "server_version", fut_stats_server_version(s));
		json_int(&j, "uptime_ms", fut_stats_uptime_ms(s));
		json_uint(&j, "jobs_total", fut_stats_jobs_total(s));
		json_uint(&j, "connections", fut_stats_connections(s));
		json_array(&j, "kinds");
		for (i = 0; i < fut_stats_nkinds(s); i++) {
			json_object(&j, NULL);
			json_string(&j, "kind", kind_name(fut_stats_kind(s,
			    i)));
			for (k = 0; k < sizeof(counters) / sizeof(counters[0]);
			    k++)
				json_uint(&j, names[k], fut_stats_get(s, i,
				    counters[k]));
			json_object_end(&j);
		}
		json_array_end(&j);
		if (fut_stats_npools(s) > 0) {
			json_array(&j, "pools");
			for (i = 0; i < fut_stats_npools(s); i++) {
				json_object(&j, NULL);
				json_string(&j, "name",
				    fut_stats_pool_name(s, i));
				json_bool(&j, "supervised",
				    fut_stats_pool_supervised(s, i));
				json_uint(&j, "processes",
				    fut_stats_pool_get(s, i,
				    FUT_POOL_PROCESSES));
				json_uint(&j, "busy", fut_stats_pool_get(s, i,
				    FUT_POOL_BUSY));
				json_uint(&j, "capacity", fut_stats_pool_get(s,
				    i, FUT_POOL_CAPACITY));
				if (fut_stats_pool_state(s, i) != NULL)
					json_pool_health(&j, s, i);
				json_object_end(&j);
			}
			json_array_end(&j);
		}
		json_end(&j);
	} else {
		uptime_format(fut_stats_uptime_ms(s), up, sizeof(up));
		printf("uptime       %s\n", up);
		printf("jobs total   %" PRIu64 "\n", fut_stats_jobs_total(s));
		printf("connections  %u\n", fut_stats_connections(s));
		printf("\n%-9s %8s %8s %8s %9s %8s %9s %9s %9s\n", "KIND",
		    "WAITING", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED",
		    "CANCELLED", "TIMED_OUT", "POOL");
		for (i = 0; i < fut_stats_nkinds(s); i++) {
			snprintf(up, sizeof(up), "%" PRIu64 "/%" PRIu64,
			    fut_stats_get(s, i, FUT_STAT_POOL_BUSY),
			    fut_stats_get(s, i, FUT_STAT_POOL_SIZE));
			printf("%-9s %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			    " %9" PRIu64 " %8" PRIu64 " %9" PRIu64 " %9"
			    PRIu64 " %9s\n", kind_name(fut_stats_kind(s, i)),
			    fut_stats_get(s, i, FUT_STAT_WAITING),
			    fut_stats_get(s, i, FUT_STAT_QUEUED),
			    fut_stats_get(s, i, FUT_STAT_RUNNING),
			    fut_stats_get(s, i, FUT_STAT_SUCCEEDED),
			    fut_stats_get(s, i, FUT_STAT_FAILED),
			    fut_stats_get(s, i, FUT_STAT_CANCELLED),
			    fut_stats_get(s, i, FUT_STAT_TIMED_OUT), up);
		}
		/* Worker pools, when there are any: a table of their own. */
		if (fut_stats_npools(s) > 0)
			printf("\n%-20s %-10s %9s %8s %8s %-8s %7s %8s\n",
			    "WORKER POOL", "TYPE", "PROCESSES", "BUSY",
			    "CAPACITY", "STATE", "ALIVE", "RESTARTS");
		for (i = 0; i < fut_stats_npools(s); i++) {
			if (fut_stats_pool_state(s, i) != NULL)
				snprintf(up, sizeof(up), "%u/%u",
				    fut_stats_pool_get(s, i, FUT_POOL_ALIVE),
				    fut_stats_pool_get(s, i, FUT_POOL_SIZE));
			else
				snprintf(up, sizeof(up), "-");
			printf("%-20s %-10s %9u %8u %8u %-8s %7s ",
			    vis(fut_stats_pool_name(s, i)),
			    fut_stats_pool_supervised(s, i) ? "supervised" :
			    "attached",
			    fut_stats_pool_get(s, i, FUT_POOL_PROCESSES),
			    fut_stats_pool_get(s, i, FUT_POOL_BUSY),
			    fut_stats_pool_get(s, i, FUT_POOL_CAPACITY),
			    fut_stats_pool_state(s, i) != NULL ?
			    vis(fut_stats_pool_state(s, i)) : "-", up);
			if (fut_stats_pool_state(s, i) != NULL)
				printf("%8u\n", fut_stats_pool_get(s, i,
				    FUT_POOL_RESTARTS));
			else
				printf("%8s\n", "-");
		}
		/* Why a pool's processes died, last: one line each. */
		for (i = 0; i < fut_stats_npools(s); i++) {
			if (fut_stats_pool_last_failure(s, i) == NULL)
				continue;
			uptime_format(fut_stats_pool_last_ago_ms(s, i), up,
			    sizeof(up));
			printf("%s%s: last failure %s ago: %.200s\n",
			    told ? "" : "\n", vis(fut_stats_pool_name(s, i)),
			    up, vis(fut_stats_pool_last_failure(s, i)));
			told = 1;
		}
	}
	fut_stats_free(s);
	return (EX_OK);
}

/*
 * The Prometheus text as the daemon renders it, unchanged; --json wraps
 * it in one field.
 */
static int
cmd_metrics(int argc, char **argv)
{
	struct fut_metrics	*m;
	struct json		 j;
	int			 rc;

	no_args(argc, argv);
	if ((rc = fut_metrics(ctl_connect(), &m)) != 0)
		ctl_fail(rc);
	if (ctl_json) {
		json_begin(&j, stdout);
		json_string(&j, "text", fut_metrics_text(m));
		json_end(&j);
	} else
		fputs(fut_metrics_text(m), stdout);
	fut_metrics_free(m);
	return (EX_OK);
}

static int
cmd_ping(int argc, char **argv)
{
	struct json	 j;
	char		 version[256];
	unsigned int	 proto;
	int		 rc;

	no_args(argc, argv);
	if ((rc = fut_ping(ctl_connect(), version, sizeof(version),
	    &proto)) != 0)
		ctl_fail(rc);
	if (ctl_json) {
		json_begin(&j, stdout);
		json_string(&j, "server_version", version);
		json_uint(&j, "protocol_version", proto);
		json_end(&j);
	} else
		printf("futured %s protocol %u\n", version, proto);
	return (EX_OK);
}

/* group NAME [--fail-fast | --no-fail-fast] [--parallel N] */
static int
cmd_group(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "fail-fast",		no_argument,	   NULL, 'f' },
		{ "no-fail-fast",	no_argument,	   NULL, 'F' },
		{ "parallel",		required_argument, NULL, 'p' },
		{ NULL,			0,		   NULL, 0 }
	};
	struct fut_group	*g;
	struct json		 j;
	int64_t			 parallel = -1;
	int			 ch, fail_fast = -1;

	/* GNU getopt permutes: options may follow the name. */
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
		case 'F':
			fail_fast = ch == 'f';
			break;
		case 'p':
			parallel = parse_int(optarg, 0, UINT32_MAX,
			    "parallel limit");
			break;
		default:
			bad_option(argv[0], argv, "", opts);
		}
	}
	if (optind != argc - 1)
		errx(EX_USAGE, "group: give one group name");
	if (*argv[optind] == '\0')
		errx(EX_USAGE, "bad group \"\"");
	if ((ch = fut_group_set(ctl_connect(), argv[optind], fail_fast,
	    parallel, &g)) != 0)
		ctl_fail(ch);
	if (ctl_json) {
		json_begin(&j, stdout);
		json_string(&j, "name", fut_group_name(g));
		json_bool(&j, "fail_fast", fut_group_fail_fast(g));
		json_uint(&j, "parallel", fut_group_parallel(g));
		json_uint(&j, "jobs", fut_group_count(g, FUT_GROUP_JOBS));
		json_uint(&j, "running", fut_group_count(g,
		    FUT_GROUP_RUNNING));
		json_uint(&j, "pending", fut_group_count(g,
		    FUT_GROUP_PENDING));
		json_uint(&j, "succeeded", fut_group_count(g,
		    FUT_GROUP_SUCCEEDED));
		json_uint(&j, "failed", fut_group_count(g, FUT_GROUP_FAILED));
		json_bool(&j, "created", fut_group_created(g));
		json_end(&j);
	} else {
		printf("group %s%s: fail-fast %s, parallel ",
		    vis(fut_group_name(g)),
		    fut_group_created(g) ? " (new)" : "",
		    fut_group_fail_fast(g) ? "on" : "off");
		if (fut_group_parallel(g) == 0)
			printf("unlimited");
		else
			printf("%u", fut_group_parallel(g));
		printf(", %" PRIu64 " jobs: %" PRIu64 " running, %" PRIu64
		    " pending, %" PRIu64 " succeeded, %" PRIu64
		    " failed or cancelled\n",
		    fut_group_count(g, FUT_GROUP_JOBS),
		    fut_group_count(g, FUT_GROUP_RUNNING),
		    fut_group_count(g, FUT_GROUP_PENDING),
		    fut_group_count(g, FUT_GROUP_SUCCEEDED),
		    fut_group_count(g, FUT_GROUP_FAILED));
	}
	fut_group_free(g);
	return (EX_OK);
}

/*
 * Output of one of several jobs watched: each line prefixed "[ID] ";
 * a line not yet ended waits for its end (or for the job's, or for
 * WATCH_PART_MAX bytes), so that lines of two jobs never mix.
 */
#define WATCH_PART_MAX	65536

static void
watch_prefixed(int fd, struct ctl_job *cj, const void *data, size_t len,
    int flush)
{
	const char	*p = data, *nl;
	char		 pre[32];
	struct buf	 out = { 0 };
	size_t		 n;

	snprintf(pre, sizeof(pre), "[%" PRIu64 "] ", cj->id);
	while (len > 0) {
		if ((nl = memchr(p, '\n', len)) == NULL) {
			if (buf_append(&cj->part, p, len) == -1)
				err(EX_FAILED, NULL);
			break;
		}
		n = nl - p + 1;
		if (buf_append(&out, pre, strlen(pre)) == -1 ||
		    buf_append(&out, cj->part.data, cj->part.len) == -1 ||
		    buf_append(&out, p, n) == -1)
			err(EX_FAILED, NULL);
		buf_reset(&cj->part);
		p += n;
		len -= n;
	}
	if (cj->part.len > 0 && (flush || cj->part.len >= WATCH_PART_MAX)) {
		if (buf_append(&out, pre, strlen(pre)) == -1 ||
		    buf_append(&out, cj->part.data, cj->part.len) == -1 ||
		    buf_append(&out, "\n", 1) == -1)
			err(EX_FAILED, NULL);
		buf_reset(&cj->part);
	}
	if (out.len > 0)
		write_all(fd, out.data, out.len);
	buf_reset(&out);
}

/* A final job's kept stderr, each line prefixed, for several jobs. */
static void
watch_stderr_prefixed(const struct fut_info *ji, struct ctl_job *cj)
{
	struct ctl_job	 e = { 0 };
	const void	*p;
	size_t		 len;

	if ((p = fut_info_stderr(ji, &len)) == NULL || len == 0)
		return;
	e.id = cj->id;
	watch_prefixed(STDERR_FILENO, &e, p, len, 1);
}

/*
 * watch ID... | -g GROUP: state and progress changes on stderr (a bar
 * on a terminal), output on stdout as it comes (a command's, as it
 * writes it), each job's from its start: what the daemon kept comes
 * first.  With more than one job each line is prefixed "[ID] ".  The
 * exit status is wait's over all the jobs (failed 1, timed out 4,
 * cancelled 3, 0), 8 for output cut, and 7 if an id was not found (the
 * others are still followed).  -g takes the group's jobs as they are
 * when watch starts.
 */
static int
cmd_watch(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "allow-truncated", no_argument,  NULL, 'W' },
		{ "group",	required_argument, NULL, 'g' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct fut_client	*c;
	struct fut_watch	*w;
	struct fut_event	*ev;
	struct fut_infos	*l = NULL;
	const struct fut_info	*ji;
	struct ctl_job		*cj;
	const void		*out;
	const char		*group = NULL;
	size_t			 len, n, i;
	uint64_t		*ids = NULL, first;
	int64_t			 t;
	int			 rc, ch, multi, notfound = 0, failed = 0;
	int			 timedout = 0, cancelled = 0, cut = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+g:", opts, NULL)) != -1) {
		switch (ch) {
		case 'W':
			ctl_allow_truncated = 1;
			break;
		case 'g':
			group = optarg;
			break;
		default:
			bad_option(argv[0], argv, "g:", opts);
		}
	}
	n = argc - optind;
	if (n == 0 && group == NULL)
		errx(EX_USAGE, "watch: no job id or group");
	if (n > 0 && group != NULL)
		errx(EX_USAGE, "watch: give job ids or -g, not both");
	c = ctl_connect();
	if (group != NULL) {
		if ((rc = fut_list(c, -1, group, &l)) != 0)
			ctl_fail(rc);
		n = fut_infos_count(l);
		if (n == 0) {
			/* A group with no jobs is done; one never made is 7. */
			fut_infos_free(l);
			rc = fut_wait_jobs(c, NULL, 0, group, 0, 0, &l, &first);
			if (rc != 0 && rc != FUT_ETIMEDOUT)
				ctl_fail(rc);
			fut_infos_free(l);
			return (EX_OK);
		}
	}
	if ((ids = calloc(n, sizeof(*ids))) == NULL)
		err(EX_FAILED, NULL);
	for (i = 0; i < n; i++)
		ids[i] = group != NULL ? fut_info_id(fut_infos_at(l, i)) :
		    parse_id(argv[optind + i]);
	fut_infos_free(l);
	ctl_jobs_begin(ids, n);
	free(ids);
	/* An id given twice is watched once. */
	multi = ctl_njobs > 1;
	if ((w = fut_watch_open(c, ctl_jobs[0].id, 0)) == NULL)
		ctl_fail(fut_client_errcode(c));
	for (i = 1; i < ctl_njobs; i++)
		if ((rc = fut_watch_add(w, ctl_jobs[i].id)) != 0)
			ctl_fail(rc);
	for (;;) {
		t = ctl_jobs_timeout(-1);
		if ((rc = fut_watch_next(w, t, &ev)) == FUT_ETIMEDOUT &&
		    t >= 0) {
			(void)bar_tick(&ctl_bar, bar_now());
			continue;
		}
		if (rc == 0)
			break;		/* every stream ended */
		if (rc < 0) {
			/* One job's stream: the others go on. */
			if (!multi || (rc != FUT_ENOTFOUND && rc != FUT_EPERM))
				ctl_fail(rc);
			bar_clear(&ctl_bar);
			warnx("%s", vis(fut_client_error(c)));
			notfound = 1;
			continue;
		}
		ji = fut_event_info(ev);
		if ((cj = ctl_job_find(fut_event_id(ev))) == NULL) {
			fut_event_free(ev);
			continue;
		}
		out = fut_event_output(ev, &len);
		if (out != NULL)
			cj->got += len;
		if (ctl_json)
			json_job_output(ji, out != NULL, out, len);
		else {
			if (out != NULL && len > 0 && multi)
				watch_prefixed(STDOUT_FILENO, cj, out, len,
				    fut_event_final(ev));
			else if (out != NULL && len > 0)
				write_all(STDOUT_FILENO, out, len);
			else if (multi && fut_event_final(ev))
				watch_prefixed(STDOUT_FILENO, cj, "", 0, 1);
			if (fut_event_final(ev)) {
				bar_clear(&ctl_bar);
				/* It ends with the final state, as it went. */
				if (fut_info_state(ji) == FUT_SUCCEEDED)
					print_progress(ji);
				else if (multi)
					watch_stderr_prefixed(ji, cj);
				else
					print_stderr(ji, 0);
				print_job_error(ji);
			} else if (!ctl_bar.on &&
			    ((int)fut_info_state(ji) != cj->told_state ||
			    (fut_info_has(ji, FUT_FIELD_PROGRESS) &&
			    fut_info_progress(ji) != cj->told_progress))) {
				/* Output alone is no news for stderr. */
				print_progress(ji);
				cj->told_state = fut_info_state(ji);
				cj->told_progress = fut_info_has(ji,
				    FUT_FIELD_PROGRESS) ?
				    fut_info_progress(ji) : -1;
			}
		}
		if (fut_event_final(ev)) {
			switch (output_cut(ji, stream_cut(ji, cj->got),
			    state_exit(fut_info_state(ji)))) {
			case EX_FAILED:
				failed = 1;
				break;
			case EX_TIMEDOUT:
				timedout = 1;
				break;
			case EX_CANCELLED:
				cancelled = 1;
				break;
			case EX_TRUNCATED:
				cut = 1;
				break;
			}
		}
		/* The last job's end leaves the bar off. */
		ctl_jobs_note(ji, multi || !fut_event_final(ev));
		fut_event_free(ev);
	}
	fut_watch_close(w);
	ctl_jobs_end();
	if (notfound)
		return (EX_NOTFOUND);
	if (failed)
		return (EX_FAILED);
	if (timedout)
		return (EX_TIMEDOUT);
	if (cancelled)
		return (EX_CANCELLED);
	return (cut ? EX_TRUNCATED : EX_OK);
}

/* A piece of a log: to stdout; a reader gone stops the read. */
static int
logs_write_cb(const void *data, size_t len, void *arg)
{
	const uint8_t	*p = data;
	ssize_t		 n;

	while (len > 0) {
		n = write(STDOUT_FILENO, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) {
				*(int *)arg = 1;
				return (1);
			}
			err(EX_FAILED, "write");
		}
		p += n;
		len -= n;
	}
	return (0);
}

static int
cmd_logs(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "follow",	no_argument,	   NULL, 'f' },
		{ "stderr",	no_argument,	   NULL, 'E' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct fut_infos	*l;
	const struct fut_info	*ji;
	unsigned int		 flags = 0;
	uint64_t		 id;
	int			 ch, rc, cut, gone = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			flags |= FUT_LOGS_FOLLOW;
			break;
		case 'E':
			flags |= FUT_LOGS_STDERR;
			break;
		default:
			bad_option(argv[0], argv, "f", opts);
		}
	}
	if (argc - optind != 1)
		errx(EX_USAGE, "logs: give one job id");
	id = parse_id(argv[optind]);
	rc = fut_logs(ctl_connect(), id, flags, logs_write_cb, &gone);
	/* A daemon without --output-dir: the request failed, not its use. */
	if (rc == FUT_EINVAL)
		errx(EX_FAILED, "%s", vis(fut_client_error(ctl_client)));
	if (rc < 0)
		ctl_fail(rc);
	if (gone)
		return (EX_FAILED);
	if ((cut = (rc & FUT_LOGS_TRUNCATED) != 0))
		warnx("job %" PRIu64 ": the log stops short: the daemon could "
		    "not write all of it (its log says why)", id);
	if (!(flags & FUT_LOGS_FOLLOW))
		return (cut ? EX_TRUNCATED : EX_OK);
	/*
	 * Followed to its end, the job is final: exit as wait would for
	 * it, so that `logs -f ID && next` goes on only after a success.
	 */
	if ((rc = fut_wait_jobs(ctl_connect(), &id, 1, NULL, 0, -1, &l,
	    NULL)) != 0)
		ctl_fail(rc);
	rc = EX_NOTREADY;
	if (fut_infos_count(l) == 1) {
		ji = fut_infos_at(l, 0);
		rc = state_exit(fut_info_state(ji));
		print_job_error(ji);
	}
	fut_infos_free(l);
	return (rc == EX_OK && cut ? EX_TRUNCATED : rc);
}

static const struct cmd {
	const char	*name;
	int		(*fn)(int, char **);
} cmds[] = {
	{ "submit",	cmd_submit },
	{ "run",	cmd_run },
	{ "status",	cmd_status },
	{ "wait",	cmd_wait },
	{ "result",	cmd_result },
	{ "cancel",	cmd_cancel },
	{ "watch",	cmd_watch },
	{ "logs",	cmd_logs },
	{ "list",	cmd_list },
	{ "group",	cmd_group },
	{ "handlers",	cmd_handlers },
	{ "stats",	cmd_stats },
	{ "metrics",	cmd_metrics },
	{ "ping",	cmd_ping },
};

int
main(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "socket",	required_argument, NULL, 's' },
		{ "json",	no_argument,	   NULL, 'J' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL,		0,		   NULL, 0 }
	};
	size_t	 i;
	int	 ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			ctl_path = optarg;
			break;
		case 'J':
			ctl_json = 1;
			break;
		case 'h':
			usage_to(stdout, EX_OK);
		default:
			bad_option(NULL, argv, "s:h", opts);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].name) == 0)
			break;
	}
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		errx(EX_USAGE, "unknown command \"%s\"", argv[0]);
	rc = cmds[i].fn(argc, argv);
	if (fflush(stdout) == EOF)
		err(EX_FAILED, "stdout");
	fut_close(ctl_client);
	return (rc);
}
