/*
 * Child processes: every exited child is reaped with a waitpid(WNOHANG)
 * loop when SIGCHLD arrives (tmux's server_child_signal()).  Whoever
 * spawned a child registers a callback for its pid and gets the wait
 * status from the loop.  SIGCHLD is blocked in every thread (child_init()
 * runs before there is a second one) and read from a signalfd that the
 * loop watches: one read per wakeup, where libevent's signal event cost
 * a handler, its write to a pipe, rt_sigreturn and two reads.
 *
 * exec.c spawns from threads, so a command can exit (and be reaped
 * here) before the loop learns its pid.  Between child_expect() and
 * child_expect_done() an unknown child's status is kept, and
 * child_watch() of that pid delivers it at once.
 */

#include <sys/types.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "xmalloc.h"

struct child {
	pid_t			 pid;
	void			(*cb)(pid_t, int, void *);
	void			*arg;
	LIST_ENTRY(child)	 entry;
};

#define CHILD_BUCKETS	256
static LIST_HEAD(, child) child_table[CHILD_BUCKETS];
static u_int		 child_n;
static struct event	*child_ev;
static int		 child_sigfd = -1;	/* -1: a libevent signal event */

/* Reaped before anyone watched them, kept while spawns are in flight. */
struct child_early {
	pid_t			 pid;
	int			 status;
	LIST_ENTRY(child_early)	 entry;
};
static LIST_HEAD(, child_early) child_early = LIST_HEAD_INITIALIZER(child_early);
static u_int		 child_expecting;

static void
child_keep(pid_t pid, int status)
{
	struct child_early	*ce;

	if (child_expecting == 0) {
		log_debug("%s: unknown child %ld", __func__, (long)pid);
		return;
	}
	ce = xcalloc(1, sizeof(*ce));
	ce->pid = pid;
	ce->status = status;
	LIST_INSERT_HEAD(&child_early, ce, entry);
}

static void
child_signal_cb(evutil_socket_t fd, short events, void *arg)
{
	struct signalfd_siginfo	 ssi[4];
	struct child		*c;
	pid_t			 pid;
	int			 status;

	/* SIGCHLD is not queued: one read takes it. */
	if (child_sigfd != -1 && read(child_sigfd, ssi, sizeof(ssi)) == -1 &&
	    errno != EAGAIN && errno != EINTR)
		log_warn("%s: read", __func__);
	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0)
			break;
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("%s: waitpid", __func__);
			break;
		}
		LIST_FOREACH(c, &child_table[pid % CHILD_BUCKETS], entry) {
			if (c->pid == pid)
				break;
		}
		if (c == NULL) {
			child_keep(pid, status);
			continue;
		}
		LIST_REMOVE(c, entry);
		child_n--;
		c->cb(pid, status, c->arg);
		free(c);
	}
}

/*
 * Before any thread is created: SIGCHLD must stay blocked in all of them
 * for the signalfd to see it.  Children get their own mask (posix_spawn's
 * POSIX_SPAWN_SETSIGMASK).
 */
void
child_init(void)
{
	sigset_t	 set;
	int		 i;

	for (i = 0; i < CHILD_BUCKETS; i++)
		LIST_INIT(&child_table[i]);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == 0 &&
	    (child_sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) !=
	    -1)
		child_ev = event_new(base, child_sigfd, EV_READ | EV_PERSIST,
		    child_signal_cb, NULL);
	else {
		log_warn("%s: signalfd", __func__);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		child_ev = evsignal_new(base, SIGCHLD, child_signal_cb, NULL);
	}
	if (child_ev == NULL || event_add(child_ev, NULL) == -1)
		fatalx("%s: cannot watch SIGCHLD", __func__);
}

/*
 * If pid was already reaped (only possible between child_expect() and
 * child_expect_done()), cb runs before this returns.
 */
void
child_watch(pid_t pid, void (*cb)(pid_t, int, void *), void *arg)
{
	struct child		*c;
	struct child_early	*ce;

	LIST_FOREACH(ce, &child_early, entry) {
		if (ce->pid == pid) {
			LIST_REMOVE(ce, entry);
			cb(pid, ce->status, arg);
			free(ce);
			return;
		}
	}
	c = xcalloc(1, sizeof(*c));
	c->pid = pid;
	c->cb = cb;
	c->arg = arg;
	LIST_INSERT_HEAD(&child_table[pid % CHILD_BUCKETS], c, entry);
	child_n++;
	/*
	 * No race with an early exit: SIGCHLD is only handled by the loop,
	 * which is busy here registering it.
	 */
}

void
child_unwatch(pid_t pid)
{
	struct child	*c;

	LIST_FOREACH(c, &child_table[pid % CHILD_BUCKETS], entry) {
		if (c->pid == pid) {
			LIST_REMOVE(c, entry);
			child_n--;
			free(c);
			return;
		}
	}
}

/* A child is being spawned whose pid the loop does not know yet. */
void
child_expect(void)
{
	child_expecting++;
}

/* Its pid is now watched (or it failed to start). */
void
child_expect_done(void)
{
	struct child_early	*ce;

	if (--child_expecting > 0)
		return;
	while ((ce = LIST_FIRST(&child_early)) != NULL) {
		log_debug("%s: unknown child %ld", __func__, (long)ce->pid);
		LIST_REMOVE(ce, entry);
		free(ce);
	}
}

/*
 * When process pid started, in clock ticks after boot (field 22 of
 * /proc/PID/stat): with the pid, it names one process for good.
 */
int
child_start_time(pid_t pid, uint64_t *start)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 v;
	ssize_t			 n;
	int			 fd, i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	/* The name, field 2, may hold spaces and parentheses: skip it. */
	if ((p = strrchr(buf, ')')) == NULL)
		return (-1);
	for (i = 3; i <= 22; i++) {
		if ((p = strchr(p + 1, ' ')) == NULL)
			return (-1);
	}
	if (sscanf(p + 1, "%llu", &v) != 1)
		return (-1);
	*start = v;
	return (0);
}

u_int
child_count(void)
{
	return (child_n);
}

/* At exit: what is still watched is forgotten (its process was killed). */
void
child_shutdown(void)
{
	struct child		*c;
	struct child_early	*ce;
	int			 i;

	while ((ce = LIST_FIRST(&child_early)) != NULL) {
		LIST_REMOVE(ce, entry);
		free(ce);
	}
	for (i = 0; i < CHILD_BUCKETS; i++) {
		while ((c = LIST_FIRST(&child_table[i])) != NULL) {
			LIST_REMOVE(c, entry);
			free(c);
		}
	}
	child_n = 0;
	if (child_ev != NULL)
		event_free(child_ev);
	child_ev = NULL;
	if (child_sigfd != -1)
		close(child_sigfd);
	child_sigfd = -1;
}
