/*
 * futured: options, signals, start and stop.
 *
 * --detach never forks: the daemon re-executes itself in a new session
 * with posix_spawn and waits on a pipe until the child listens, so
 * "futured --detach" returns only once the socket accepts connections.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "futured.h"
#include "duration.h"
#include "frame.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "slurm_parse.h"
#include "sockpath.h"
#include "xmalloc.h"

/* Long options of plugin.c and config.c. */
enum {
	MAIN_OPT_PLUGIN = 512,
	MAIN_OPT_WORKER_MEMORY
};
/* Long options of the limits, --system and systemd. */
enum {
	MAIN_OPT_SYSTEM = 256,
	MAIN_OPT_READ_TIMEOUT,
	MAIN_OPT_MAX_CLIENTS,
	MAIN_OPT_MAX_FRAME,
	MAIN_OPT_MAX_UNREAD,
	MAIN_OPT_MAX_QUEUED,
	MAIN_OPT_WORKER_LEASE,
	MAIN_OPT_POOL_SPARES,
	MAIN_OPT_POOL_IDLE
};
/* Long options of the journal. */
enum {
	MAIN_OPT_JOURNAL = 768,
	MAIN_OPT_FSYNC,
	MAIN_OPT_FSYNC_INTERVAL,
	MAIN_OPT_JOURNAL_REPAIR,
	MAIN_OPT_OUTPUT_DIR
};
/* Long options of the metrics. */
enum {
	MAIN_OPT_METRICS_TEXTFILE = 1024,
	MAIN_OPT_METRICS_INTERVAL,
	MAIN_OPT_METRICS_LISTEN
};
/* Long options of the Slurm engine. */
enum {
	MAIN_OPT_SLURM_DIR = 1280,
	MAIN_OPT_SLURM_PARTITION,
	MAIN_OPT_SLURM_ACCOUNT,
	MAIN_OPT_SLURM_OPTION,
	MAIN_OPT_SLURM_INTERVAL,
	MAIN_OPT_SLURM_NICE_BASE
};

/* RLIMIT_NOFILE when the hard limit is unlimited (fs.nr_open's default). */
#define MAIN_NOFILE_UNLIMITED	1048576

/*
 * Every running command holds pipes, every client a socket: take the
 * soft descriptor limit up to the hard one (daemons are expected to;
 * systemd's default soft limit is 1024, for select()).  exec sizes its
 * concurrency by what this leaves.
 */
static void
main_nofile(void)
{
	struct rlimit	 rl;
	rlim_t		 old, want;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("%s: getrlimit", __func__);
		return;
	}
	old = rl.rlim_cur;
	want = rl.rlim_max;
	if (want == RLIM_INFINITY)
		want = MAIN_NOFILE_UNLIMITED;
	if (old != RLIM_INFINITY && old >= want) {
		log_info("open files: %llu", (unsigned long long)old);
		return;
	}
	if (old == RLIM_INFINITY) {
		log_info("open files: unlimited");
		return;
	}
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("%s: setrlimit %llu", __func__,
		    (unsigned long long)rl.rlim_cur);
		return;
	}
	log_info("open files: %llu (raised from %llu)",
	    (unsigned long long)rl.rlim_cur, (unsigned long long)old);
}

/* A size (config_size) within min..max, or a usage error naming it. */
static uint64_t
main_size(const char *s, const char *what, uint64_t min, uint64_t max)
{
	uint64_t	 n;

	if (config_size(s, &n) == -1 || n < min || n > max) {
		fprintf(stderr, "futured: bad %s \"%s\" (want %llu..%llu "
		    "bytes, K, M or G)\n", what, s, (unsigned long long)min,
		    (unsigned long long)max);
		exit(2);
	}
	return (n);
}
#define MAIN_SYSTEM_SOCKET	"/run/futured/futured.sock"
#define MAIN_OPTSTRING		"c:fs:j:P:l:Vh"

struct settings		 settings;
struct event_base	*base;

static int		 main_stopping;
static struct event	*main_drain_ev;

extern char		**environ;

static void __attribute__((__noreturn__))
usage(void)
{
	fprintf(stderr,
"usage: futured [-f | --detach] [-s PATH] [-j THREADS] [-P PROCS]\n"
"               [--grace DUR] [--shutdown-grace DUR] [--retry-delay DUR]\n"
"               [--retention DUR] [--retain-max N] [--max-output BYTES]\n"
"               [-l error|warn|info|debug]\n"
"               [-c FILE] [--plugin PATH] [--worker-memory SIZE]\n"
"               [--system] [--read-timeout DUR] [--max-clients N]\n"
"               [--max-frame SIZE] [--max-unread SIZE] [--max-queued N]\n"
"               [--journal PATH | --journal none] [--fsync always|batch|none]\n"
"               [--fsync-interval DUR] [--journal-repair] [--worker-lease DUR]\n"
"               [--pool-spares N] [--pool-idle DUR]\n"
"               [--metrics-textfile PATH] [--metrics-interval DUR]\n"
"               [--metrics-listen [ADDR:]PORT]\n"
"               [--output-dir DIR]\n"
"               [--slurm-dir DIR] [--slurm-partition NAME]\n"
"               [--slurm-account NAME] [--slurm-option OPT]\n"
"               [--slurm-interval DUR] [--slurm-nice-base N]\n"
"               [-V] [-h]\n");
	exit(2);
}

static int
main_number(const char *s, const char *what, long min, long max)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || n < min || n > max) {
		fprintf(stderr, "futured: bad %s \"%s\" (want %ld..%ld)\n",
		    what, s, min, max);
		exit(2);
	}
	return ((int)n);
}

/* path, or path made absolute against the working directory. */
static const char *
main_abspath(const char *path)
{
	char	 cwd[PATH_MAX], *abs;

	if (path[0] == '/')
		return (path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		fatal("getcwd");
	xasprintf(&abs, "%s/%s", cwd, path);
	return (abs);
}

/* The duration s of --opt, at least min ms; a usage error names both. */
static void
main_duration(const char *opt, const char *s, int64_t *ms, int64_t min)
{
	char	 b[32];

	if (duration_parse(s, ms) == -1) {
		fprintf(stderr, "futured: bad --%s \"%s\" (want %s)\n", opt, s,
		    DURATION_FORMS);
		exit(2);
	}
	if (*ms < min) {
		fprintf(stderr, "futured: bad --%s \"%s\" (want %s or more)\n",
		    opt, s, duration_format(min, b, sizeof(b)));
		exit(2);
	}
}

struct main_running {
	struct job	**jobs;
	size_t		  n, cap;
};

static void
main_running_cb(struct job *j, void *arg)
{
	struct main_running	*mr = arg;

	if (j->state != JOB_RUNNING)
		return;
	if (mr->n == mr->cap) {
		mr->cap = mr->cap ? mr->cap * 2 : 64;
		mr->jobs = xreallocarray(mr->jobs, mr->cap, sizeof(*mr->jobs));
	}
	job_ref(j);
	mr->jobs[mr->n++] = j;
}

/*
 * Cancel the running jobs, and those alone: their waiters and the
 * journal both hear "cancelled", a final state they keep.  The jobs that
 * have not started stay as the journal has them (or were settled at the
 * signal without a journal).
 */
static void
main_cancel_running(int64_t grace_ms)
{
	struct main_running	 mr = { NULL, 0, 0 };
	size_t			 i;

	sched_foreach(main_running_cb, &mr);
	for (i = 0; i < mr.n; i++) {
		job_cancel(mr.jobs[i], JOB_CANCELLED, grace_ms,
		    "daemon shutting down");
		job_unref(mr.jobs[i]);
	}
	free(mr.jobs);
}

/* Everything is final, or the grace ran out: stop the loop. */
static void
main_drain_check(void)
{
	if (sched_running() == 0)
		event_base_loopbreak(base);
}

static void
main_drain_cb(evutil_socket_t fd, short events, void *arg)
{
	log_info("shutdown grace over, cancelling %u running job%s",
	    sched_running(), LOG_PLURAL(sched_running()));
	main_cancel_running(settings.grace_ms);
	main_drain_check();
}

static void
main_idle(void)
{
	if (main_stopping)
		event_base_loopbreak(base);
}

/*
 * The jobs that have not started will not start before we exit.  With a
 * journal they run after the restart: hold them as they are, and tell
 * their waiters that the daemon is going away, not that they ended.
 * Without one they are lost for good: cancel them, and say why.
 */
static void
main_stop_unstarted(void)
{
	int	 keep = journal_enabled();

	request_shutdown(keep);
	if (keep)
		sched_hold();
	else
		sched_stop_queued("daemon shutting down without a journal: "
		    "the job is lost");
}

static void
main_signal_cb(evutil_socket_t sig, short events, void *arg)
{

	if (main_stopping) {
		log_info("signal %d again, cancelling everything now", (int)sig);
		main_cancel_running(0);
		main_drain_check();
		return;
	}
	main_stopping = 1;
	sdnotify_send("STOPPING=1");
	log_info("signal %d, shutting down", (int)sig);
	server_stop_accepting();
	main_stop_unstarted();
	if (sched_running() == 0) {
		event_base_loopbreak(base);
		return;
	}
	main_drain_ev = evtimer_new(base, main_drain_cb, NULL);
	timer_add_ms(main_drain_ev, settings.shutdown_grace_ms);
}

/*
 * Re-execute ourselves in a new session; return once it listens.  Until
 * then the child's stderr is a pipe to us: if it dies instead, what it
 * said (the reason, as it logs it) is shown here, where the user looks.
 */
static int
main_detach(int argc, char **argv)
{
	posix_spawnattr_t	 attr;
	posix_spawn_file_actions_t fa;
	struct pollfd		 pfd[2];
	char			**nargv, fdarg[32], said[4096];
	int			 p[2], e[2], i, k = 0, error, ready = 0;
	size_t			 nsaid = 0;
	pid_t			 pid;
	ssize_t			 n;

	if (pipe2(p, O_CLOEXEC) == -1 || pipe2(e, O_CLOEXEC) == -1)
		fatal("pipe");
	nargv = xcalloc(argc + 4, sizeof(*nargv));
	nargv[k++] = (char *)settings.self_exe;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--detach") != 0)
			nargv[k++] = argv[i];
	}
	snprintf(fdarg, sizeof(fdarg), "--ready-fd=%d", 3);
	nargv[k++] = fdarg;
	nargv[k] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
	    O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, e[1], STDERR_FILENO);
	posix_spawn_file_actions_adddup2(&fa, p[1], 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
	error = posix_spawn(&pid, settings.self_exe, &fa, &attr, nargv,
	    environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(nargv);
	close(p[1]);
	close(e[1]);
	if (error != 0) {
		errno = error;
		fatal("posix_spawn %s", settings.self_exe);
	}
	/* Until the ready byte, or both ends close: it died. */
	pfd[0].fd = p[0];
	pfd[1].fd = e[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (!ready && (pfd[0].fd != -1 || pfd[1].fd != -1)) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents != 0) {
			n = read(p[0], fdarg, 1);
			if (n == 1)
				ready = 1;
			else if (n == 0 || errno != EINTR)
				pfd[0].fd = -1;
		}
		if (pfd[1].revents != 0) {
			/* Keep the first 4 KiB: the cause comes first. */
			n = read(e[0], said + nsaid, sizeof(said) - 1 - nsaid);
			if (n > 0)
				nsaid += n;
			else if (n == 0 || errno != EINTR ||
			    nsaid == sizeof(said) - 1)
				pfd[1].fd = -1;
		}
	}
	close(p[0]);
	close(e[0]);
	if (ready)
		return (0);
	said[nsaid] = '\0';
	fprintf(stderr, "futured: the detached daemon failed to start%s\n%s",
	    nsaid != 0 ? ":" : " (it said nothing: see syslog)", said);
	return (1);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground",	no_argument,		NULL, 'f' },
		{ "detach",	no_argument,		NULL, 'd' },
		{ "socket",	required_argument,	NULL, 's' },
		{ "threads",	required_argument,	NULL, 'j' },
		{ "procs",	required_argument,	NULL, 'P' },
		{ "grace",	required_argument,	NULL, 'G' },
		{ "shutdown-grace", required_argument,	NULL, 'S' },
		{ "retry-delay", required_argument,	NULL, 'Y' },
		{ "retention",	required_argument,	NULL, 'T' },
		{ "retain-max",	required_argument,	NULL, 'M' },
		{ "max-output",	required_argument,	NULL, 'O' },
		{ "log-level",	required_argument,	NULL, 'l' },
		{ "ready-fd",	required_argument,	NULL, 'R' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "plugin",	required_argument,	NULL, MAIN_OPT_PLUGIN },
		{ "worker-memory", required_argument,	NULL,
		    MAIN_OPT_WORKER_MEMORY },
		{ "system",	no_argument,		NULL, MAIN_OPT_SYSTEM },
		{ "read-timeout", required_argument,	NULL,
		    MAIN_OPT_READ_TIMEOUT },
		{ "max-clients", required_argument,	NULL, MAIN_OPT_MAX_CLIENTS },
		{ "max-frame",	required_argument,	NULL, MAIN_OPT_MAX_FRAME },
		{ "max-unread",	required_argument,	NULL, MAIN_OPT_MAX_UNREAD },
		{ "max-queued",	required_argument,	NULL, MAIN_OPT_MAX_QUEUED },
		{ "worker-lease", required_argument,	NULL,
		    MAIN_OPT_WORKER_LEASE },
		{ "pool-spares", required_argument,	NULL,
		    MAIN_OPT_POOL_SPARES },
		{ "pool-idle",	required_argument,	NULL, MAIN_OPT_POOL_IDLE },
		{ "journal",	required_argument,	NULL, MAIN_OPT_JOURNAL },
		{ "fsync",	required_argument,	NULL, MAIN_OPT_FSYNC },
		{ "fsync-interval", required_argument,	NULL,
		    MAIN_OPT_FSYNC_INTERVAL },
		{ "journal-repair", no_argument,	NULL,
		    MAIN_OPT_JOURNAL_REPAIR },
		{ "metrics-textfile", required_argument, NULL,
		    MAIN_OPT_METRICS_TEXTFILE },
		{ "metrics-interval", required_argument, NULL,
		    MAIN_OPT_METRICS_INTERVAL },
		{ "metrics-listen", required_argument,	NULL,
		    MAIN_OPT_METRICS_LISTEN },
		{ "output-dir",	required_argument,	NULL, MAIN_OPT_OUTPUT_DIR },
		{ "slurm-dir",	required_argument,	NULL, MAIN_OPT_SLURM_DIR },
		{ "slurm-partition", required_argument, NULL,
		    MAIN_OPT_SLURM_PARTITION },
		{ "slurm-account", required_argument,	NULL,
		    MAIN_OPT_SLURM_ACCOUNT },
		{ "slurm-option", required_argument,	NULL,
		    MAIN_OPT_SLURM_OPTION },
		{ "slurm-interval", required_argument,	NULL,
		    MAIN_OPT_SLURM_INTERVAL },
		{ "slurm-nice-base", required_argument,	NULL,
		    MAIN_OPT_SLURM_NICE_BASE },
		{ "version",	no_argument,		NULL, 'V' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	struct event	*sigterm, *sigint, *sighup;
	char		 path[PATH_MAX], exe[PATH_MAX], *cause;
	char		 confpath[PATH_MAX], *host;
	const char	*conf = NULL;
	u_short		 port;
	int		 ch, detach = 0, level = LOG_LEVEL_INFO, ready_fd = -1, fd;
	int		 noconf = 0, cmdline_plugins = 0, cmdline_sopts = 0;
	ssize_t		 n;

	/* Before anything else: this process is root until it drops. */
	if (argc >= 2 && strcmp(argv[1], "--exec-as") == 0)
		return (execas_main(argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "--exec-in") == 0)
		return (execas_in_main(argc - 1, argv + 1));
	/* Only pool_proc_spawn() writes what follows --worker. */
	if (argc >= 2 && strcmp(argv[1], "--worker") == 0) {
		log_procname("futured-worker");
		return (worker_main(3, argc - 2, argv + 2));
	}
	/* One job, on a Slurm node (run_once.c). */
	if (argc >= 2 && strcmp(argv[1], "--run-once") == 0)
		return (run_once_main(argc - 2, argv + 2));

	settings_defaults(&settings);

	/*
	 * The config file first, so that the command line overrides it.  A
	 * first pass only looks for -c; the second reports bad options.
	 */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, MAIN_OPTSTRING, longopts,
	    NULL)) != -1) {
		if (ch == 'c')
			conf = optarg;
		else if (ch == 'V' || ch == 'h')
			noconf = 1;
	}
	opterr = 1;
	optind = 0;
	if (!noconf && conf == NULL &&
	    config_default_path(confpath, sizeof(confpath)) == 0)
		conf = confpath;
	if (!noconf && conf != NULL &&
	    config_load(conf, conf != confpath, &level, &cause) == -1) {
		fprintf(stderr, "futured: %s\n", cause);
		exit(1);
	}

	while ((ch = getopt_long(argc, argv, MAIN_OPTSTRING, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			break;
		case MAIN_OPT_PLUGIN:
			/* The command line's plugins replace the file's. */
			if (!cmdline_plugins++)
				plugin_clear();
			plugin_add(optarg);
			break;
		case MAIN_OPT_WORKER_MEMORY:
			if (config_size(optarg, &settings.worker_memory) == -1 ||
			    (settings.worker_memory != 0 &&
			    settings.worker_memory < WORKER_MEMORY_MIN)) {
				fprintf(stderr, "futured: bad memory size "
				    "\"%s\" (want 0 or 1M or more)\n", optarg);
				exit(2);
			}
			break;
		case 'f':
			detach = 0;
			break;
		case 'd':
			detach = 1;
			break;
		case 's':
			settings.socket_path = optarg;
			break;
		case 'j':
			settings.threads = main_number(optarg, "thread count",
			    1, 4096);
			break;
		case 'P':
			settings.procs = main_number(optarg, "process count",
			    1, 4096);
			break;
		case 'G':
			main_duration("grace", optarg, &settings.grace_ms, 0);
			break;
		case 'S':
			main_duration("shutdown-grace", optarg,
			    &settings.shutdown_grace_ms, 0);
			break;
		case 'Y':
			main_duration("retry-delay", optarg,
			    &settings.retry_delay_ms, 0);
			break;
		case 'T':
			main_duration("retention", optarg,
			    &settings.retention_ms, 0);
			break;
		case 'M':
			settings.retain_max = main_number(optarg,
			    "finished job count", 0, INT_MAX);
			break;
		case 'O':
			/* 0 would read as "no limit" to struct buf. */
			settings.max_output = main_size(optarg,
			    "output limit", 1, INT_MAX);
			break;
		case 'l':
			if ((level = log_level_from_name(optarg)) == -1) {
				fprintf(stderr, "futured: bad log level \"%s\"\n",
				    optarg);
				exit(2);
			}
			break;
		case MAIN_OPT_SYSTEM:
			settings.system = 1;
			break;
		case MAIN_OPT_READ_TIMEOUT:
			main_duration("read-timeout", optarg,
			    &settings.read_timeout_ms, 0);
			break;
		case MAIN_OPT_WORKER_LEASE:
			main_duration("worker-lease", optarg,
			    &settings.worker_lease_ms, 1);
			break;
		case MAIN_OPT_POOL_IDLE:
			main_duration("pool-idle", optarg,
			    &settings.pool_idle_ms, 0);
			break;
		case MAIN_OPT_POOL_SPARES:
			settings.pool_spares = main_number(optarg,
			    "pool spares", 0, SUP_SPARES_MAX);
			break;
		case MAIN_OPT_MAX_CLIENTS:
			settings.max_clients = main_number(optarg,
			    "connection limit", 1, 1000000);
			break;
		case MAIN_OPT_MAX_FRAME:
			settings.max_frame = main_size(optarg, "frame limit",
			    1024, FUTURED_FRAME_CEILING);
			break;
		case MAIN_OPT_MAX_UNREAD:
			settings.max_unread = main_size(optarg,
			    "unread answer limit", 64 * 1024, SIZE_MAX / 2);
			break;
		case MAIN_OPT_MAX_QUEUED:
			settings.max_queued = main_number(optarg,
			    "queued job limit", 1, INT_MAX);
			break;
		case MAIN_OPT_JOURNAL:
			settings.journal_path = optarg;
			break;
		case MAIN_OPT_FSYNC:
			if ((settings.fsync = journal_fsync_from_name(optarg)) ==
			    -1) {
				fprintf(stderr, "futured: bad fsync policy \"%s\" "
				    "(want always, batch or none)\n", optarg);
				exit(2);
			}
			break;
		case MAIN_OPT_FSYNC_INTERVAL:
			main_duration("fsync-interval", optarg,
			    &settings.fsync_interval_ms, 1);
			break;
		case MAIN_OPT_JOURNAL_REPAIR:
			settings.journal_repair = 1;
			break;
		case MAIN_OPT_METRICS_TEXTFILE:
			if (*optarg == '\0') {
				fprintf(stderr, "futured: empty "
				    "--metrics-textfile path\n");
				exit(2);
			}
			settings.metrics_textfile = optarg;
			break;
		case MAIN_OPT_METRICS_INTERVAL:
			main_duration("metrics-interval", optarg,
			    &settings.metrics_interval_ms, 100);
			break;
		case MAIN_OPT_METRICS_LISTEN:
			/* Checked now: a bad value is a usage error. */
			if (metrics_http_parse(optarg, &host, &port,
			    &cause) == -1) {
				fprintf(stderr, "futured: %s\n", cause);
				exit(2);
			}
			free(host);
			settings.metrics_listen = optarg;
			break;
		case MAIN_OPT_OUTPUT_DIR:
			settings.output_dir = optarg;
			break;
		case MAIN_OPT_SLURM_DIR:
			settings.slurm_dir = optarg;
			break;
		case MAIN_OPT_SLURM_PARTITION:
			settings.slurm_partition = optarg;
			break;
		case MAIN_OPT_SLURM_ACCOUNT:
			settings.slurm_account = optarg;
			break;
		case MAIN_OPT_SLURM_OPTION:
			/* As plugins: the command line's replace the file's. */
			if (!cmdline_sopts++)
				settings_slurm_options_clear();
			if (*optarg != '-') {
				fprintf(stderr, "futured: bad slurm option "
				    "\"%s\" (sbatch's options start with "
				    "-)\n", optarg);
				exit(2);
			}
			settings_slurm_option(optarg);
			break;
		case MAIN_OPT_SLURM_INTERVAL:
			main_duration("slurm-interval", optarg,
			    &settings.slurm_interval_ms, 100);
			break;
		case MAIN_OPT_SLURM_NICE_BASE:
			settings.slurm_nice_base = main_number(optarg,
			    "slurm nice base", -SLURM_NICE_BASE_MAX,
			    SLURM_NICE_BASE_MAX);
			break;
		case 'R':
			ready_fd = main_number(optarg, "fd", 3, 1024);
			break;
		case 'V':
			printf("futured %s (protocol %d)\n", FUTURED_VERSION,
			    FUTURED_PROTOCOL_VERSION);
			return (0);
		case 'h':
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (settings.system && geteuid() != 0) {
		fprintf(stderr, "futured: --system needs root\n");
		exit(1);
	}

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n == -1)
		fatal("readlink /proc/self/exe");
	exe[n] = '\0';
	settings.self_exe = exe;
	if (settings.socket_path == NULL) {
		if (settings.system)
			snprintf(path, sizeof(path), "%s", MAIN_SYSTEM_SOCKET);
		else if (sockpath_default(path, sizeof(path)) == -1)
			fatal("socket path");
		settings.socket_path = path;
	}
	/*
	 * The daemon works in / (below), so that it holds no directory busy
	 * and no job or handler resolves a path against wherever it was
	 * started: its own paths are made absolute first.
	 */
	settings.socket_path = main_abspath(settings.socket_path);
	if (settings.journal_path != NULL &&
	    strcmp(settings.journal_path, "none") != 0)
		settings.journal_path = main_abspath(settings.journal_path);
	if (settings.metrics_textfile != NULL)
		settings.metrics_textfile =
		    main_abspath(settings.metrics_textfile);
	if (settings.output_dir != NULL)
		settings.output_dir = main_abspath(settings.output_dir);
	if (settings.slurm_dir != NULL)
		settings.slurm_dir = main_abspath(settings.slurm_dir);
	if (detach)
		return (main_detach(argc, argv));
	/*
	 * For fut_handler_socket(), here and in the workers, which inherit
	 * it; set while we are one thread, as setenv() wants.
	 */
	if (settings.socket_path != NULL)
		setenv("FUTURED_SOCKET", settings.socket_path, 1);

	log_init(level, ready_fd != -1);
	log_stderr_too(ready_fd != -1);
	main_nofile();
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() == -1)
		fatalx("evthread_use_pthreads");
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	/* While we are one thread: it blocks SIGCHLD (a signalfd reads it). */
	child_init();

	handler_init();
	if (plugin_load_all(&cause) == -1)
		fatalx("%s", cause);
	request_init();
	sched_init();
	/* Before any child is spawned: they must not inherit these. */
	sdnotify_init();
	/* futured.conf's pools: users, owners and programs exist. */
	if (supervise_init(&cause) == -1)
		fatalx("%s", cause);
	/* Replay before serving: no client sees a half-restored table. */
	if (journal_open(&cause) == -1)
		fatalx("%s", cause);
	/* After the replay: the files of jobs it did not keep go. */
	if (joblog_init(settings.output_dir, &cause) == -1)
		fatalx("%s", cause);
	switch (server_listen_activated(&cause)) {
	case -1:
		fatalx("socket activation: %s", cause);
	case 0:
		if (server_listen(settings.socket_path, &cause) == -1)
			fatalx("%s", cause);
		break;
	}
	if (chdir("/") == -1)
		fatal("chdir /");
	/* The socket is ours: so are the cgroups named after it. */
	cgroup_init(settings.socket_path);
	if (pool_init(&cause) == -1)
		fatalx("%s", cause);
	/* The first textfile is written, the listener bound, before READY. */
	if (metrics_init(&cause) == -1)
		fatalx("%s", cause);
	/*
	 * Its processes connect back: after the socket listens.  And after
	 * the last start-up step that can fail: they live in process groups
	 * of their own, and a daemon that exits now would leave them behind.
	 */
	supervise_start();

	sigterm = evsignal_new(base, SIGTERM, main_signal_cb, NULL);
	sigint = evsignal_new(base, SIGINT, main_signal_cb, NULL);
	sighup = evsignal_new(base, SIGHUP, main_signal_cb, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	evsignal_add(sighup, NULL);
	/* While draining, stop when the last running job is done. */
	sched_set_idle_hook(main_idle);

	log_info("listening on %s: %d threads, %d worker processes",
	    settings.socket_path, settings.threads, settings.procs);
	sdnotify_send("READY=1");
	if (ready_fd != -1) {
		/* From here on syslog only: stderr was the starter's pipe. */
		log_stderr_too(0);
		if ((fd = open("/dev/null", O_WRONLY)) != -1) {
			(void)dup2(fd, STDERR_FILENO);
			close(fd);
		}
		(void)write(ready_fd, "", 1);
		close(ready_fd);
	}

	event_base_dispatch(base);

	log_info("stopping");
	if (!main_stopping)
		sdnotify_send("STOPPING=1");
	server_stop_accepting();
	if (!main_stopping)
		main_stop_unstarted();
	main_cancel_running(0);
	/*
	 * What has not started goes with the process, not into the
	 * journal: the queued jobs run after the restart.  The jobs still
	 * in a cpu worker's FIFO are settled for their waiters only; the
	 * journal has their attempt as begun (pool_proc_shutdown).
	 */
	sched_stop_queued("daemon shutting down");
	supervise_shutdown();
	metrics_shutdown();
	pool_shutdown();
	journal_close();
	server_close();
	supervise_free();
	sched_free();
	joblog_shutdown();
	group_free_all();
	journal_free();
	child_shutdown();
	cgroup_shutdown();
	event_free(sigterm);
	event_free(sigint);
	event_free(sighup);
	if (main_drain_ev != NULL)
		event_free(main_drain_ev);
	event_base_free(base);
	return (0);
}
