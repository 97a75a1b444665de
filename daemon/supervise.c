/*
 * Supervised worker pools: a pool is a command line run as size
 * processes, each a worker that connects back to the daemon's socket
 * and registers (request_worker.c, which asks supervise_attach() whether
 * its peer is one of ours).  Pools come from futured.conf's pool lines
 * (started with the daemon) or from a PoolRequest (started on the
 * request; request_pool.c answers it once the first process registers,
 * or tells why it could not).
 *
 * A process is started with posix_spawn (the daemon never forks) in a
 * process group of its own, with FUTURED_POOL and FUTURED_SOCKET in its
 * environment, stdin and stdout on /dev/null and stderr on a pipe: the
 * loop logs its lines (debug) and keeps the last SUP_TAIL bytes, which
 * are what a death before registering is reported with.  In --system
 * mode the process goes through the --exec-as trampoline (execas.c) as
 * the pool's user: the configured one for a config pool, the caller for
 * a PoolRequest; never root unless futured.conf says pool-user root.
 *
 * A process that dies is replaced after a back-off: SUP_BACKOFF_MIN_MS
 * doubled for each quick death in a row, at most SUP_BACKOFF_MAX_MS; a
 * process that ran SUP_HEALTHY_MS resets the count.  SUP_FAILING quick
 * deaths in a row make the pool "failing" (logged once, shown in
 * stats); it keeps trying at the longest delay.  A process stopped on
 * purpose (supervise_kill(): a running cpu job cancelled) is replaced
 * at once, as the TERM is sent rather than once it is gone (it leaves
 * its slot for sup_orphans, and serves nobody), and the time from the
 * kill until the new process registers is kept (respawn_ms).
 *
 * Warm spares.  Starting a worker (a Python interpreter and its
 * imports) takes 0.1 to 0.5 s, too long for a cancel's slot to wait
 * for.  So a pool serving cpu has spare slots after its size slots
 * (--pool-spares, pool-spares.NAME), filled once it serves.  A spare's
 * WorkerRegister is parked by request_pool.c (the engine never sees
 * it: no worker, no tasks) until a kill frees a slot: the spare moves
 * into it (supervise_promote), its registration goes through on the
 * next loop turn, and the spare slot starts a new process in the
 * background.
 *
 * A PoolRequest pool whose processes die before
 * any of them ever registered is not retried: its requests fail, it
 * stops ("failed"), and the next request for it starts it afresh.
 *
 * Lifetimes: the engine holds a struct sup_proc from supervise_attach()
 * to supervise_detach(); a process that dies meanwhile stays allocated
 * (pid -1) until then, so the engine never holds a dangling pointer.
 * Pools live until the daemon exits.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured.h"
#include "duration.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

#define SUP_TAIL		2048	/* stderr kept of each process */
#define SUP_TAIL_SHOWN		512	/* of it in stats */
#define SUP_SPARE_DELAY_MS	100	/* a promoted spare's successor */
#define SUP_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"
#define SUP_KINDS_ALL		((1U << JOB_ASYNC) | (1U << JOB_BLOCKING) | \
				    (1U << JOB_CPU))

extern char **environ;

enum sup_state {
	SUP_STARTING,		/* no process has registered yet */
	SUP_RUNNING,
	SUP_FAILED,		/* never started, or gave up failing */
	SUP_STOPPED		/* retired, idle */
};
/* No process runs, and none is started until it is asked for again. */
#define SUP_DOWN(sp)	((sp)->state == SUP_FAILED || (sp)->state == SUP_STOPPED)

struct sup_proc {
	struct sup_pool		*pool;	/* NULL: its pool is gone */
	struct sup_slot		*slot;	/* NULL once dead */
	pid_t			 pid;	/* -1 once reaped */
	int			 errfd;
	struct event		*err_ev;
	char			 line[256];	/* a stderr line being read */
	size_t			 nline;
	char			 tail[SUP_TAIL];
	size_t			 ntail;
	int64_t			 started_ms;
	u_int			 gen;		/* its pool's, at the start */
	int			 flags;
#define SPF_ATTACHED		0x1	/* the engine holds it */
#define SPF_READY		0x2	/* registered its handlers */
#define SPF_CANCEL		0x4	/* stopped on purpose */
#define SPF_KILLED		0x8	/* SIGKILL sent */
#define SPF_REGISTERED		0x10	/* was ready once (kept at detach) */
	struct event		*kill_timer;
	struct pending		*parked;	/* a spare's registration */
	TAILQ_ENTRY(sup_proc)	 entry;		/* sup_orphans, slot NULL */
};

struct sup_slot {
	struct sup_pool		*pool;
	u_int			 idx;
	struct sup_proc		*proc;		/* NULL: none alive */
	struct event		*respawn;
	int64_t			 killed_ms;	/* supervise_kill(), 0: none */
};

struct sup_pool {
	char			*name;
	char			*prog;		/* argv[0] resolved */
	char			**argv;
	char			*cwd;		/* never NULL */
	char			**env;		/* what we add; NULL-terminated */
	int			 inherit;	/* and the daemon's environment */
	u_int			 size;		/* slots serving */
	u_int			 nslots;	/* and the spares' after them */
	u_int			 kinds;
	uid_t			 uid;
	int			 as_user;	/* through --exec-as */
	uid_t			*owners;
	size_t			 nowners;
	int			 config;	/* from futured.conf */
	enum sup_state		 state;
	u_int			 gen;		/* one more at each stop */
	u_int			 fails;		/* quick deaths in a row */
	int			 told_failing;
	uint64_t		 restarts;
	int64_t			 respawn_ms;
	uint64_t		 respawns;	/* how many it was measured */
	char			*error;		/* the last death */
	int			 last_status;	/* its wait status, -1: none */
	char			*last_tail;	/* its stderr's end */
	int64_t			 last_ms;	/* when, 0: never */
	char			**handlers;	/* the first registration's */
	size_t			 nhandlers;
	struct sup_slot		*slots;
	int64_t			 idle_ms;	/* retired after, 0: never */
	u_int			 held;		/* tasks its processes hold */
	int64_t			 used_ms;	/* asked for, started, idle */
	int64_t			 down_ms;	/* when it stopped */
	struct event		*idle_timer;	/* and wake-ups, see below */
	struct event		*start_timer;	/* SUP_START_MS */
	struct event		*unpark_ev;	/* promoted spares register */
	struct sup_waiters	 waiters;
	TAILQ_ENTRY(sup_pool)	 entry;
};

static TAILQ_HEAD(, sup_conf) sup_confs = TAILQ_HEAD_INITIALIZER(sup_confs);
static TAILQ_HEAD(, sup_pool) sup_pools = TAILQ_HEAD_INITIALIZER(sup_pools);
/*
 * Processes out of their slots: being stopped (supervise_kill: the
 * successor starts at once), or dead while the engine holds them.
 */
static TAILQ_HEAD(, sup_proc) sup_orphans = TAILQ_HEAD_INITIALIZER(sup_orphans);
static int	 sup_stopping;

static void	 supervise_spawn_slot(struct sup_slot *);
static void	 supervise_child_cb(pid_t, int, void *);
static void	 supervise_restart(struct sup_pool *);
static u_int	 supervise_count(uid_t);

/* The restart delay after fails quick deaths in a row (0: none yet). */
int64_t
supervise_backoff_ms(u_int fails)
{
	int64_t	 ms = SUP_BACKOFF_MIN_MS;

	if (fails == 0)
		return (0);
	while (--fails > 0 && ms < SUP_BACKOFF_MAX_MS)
		ms *= 2;
	return (ms > SUP_BACKOFF_MAX_MS ? SUP_BACKOFF_MAX_MS : ms);
}


static void
supervise_strv_free(char **v)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static char **
supervise_strv_dup(char *const *v, size_t n)
{
	char	**d;
	size_t	  i;

	d = xcalloc(n + 1, sizeof(*d));
	for (i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	return (d);
}

/* futured.conf ------------------------------------------------------- */

/*
 * A pool line: name and its command line, at path:line.  NULL and
 * *cause (without the file and line) if the name is bad or taken.
 */
struct sup_conf *
supervise_conf_add(const char *name, const char *path, u_int line,
    char **cause)
{
	struct sup_conf	*sc;
	size_t		 i, n = strlen(name);

	if (n == 0 || n > SUP_NAME_MAX)
		goto bad;
	for (i = 0; i < n; i++) {
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_.:-", name[i]) == NULL)
			goto bad;
	}
	if ((sc = supervise_conf_find(name)) != NULL) {
		xasprintf(cause, "pool %s is already declared on line %u",
		    name, sc->line);
		return (NULL);
	}
	sc = xcalloc(1, sizeof(*sc));
	sc->spares = -1;
	sc->name = xstrdup(name);
	sc->file = xstrdup(path);
	sc->line = line;
	TAILQ_INSERT_TAIL(&sup_confs, sc, entry);
	return (sc);
bad:
	xasprintf(cause, "bad pool name \"%s\" (1 to %d of A-Z a-z 0-9 _ . : "
	    "-)", name, SUP_NAME_MAX);
	return (NULL);
}

struct sup_conf *
supervise_conf_find(const char *name)
{
	struct sup_conf	*sc;

	TAILQ_FOREACH(sc, &sup_confs, entry) {
		if (strcmp(sc->name, name) == 0)
			return (sc);
	}
	return (NULL);
}

void
supervise_conf_clear(void)
{
	struct sup_conf	*sc;

	while ((sc = TAILQ_FIRST(&sup_confs)) != NULL) {
		TAILQ_REMOVE(&sup_confs, sc, entry);
		free(sc->name);
		free(sc->file);
		free(sc->cwd);
		free(sc->user);
		supervise_strv_free(sc->argv);
		supervise_strv_free(sc->env);
		supervise_strv_free(sc->owners);
		free(sc);
	}
}

/* Pools -------------------------------------------------------------- */

/*
 * prog as execve() wants it: a name without a slash looked up in path
 * (the pool's PATH), a relative one against cwd.  NULL if not found.
 */
static char *
supervise_resolve(const char *prog, const char *path, const char *cwd)
{
	const char	*p, *q;
	char		*full;

	if (*prog == '/')
		return (xstrdup(prog));
	if (strchr(prog, '/') != NULL) {
		xasprintf(&full, "%s/%s", cwd, prog);
		return (full);
	}
	for (p = path; p != NULL && *p != '\0'; p = q != NULL ? q + 1 : NULL) {
		q = strchr(p, ':');
		xasprintf(&full, "%.*s/%s", (int)(q != NULL ? q - p :
		    (ptrdiff_t)strlen(p)), p, prog);
		if (*full == '/' && access(full, X_OK) == 0)
			return (full);
		free(full);
	}
	return (NULL);
}

static const char *
supervise_env_get(char *const *env, const char *key)
{
	size_t	 n = strlen(key);

	for (; env != NULL && *env != NULL; env++) {
		if (strncmp(*env, key, n) == 0 && (*env)[n] == '=')
			return (*env + n + 1);
	}
	return (NULL);
}

static struct sup_pool *
supervise_find(const char *name)
{
	struct sup_pool	*sp;

	TAILQ_FOREACH(sp, &sup_pools, entry) {
		if (strcmp(sp->name, name) == 0)
			return (sp);
	}
	return (NULL);
}

/* A pool's warm spares unless it says: --pool-spares if it serves cpu. */
static u_int
supervise_default_spares(u_int kinds)
{
	return ((kinds & (1U << JOB_CPU)) ? (u_int)settings.pool_spares : 0);
}

static struct sup_pool *
supervise_pool_new(const char *name, u_int size, u_int spares)
{
	struct sup_pool	*sp;
	u_int		 i;

	sp = xcalloc(1, sizeof(*sp));
	sp->name = xstrdup(name);
	sp->size = size;
	sp->nslots = size + spares;
	sp->respawn_ms = -1;
	sp->last_status = -1;
	LIST_INIT(&sp->waiters);
	sp->slots = xcalloc(sp->nslots, sizeof(*sp->slots));
	for (i = 0; i < sp->nslots; i++) {
		sp->slots[i].pool = sp;
		sp->slots[i].idx = i;
	}
	TAILQ_INSERT_TAIL(&sup_pools, sp, entry);
	return (sp);
}

/* A user name or number into *uid; -1 if there is no such user. */
static int
supervise_uid(const char *s, uid_t *uid)
{
	struct passwd	*pw;
	char		*end;
	unsigned long	 u;

	if ((pw = getpwnam(s)) != NULL) {
		*uid = pw->pw_uid;
		return (0);
	}
	errno = 0;
	u = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 ||
	    u >= (unsigned long)(uid_t)-1)
		return (-1);
	*uid = (uid_t)u;
	return (0);
}

/* A config pool into a pool; -1 and *cause (naming file:line). */
static int
supervise_from_conf(struct sup_conf *sc, char **cause)
{
	struct sup_pool	*sp;
	const char	*path;
	char		*prog;
	uid_t		 uid = geteuid(), *owners;
	size_t		 i;

	if (sc->user != NULL && !settings.system) {
		xasprintf(cause, "%s:%u: pool-user.%s needs --system", sc->file,
		    sc->lines[4], sc->name);
		return (-1);
	}
	if (sc->owners != NULL && !settings.system) {
		xasprintf(cause, "%s:%u: pool-owners.%s needs --system",
		    sc->file, sc->lines[5], sc->name);
		return (-1);
	}
	if (settings.system && sc->user == NULL) {
		/* Root by default would run code for others as root. */
		xasprintf(cause, "%s:%u: pool %s needs a pool-user.%s with "
		    "--system", sc->file, sc->line, sc->name, sc->name);
		return (-1);
	}
	if (sc->user != NULL && supervise_uid(sc->user, &uid) == -1) {
		xasprintf(cause, "%s:%u: pool-user.%s: no user \"%s\"",
		    sc->file, sc->lines[4], sc->name, sc->user);
		return (-1);
	}
	owners = xcalloc(sc->nowners + 1, sizeof(*owners));
	for (i = 0; i < sc->nowners; i++) {
		if (supervise_uid(sc->owners[i], &owners[i]) == -1) {
			xasprintf(cause, "%s:%u: pool-owners.%s: no user "
			    "\"%s\"", sc->file, sc->lines[5], sc->name,
			    sc->owners[i]);
			free(owners);
			return (-1);
		}
	}
	if ((path = supervise_env_get(sc->env, "PATH")) == NULL)
		path = settings.system ? SUP_DEFAULT_PATH : getenv("PATH");
	if ((prog = supervise_resolve(sc->argv[0], path, sc->cwd != NULL ?
	    sc->cwd : "/")) == NULL) {
		xasprintf(cause, "%s:%u: pool %s: %s: not found in PATH",
		    sc->file, sc->line, sc->name, sc->argv[0]);
		free(owners);
		return (-1);
	}
	sp = supervise_pool_new(sc->name, sc->size != 0 ? sc->size :
	    (u_int)settings.procs, sc->spares >= 0 ? (u_int)sc->spares :
	    supervise_default_spares(sc->kinds != 0 ? sc->kinds :
	    SUP_KINDS_ALL));
	sp->prog = prog;
	for (i = 0; sc->argv[i] != NULL; i++)
		;
	sp->argv = supervise_strv_dup(sc->argv, i);
	sp->cwd = xstrdup(sc->cwd != NULL ? sc->cwd : "/");
	sp->env = supervise_strv_dup(sc->env, sc->nenv);
	sp->inherit = !settings.system;
	sp->kinds = sc->kinds != 0 ? sc->kinds : SUP_KINDS_ALL;
	sp->uid = uid;
	sp->as_user = settings.system && uid != 0;
	sp->owners = owners;
	sp->nowners = sc->nowners;
	sp->config = 1;
	sp->idle_ms = sc->idle_ms;
	return (0);
}

/* At start: check the pools futured.conf declares. */
int
supervise_init(char **cause)
{
	struct sup_conf	*sc;

	TAILQ_FOREACH(sc, &sup_confs, entry) {
		if (supervise_from_conf(sc, cause) == -1)
			return (-1);
	}
	supervise_conf_clear();
	return (0);
}

/* Once the socket listens: start them. */
void
supervise_start(void)
{
	struct sup_pool	*sp;

	TAILQ_FOREACH(sp, &sup_pools, entry) {
		log_info("pool %s: %u process%s of %s", sp->name, sp->size,
		    sp->size == 1 ? "" : "es", sp->prog);
		supervise_restart(sp);
	}
}

/*
 * What a process of a pool is not given of the environment it was asked
 * with (PoolRequest, pool-env) or inherits (the daemon's, user mode):
 * FUTURED_POOL and FUTURED_SOCKET, which are set to the daemon's own
 * below; FUTURED_JOB_ID, FUTURED_PROGRESS_FD and FUTURED_CTX_*, which
 * describe one job (futured(8), exec): a pool asked for from inside a
 * job would make every job its workers submit a child of that job
 * (libfutured reads FUTURED_JOB_ID), or write to a stray descriptor.
 * Any other variable passes, FUTURED_* ones too (FUTURED_LIBRARY, an
 * application's own).
 */
int
supervise_env_stripped(const char *e)
{
	static const char *const stripped[] = {
		"FUTURED_POOL=", "FUTURED_SOCKET=", "FUTURED_JOB_ID=",
		"FUTURED_PROGRESS_FD="
	};
	size_t	 i;

	if (strncmp(e, "FUTURED_", 8) != 0)
		return (0);
	if (strncmp(e, "FUTURED_CTX_", 12) == 0)
		return (1);
	for (i = 0; i < sizeof(stripped) / sizeof(stripped[0]); i++) {
		if (strncmp(e, stripped[i], strlen(stripped[i])) == 0)
			return (1);
	}
	return (0);
}

/* The environment of a process of sp; free with supervise_strv_free. */
static char **
supervise_environ(struct sup_pool *sp)
{
	char		**env, **e;
	size_t		  n = 0, k = 0, i;
	struct passwd	 *pw;

	for (e = sp->inherit ? environ : NULL; e != NULL && *e != NULL; e++)
		n++;
	for (e = sp->env; *e != NULL; e++)
		n++;
	env = xcalloc(n + 6, sizeof(*env));
	/* Ours last, and what the pool sets before the daemon's. */
	for (e = sp->env; *e != NULL; e++) {
		if (!supervise_env_stripped(*e))
			env[k++] = xstrdup(*e);
	}
	for (e = sp->inherit ? environ : NULL; e != NULL && *e != NULL; e++) {
		if (supervise_env_stripped(*e))
			continue;
		for (i = 0; i < k; i++) {
			if (strncmp(env[i], *e, strcspn(*e, "=") + 1) == 0)
				break;
		}
		if (i == k)
			env[k++] = xstrdup(*e);
	}
	if (!sp->inherit && supervise_env_get(env, "PATH") == NULL)
		env[k++] = xstrdup("PATH=" SUP_DEFAULT_PATH);
	if (sp->config && !sp->inherit && supervise_env_get(env, "HOME") ==
	    NULL && (pw = getpwuid(sp->uid)) != NULL)
		xasprintf(&env[k++], "HOME=%s", pw->pw_dir);
	xasprintf(&env[k++], "FUTURED_POOL=%s", sp->name);
	xasprintf(&env[k++], "FUTURED_SOCKET=%s", settings.socket_path);
	env[k] = NULL;
	return (env);
}

/* The stderr tail of p, as one line of text (for an error message). */
static void
supervise_tail_text(struct sup_proc *p, char *out, size_t len)
{
	size_t	 i, k = 0, n = p->ntail;
	char	 c;

	while (n > 0 && (p->tail[n - 1] == '\n' || p->tail[n - 1] == ' '))
		n--;
	for (i = 0; i < n && k + 1 < len; i++) {
		c = p->tail[i];
		if (c == '\n' || c == '\t')
			c = ' ';
		else if ((unsigned char)c < 0x20)
			c = '?';
		out[k++] = c;
	}
	out[k] = '\0';
}

static void
supervise_err_bytes(struct sup_proc *p, const char *data, size_t n)
{
	const char	*name = p->pool != NULL ? p->pool->name : "?";
	size_t		 i;

	if (n >= SUP_TAIL) {
		memcpy(p->tail, data + n - SUP_TAIL, SUP_TAIL);
		p->ntail = SUP_TAIL;
	} else {
		if (p->ntail + n > SUP_TAIL) {
			memmove(p->tail, p->tail + (p->ntail + n - SUP_TAIL),
			    SUP_TAIL - n);
			p->ntail = SUP_TAIL - n;
		}
		memcpy(p->tail + p->ntail, data, n);
		p->ntail += n;
	}
	for (i = 0; i < n; i++) {
		if (data[i] != '\n' && p->nline < sizeof(p->line) - 1) {
			p->line[p->nline++] = data[i];
			continue;
		}
		if (data[i] != '\n')
			continue;	/* the rest of a long line */
		log_debug("pool %s[%ld]: %.*s", name, (long)p->pid,
		    (int)p->nline, p->line);
		p->nline = 0;
	}
}

/* Read what stderr has; 1 at EOF. */
static int
supervise_err_read(struct sup_proc *p)
{
	char	 buf[4096];
	ssize_t	 n;

	for (;;) {
		n = read(p->errfd, buf, sizeof(buf));
		if (n > 0) {
			supervise_err_bytes(p, buf, n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		return (n == 0);
	}
}

static void
supervise_err_close(struct sup_proc *p)
{
	if (p->err_ev != NULL)
		event_free(p->err_ev);
	p->err_ev = NULL;
	if (p->errfd != -1)
		close(p->errfd);
	p->errfd = -1;
}

static void
supervise_err_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sup_proc	*p = arg;

	if (supervise_err_read(p))
		supervise_err_close(p);
}

static void
supervise_signal(struct sup_proc *p, int sig)
{
	if (p->pid > 0 && killpg(p->pid, sig) == -1 && errno != ESRCH)
		log_warn("%s: killpg %ld", __func__, (long)p->pid);
}

static void
supervise_kill_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sup_proc	*p = arg;

	if (p->pid > 0 && !(p->flags & SPF_KILLED)) {
		p->flags |= SPF_KILLED;
		supervise_signal(p, SIGKILL);
	}
}

static void
supervise_proc_free(struct sup_proc *p)
{
	supervise_err_close(p);
	if (p->kill_timer != NULL)
		event_free(p->kill_timer);
	free(p);
}

/* Start a process in slot s, or schedule the try after a failure. */
static int
supervise_spawn(struct sup_slot *s, char **cause)
{
	struct sup_pool			*sp = s->pool;
	struct sup_proc			*p;
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 sa;
	sigset_t			 none, dflt;
	char				**env, **argv, uidbuf[32], nbuf[32];
	size_t				 nenv, nargs, i, k;
	int				 errp[2], error;
	pid_t				 pid;

	if (pipe2(errp, O_CLOEXEC) == -1) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		return (-1);
	}
	if (fcntl(errp[0], F_SETFL, O_NONBLOCK) == -1) {
		xasprintf(cause, "fcntl: %s", strerror(errno));
		close(errp[0]);
		close(errp[1]);
		return (-1);
	}
	env = supervise_environ(sp);
	for (nenv = 0; env[nenv] != NULL; nenv++)
		;
	for (nargs = 0; sp->argv[nargs] != NULL; nargs++)
		;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
	    O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
#endif
	posix_spawnattr_init(&sa);
	sigemptyset(&none);
	sigfillset(&dflt);
	sigdelset(&dflt, SIGKILL);
	sigdelset(&dflt, SIGSTOP);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&sa, 0);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setsigdefault(&sa, &dflt);

	if (sp->as_user) {
		/* execas.c: drop to the user, then cwd, then the program. */
		snprintf(uidbuf, sizeof(uidbuf), "%lu", (unsigned long)sp->uid);
		snprintf(nbuf, sizeof(nbuf), "%zu", nenv);
		argv = xcalloc(6 + nenv + nargs + 1, sizeof(*argv));
		k = 0;
		argv[k++] = (char *)(uintptr_t)settings.self_exe;
		argv[k++] = "--exec-as";
		argv[k++] = uidbuf;
		argv[k++] = sp->cwd;
		argv[k++] = sp->prog;
		argv[k++] = nbuf;
		for (i = 0; i < nenv; i++)
			argv[k++] = env[i];
		for (i = 0; i < nargs; i++)
			argv[k++] = sp->argv[i];
		argv[k] = NULL;
		error = posix_spawn(&pid, settings.self_exe, &fa, &sa, argv,
		    NULL);
		free(argv);
	} else {
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR_NP
		posix_spawn_file_actions_addchdir_np(&fa, sp->cwd);
#endif
		error = posix_spawn(&pid, sp->prog, &fa, &sa, sp->argv, env);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	supervise_strv_free(env);
	close(errp[1]);
	if (error != 0) {
		close(errp[0]);
		xasprintf(cause, "%s: %s", sp->prog, strerror(error));
		return (-1);
	}

	p = xcalloc(1, sizeof(*p));
	p->pool = sp;
	p->slot = s;
	p->pid = pid;
	p->errfd = errp[0];
	p->started_ms = job_mono_ms();
	p->gen = sp->gen;
	p->err_ev = event_new(base, p->errfd, EV_READ | EV_PERSIST,
	    supervise_err_cb, p);
	p->kill_timer = evtimer_new(base, supervise_kill_cb, p);
	if (p->err_ev == NULL || p->kill_timer == NULL)
		fatalx("%s: event_new", __func__);
	event_add(p->err_ev, NULL);
	s->proc = p;
	child_watch(pid, supervise_child_cb, p);
	log_debug("pool %s: process %u is pid %ld", sp->name, s->idx,
	    (long)pid);
	return (0);
}

static void	 supervise_died(struct sup_slot *, const char *, int,
		    const char *);
static void	 supervise_poke(struct sup_pool *, int64_t);

static void
supervise_respawn_cb(evutil_socket_t fd, short events, void *arg)
{
	supervise_spawn_slot(arg);
}

static void
supervise_spawn_slot(struct sup_slot *s)
{
	char	*cause;

	if (sup_stopping || s->proc != NULL || SUP_DOWN(s->pool))
		return;
	/* A spare once the pool serves: one that never does needs none. */
	if (s->idx >= s->pool->size && s->pool->state != SUP_RUNNING)
		return;
	if (supervise_spawn(s, &cause) == 0)
		return;
	log_warnx("pool %s: cannot start process %u: %s", s->pool->name,
	    s->idx, cause);
	supervise_died(s, cause, -1, NULL);
	free(cause);
}

/* Stop every process of sp (a PoolRequest pool that never started). */
static void
supervise_pool_stop(struct sup_pool *sp)
{
	struct sup_slot	*s;
	u_int		 i;

	sp->state = SUP_FAILED;
	sp->down_ms = job_mono_ms();
	sp->gen++;
	sched_kick();		/* see supervise_registering() */
	if (sp->start_timer != NULL)
		evtimer_del(sp->start_timer);
	for (i = 0; i < sp->nslots; i++) {
		s = &sp->slots[i];
		if (s->respawn != NULL)
			evtimer_del(s->respawn);
		if (s->proc != NULL && s->proc->pid > 0 &&
		    !(s->proc->flags & SPF_KILLED)) {
			s->proc->flags |= SPF_KILLED;
			supervise_signal(s->proc, SIGKILL);
		}
	}
}

/*
 * The last failure of sp, as stats show it: why (one line), the wait
 * status of a process that died (-1: none, it could not be started)
 * and the end of its stderr (NULL: none).
 */
static void
supervise_failure(struct sup_pool *sp, const char *why, int status,
    const char *tail)
{
	free(sp->error);
	sp->error = xstrdup(why);
	sp->last_status = status;
	free(sp->last_tail);
	sp->last_tail = tail != NULL && *tail != '\0' ? xstrdup(tail) : NULL;
	sp->last_ms = job_mono_ms();
	if (sp->last_ms == 0)
		sp->last_ms = 1;
}

/*
 * The end of p's stderr for stats: its last SUP_TAIL_SHOWN bytes, from
 * a character's start, without trailing blank lines; control
 * characters but newline and tab as '?'.
 */
static void
supervise_tail_raw(const struct sup_proc *p, char *out, size_t len)
{
	size_t	 i = 0, k = 0, n = p->ntail;
	char	 c;

	while (n > 0 && (p->tail[n - 1] == '\n' || p->tail[n - 1] == ' '))
		n--;
	if (n > SUP_TAIL_SHOWN)
		i = n - SUP_TAIL_SHOWN;
	while (i < n && ((unsigned char)p->tail[i] & 0xc0) == 0x80)
		i++;
	for (; i < n && k + 1 < len; i++) {
		c = p->tail[i];
		if ((unsigned char)c < 0x20 && c != '\n' && c != '\t')
			c = '?';
		out[k++] = c;
	}
	out[k] = '\0';
}

/*
 * Slot s lost its process (or could not start one), why says how (and
 * status and tail, as supervise_failure() takes them).  Count it, and
 * start the next one after the back-off.
 */
static void
supervise_died(struct sup_slot *s, const char *why, int status,
    const char *tail)
{
	struct sup_pool	*sp = s->pool;
	int64_t		 delay;

	if (SUP_DOWN(sp) || sup_stopping)
		return;
	supervise_failure(sp, why, status, tail);
	if (sp->state == SUP_STARTING && !sp->config) {
		/* Nobody ever got this pool: say why, do not insist. */
		log_warnx("pool %s: %s", sp->name, why);
		supervise_pool_stop(sp);
		request_pool_failed(sp, FERR_INTERNAL, why);
		return;
	}
	sp->fails++;
	if (sp->fails >= SUP_FAILING && !sp->told_failing) {
		sp->told_failing = 1;
		log_warnx("pool %s is failing: %u processes died within %d s "
		    "in a row; the last: %s", sp->name, sp->fails,
		    SUP_HEALTHY_MS / 1000, why);
		/* A one-shot held for it waits no more (oneshot_waits). */
		sched_kick();
	}
	delay = supervise_backoff_ms(sp->fails);
	if (s->respawn == NULL &&
	    (s->respawn = evtimer_new(base, supervise_respawn_cb, s)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	log_debug("pool %s: process %u restarts in %lld ms", sp->name, s->idx,
	    (long long)delay);
	timer_add_ms(s->respawn, delay);
}

static void
supervise_child_cb(pid_t pid, int status, void *arg)
{
	struct sup_proc	*p = arg;
	struct sup_slot	*s = p->slot;
	struct sup_pool	*sp = p->pool;
	char		 how[64], tail[SUP_TAIL + 1], *why;
	char		 raw[SUP_TAIL_SHOWN + 1];
	struct pending	*pend;
	int64_t		 ran = job_mono_ms() - p->started_ms;
	int		 flags = p->flags;
	u_int		 gen = p->gen;

	/* A spare waiting to register: its request is answered. */
	if ((pend = p->parked) != NULL) {
		p->parked = NULL;
		request_pool_spare_end(pend, FERR_INTERNAL,
		    "the process ended");
	}
	/* What it said last, and anything of its group's left: gone. */
	if (p->errfd != -1)
		(void)supervise_err_read(p);
	supervise_err_close(p);
	supervise_signal(p, SIGKILL);
	evtimer_del(p->kill_timer);
	p->pid = -1;
	if (s == NULL) {
		/* Stopped by supervise_kill(): its successor runs already. */
		log_debug("pool %s: stopped process %ld is gone", sp->name,
		    (long)pid);
		if (!(flags & SPF_ATTACHED)) {
			TAILQ_REMOVE(&sup_orphans, p, entry);
			supervise_proc_free(p);
		}
		return;
	}
	p->slot = NULL;
	s->proc = NULL;

	if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "was killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "ended (wait status %d)", status);
	supervise_tail_text(p, tail, sizeof(tail));
	supervise_tail_raw(p, raw, sizeof(raw));
	xasprintf(&why, "process %ld %s%s%s%s", (long)pid, how,
	    (flags & SPF_REGISTERED) ? "" : " before registering",
	    *tail != '\0' ? ": " : "", tail);

	if (flags & SPF_ATTACHED)
		TAILQ_INSERT_TAIL(&sup_orphans, p, entry);
	else
		supervise_proc_free(p);

	if (gen != sp->gen) {
		/*
		 * Of a start that failed, or of a retired pool: the pool
		 * may be starting again, or a job came meanwhile.
		 */
		free(why);
		supervise_spawn_slot(s);
		if (SUP_DOWN(sp))
			supervise_poke(sp, 0);
		return;
	}
	if (!sup_stopping && !SUP_DOWN(sp))
		log_info("pool %s: %s", sp->name, why);
	if (ran >= SUP_HEALTHY_MS) {
		sp->fails = 0;
		sp->told_failing = 0;
	}
	if (!SUP_DOWN(sp) && !sup_stopping) {
		sp->restarts++;
		metrics_worker_restart();
	}
	supervise_died(s, why, status, raw);
	free(why);
}

static void
supervise_start_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sup_pool	*sp = arg;
	char		*why;

	if (sp->state != SUP_STARTING)
		return;
	xasprintf(&why, "no process registered within %d s",
	    SUP_START_MS / 1000);
	log_warnx("pool %s: %s", sp->name, why);
	supervise_pool_stop(sp);
	supervise_failure(sp, why, -1, NULL);
	request_pool_failed(sp, FERR_INTERNAL, why);
	free(why);
}

/* Retirement ------------------------------------------------------------- */

/* May sp's processes serve the jobs of uid? */
static int
supervise_pool_serves(const struct sup_pool *sp, uid_t uid)
{
	size_t	 i;

	for (i = 0; i < sp->nowners; i++) {
		if (sp->owners[i] == uid)
			return (1);
	}
	return (sp->nowners == 0 && uid == sp->uid);
}

/* Do jobs wait in the queue of one of sp's handlers (any owner's)? */
static int
supervise_jobs_waiting(const struct sup_pool *sp)
{
	size_t	 i;

	for (i = 0; i < sp->nhandlers; i++) {
		if (pool_worker_handler_queued(sp->handlers[i]) > 0)
			return (1);
	}
	return (0);
}

static void	 supervise_idle_cb(evutil_socket_t, short, void *);
static void	 supervise_forget(struct sup_pool *);
static void	 supervise_evict(struct sup_pool *);

/* sp's idle timer, which also wakes a retired pool, fires in ms. */
static void
supervise_poke(struct sup_pool *sp, int64_t ms)
{
	if (sp->idle_timer == NULL && (sp->idle_timer = evtimer_new(base,
	    supervise_idle_cb, sp)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	timer_add_ms(sp->idle_timer, ms);
}

/*
 * Start sp's processes: a new pool, or one retired or failed before.
 * A PoolRequest pool's first registration is awaited SUP_START_MS.
 */
static void
supervise_restart(struct sup_pool *sp)
{
	u_int	 i;

	if (SUP_DOWN(sp))
		log_info("pool %s: starting again", sp->name);
	sp->state = SUP_STARTING;
	sp->fails = 0;
	sp->told_failing = 0;
	sp->used_ms = job_mono_ms();
	if (!sp->config) {
		if (sp->start_timer == NULL && (sp->start_timer =
		    evtimer_new(base, supervise_start_timeout_cb, sp)) == NULL)
			fatalx("%s: evtimer_new", __func__);
		timer_add_ms(sp->start_timer, SUP_START_MS);
	}
	for (i = 0; i < sp->size; i++)
		supervise_spawn_slot(&sp->slots[i]);
	if (sp->idle_ms > 0 && !SUP_DOWN(sp))
		supervise_poke(sp, sp->idle_ms);
}

/*
 * sp was idle for idle_ms, or failing that long with no job waiting:
 * TERM to its processes (KILL after the grace), none restarted; it
 * keeps its command and handler names, to start again on demand.
 */
static void
supervise_retire(struct sup_pool *sp)
{
	struct sup_slot	*s;
	struct sup_proc	*p;
	char		 d[32];
	u_int		 i;

	duration_format(sp->idle_ms, d, sizeof(d));
	if (sp->fails >= SUP_FAILING) {
		log_warnx("pool %s: stopped, failing for %s with no job "
		    "waiting; the last failure: %s", sp->name, d,
		    sp->error != NULL ? sp->error : "?");
		sp->state = SUP_FAILED;
	} else {
		log_info("pool %s: stopped, idle for %s", sp->name, d);
		sp->state = SUP_STOPPED;
	}
	sp->down_ms = job_mono_ms();
	sp->gen++;
	if (sp->start_timer != NULL)
		evtimer_del(sp->start_timer);
	for (i = 0; i < sp->nslots; i++) {
		s = &sp->slots[i];
		if (s->respawn != NULL)
			evtimer_del(s->respawn);
		s->killed_ms = 0;
		if ((p = s->proc) == NULL || p->pid <= 0 ||
		    (p->flags & (SPF_CANCEL | SPF_KILLED)))
			continue;
		/* Serving nobody from now on (supervise_serves). */
		p->flags |= SPF_CANCEL;
		supervise_signal(p, SIGTERM);
		timer_add_ms(p->kill_timer, settings.grace_ms);
	}
}

/*
 * The idle timer.  A pool that runs: retired once no process holds a
 * task, no job waits in its handlers' queues, no PoolRequest waits,
 * and idle_ms passed since the last task ended, the last PoolRequest
 * for it or its start.  A pool that is down was poked (a job was
 * queued for one of its handlers, or its last process went while one
 * was): it starts again if a job waits, but a failed one at most once
 * per SUP_BACKOFF_MAX_MS, not once per job.
 */
static void
supervise_idle_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sup_pool	*sp = arg;
	int64_t		 now = job_mono_ms(), due;

	if (sup_stopping)
		return;
	if (SUP_DOWN(sp)) {
		if (!supervise_jobs_waiting(sp)) {
			supervise_forget(sp);
			supervise_evict(sp);
			return;
		}
		if (sp->state == SUP_FAILED && sp->last_ms != 0 &&
		    (due = sp->last_ms + SUP_BACKOFF_MAX_MS) > now) {
			supervise_poke(sp, due - now);
			return;
		}
		if (!sp->config &&
		    supervise_count(sp->uid) >= SUP_POOLS_PER_UID) {
			log_warnx("pool %s: a job waits, but uid %lu has %d "
			    "pools running", sp->name, (unsigned long)sp->uid,
			    SUP_POOLS_PER_UID);
			supervise_poke(sp, SUP_BACKOFF_MAX_MS);
			return;
		}
		supervise_restart(sp);
		return;
	}
	if (sp->idle_ms == 0)
		return;
	if (sp->held > 0 || !LIST_EMPTY(&sp->waiters) ||
	    supervise_jobs_waiting(sp)) {
		supervise_poke(sp, sp->idle_ms);
		return;
	}
	if ((due = sp->used_ms + sp->idle_ms) > now) {
		supervise_poke(sp, due - now);
		return;
	}
	supervise_retire(sp);
}

/* Does sp serve handler name (as its first process registered)? */
static int
supervise_pool_has(const struct sup_pool *sp, const char *name)
{
	size_t	 i;

	for (i = 0; i < sp->nhandlers; i++) {
		if (strcmp(sp->handlers[i], name) == 0)
			return (1);
	}
	return (0);
}

/*
 * sp is down and its workers gone: the handler names it served leave
 * the registry (handler_retire), unless a pool that runs serves one
 * too, a worker (an attached one) serves it, or a job waits for or
 * names it unfinished.  A long-lived daemon that ran many Python
 * modules' pools keeps the registry for the names in use.  They stay
 * in sp: a submit for one starts sp again (supervise_handler).
 */
static void
supervise_forget(struct sup_pool *sp)
{
	const struct fut_handler	**hs, *h;
	struct sup_pool			 *o;
	size_t				  i, n = 0;

	hs = xcalloc(sp->nhandlers + 1, sizeof(*hs));
	for (i = 0; i < sp->nhandlers; i++) {
		if ((h = handler_find(sp->handlers[i])) == NULL ||
		    !pool_worker_handler_idle(h))
			continue;
		TAILQ_FOREACH(o, &sup_pools, entry) {
			if (o != sp && !SUP_DOWN(o) &&
			    supervise_pool_has(o, sp->handlers[i]))
				break;
		}
		if (o == NULL)
			hs[n++] = h;
	}
	(void)handler_retire(hs, n);
	free(hs);
}

/*
 * A submit of owner for handler name, which is not registered: if a
 * pool that is down served it for owner, the name comes back (waiting
 * for a worker, with the pool's kinds) and the job's queueing wakes the
 * pool.  NULL if none did.
 */
const struct fut_handler *
supervise_handler(const char *name, uid_t owner)
{
	static const enum job_kind	 order[] = { JOB_CPU, JOB_BLOCKING,
					    JOB_ASYNC };
	const struct fut_handler	*h = NULL;
	struct sup_pool			*sp;
	size_t				 i;

	TAILQ_FOREACH(sp, &sup_pools, entry) {
		if (SUP_DOWN(sp) && supervise_pool_serves(sp, owner) &&
		    supervise_pool_has(sp, name))
			break;
	}
	if (sp == NULL)
		return (NULL);
	/* The first kind is its default: the heaviest the pool serves. */
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if ((sp->kinds & (1U << order[i])) &&
		    (h = pool_worker_handler_wait(name, order[i])) == NULL)
			return (NULL);
	}
	return (h);
}

static void	 supervise_pool_free(struct sup_pool *);

/*
 * A user's PoolRequest pools that are down cost no process but their
 * memory (a command line and a whole environment each): beyond
 * SUP_DOWN_PER_UID of them (sp's user's), the one down longest is
 * forgotten, once none of its processes is left.  A PoolRequest for it
 * makes it anew; a submit for one of its names is then refused as an
 * unknown handler.  Not sp itself: its timer is running.
 */
static void
supervise_evict(struct sup_pool *sp)
{
	struct sup_pool	*o, *old;
	struct sup_proc	*p;
	u_int		 n, i;

	for (;;) {
		n = 0;
		old = NULL;
		TAILQ_FOREACH(o, &sup_pools, entry) {
			if (o->config || o->uid != sp->uid || !SUP_DOWN(o))
				continue;
			n++;
			if (o == sp || !LIST_EMPTY(&o->waiters))
				continue;
			for (i = 0; i < o->nslots; i++) {
				if (o->slots[i].proc != NULL)
					break;
			}
			if (i < o->nslots)
				continue;
			TAILQ_FOREACH(p, &sup_orphans, entry) {
				if (p->pool == o)
					break;
			}
			if (p != NULL)
				continue;
			if (old == NULL || o->down_ms < old->down_ms)
				old = o;
		}
		if (n <= SUP_DOWN_PER_UID || old == NULL)
			return;
		log_info("pool %s: forgotten, %u pools of uid %lu are down",
		    old->name, n, (unsigned long)old->uid);
		TAILQ_REMOVE(&sup_pools, old, entry);
		supervise_pool_free(old);
	}
}

/* The engine gave p a task (delta 1), or p holds one no more (-1). */
void
supervise_task(struct sup_proc *p, int delta)
{
	struct sup_pool	*sp = p->pool;

	if (sp == NULL)
		return;
	sp->held += delta;
	if (sp->held == 0)
		sp->used_ms = job_mono_ms();
}

/*
 * A job of owner was queued for handler name, which no worker serves:
 * a pool that is down and served it starts again (on the next loop
 * turn, not inside the scheduler).
 */
void
supervise_wake(const char *name, uid_t owner)
{
	struct sup_pool	*sp;

	TAILQ_FOREACH(sp, &sup_pools, entry) {
		if (SUP_DOWN(sp) && supervise_pool_serves(sp, owner) &&
		    supervise_pool_has(sp, name))
			supervise_poke(sp, 0);
	}
}

/* The name a PoolRequest pool gets when it asks for none. */
static char *
supervise_auto_name(const struct sup_spec *ss, const char *cwd)
{
	const char	*bn, *s;
	char		*name;
	uint64_t	 h = 14695981039346656037ULL;	/* FNV-1a */
	size_t		 i, n;

	for (i = 0; i < ss->argc; i++) {
		for (s = ss->argv[i]; ; s++) {
			h = (h ^ (unsigned char)*s) * 1099511628211ULL;
			if (*s == '\0')
				break;
		}
	}
	for (s = cwd; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ ss->uid) * 1099511628211ULL;
	bn = strrchr(ss->argv[0], '/');
	bn = bn != NULL ? bn + 1 : ss->argv[0];
	n = strlen(bn);
	if (n > 32)
		n = 32;
	xasprintf(&name, "%.*s-%08llx", (int)n, bn,
	    (unsigned long long)(h & 0xffffffffULL));
	for (i = 0; i < n; i++) {
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_.:-", name[i]) == NULL)
			name[i] = '_';
	}
	return (name);
}

static int
supervise_same(const struct sup_pool *sp, const struct sup_spec *ss,
    const char *cwd)
{
	size_t	 i;

	if (sp->config || sp->uid != ss->uid || strcmp(sp->cwd, cwd) != 0)
		return (0);
	for (i = 0; i < ss->argc; i++) {
		if (sp->argv[i] == NULL || strcmp(sp->argv[i], ss->argv[i]) != 0)
			return (0);
	}
	return (sp->argv[i] == NULL);
}

static u_int
supervise_count(uid_t uid)
{
	struct sup_pool	*sp;
	u_int		 n = 0;

	/* A retired pool costs no process: it does not count. */
	TAILQ_FOREACH(sp, &sup_pools, entry)
		n += !sp->config && sp->uid == uid && !SUP_DOWN(sp);
	return (n);
}

/*
 * A PoolRequest: the pool with the same argv, user and cwd, or a new
 * one, started.  *created says which.  -1, *code and *cause (the caller
 * frees) if it cannot be.  The request is answered by request_pool.c:
 * at once if supervise_pool_ready(), else once it is (or failed).
 */
int
supervise_request(const struct sup_spec *ss, struct sup_pool **out,
    int *created, int *code, char **cause)
{
	struct sup_pool	*sp;
	const char	*cwd = ss->cwd != NULL ? ss->cwd : "/";
	const char	*path;
	char		*name, *prog;
	u_int		 size;

	*code = FERR_INVALID;
	if (sup_stopping) {
		*code = FERR_SHUTTING_DOWN;
		xasprintf(cause, "futured is shutting down");
		return (-1);
	}
	size = ss->size != 0 ? ss->size : (u_int)settings.procs;
	if (size > SUP_SIZE_MAX) {
		xasprintf(cause, "size %u: at most %d processes", ss->size,
		    SUP_SIZE_MAX);
		return (-1);
	}
	if (*cwd != '/') {
		xasprintf(cause, "cwd \"%s\" is not absolute", cwd);
		return (-1);
	}
	if (ss->name != NULL)
		name = xstrdup(ss->name);
	else
		name = supervise_auto_name(ss, cwd);
	if ((sp = supervise_find(name)) != NULL) {
		if (!supervise_same(sp, ss, cwd)) {
			xasprintf(cause, "pool %s exists with another command, "
			    "user or directory", name);
			free(name);
			return (-1);
		}
		free(name);
		*out = sp;
		*created = 0;
		sp->used_ms = job_mono_ms();
		if (!SUP_DOWN(sp))
			return (0);
		/* Retired, or it failed before: start afresh. */
		if (supervise_count(ss->uid) >= SUP_POOLS_PER_UID) {
			xasprintf(cause, "uid %lu has %d pools running already",
			    (unsigned long)ss->uid, SUP_POOLS_PER_UID);
			return (-1);
		}
		*created = 1;
		supervise_restart(sp);
		return (0);
	}
	if (supervise_count(ss->uid) >= SUP_POOLS_PER_UID) {
		xasprintf(cause, "uid %lu has %d pools running already",
		    (unsigned long)ss->uid, SUP_POOLS_PER_UID);
		free(name);
		return (-1);
	}
	if ((path = supervise_env_get(ss->env, "PATH")) == NULL)
		path = SUP_DEFAULT_PATH;
	if ((prog = supervise_resolve(ss->argv[0], path, cwd)) == NULL) {
		xasprintf(cause, "argv[0] \"%s\": not found in PATH %s",
		    ss->argv[0], path);
		free(name);
		return (-1);
	}
	sp = supervise_pool_new(name, size, supervise_default_spares(
	    ss->kinds != 0 ? ss->kinds : SUP_KINDS_ALL));
	free(name);
	sp->prog = prog;
	sp->argv = supervise_strv_dup(ss->argv, ss->argc);
	sp->cwd = xstrdup(cwd);
	sp->env = supervise_strv_dup(ss->env, ss->nenv);
	sp->kinds = ss->kinds != 0 ? ss->kinds : SUP_KINDS_ALL;
	sp->uid = ss->uid;
	sp->as_user = settings.system && ss->uid != 0;
	sp->owners = xcalloc(1, sizeof(*sp->owners));
	sp->idle_ms = settings.pool_idle_ms;
	*out = sp;
	*created = 1;
	log_info("pool %s: %u process%s of %s for uid %lu", sp->name, size,
	    size == 1 ? "" : "es", sp->prog, (unsigned long)sp->uid);
	supervise_restart(sp);
	return (0);
}

const char *
supervise_pool_name(const struct sup_pool *sp)
{
	return (sp->name);
}

int
supervise_pool_ready(const struct sup_pool *sp)
{
	return (sp->state == SUP_RUNNING);
}

/* Why sp could not start (its processes could not even be spawned). */
const char *
supervise_pool_failed(const struct sup_pool *sp)
{
	if (sp->state != SUP_FAILED)
		return (NULL);
	return (sp->error != NULL ? sp->error : "could not start");
}

u_int
supervise_pool_kinds(const struct sup_pool *sp)
{
	return (sp->kinds);
}

/* The handler names its first process registered. */
size_t
supervise_pool_handlers(const struct sup_pool *sp, const char *const **names)
{
	*names = (const char *const *)sp->handlers;
	return (sp->nhandlers);
}

/*
 * The command of a pool that serves handler name for uid's jobs, for a
 * one-shot run of one of them (oneshot.c): its program (resolved) and
 * arguments, the environment its processes get but FUTURED_POOL (the
 * one-shot serves no connection), its directory; copies, the vectors
 * NULL-terminated.  -1 if no pool does (a pool is known by the names
 * its first process registered).
 */
static struct sup_pool *
supervise_find_serving(const char *name, uid_t uid)
{
	struct sup_pool	*sp;

	TAILQ_FOREACH(sp, &sup_pools, entry) {
		if (sp->state != SUP_FAILED && supervise_pool_serves(sp, uid) &&
		    supervise_pool_has(sp, name))
			return (sp);
	}
	return (NULL);
}

/* Is a pool that serves handler name for uid known (supervise_command)? */
int
supervise_serving(const char *name, uid_t uid)
{
	return (supervise_find_serving(name, uid) != NULL);
}

/*
 * Is a pool for uid's jobs starting whose first process has not yet
 * registered, and so may serve any name?  After a restart, every
 * futured.conf pool is, for a moment; one that is failing is not.
 */
int
supervise_registering(uid_t uid)
{
	struct sup_pool	*sp;

	TAILQ_FOREACH(sp, &sup_pools, entry) {
		if (sp->state == SUP_STARTING && sp->handlers == NULL &&
		    sp->fails < SUP_FAILING && supervise_pool_serves(sp, uid))
			return (1);
	}
	return (0);
}

int
supervise_command(const char *name, uid_t uid, char ***argvp, char ***envp,
    char **cwdp)
{
	struct sup_pool	*sp;
	char		**env;
	size_t		  i, k, n;

	if ((sp = supervise_find_serving(name, uid)) == NULL)
		return (-1);
	for (n = 0; sp->argv[n] != NULL; n++)
		;
	*argvp = supervise_strv_dup(sp->argv, n);
	free((*argvp)[0]);
	(*argvp)[0] = xstrdup(sp->prog);
	env = supervise_environ(sp);
	for (i = k = 0; env[i] != NULL; i++) {
		if (strncmp(env[i], "FUTURED_POOL=", 13) == 0)
			free(env[i]);
		else
			env[k++] = env[i];
	}
	env[k] = NULL;
	*envp = env;
	*cwdp = xstrdup(sp->cwd);
	return (0);
}

struct sup_waiters *
supervise_pool_waiters(struct sup_pool *sp)
{
	return (&sp->waiters);
}

static const char *
supervise_state_name(const struct sup_pool *sp)
{
	switch (sp->state) {
	case SUP_FAILED:
		return ("failed");
	case SUP_STOPPED:
		return ("stopped");
	case SUP_STARTING:
		/* A process that exits at once is failing, not starting. */
		return (sp->fails >= SUP_FAILING ? "failing" : "starting");
	case SUP_RUNNING:
		break;
	}
	return (sp->fails >= SUP_FAILING ? "failing" : "running");
}

void
supervise_foreach(void (*cb)(const struct sup_stats *, void *), void *arg)
{
	struct sup_pool		*sp;
	struct sup_proc		*p;
	struct sup_stats	 st;
	int64_t			 now = job_mono_ms();
	u_int			 i;

	TAILQ_FOREACH(sp, &sup_pools, entry) {
		memset(&st, 0, sizeof(st));
		st.name = sp->name;
		st.uid = sp->uid;
		st.size = sp->size;
		for (i = 0; i < sp->size; i++) {
			if ((p = sp->slots[i].proc) == NULL || p->pid <= 0)
				continue;
			st.alive++;
			st.ready += (p->flags & SPF_READY) != 0;
			/* Up a while: the deaths before are history. */
			if (now - p->started_ms >= SUP_HEALTHY_MS &&
			    (p->flags & SPF_READY))
				sp->fails = 0;
		}
		for (i = sp->size; i < sp->nslots; i++) {
			if ((p = sp->slots[i].proc) != NULL && p->pid > 0 &&
			    p->parked != NULL)
				st.spares++;
		}
		st.state = supervise_state_name(sp);
		st.restarts = sp->restarts;
		st.respawn_ms = sp->respawn_ms;
		st.respawns = sp->respawns;
		st.error = sp->error;
		st.last_exit = -1;
		if (sp->last_status != -1 && WIFEXITED(sp->last_status))
			st.last_exit = WEXITSTATUS(sp->last_status);
		else if (sp->last_status != -1 && WIFSIGNALED(sp->last_status))
			st.last_signal = WTERMSIG(sp->last_status);
		st.last_stderr = sp->last_tail;
		st.last_ago_ms = sp->last_ms != 0 ? now - sp->last_ms : -1;
		cb(&st, arg);
	}
}

/* The engine's side ---------------------------------------------------- */

/*
 * A connection registering for pool name has peer pid: is it one of
 * its processes (or in one's process group: a wrapper's child)?
 */
int
supervise_attach(const char *name, pid_t pid, struct sup_proc **out,
    char **cause)
{
	struct sup_pool	*sp;
	struct sup_proc	*p;
	pid_t		 pgid;
	u_int		 i;

	if ((sp = supervise_find(name)) == NULL) {
		xasprintf(cause, "no supervised pool \"%s\"", name);
		return (-1);
	}
	pgid = getpgid(pid);
	for (i = 0; i < sp->size; i++) {
		p = sp->slots[i].proc;
		if (p == NULL || p->pid <= 0 ||
		    (p->pid != pid && p->pid != pgid))
			continue;
		if (p->flags & SPF_ATTACHED) {
			xasprintf(cause, "process %ld of pool %s is registered "
			    "already", (long)p->pid, name);
			return (-1);
		}
		p->flags |= SPF_ATTACHED;
		*out = p;
		return (0);
	}
	xasprintf(cause, "pid %ld is not a process of pool %s", (long)pid,
	    name);
	return (-1);
}

/* p registered these handlers: it serves; its pool's requests hear. */
void
supervise_ready(struct sup_proc *p, const char *const *names, size_t n)
{
	struct sup_pool	*sp = p->pool;
	struct sup_slot	*s = p->slot;
	size_t		 i;

	if (sp == NULL || s == NULL || (p->flags & SPF_READY))
		return;
	p->flags |= SPF_READY | SPF_REGISTERED;
	if (s->killed_ms != 0 && !(p->flags & SPF_CANCEL)) {
		sp->respawn_ms = job_mono_ms() - s->killed_ms;
		sp->respawns++;
		s->killed_ms = 0;
		log_debug("pool %s: process %u serves again %lld ms after the "
		    "kill", sp->name, s->idx, (long long)sp->respawn_ms);
	}
	if (sp->handlers == NULL) {
		sp->handlers = xcalloc(n + 1, sizeof(*sp->handlers));
		for (i = 0; i < n; i++)
			sp->handlers[i] = xstrdup(names[i]);
		sp->nhandlers = n;
		/* A Slurm one-shot held for its command has it now. */
		sched_kick();
	}
	if (sp->state == SUP_RUNNING)
		return;
	sp->state = SUP_RUNNING;
	/* Idle from now: its start may have taken longer than idle_ms. */
	sp->used_ms = job_mono_ms();
	if (sp->start_timer != NULL)
		evtimer_del(sp->start_timer);
	log_info("pool %s: serving (pid %ld registered)", sp->name,
	    (long)p->pid);
	for (i = sp->size; i < sp->nslots; i++)
		supervise_spawn_slot(&sp->slots[i]);
	request_pool_ready(sp);
}

/*
 * The engine lets go of p (its connection is gone).  A process still
 * running without its connection serves nobody: it is stopped, and
 * replaced.
 */
void
supervise_detach(struct sup_proc *p)
{
	p->flags &= ~(SPF_ATTACHED | SPF_READY);
	/*
	 * A job queued while it was going finds no worker: wake the pool;
	 * else its handler names may go.
	 */
	if (p->pool != NULL && SUP_DOWN(p->pool) && !sup_stopping)
		supervise_poke(p->pool, 0);
	if (p->slot == NULL) {
		if (p->pid > 0)
			return;	/* being stopped: freed once reaped */
		/* Dead, and kept for us on sup_orphans. */
		TAILQ_REMOVE(&sup_orphans, p, entry);
		supervise_proc_free(p);
		return;
	}
	if (p->pid <= 0)
		return;		/* reaped by supervise_shutdown() */
	if (!(p->flags & (SPF_KILLED | SPF_CANCEL)) && !sup_stopping) {
		log_debug("pool %s: pid %ld let go of its connection",
		    p->pool->name, (long)p->pid);
		supervise_signal(p, SIGTERM);
		timer_add_ms(p->kill_timer, settings.grace_ms);
	}
}

/* May p serve the jobs of uid? */
int
supervise_serves(const struct sup_proc *p, uid_t uid)
{
	const struct sup_pool	*sp = p->pool;

	/* Not a process being stopped: its next job would be lost. */
	if (sp == NULL || p->slot == NULL || p->pid <= 0 ||
	    (p->flags & SPF_CANCEL))
		return (0);
	return (supervise_pool_serves(sp, uid));
}

/* A process of a pool serving cpu runs one cpu job at a time. */
int
supervise_one_job(const struct sup_proc *p)
{
	return (p->pool != NULL && (p->pool->kinds & (1U << JOB_CPU)));
}

pid_t
supervise_pid(const struct sup_proc *p)
{
	return (p->pid);
}

static void
supervise_unpark_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sup_pool	*sp = arg;
	struct sup_proc	*p;
	struct pending	*pend;
	u_int		 i;

	for (i = 0; i < sp->size; i++) {
		if ((p = sp->slots[i].proc) == NULL || p->parked == NULL)
			continue;
		pend = p->parked;
		p->parked = NULL;
		request_pool_unpark(pend);
	}
}

/*
 * Slot s lost its process to a kill: a warm spare takes it, if the pool
 * has one alive, and a new spare starts in the background.  A spare
 * that is ready (its registration parked) serves at once: its
 * registration goes through on the next loop turn (not here, inside
 * the engine's cancel).  One still starting takes the slot all the
 * same: it is further along than a new process.  -1 if there is none.
 * The new spare starts SUP_SPARE_DELAY_MS later: neither the cancel's
 * answer nor the first jobs of the promoted spare wait for a
 * posix_spawn, or share the cpu with a starting interpreter.
 */
static int
supervise_promote(struct sup_slot *s)
{
	struct sup_pool	*sp = s->pool;
	struct sup_slot	*ss, *best = NULL;
	struct sup_proc	*q;
	u_int		 i;

	if (sup_stopping || sp->state != SUP_RUNNING)
		return (-1);
	for (i = sp->size; i < sp->nslots; i++) {
		ss = &sp->slots[i];
		if ((q = ss->proc) == NULL || q->pid <= 0 ||
		    (q->flags & (SPF_CANCEL | SPF_KILLED)))
			continue;
		if (best == NULL || (q->parked != NULL &&
		    best->proc->parked == NULL))
			best = ss;
	}
	if (best == NULL)
		return (-1);
	q = best->proc;
	best->proc = NULL;
	q->slot = s;
	s->proc = q;
	log_debug("pool %s: spare pid %ld takes process %u's place%s",
	    sp->name, (long)q->pid, s->idx, q->parked != NULL ? "" :
	    " (still starting)");
	if (q->parked != NULL) {
		if (sp->unpark_ev == NULL && (sp->unpark_ev = evtimer_new(base,
		    supervise_unpark_cb, sp)) == NULL)
			fatalx("%s: evtimer_new", __func__);
		event_active(sp->unpark_ev, EV_TIMEOUT, 1);
	}
	if (best->respawn == NULL && (best->respawn = evtimer_new(base,
	    supervise_respawn_cb, best)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	timer_add_ms(best->respawn, SUP_SPARE_DELAY_MS);
	return (0);
}

/*
 * Stop p (its running job is cancelled): TERM to its process group,
 * KILL after grace_ms.  A fresh process takes its slot at once, without
 * waiting for p to go: the slot serves again as soon as the new one
 * has registered.  -1 if p is gone already.
 */
int
supervise_kill(struct sup_proc *p, int64_t grace_ms)
{
	struct sup_slot	*s = p->slot;

	if (p->pid <= 0)
		return (-1);
	if (p->flags & SPF_CANCEL) {
		/* Already dying; only ever make the KILL come sooner. */
		if (grace_ms <= 0)
			supervise_kill_cb(-1, 0, p);
		return (0);
	}
	if (s == NULL)
		return (-1);
	p->flags |= SPF_CANCEL;
	s->killed_ms = job_mono_ms();
	log_debug("pool %s: TERM to pid %ld, grace %lld ms", p->pool->name,
	    (long)p->pid, (long long)grace_ms);
	if (grace_ms <= 0)
		supervise_kill_cb(-1, 0, p);
	else {
		supervise_signal(p, SIGTERM);
		timer_add_ms(p->kill_timer, grace_ms);
	}
	p->slot = NULL;
	s->proc = NULL;
	TAILQ_INSERT_TAIL(&sup_orphans, p, entry);
	p->pool->restarts++;
	metrics_worker_restart();
	if (supervise_promote(s) == -1)
		supervise_spawn_slot(s);
	return (0);
}

/*
 * A registering connection of pool name with peer pid: a spare of it
 * (or in a spare's process group)?  Its registration waits until it
 * takes a slot.  NULL if it is not.
 */
struct sup_proc *
supervise_spare(const char *name, pid_t pid)
{
	struct sup_pool	*sp;
	struct sup_proc	*p;
	pid_t		 pgid;
	u_int		 i;

	if ((sp = supervise_find(name)) == NULL || sp->nslots == sp->size)
		return (NULL);
	pgid = getpgid(pid);
	for (i = sp->size; i < sp->nslots; i++) {
		p = sp->slots[i].proc;
		if (p != NULL && p->pid > 0 && (p->pid == pid ||
		    p->pid == pgid))
			return (p);
	}
	return (NULL);
}

int
supervise_spare_parked(const struct sup_proc *p)
{
	return (p->parked != NULL);
}

/* p's registration waits in pend (request_pool.c) until p takes a slot. */
void
supervise_park(struct sup_proc *p, struct pending *pend)
{
	p->parked = pend;
	log_debug("pool %s: spare pid %ld is ready", p->pool->name,
	    (long)p->pid);
}

/*
 * p's parked registration is gone with its connection: without one it
 * serves nobody, so it is stopped (and replaced, as it dies).
 */
void
supervise_unparked(struct sup_proc *p)
{
	p->parked = NULL;
	if (p->pid <= 0 || sup_stopping || (p->flags & SPF_KILLED))
		return;
	supervise_signal(p, SIGTERM);
	timer_add_ms(p->kill_timer, settings.grace_ms);
}

/* Shutdown ------------------------------------------------------------- */

static int
supervise_reap(struct sup_proc *p, int block)
{
	pid_t	 r;
	int	 status;

	if (p->pid <= 0)
		return (1);
	do
		r = waitpid(p->pid, &status, block ? 0 : WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return (0);
	supervise_signal(p, SIGKILL);
	p->pid = -1;
	return (1);
}

/*
 * At exit: the waiting requests are told, every process gets TERM, KILL
 * after the grace, and is reaped (blocking: this is the end).  The
 * memory stays until supervise_free(): the engine may still let go.
 */
void
supervise_shutdown(void)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	struct sup_pool	*sp;
	struct sup_proc	*p;
	struct pending	*pend;
	int64_t		 deadline;
	u_int		 i, left;

	sup_stopping = 1;
	TAILQ_FOREACH(sp, &sup_pools, entry) {
		request_pool_failed(sp, FERR_SHUTTING_DOWN,
		    "futured is shutting down");
		if (sp->start_timer != NULL)
			evtimer_del(sp->start_timer);
		if (sp->idle_timer != NULL)
			evtimer_del(sp->idle_timer);
		if (sp->unpark_ev != NULL)
			event_del(sp->unpark_ev);
		for (i = 0; i < sp->nslots; i++) {
			if (sp->slots[i].respawn != NULL)
				evtimer_del(sp->slots[i].respawn);
			if ((p = sp->slots[i].proc) != NULL &&
			    (pend = p->parked) != NULL) {
				p->parked = NULL;
				request_pool_spare_end(pend,
				    FERR_SHUTTING_DOWN,
				    "futured is shutting down");
			}
			if ((p = sp->slots[i].proc) == NULL || p->pid <= 0)
				continue;
			child_unwatch(p->pid);
			supervise_signal(p, SIGTERM);
		}
	}
	TAILQ_FOREACH(p, &sup_orphans, entry) {
		if (p->pid > 0) {
			child_unwatch(p->pid);
			supervise_signal(p, SIGTERM);
		}
	}
	deadline = job_mono_ms() + settings.grace_ms;
	for (;;) {
		left = 0;
		TAILQ_FOREACH(sp, &sup_pools, entry) {
			for (i = 0; i < sp->nslots; i++) {
				if ((p = sp->slots[i].proc) != NULL)
					left += !supervise_reap(p, 0);
			}
		}
		TAILQ_FOREACH(p, &sup_orphans, entry)
			left += !supervise_reap(p, 0);
		if (left == 0 || job_mono_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	TAILQ_FOREACH(sp, &sup_pools, entry) {
		for (i = 0; i < sp->nslots; i++) {
			if ((p = sp->slots[i].proc) == NULL || p->pid <= 0)
				continue;
			log_warnx("pool %s: pid %ld ignored TERM, killing it",
			    sp->name, (long)p->pid);
			supervise_signal(p, SIGKILL);
			supervise_reap(p, 1);
		}
	}
	TAILQ_FOREACH(p, &sup_orphans, entry) {
		if (p->pid > 0) {
			supervise_signal(p, SIGKILL);
			supervise_reap(p, 1);
		}
	}
}

/* sp, out of sup_pools, and what its slots still hold. */
static void
supervise_pool_free(struct sup_pool *sp)
{
	u_int	 i;

	for (i = 0; i < sp->nslots; i++) {
		if (sp->slots[i].proc != NULL)
			supervise_proc_free(sp->slots[i].proc);
		if (sp->slots[i].respawn != NULL)
			event_free(sp->slots[i].respawn);
	}
	if (sp->start_timer != NULL)
		event_free(sp->start_timer);
	if (sp->idle_timer != NULL)
		event_free(sp->idle_timer);
	if (sp->unpark_ev != NULL)
		event_free(sp->unpark_ev);
	free(sp->slots);
	free(sp->name);
	free(sp->prog);
	free(sp->cwd);
	free(sp->error);
	free(sp->last_tail);
	free(sp->owners);
	supervise_strv_free(sp->argv);
	supervise_strv_free(sp->env);
	supervise_strv_free(sp->handlers);
	free(sp);
}

void
supervise_free(void)
{
	struct sup_pool	*sp;
	struct sup_proc	*p;

	while ((p = TAILQ_FIRST(&sup_orphans)) != NULL) {
		TAILQ_REMOVE(&sup_orphans, p, entry);
		supervise_proc_free(p);
	}
	while ((sp = TAILQ_FIRST(&sup_pools)) != NULL) {
		TAILQ_REMOVE(&sup_pools, sp, entry);
		supervise_pool_free(sp);
	}
	supervise_conf_clear();
	sup_stopping = 0;
}
