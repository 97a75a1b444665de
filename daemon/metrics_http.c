/*
 * --metrics-listen ADDR:PORT: HTTP GET /metrics for Prometheus, served on
 * the daemon's own loop by libevent's evhttp (libevent_extra).  Off
 * unless asked; a bare PORT (or ":PORT") listens on 127.0.0.1 only, and
 * only an address given (0.0.0.0, [::], a host's own) opens it further.
 * Any other path is 404, any method but GET and HEAD refused.
 *
 * A scrape renders the text while the loop waits, as futurectl metrics
 * does: a few hundred lines, far less than a turn's worth of jobs.  The
 * socket is bound here, close-on-exec, so that no command inherits it.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "futured.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

#define METRICS_HTTP_TIMEOUT_S	10	/* to send a request, read an answer */
#define METRICS_HTTP_HEADERS	8192	/* bytes of request headers */
#define METRICS_HTTP_CONTENT	"text/plain; version=0.0.4; charset=utf-8"

static struct evhttp	*metrics_http;
static struct evconnlistener *metrics_http_listener;
static struct event	*metrics_http_pause_ev;
static char		 metrics_http_addr[INET6_ADDRSTRLEN + 16];

/*
 * "PORT", ":PORT", "ADDR:PORT" or "[ADDR6]:PORT", with ADDR numeric:
 * *host (caller frees) and *port; -1 and *cause.  Port 0 takes any free
 * port (futured logs which).
 */
int
metrics_http_parse(const char *s, char **host, u_short *port, char **cause)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	const char	*colon, *p;
	char		*h = NULL, *end;
	unsigned long	 n;

	if ((colon = strrchr(s, ':')) == NULL) {
		p = s;
		h = xstrdup("127.0.0.1");
	} else {
		p = colon + 1;
		if (colon == s)
			h = xstrdup("127.0.0.1");
		else if (s[0] == '[' && colon[-1] == ']') {
			xasprintf(&h, "%.*s", (int)(colon - s - 2), s + 1);
			if (inet_pton(AF_INET6, h, &a6) != 1)
				goto bad_addr;
		} else {
			xasprintf(&h, "%.*s", (int)(colon - s), s);
			if (inet_pton(AF_INET, h, &a4) != 1)
				goto bad_addr;
		}
	}
	errno = 0;
	n = strtoul(p, &end, 10);
	if (*p < '0' || *p > '9' || *end != '\0' || errno != 0 || n > 65535) {
		xasprintf(cause, "--metrics-listen \"%s\": bad port \"%s\" "
		    "(want 0..65535)", s, p);
		free(h);
		return (-1);
	}
	*host = h;
	*port = (u_short)n;
	return (0);

bad_addr:
	xasprintf(cause, "--metrics-listen \"%s\": bad address \"%s\" (want "
	    "PORT, a numeric IPv4 ADDR:PORT or [IPv6]:PORT)", s, h);
	free(h);
	return (-1);
}

static void
metrics_http_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*b;

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", METRICS_HTTP_CONTENT);
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	metrics_render(b);
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

static void
metrics_http_other_cb(struct evhttp_request *req, void *arg)
{
	evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics is here");
}

static void
metrics_http_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	evconnlistener_enable(metrics_http_listener);
}

/*
 * Out of descriptors (jobs hold most of them): the listening socket
 * stays readable, so stop accepting for a second rather than spin, as
 * server.c does for its clients.  Other errors are a client's, gone.
 */
static void
metrics_http_error_cb(struct evconnlistener *l, void *arg)
{
	struct timeval	 tv = { 1, 0 };
	int		 error = EVUTIL_SOCKET_ERROR();

	if (error != EMFILE && error != ENFILE && error != ENOBUFS &&
	    error != ENOMEM)
		return;
	log_warnx("metrics: not accepting for a second: %s",
	    strerror(error));
	evconnlistener_disable(l);
	evtimer_add(metrics_http_pause_ev, &tv);
}

/* Bind s's address (see metrics_http_parse); -1 and *cause. */
int
metrics_http_init(const char *s, char **cause)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct evconnlistener	*l;
	socklen_t		 len;
	char			*host, a[INET6_ADDRSTRLEN];
	u_short			 port;
	int			 fd, one = 1;

	if (metrics_http_parse(s, &host, &port, cause) == -1)
		return (-1);
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		len = sizeof(*sin);
	} else {
		(void)inet_pton(AF_INET6, host, &sin6->sin6_addr);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
	}
	free(host);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(cause, "--metrics-listen %s: socket: %s", s,
		    strerror(errno));
		return (-1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 64) == -1) {
		xasprintf(cause, "--metrics-listen %s: %s", s, strerror(errno));
		close(fd);
		return (-1);
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		fatal("%s: getsockname", __func__);
	if (ss.ss_family == AF_INET)
		snprintf(metrics_http_addr, sizeof(metrics_http_addr), "%s:%u",
		    inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)),
		    ntohs(sin->sin_port));
	else
		snprintf(metrics_http_addr, sizeof(metrics_http_addr),
		    "[%s]:%u", inet_ntop(AF_INET6, &sin6->sin6_addr, a,
		    sizeof(a)), ntohs(sin6->sin6_port));

	/* Accepted sockets are close-on-exec too (accept4). */
	if ((l = evconnlistener_new(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC, -1, fd)) == NULL)
		fatalx("%s: evconnlistener_new", __func__);
	if ((metrics_http = evhttp_new(base)) == NULL)
		fatalx("%s: evhttp_new", __func__);
	if (evhttp_bind_listener(metrics_http, l) == NULL)
		fatalx("%s: evhttp_bind_listener", __func__);
	metrics_http_listener = l;
	if ((metrics_http_pause_ev = evtimer_new(base, metrics_http_resume_cb,
	    NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	evconnlistener_set_error_cb(l, metrics_http_error_cb);
	evhttp_set_allowed_methods(metrics_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD);
	evhttp_set_timeout(metrics_http, METRICS_HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(metrics_http, METRICS_HTTP_HEADERS);
	evhttp_set_max_body_size(metrics_http, 1024);
	evhttp_set_cb(metrics_http, "/metrics", metrics_http_cb, NULL);
	evhttp_set_gencb(metrics_http, metrics_http_other_cb, NULL);
	log_info("metrics: listening on http://%s/metrics", metrics_http_addr);
	return (0);
}

const char *
metrics_http_address(void)
{
	return (metrics_http == NULL ? NULL : metrics_http_addr);
}

void
metrics_http_shutdown(void)
{
	if (metrics_http_pause_ev != NULL)
		event_free(metrics_http_pause_ev);
	metrics_http_pause_ev = NULL;
	if (metrics_http != NULL)
		evhttp_free(metrics_http);
	metrics_http = NULL;
	metrics_http_listener = NULL;
}
