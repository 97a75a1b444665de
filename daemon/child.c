/*
 * Child processes: SIGCHLD arrives as a libevent signal event and every
 * exited child is reaped with a waitpid(WNOHANG) loop (tmux's
 * server_child_signal()).  Whoever spawned a child registers a callback
 * for its pid and gets the wait status from the loop.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

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

static void
child_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct child	*c;
	pid_t		 pid;
	int		 status;

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
			log_debug("%s: unknown child %ld", __func__, (long)pid);
			continue;
		}
		LIST_REMOVE(c, entry);
		child_n--;
		c->cb(pid, status, c->arg);
		free(c);
	}
}

void
child_init(void)
{
	int	 i;

	for (i = 0; i < CHILD_BUCKETS; i++)
		LIST_INIT(&child_table[i]);
	child_ev = evsignal_new(base, SIGCHLD, child_signal_cb, NULL);
	evsignal_add(child_ev, NULL);
}

void
child_watch(pid_t pid, void (*cb)(pid_t, int, void *), void *arg)
{
	struct child	*c;

	c = xcalloc(1, sizeof(*c));
	c->pid = pid;
	c->cb = cb;
	c->arg = arg;
	LIST_INSERT_HEAD(&child_table[pid % CHILD_BUCKETS], c, entry);
	child_n++;
	/*
	 * No race with an early exit: the SIGCHLD handler only runs from
	 * the loop, which is busy here registering it.
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

u_int
child_count(void)
{
	return (child_n);
}
