/*
 * PoolRequest: a supervised pool by command line (supervise.c runs it).
 * The answer goes at once when the pool serves already; otherwise the
 * request waits, parked on the pool, until its first process registers
 * (request_pool_ready) or the pool could not start (request_pool_failed,
 * with why: the exit status and stderr tail of a process that died).  A
 * connection that goes away meanwhile frees its pending, which leaves
 * the pool's list (request_pending_free): exactly one answer, or none
 * to nobody.
 */

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "log.h"
#include "request.h"
#include "xmalloc.h"

#define REQUEST_POOL_ARGS_MAX	4096		/* argv entries */
#define REQUEST_POOL_ENV_MAX	4096		/* environment entries */
#define REQUEST_POOL_BYTES_MAX	(1024 * 1024)	/* argv and env together */

static int
request_pool_name_ok(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n > SUP_NAME_MAX)
		return (0);
	return (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.:-") == n);
}

/* What is wrong with req, into *cause; 0 if nothing is. */
static int
request_pool_check(const Futured__PoolRequest *req, u_int *kinds,
    char **cause)
{
	size_t	 i, bytes = 0;

	if (req->n_argv == 0 || *req->argv[0] == '\0') {
		xasprintf(cause, "a pool needs a command (argv is empty)");
		return (-1);
	}
	if (req->n_argv > REQUEST_POOL_ARGS_MAX) {
		xasprintf(cause, "argv has %zu entries (at most %d)",
		    req->n_argv, REQUEST_POOL_ARGS_MAX);
		return (-1);
	}
	for (i = 0; i < req->n_argv; i++)
		bytes += strlen(req->argv[i]) + 1;
	if (req->n_env > REQUEST_POOL_ENV_MAX) {
		xasprintf(cause, "env has %zu entries (at most %d)",
		    req->n_env, REQUEST_POOL_ENV_MAX);
		return (-1);
	}
	for (i = 0; i < req->n_env; i++) {
		if (*req->env[i]->key == '\0' ||
		    strchr(req->env[i]->key, '=') != NULL) {
			xasprintf(cause, "bad environment name \"%s\"",
			    req->env[i]->key);
			return (-1);
		}
		bytes += strlen(req->env[i]->key) +
		    strlen(req->env[i]->value) + 2;
	}
	if (bytes > REQUEST_POOL_BYTES_MAX) {
		xasprintf(cause, "argv and env are %zu bytes (at most %d)",
		    bytes, REQUEST_POOL_BYTES_MAX);
		return (-1);
	}
	if (req->name != NULL && !request_pool_name_ok(req->name)) {
		xasprintf(cause, "bad pool name \"%s\" (1 to %d of A-Z a-z 0-9 "
		    "_ . : -)", req->name, SUP_NAME_MAX);
		return (-1);
	}
	if (req->has_size && req->size > SUP_SIZE_MAX) {
		xasprintf(cause, "size %u: at most %d processes", req->size,
		    SUP_SIZE_MAX);
		return (-1);
	}
	if (req->cwd != NULL && *req->cwd != '/') {
		xasprintf(cause, "cwd \"%s\" is not absolute", req->cwd);
		return (-1);
	}
	*kinds = 0;
	for (i = 0; i < req->n_kinds; i++) {
		switch (req->kinds[i]) {
		case FUTURED__KIND__KIND_ASYNC:
			*kinds |= 1U << JOB_ASYNC;
			break;
		case FUTURED__KIND__KIND_BLOCKING:
			*kinds |= 1U << JOB_BLOCKING;
			break;
		case FUTURED__KIND__KIND_CPU:
			*kinds |= 1U << JOB_CPU;
			break;
		default:
			xasprintf(cause, "bad kind %d for a pool",
			    (int)req->kinds[i]);
			return (-1);
		}
	}
	return (0);
}

static void
request_pool_reply(struct conn *c, uint64_t reqid, struct sup_pool *sp,
    int created)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__PoolReply	 r = FUTURED__POOL_REPLY__INIT;
	Futured__HandlerInfo	*infos, **ptrs;
	Futured__Kind		 kinds[JOB_NKINDS];
	const struct fut_handler *h;
	const char *const	*names;
	u_int			 mask;
	size_t			 n, i, k = 0;

	mask = supervise_pool_kinds(sp);
	for (i = 0; i < JOB_NKINDS; i++) {
		if (mask & (1U << i))
			kinds[k++] = request_kind_out(i);
	}
	n = supervise_pool_handlers(sp, &names);
	infos = xcalloc(n + 1, sizeof(*infos));
	ptrs = xcalloc(n + 1, sizeof(*ptrs));
	for (i = 0; i < n; i++) {
		futured__handler_info__init(&infos[i]);
		infos[i].name = (char *)(uintptr_t)names[i];
		/* The pool's kinds, unless the registry knows better. */
		infos[i].kinds = kinds;
		infos[i].n_kinds = k;
		infos[i].default_kind = kinds[0];
		if ((h = handler_find(names[i])) != NULL) {
			infos[i].description = (char *)h->description;
			infos[i].default_kind =
			    request_kind_out(handler_default_kind(h));
		}
		ptrs[i] = &infos[i];
	}
	r.name = (char *)(uintptr_t)supervise_pool_name(sp);
	r.n_handlers = n;
	r.handlers = ptrs;
	r.created = created;
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_POOL;
	resp.pool = &r;
	request_send(c, &resp);
	free(infos);
	free(ptrs);
}

void
request_pool(struct conn *c, uint64_t reqid, const Futured__PoolRequest *req)
{
	struct sup_spec	 ss;
	struct sup_pool	*sp;
	struct pending	*p;
	char		**env = NULL, *cause;
	size_t		 i;
	int		 created, code;

	memset(&ss, 0, sizeof(ss));
	if (request_pool_check(req, &ss.kinds, &cause) == -1) {
		request_error(c, reqid, FERR_INVALID, "%s", cause);
		free(cause);
		return;
	}
	if (req->n_env > 0) {
		env = xcalloc(req->n_env + 1, sizeof(*env));
		for (i = 0; i < req->n_env; i++)
			xasprintf(&env[i], "%s=%s", req->env[i]->key,
			    req->env[i]->value);
	}
	ss.name = req->name;
	ss.argv = req->argv;
	ss.argc = req->n_argv;
	ss.size = req->has_size ? req->size : 0;
	ss.cwd = req->cwd;
	ss.env = env;
	ss.nenv = req->n_env;
	/* --system: the caller's; else the daemon's, whoever asks. */
	ss.uid = settings.system ? server_conn_uid(c) : geteuid();
	if (supervise_request(&ss, &sp, &created, &code, &cause) == -1) {
		request_error(c, reqid, code, "%s", cause);
		free(cause);
	} else if (supervise_pool_failed(sp) != NULL) {
		/* Not one process could be spawned: it failed already. */
		request_error(c, reqid, FERR_INTERNAL, "pool %s: %s",
		    supervise_pool_name(sp), supervise_pool_failed(sp));
	} else if (supervise_pool_ready(sp))
		request_pool_reply(c, reqid, sp, created);
	else {
		p = request_pending_new(c, reqid, PENDING_POOL);
		p->created = created;
		LIST_INSERT_HEAD(supervise_pool_waiters(sp), p, sentry);
	}
	for (i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/*
 * A WorkerRegister from a pool's warm spare (supervise.c): kept, packed,
 * until the spare takes a slot, so that the engine neither counts it
 * nor gives it a job.  1 if it was kept (or refused), 0 if it is not a
 * spare's.
 */
int
request_pool_park(struct conn *c, uint64_t reqid,
    const Futured__WorkerRegister *req)
{
	struct sup_proc	*sp;
	struct pending	*p;
	size_t		 len;

	if ((sp = supervise_spare(req->pool, c->pid)) == NULL)
		return (0);
	if (supervise_spare_parked(sp)) {
		request_error(c, reqid, FERR_INVALID, "process %ld of pool %s "
		    "waits to register already", (long)c->pid, req->pool);
		return (1);
	}
	p = request_pending_new(c, reqid, PENDING_SPARE);
	len = futured__worker_register__get_packed_size(req);
	if (buf_reserve(&p->pend, len) == -1)
		fatal("%s: buf_reserve", __func__);
	p->pend.len = futured__worker_register__pack(req, p->pend.data);
	p->sup = sp;
	supervise_park(sp, p);
	return (1);
}

/* The spare of p took a slot: its registration goes through now. */
void
request_pool_unpark(struct pending *p)
{
	Futured__WorkerRegister	*req;
	struct conn		*c = p->conn;
	uint64_t		 reqid = p->reqid;

	req = futured__worker_register__unpack(NULL, p->pend.len,
	    p->pend.data);
	p->sup = NULL;
	request_pending_free(p);
	if (req == NULL) {
		/* It was packed here: it unpacks, or memory ran out. */
		fatalx("%s: cannot unpack a parked registration", __func__);
	}
	request_worker_register(c, reqid, req);
	futured__worker_register__free_unpacked(req, NULL);
}

/* The spare of p ends (it died, or the daemon stops) before serving. */
void
request_pool_spare_end(struct pending *p, int code, const char *why)
{
	p->sup = NULL;
	request_error(p->conn, p->reqid, code, "%s", why);
	request_pending_free(p);
}

/* sp's first process registered: every request waiting hears. */
void
request_pool_ready(struct sup_pool *sp)
{
	struct pending	*p;

	while ((p = LIST_FIRST(supervise_pool_waiters(sp))) != NULL) {
		request_pool_reply(p->conn, p->reqid, sp, p->created);
		request_pending_free(p);
	}
}

/* sp could not start (or the daemon stops): every request waiting hears. */
void
request_pool_failed(struct sup_pool *sp, int code, const char *why)
{
	struct pending	*p;

	while ((p = LIST_FIRST(supervise_pool_waiters(sp))) != NULL) {
		request_error(p->conn, p->reqid, code, "pool %s: %s",
		    supervise_pool_name(sp), why);
		request_pending_free(p);
	}
}
