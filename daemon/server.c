/*
 * The listening socket and the connections: accept, peer credentials,
 * framing in both directions.  A connection is freed in
 * server_conn_free() only.
 *
 * DESIGN.  A round trip should cost the daemon three syscalls: the
 * epoll_wait that finds the request, one read and one write.  So a
 * connection has a plain persistent EV_READ event, not a bufferevent
 * (which sizes each read with FIONREAD and adds then removes EV_WRITE
 * for every answer: three syscalls more).  One read(2) per wakeup goes
 * into a buffer shared by all connections, and the complete frames in
 * it, many per read, are handed to request.c from there; only a frame
 * split between reads is put together in the connection's input buffer.
 *
 * Answers are appended to the connection's output buffer and the
 * connection to a dirty list; the first of a turn activates
 * server_flush_ev, which libevent runs after the callbacks active before
 * it.  It steps back, a few times at most, behind those activated after
 * it (the journal's flush, which releases the SubmitReplies, and the
 * scheduler's run, which may finish the job and push its completion), so
 * that what a turn answers a client leaves in one sendmsg(2).  An event
 * of lower priority would not do: libevent 2.1 runs only the first
 * non-empty priority per epoll_wait, so a lower one costs a second
 * epoll_wait and starves while busier ones keep coming.  Only a socket
 * that takes less than all of it gets an EV_WRITE event, deleted once
 * the output is drained.
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
#include <event2/event.h>

#include "futured.h"
#include "frame.h"
#include "log.h"
#include "sockpath.h"
#include "xmalloc.h"

#define SERVER_READ_MAX		(64 * 1024)	/* one read(2) per wakeup */
#define SERVER_IOV		128		/* chains per sendmsg(2) */
#define SERVER_FLUSH_YIELDS	8		/* see server_flush_cb() */
#define SERVER_CLOSE_WAIT	5		/* s, for the peer to read */

ssize_t	(*server_sendmsg_fn)(int, const struct msghdr *, int) = sendmsg;

static int		 server_fd = -1;
static char		*server_path;		/* NULL: not ours to unlink */
static struct event	*server_accept_ev;
static struct event	*server_backoff_ev;
static TAILQ_HEAD(, conn) server_conns = TAILQ_HEAD_INITIALIZER(server_conns);
static u_int		 server_n;
static uint64_t		 server_next_id = 1;
static struct event	*server_reap_ev;
static struct event	*server_flush_ev;
static u_int		 server_flush_yields;
static TAILQ_HEAD(, conn) server_dirty = TAILQ_HEAD_INITIALIZER(server_dirty);
static uint8_t		 server_rbuf[SERVER_READ_MAX];
static uint64_t		 server_refused;	/* in this burst at the limit */
static u_int		 server_pauses;		/* accept at EMFILE, in a row */
static uint8_t		*server_scratch;	/* packed answers for sendfn */
static size_t		 server_scratch_size;

static void	server_accept_cb(evutil_socket_t, short, void *);
static void	server_reap_cb(evutil_socket_t, short, void *);
static void	server_flush_cb(evutil_socket_t, short, void *);
static void	server_read_cb(evutil_socket_t, short, void *);
static void	server_write_cb(evutil_socket_t, short, void *);
static void	server_read_timeout_cb(evutil_socket_t, short, void *);

/* Also reached without server_listen_fd(): the fuzzers' connections. */
static void
server_init_events(void)
{
	if (server_reap_ev == NULL)
		server_reap_ev = event_new(base, -1, 0, server_reap_cb, NULL);
	if (server_flush_ev == NULL)
		server_flush_ev = event_new(base, -1, 0, server_flush_cb, NULL);
	if (server_reap_ev == NULL || server_flush_ev == NULL)
		fatalx("%s: event_new", __func__);
}

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
	server_init_events();
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
	if (c->flags & CONN_DIRTY)
		TAILQ_REMOVE(&server_dirty, c, dirty_entry);
	server_n--;
	if (c->read_timer != NULL)
		event_free(c->read_timer);
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	if (c->in != NULL)
		evbuffer_free(c->in);
	if (c->out != NULL)
		evbuffer_free(c->out);
	close(c->fd);
	free(c);
	if (server_refused > 0 && server_n < (u_int)settings.max_clients) {
		log_warnx("%s: below the limit of %d connections again, "
		    "%llu refused meanwhile", __func__, settings.max_clients,
		    (unsigned long long)server_refused);
		server_refused = 0;
	}
}

/* Have c's output written by this turn's flush. */
static void
server_conn_dirty(struct conn *c)
{
	/* A blocked connection is written when its socket has room. */
	if (c->flags & (CONN_DIRTY | CONN_BLOCKED | CONN_DEAD))
		return;
	if (TAILQ_EMPTY(&server_dirty))
		event_active(server_flush_ev, 0, 0);
	c->flags |= CONN_DIRTY;
	TAILQ_INSERT_TAIL(&server_dirty, c, dirty_entry);
}

void
server_flush_soon(void)
{
	/* Tests and fuzzers without events flush by hand. */
	if (server_flush_ev != NULL)
		event_active(server_flush_ev, 0, 0);
}

/*
 * Write c's output, many frames per sendmsg, without ever raising
 * SIGPIPE.  0: all written, 1: the socket is full, -1: error.
 */
static int
server_conn_write(struct conn *c)
{
	struct evbuffer_iovec	 v[SERVER_IOV];
	struct iovec		 iov[SERVER_IOV];
	struct msghdr		 msg;
	size_t			 want;
	ssize_t			 n;
	int			 i, nv;

	while (evbuffer_get_length(c->out) > 0) {
		nv = evbuffer_peek(c->out, -1, NULL, v, SERVER_IOV);
		if (nv > SERVER_IOV)
			nv = SERVER_IOV;
		want = 0;
		for (i = 0; i < nv; i++) {
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len;
			want += v[i].iov_len;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = nv;
		n = server_sendmsg_fn(c->fd, &msg,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (1);
			return (-1);
		}
		evbuffer_drain(c->out, (size_t)n);
		/* Short: the socket is full; asking again would be EAGAIN. */
		if ((size_t)n < want)
			return (1);
	}
	return (0);
}

/*
 * Write what is queued.  If the socket takes less, wait for room (at
 * most SERVER_CLOSE_WAIT at a time once closing: a peer that never reads
 * its error must not keep us waiting).  A closing connection goes once
 * its output is out.
 */
static void
server_conn_flush(struct conn *c)
{
	struct timeval	 tv = { SERVER_CLOSE_WAIT, 0 };

	switch (server_conn_write(c)) {
	case -1:
		log_debug("connection %llu: %s", (unsigned long long)c->id,
		    strerror(errno));
		server_conn_free(c);
		return;
	case 1:
		if (!(c->flags & CONN_BLOCKED)) {
			c->flags |= CONN_BLOCKED;
			event_add(c->ev_write, (c->flags & CONN_CLOSING) ?
			    &tv : NULL);
		}
		return;
	}
	if (c->flags & CONN_BLOCKED) {
		c->flags &= ~CONN_BLOCKED;
		event_del(c->ev_write);
	}
	if (c->flags & CONN_CLOSING)
		server_conn_free(c);
}

static void
server_write_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn	*c = arg;

	if (events & EV_TIMEOUT) {
		log_debug("connection %llu: closing, and its answers not "
		    "read for %d s", (unsigned long long)c->id,
		    SERVER_CLOSE_WAIT);
		server_conn_free(c);
		return;
	}
	server_conn_flush(c);
}

/*
 * Once per loop turn: every dirty connection's output in one write.
 * Callbacks activated after this one may still answer the same clients
 * (the journal's flush, the scheduler's run), so while any is active, go
 * behind it.  At most SERVER_FLUSH_YIELDS times: a loop kept busy by the
 * pool threads' results must not hold the answers back.
 */
static void
server_flush_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn	*c;

	if (server_flush_yields < SERVER_FLUSH_YIELDS &&
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE) > 0) {
		server_flush_yields++;
		event_active(server_flush_ev, 0, 0);
		return;
	}
	server_flush_yields = 0;
	/* The turn's news last: a job that ended meanwhile has none. */
	request_news_flush();
	while ((c = TAILQ_FIRST(&server_dirty)) != NULL) {
		TAILQ_REMOVE(&server_dirty, c, dirty_entry);
		c->flags &= ~CONN_DIRTY;
		server_conn_flush(c);
	}
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
	    (long long)settings.read_timeout_ms, evbuffer_get_length(c->in));
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

	if (settings.read_timeout_ms <= 0 || (c->flags & CONN_CLOSING))
		return;
	if (evbuffer_get_length(c->in) == 0) {
		if (c->read_timer != NULL)
			evtimer_del(c->read_timer);
		return;
	}
	if (c->read_timer == NULL)
		c->read_timer = evtimer_new(base, server_read_timeout_cb, c);
	else if (!progress && evtimer_pending(c->read_timer, NULL))
		return;
	timer_add_ms(c->read_timer, settings.read_timeout_ms);
}

/* A header over --max-frame: say so and close, buffering none of it. */
static void
server_frame_too_big(struct conn *c, uint32_t len)
{
	char	*msg;

	xasprintf(&msg, "frame of %u bytes is over the limit of %u", len,
	    settings.max_frame);
	log_warnx("connection %llu (uid %lu): %s", (unsigned long long)c->id,
	    (unsigned long)c->uid, msg);
	request_send_error(c, FERR_TOO_BIG, msg);
	free(msg);
	server_conn_close(c);
}

/*
 * Dispatch the complete frames at the start of p; returns the bytes they
 * took.  The rest, if any, is the start of a frame.
 */
static size_t
server_frames(struct conn *c, const uint8_t *p, size_t n, int *progress)
{
	size_t		 off = 0;
	uint32_t	 len;

	while (!(c->flags & CONN_CLOSING) && n - off >= FRAME_HDR_LEN) {
		if (frame_header_decode(p + off, settings.max_frame,
		    &len) == -1) {
			server_frame_too_big(c, len);
			break;
		}
		if (n - off - FRAME_HDR_LEN < len)
			break;
		if (request_dispatch(c, p + off + FRAME_HDR_LEN, len) == -1)
			server_conn_close(c);
		off += FRAME_HDR_LEN + len;
		*progress = 1;
	}
	return (off);
}

/*
 * Complete the frame begun in an earlier read with the bytes at p, and
 * dispatch it; returns the bytes taken.  Only what the frame needs is
 * taken, so the length is checked before more than its header is
 * buffered, and the frames after it go through server_frames().
 */
static size_t
server_frame_finish(struct conn *c, const uint8_t *p, size_t n,
    int *progress)
{
	uint8_t		 hdr[FRAME_HDR_LEN], *f;
	size_t		 have, take, used = 0;
	uint32_t	 len;

	if ((have = evbuffer_get_length(c->in)) < FRAME_HDR_LEN) {
		take = FRAME_HDR_LEN - have < n ? FRAME_HDR_LEN - have : n;
		evbuffer_add(c->in, p, take);
		used = take;
		if ((have += take) < FRAME_HDR_LEN)
			return (used);
	}
	evbuffer_copyout(c->in, hdr, sizeof(hdr));
	if (frame_header_decode(hdr, settings.max_frame, &len) == -1) {
		server_frame_too_big(c, len);
		return (n);
	}
	take = FRAME_HDR_LEN + len - have;
	if (take > n - used)
		take = n - used;
	evbuffer_add(c->in, p + used, take);
	used += take;
	if ((have += take) < FRAME_HDR_LEN + len)
		return (used);
	f = evbuffer_pullup(c->in, -1);
	if (request_dispatch(c, f + FRAME_HDR_LEN, len) == -1)
		server_conn_close(c);
	evbuffer_drain(c->in, have);
	*progress = 1;
	return (used);
}

static void
server_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn	*c = arg;
	ssize_t		 n;
	size_t		 used;
	int		 progress = 0;

	if ((n = read(c->fd, server_rbuf, sizeof(server_rbuf))) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		log_debug("connection %llu: %s", (unsigned long long)c->id,
		    strerror(errno));
		server_conn_free(c);
		return;
	}
	if (n == 0) {
		/* Perhaps shut down for writing only: it may still read. */
		if (!(c->flags & CONN_BLOCKED) &&
		    evbuffer_get_length(c->out) > 0)
			(void)server_conn_write(c);
		server_conn_free(c);
		return;
	}
	used = 0;
	if (evbuffer_get_length(c->in) > 0)
		used = server_frame_finish(c, server_rbuf, (size_t)n,
		    &progress);
	if (used < (size_t)n)
		used += server_frames(c, server_rbuf + used, (size_t)n - used,
		    &progress);
	if (!(c->flags & CONN_CLOSING) && used < (size_t)n)
		evbuffer_add(c->in, server_rbuf + used, (size_t)n - used);
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
	server_init_events();
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->id = server_next_id++;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->version = FUTURED_PROTOCOL_VERSION;
	TAILQ_INIT(&c->pendings);
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, server_read_cb,
	    c);
	c->ev_write = event_new(base, fd, EV_WRITE | EV_PERSIST,
	    server_write_cb, c);
	if (c->in == NULL || c->out == NULL || c->ev_read == NULL ||
	    c->ev_write == NULL)
		fatalx("%s: out of memory", __func__);
	event_add(c->ev_read, NULL);
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
 * it from the loop, and free it, with its pendings, only in the reap:
 * our caller may be one of those pendings, answering from a waiter's
 * callback among others on the same job.  Until then what is sent to it
 * is dropped here.
 */
static int
server_conn_overfull(struct conn *c)
{
	if (c->flags & CONN_DEAD)
		return (1);
	if (c->out == NULL || evbuffer_get_length(c->out) <=
	    settings.max_unread)
		return (0);
	log_warnx("connection %llu (uid %lu): over %zu bytes of unread "
	    "answers, dropping it", (unsigned long long)c->id,
	    (unsigned long)c->uid, settings.max_unread);
	c->flags |= CONN_CLOSING | CONN_DEAD;
	event_del(c->ev_read);
	event_del(c->ev_write);
	c->flags &= ~CONN_BLOCKED;
	if (c->flags & CONN_DIRTY) {
		TAILQ_REMOVE(&server_dirty, c, dirty_entry);
		c->flags &= ~CONN_DIRTY;
	}
	if (c->read_timer != NULL)
		evtimer_del(c->read_timer);
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
	evbuffer_add(c->out, hdr, sizeof(hdr));
	evbuffer_add(c->out, p, len);
	server_conn_dirty(c);
}

static struct evbuffer_iovec server_reserved;

/*
 * Room for a frame of len bytes, packed in place, then committed.  A
 * connection with a sendfn (tests, fuzzers) gets a scratch buffer and
 * the packed answer through it; sockets keep the zero-copy path.
 */
/*
 * Bytes of answers c has not read yet: a watch drops output past half
 * of --max-unread rather than lose the connection.
 */
size_t
server_conn_unread(struct conn *c)
{
	return (c->out != NULL ? evbuffer_get_length(c->out) : 0);
}

void *
server_conn_reserve(struct conn *c, size_t len)
{
	if (c->sendfn != NULL) {
		if (len > server_scratch_size) {
			server_scratch = xreallocarray(server_scratch, len, 1);
			server_scratch_size = len;
		}
		return (server_scratch);
	}
	if (evbuffer_reserve_space(c->out, FRAME_HDR_LEN + len,
	    &server_reserved, 1) != 1)
		fatalx("%s: evbuffer_reserve_space", __func__);
	frame_header_encode(server_reserved.iov_base, len);
	return ((uint8_t *)server_reserved.iov_base + FRAME_HDR_LEN);
}

void
server_conn_commit(struct conn *c, size_t len)
{
	if (c->sendfn != NULL) {
		c->sendfn(c, server_scratch, len);
		return;
	}
	server_reserved.iov_len = FRAME_HDR_LEN + len;
	evbuffer_commit_space(c->out, &server_reserved, 1);
	if (!server_conn_overfull(c))
		server_conn_dirty(c);
}

/* Flush what is queued, then free; nothing more is read. */
void
server_conn_close(struct conn *c)
{
	struct timeval	 tv = { SERVER_CLOSE_WAIT, 0 };

	if (c->flags & CONN_CLOSING)
		return;
	c->flags |= CONN_CLOSING;
	if (c->read_timer != NULL)
		evtimer_del(c->read_timer);
	if (c->out == NULL) {
		/* A test double: its owner frees it. */
		request_conn_free(c);
		return;
	}
	event_del(c->ev_read);
	request_conn_free(c);
	/*
	 * The turn's flush writes what is queued and frees it, even with
	 * nothing queued: never under our caller.
	 */
	if (c->flags & CONN_BLOCKED)
		event_add(c->ev_write, &tv);
	else
		server_conn_dirty(c);
}

uid_t
server_conn_uid(struct conn *c)
{
	return (c->uid);
}

/* cb may close the connection it is given. */
void
server_foreach_conn(void (*cb)(struct conn *, void *), void *arg)
{
	struct conn	*c, *next;

	TAILQ_FOREACH_SAFE(c, &server_conns, entry, next) {
		if (!(c->flags & CONN_CLOSING))
			cb(c, arg);
	}
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

/*
 * At exit.  The loop may have stopped before this turn's flush ran: what
 * the sockets take still goes, the rest is dropped.
 */
void
server_close(void)
{
	struct conn	*c, *next;

	server_stop_accepting();
	TAILQ_FOREACH_SAFE(c, &server_conns, entry, next) {
		if (!(c->flags & (CONN_DEAD | CONN_BLOCKED)))
			(void)server_conn_write(c);
		server_conn_free(c);
	}
	if (server_reap_ev != NULL)
		event_free(server_reap_ev);
	server_reap_ev = NULL;
	if (server_flush_ev != NULL)
		event_free(server_flush_ev);
	server_flush_ev = NULL;
	server_flush_yields = 0;
	free(server_scratch);
	server_scratch = NULL;
	server_scratch_size = 0;
}
