/*
 * The listening socket and the connections: accept, peer credentials,
 * framing in both directions.  Frames are cut out of a connection's
 * input buffer as they arrive, many per read, and handed to request.c;
 * answers are appended to its output buffer, which libevent flushes
 * once per loop turn.  A connection is freed in server_conn_free() only.
 *
 * A client is trusted with nothing: the length of a frame is checked
 * before it is buffered, a frame must be complete within the read timeout
 * of its first byte (or of the frame before it), answers it leaves unread
 * are capped, and connections beyond the limit get an error and a close
 * so that one user cannot take every descriptor of the daemon.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "futured.h"
#include "frame.h"
#include "log.h"
#include "sockpath.h"
#include "xmalloc.h"

static int		 server_fd = -1;
static char		*server_path;		/* NULL: not ours to unlink */
static struct event	*server_accept_ev;
static struct event	*server_backoff_ev;
static TAILQ_HEAD(, conn) server_conns = TAILQ_HEAD_INITIALIZER(server_conns);
static u_int		 server_n;
static uint64_t		 server_next_id = 1;
static struct event	*server_reap_ev;
static uint64_t		 server_refused;	/* in this burst at the limit */
static u_int		 server_pauses;		/* accept at EMFILE, in a row */
static uint8_t		*server_scratch;	/* packed answers for sendfn */
static size_t		 server_scratch_size;

static void	server_accept_cb(evutil_socket_t, short, void *);
static void	server_reap_cb(evutil_socket_t, short, void *);
static void	server_read_timeout_cb(evutil_socket_t, short, void *);

/* The directory must be ours alone: not a symlink, our uid, mode 0700. */
static int
server_check_dir(const char *path, char **cause)
{
	char		*dir, *slash;
	struct stat	 sb;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		return (0);
	}
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (lstat(dir, &sb) == -1) {
		if (errno != ENOENT) {
			xasprintf(cause, "%s: %s", dir, strerror(errno));
			goto fail;
		}
		if (mkdir(dir, 0700) == -1) {
			xasprintf(cause, "mkdir %s: %s", dir, strerror(errno));
			goto fail;
		}
		/* --system: every local user must reach the socket. */
		if (settings.system && chmod(dir, 0755) == -1) {
			xasprintf(cause, "chmod %s: %s", dir, strerror(errno));
			goto fail;
		}
		if (lstat(dir, &sb) == -1) {
			xasprintf(cause, "%s: %s", dir, strerror(errno));
			goto fail;
		}
	}
	if (S_ISLNK(sb.st_mode)) {
		xasprintf(cause, "%s is a symbolic link", dir);
		goto fail;
	}
	if (!S_ISDIR(sb.st_mode)) {
		xasprintf(cause, "%s is not a directory", dir);
		goto fail;
	}
	if (sb.st_uid != geteuid()) {
		xasprintf(cause, "%s is owned by uid %lu, not %lu", dir,
		    (unsigned long)sb.st_uid, (unsigned long)geteuid());
		goto fail;
	}
	if (!settings.system && (sb.st_mode & 077) != 0) {
		xasprintf(cause, "%s is open to group or other (mode %03o)",
		    dir, (unsigned)(sb.st_mode & 0777));
		goto fail;
	}
	/* Shared, but nobody else may replace the socket. */
	if (settings.system && (sb.st_mode & 022) != 0) {
		xasprintf(cause, "%s is writable by group or other "
		    "(mode %03o)", dir, (unsigned)(sb.st_mode & 0777));
		goto fail;
	}
	free(dir);
	return (0);
fail:
	free(dir);
	return (-1);
}

/* Bind the socket; refuse if a live daemon answers on it already. */
int
server_listen(const char *path, char **cause)
{
	struct sockaddr_un	 sun;
	int			 fd;
	mode_t			 mask;

	if (sockpath_addr(path, &sun) == -1) {
		xasprintf(cause, "socket path too long: %s", path);
		return (-1);
	}
	if (server_check_dir(path, cause) == -1)
		return (-1);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		xasprintf(cause, "another futured is listening on %s", path);
		close(fd);
		return (-1);
	}
	if (errno == ECONNREFUSED)
		unlink(path);	/* stale: its daemon is gone */
	close(fd);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	mask = umask(settings.system ? 0111 : 0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(mask);
		xasprintf(cause, "bind %s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	umask(mask);
	if (listen(fd, SOMAXCONN) == -1) {
		xasprintf(cause, "listen %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return (-1);
	}
	server_path = xstrdup(path);
	return (server_listen_fd(fd));
}

/*
 * Serve on a listening socket we were handed (socket activation) or made
 * (server_listen).  Only a socket server_listen() bound is unlinked at
 * the end: one passed by systemd is systemd's.
 */
int
server_listen_fd(int fd)
{
	int	 flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return (-1);
	server_fd = fd;
	if (server_reap_ev == NULL)
		server_reap_ev = event_new(base, -1, 0, server_reap_cb, NULL);
	server_accept_ev = event_new(base, fd, EV_READ | EV_PERSIST,
	    server_accept_cb, NULL);
	event_add(server_accept_ev, NULL);
	return (0);
}

/*
 * systemd socket activation: LISTEN_PID is us and LISTEN_FDS names fd 3
 * (SD_LISTEN_FDS_START), an AF_UNIX stream socket already listening.
 * 1: serving on it, 0: not activated, -1: activated with something we
 * cannot use.  The variables are removed so no child inherits them.  The
 * directory checks are systemd's business then (the .socket unit), and
 * the socket is never unlinked by us.
 */
int
server_listen_activated(char **cause)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	const char		*s;
	char			*end;
	long			 pid, n;
	int			 type = 0, acc = 0;

	if ((s = getenv("LISTEN_PID")) == NULL)
		return (0);
	pid = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || pid != (long)getpid())
		return (0);
	s = getenv("LISTEN_FDS");
	n = s != NULL ? strtol(s, &end, 10) : 0;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (s == NULL || *s == '\0' || *end != '\0' || n < 1) {
		xasprintf(cause, "LISTEN_FDS=\"%s\" names no socket",
		    s != NULL ? s : "");
		return (-1);
	}
	if (n > 1)
		log_warnx("%s: %ld sockets passed, using the first (fd 3)",
		    __func__, n);
	len = sizeof(type);
	if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM) {
		xasprintf(cause, "passed fd 3 is not a stream socket");
		return (-1);
	}
	len = sizeof(acc);
	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1 ||
	    !acc) {
		xasprintf(cause, "passed fd 3 is not listening");
		return (-1);
	}
	memset(&sun, 0, sizeof(sun));
	len = sizeof(sun);
	if (getsockname(3, (struct sockaddr *)&sun, &len) == -1 ||
	    sun.sun_family != AF_UNIX) {
		xasprintf(cause, "passed fd 3 is not an AF_UNIX socket");
		return (-1);
	}
	/* Jobs learn the real address through FUTURED_SOCKET. */
	if (sun.sun_path[0] == '/')
		settings.socket_path = xstrdup(sun.sun_path);
	if (server_listen_fd(3) == -1) {
		xasprintf(cause, "fd 3: %s", strerror(errno));
		return (-1);
	}
	return (1);
}

static void
server_backoff_cb(evutil_socket_t fd, short events, void *arg)
{
	if (server_accept_ev != NULL)
		event_add(server_accept_ev, NULL);
}

static void
server_conn_free(struct conn *c)
{
	request_conn_free(c);
	TAILQ_REMOVE(&server_conns, c, entry);
	server_n--;
	if (c->read_ev != NULL)
		event_free(c->read_ev);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	free(c);
	if (server_refused > 0 && server_n < (u_int)settings.max_clients) {
		log_warnx("%s: below the limit of %d connections again, "
		    "%llu refused meanwhile", __func__, settings.max_clients,
		    (unsigned long long)server_refused);
		server_refused = 0;
	}
}

/* Output flushed on a closing connection: now it can go. */
static void
server_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (c->flags & CONN_CLOSING)
		server_conn_free(c);
}

static void
server_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & BEV_EVENT_ERROR)
		log_debug("connection %llu: %s", (unsigned long long)c->id,
		    strerror(EVUTIL_SOCKET_ERROR()));
	server_conn_free(c);
}

/* A frame stayed incomplete for too long: drop the connection. */
static void
server_read_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn	*c = arg;
	char		*msg;

	if (c->flags & CONN_CLOSING)
		return;
	xasprintf(&msg, "incomplete frame for %lld ms (%zu bytes buffered)",
	    (long long)settings.read_timeout_ms,
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	log_warnx("connection %llu (uid %lu): %s, dropping it",
	    (unsigned long long)c->id, (unsigned long)c->uid, msg);
	request_send_error(c, FERR_PROTO, msg);
	free(msg);
	server_conn_close(c);
}

/*
 * Arm the read deadline when a frame is started, re-arm it whenever one
 * is completed, and disarm it when nothing is left over: an idle client
 * (parked on a wait) is fine, a client in the middle of a frame is not.
 */
static void
server_read_deadline(struct conn *c, int progress)
{
	struct timeval	 tv;

	if (settings.read_timeout_ms <= 0 || (c->flags & CONN_CLOSING))
		return;
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
		if (c->read_ev != NULL)
			evtimer_del(c->read_ev);
		return;
	}
	if (c->read_ev == NULL)
		c->read_ev = evtimer_new(base, server_read_timeout_cb, c);
	else if (!progress && evtimer_pending(c->read_ev, NULL))
		return;
	tv.tv_sec = settings.read_timeout_ms / 1000;
	tv.tv_usec = (settings.read_timeout_ms % 1000) * 1000;
	evtimer_add(c->read_ev, &tv);
}

static void
server_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	uint8_t		 hdr[FRAME_HDR_LEN], *p;
	uint32_t	 len;
	char		*msg;
	int		 progress = 0;

	while (!(c->flags & CONN_CLOSING)) {
		if (evbuffer_copyout(in, hdr, sizeof(hdr)) < (ssize_t)sizeof(hdr))
			break;
		if (frame_header_decode(hdr, settings.max_frame, &len) == -1) {
			xasprintf(&msg, "frame of %u bytes is over the limit "
			    "of %u", len, settings.max_frame);
			log_warnx("connection %llu (uid %lu): %s",
			    (unsigned long long)c->id, (unsigned long)c->uid,
			    msg);
			request_send_error(c, FERR_TOO_BIG, msg);
			free(msg);
			server_conn_close(c);
			break;
		}
		if (evbuffer_get_length(in) < sizeof(hdr) + len) {
			/* Do not wake up again until the frame is complete. */
			bufferevent_setwatermark(bev, EV_READ,
			    sizeof(hdr) + len, 0);
			server_read_deadline(c, progress);
			return;
		}
		p = evbuffer_pullup(in, sizeof(hdr) + len);
		if (request_dispatch(c, p + sizeof(hdr), len) == -1)
			server_conn_close(c);
		evbuffer_drain(in, sizeof(hdr) + len);
		progress = 1;
	}
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	server_read_deadline(c, progress);
}

/*
 * Over the connection limit: a short error frame written straight to the
 * socket (it fits any socket buffer), then close.  Logged once per burst;
 * server_conn_free() says when the burst is over.
 */
static void
server_refuse(int fd)
{
	uint8_t		*frame;
	size_t		 len;
	char		*msg;

	xasprintf(&msg, "too many connections (limit %d)",
	    settings.max_clients);
	if (server_refused++ == 0)
		log_warnx("%s: %s, refusing new ones", __func__, msg);
	frame = request_pack_error(FERR_QUEUE_FULL, msg, &len);
	(void)write(fd, frame, len);
	free(frame);
	free(msg);
	close(fd);
}

/*
 * A connection on fd, which it owns from now on: the peer's uid comes
 * from the kernel (SO_PEERCRED), never from anything the peer says.
 */
struct conn *
server_conn_new(int fd)
{
	struct conn	*c;
	struct ucred	 cred;
	socklen_t	 len;

	len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("%s: SO_PEERCRED", __func__);
		close(fd);
		return (NULL);
	}
	if (server_reap_ev == NULL)
		server_reap_ev = event_new(base, -1, 0, server_reap_cb, NULL);
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->id = server_next_id++;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->version = FUTURED_PROTOCOL_VERSION;
	TAILQ_INIT(&c->pendings);
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, server_read_cb, server_write_cb,
	    server_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&server_conns, c, entry);
	server_n++;
	log_debug("connection %llu: uid %lu pid %ld",
	    (unsigned long long)c->id, (unsigned long)c->uid, (long)c->pid);
	return (c);
}

static void
server_accept_cb(evutil_socket_t lfd, short events, void *arg)
{
	struct timeval	 tv = { 1, 0 };
	int		 fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN && server_pauses > 0) {
				/* The backlog is drained: shortage over. */
				log_warnx("%s: accepting again after %u "
				    "pauses", __func__, server_pauses);
				server_pauses = 0;
			}
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			if (errno == EMFILE || errno == ENFILE) {
				/* Once per shortage, not once a second. */
				if (server_pauses++ == 0)
					log_warn("%s: accept, pausing for 1s",
					    __func__);
				event_del(server_accept_ev);
				if (server_backoff_ev == NULL)
					server_backoff_ev = evtimer_new(base,
					    server_backoff_cb, NULL);
				evtimer_add(server_backoff_ev, &tv);
				return;
			}
			log_warn("%s: accept", __func__);
			return;
		}
		if (server_n >= (u_int)settings.max_clients) {
			server_refuse(fd);
			continue;
		}
		server_conn_new(fd);
	}
}

/*
 * Too much unread output: the client is not reading its answers.  Drop
 * it from the loop (never under our caller, who may still use it).
 */
static int
server_conn_overfull(struct conn *c)
{
	if (c->flags & CONN_DEAD)
		return (1);
	if (c->bev == NULL || evbuffer_get_length(bufferevent_get_output(
	    c->bev)) <= settings.max_unread)
		return (0);
	log_warnx("connection %llu (uid %lu): over %zu bytes of unread "
	    "answers, dropping it", (unsigned long long)c->id,
	    (unsigned long)c->uid, settings.max_unread);
	c->flags |= CONN_CLOSING | CONN_DEAD;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	if (c->read_ev != NULL)
		evtimer_del(c->read_ev);
	request_conn_free(c);
	event_active(server_reap_ev, 0, 0);
	return (1);
}

static void
server_reap_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn	*c, *next;

	TAILQ_FOREACH_SAFE(c, &server_conns, entry, next) {
		if (c->flags & CONN_DEAD)
			server_conn_free(c);
	}
}

void
server_conn_send(struct conn *c, const void *p, size_t len)
{
	uint8_t	 hdr[FRAME_HDR_LEN];

	if (c->sendfn != NULL) {
		c->sendfn(c, p, len);
		return;
	}
	if (server_conn_overfull(c))
		return;
	frame_header_encode(hdr, len);
	evbuffer_add(bufferevent_get_output(c->bev), hdr, sizeof(hdr));
	evbuffer_add(bufferevent_get_output(c->bev), p, len);
}

static struct evbuffer_iovec server_reserved;

/*
 * Room for a frame of len bytes, packed in place, then committed.  A
 * connection with a sendfn (tests, fuzzers) gets a scratch buffer and
 * the packed answer through it; sockets keep the zero-copy path.
 */
void *
server_conn_reserve(struct conn *c, size_t len)
{
	struct evbuffer	*out;

	if (c->sendfn != NULL) {
		if (len > server_scratch_size) {
			server_scratch = xreallocarray(server_scratch, len, 1);
			server_scratch_size = len;
		}
		return (server_scratch);
	}
	out = bufferevent_get_output(c->bev);
	if (evbuffer_reserve_space(out, FRAME_HDR_LEN + len,
	    &server_reserved, 1) != 1)
		fatalx("%s: evbuffer_reserve_space", __func__);
	frame_header_encode(server_reserved.iov_base, len);
	return ((uint8_t *)server_reserved.iov_base + FRAME_HDR_LEN);
}

void
server_conn_commit(struct conn *c, size_t len)
{
	struct evbuffer	*out;

	if (c->sendfn != NULL) {
		c->sendfn(c, server_scratch, len);
		return;
	}
	out = bufferevent_get_output(c->bev);
	server_reserved.iov_len = FRAME_HDR_LEN + len;
	evbuffer_commit_space(out, &server_reserved, 1);
	server_conn_overfull(c);
}

/* Flush what is queued, then free; nothing more is read. */
void
server_conn_close(struct conn *c)
{
	struct timeval	 tv = { 5, 0 };

	if (c->flags & CONN_CLOSING)
		return;
	c->flags |= CONN_CLOSING;
	if (c->read_ev != NULL)
		evtimer_del(c->read_ev);
	if (c->bev == NULL) {
		/* A test double: its owner frees it. */
		request_conn_free(c);
		return;
	}
	bufferevent_disable(c->bev, EV_READ);
	/* A peer that never reads its error must not keep us waiting. */
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	request_conn_free(c);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		/* Nothing to flush; free from the loop, not under our caller. */
		bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS);
	}
}

uid_t
server_conn_uid(struct conn *c)
{
	return (c->uid);
}

u_int
server_nconns(void)
{
	return (server_n);
}

void
server_stop_accepting(void)
{
	if (server_accept_ev != NULL) {
		event_free(server_accept_ev);
		server_accept_ev = NULL;
	}
	if (server_backoff_ev != NULL) {
		event_free(server_backoff_ev);
		server_backoff_ev = NULL;
	}
	if (server_fd != -1) {
		close(server_fd);
		server_fd = -1;
	}
	if (server_path != NULL) {
		unlink(server_path);
		free(server_path);
		server_path = NULL;
	}
}

void
server_close(void)
{
	struct conn	*c, *next;

	server_stop_accepting();
	TAILQ_FOREACH_SAFE(c, &server_conns, entry, next)
		server_conn_free(c);
	if (server_reap_ev != NULL)
		event_free(server_reap_ev);
	server_reap_ev = NULL;
	free(server_scratch);
	server_scratch = NULL;
	server_scratch_size = 0;
}
