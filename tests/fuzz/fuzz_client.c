/*
 * libFuzzer target for libfutured's answer decoding: the input is the
 * byte stream a daemon sends to one client.  The client is a real one,
 * made by fut_connect() on a socket this program listens on; the
 * accepted end plays the daemon, and the client runs a fixed script
 * (submit, submit_all, attach, poll, cancel, waits, dispatch, then the
 * snapshot calls: status, result, list, wait and cancel of several jobs,
 * handlers, stats, group, ping; and watches in both forms) so that there
 * are pending requests of every kind for the input to answer, or answer
 * wrongly.  Every accessor of every snapshot and event is read.
 *
 * Everything runs on one thread, so an input always gives the same run.
 * Before each call that blocks until the daemon answers, the input is
 * fed, frame by frame, up to the frame that answers the request ids the
 * call will use (the next ids after those of the requests read so far:
 * libfutured numbers them in order).  When the input has no such frame,
 * or stops being a stream of decodable frames, all the rest of it is
 * written and the daemon end is shut down, so the client sees EOF: a
 * call that still blocks then is a hang in libfutured, caught by the
 * fuzzer's -timeout.  What is left once the script has made all its
 * requests arrives in small pieces, each read by fut_client_dispatch(),
 * then EOF; and the run checks that the client failed cleanly:
 * connection dead, every future settled, every done-callback run once,
 * every watched job's stream ended exactly once.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <futured/futured.h>

#include "frame.h"
#include "futured.pb-c.h"

/* Inputs are kept under what a socket buffers, so writes never block. */
#define FUZZ_CLIENT_MAX		(64 * 1024)
#define FUZZ_CLIENT_NFUT	4
#define FUZZ_CLIENT_ATTACH	42	/* the job id fut_attach() asks for */
#define FUZZ_CLIENT_TURNS	16

struct fuzz {
	const uint8_t		*data;
	size_t			 size;
	size_t			 fed;		/* bytes written to the client */
	int			 eof;		/* daemon end shut down */
	int			 fd;		/* the daemon end */
	uint64_t		 lastid;	/* of the requests read */
	uint8_t			 req[FUZZ_CLIENT_MAX];
	size_t			 reqlen;
	int			 cbs;		/* done-callbacks registered */
	int			 fired;		/* ... and run */
	int			 wends;		/* watch streams ended (cb) */
};

static char	 fuzz_dir[] = "/tmp/fuzz_client.XXXXXX";
static char	 fuzz_path[sizeof(fuzz_dir) + 16];
static int	 fuzz_listen = -1;

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_cleanup(void)
{
	if (fuzz_listen != -1)
		close(fuzz_listen);
	unlink(fuzz_path);
	rmdir(fuzz_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un	 sun;

	if (mkdtemp(fuzz_dir) == NULL)
		abort();
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/sock", fuzz_dir);
	atexit(fuzz_cleanup);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, fuzz_path);
	if ((fuzz_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1 ||
	    bind(fuzz_listen, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fuzz_listen, 4) == -1)
		abort();
	return (0);
}

/* Read what the client sent; every request must decode. */
static void
fuzz_client_drain(struct fuzz *fz)
{
	Futured__Request	*req;
	uint32_t		 len;
	size_t			 off = 0;
	ssize_t			 n;

	for (;;) {
		n = recv(fz->fd, fz->req + fz->reqlen,
		    sizeof(fz->req) - fz->reqlen, MSG_DONTWAIT);
		if (n <= 0)
			break;
		fz->reqlen += n;
		while (fz->reqlen - off >= FRAME_HDR_LEN) {
			if (frame_header_decode(fz->req + off,
			    sizeof(fz->req) - FRAME_HDR_LEN, &len) == -1)
				abort();
			if (fz->reqlen - off - FRAME_HDR_LEN < len)
				break;
			req = futured__request__unpack(NULL, len,
			    fz->req + off + FRAME_HDR_LEN);
			if (req == NULL || req->id != fz->lastid + 1)
				abort();	/* ids are 1, 2, 3, ... */
			fz->lastid = req->id;
			futured__request__free_unpacked(req, NULL);
			off += FRAME_HDR_LEN + len;
		}
		memmove(fz->req, fz->req + off, fz->reqlen - off);
		fz->reqlen -= off;
		off = 0;
	}
}

static void
fuzz_client_write(struct fuzz *fz, size_t upto)
{
	ssize_t	 n;

	while (fz->fed < upto) {
		n = send(fz->fd, fz->data + fz->fed, upto - fz->fed,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET)) {
			fz->fed = upto;		/* the client hung up */
			break;
		}
		if (n <= 0)
			abort();	/* over the socket buffer */
		fz->fed += n;
	}
}

/*
 * The rest of the input in pieces of 1, 2, 3, 5, ... bytes, the client
 * reading after each, so that frames arrive cut at every kind of place.
 */
static void
fuzz_client_trickle(struct fuzz *fz, struct fut_client *c)
{
	static const size_t	 piece[] = { 1, 2, 3, 5, 8, 13, 21, 34, 55 };
	size_t			 i = 0, upto;

	while (!fz->eof && fz->fed < fz->size) {
		upto = fz->fed + piece[i++ % (sizeof(piece) / sizeof(*piece))];
		fuzz_client_write(fz, upto < fz->size ? upto : fz->size);
		if (fut_client_dispatch(c) != 0)
			break;
	}
}

static void
fuzz_client_eof(struct fuzz *fz)
{
	fuzz_client_write(fz, fz->size);
	if (!fz->eof) {
		shutdown(fz->fd, SHUT_WR);
		fz->eof = 1;
	}
}

/*
 * The next call waits for answers to the next n request ids: write the
 * input up to the frame that answers the last of them, or all of it and
 * EOF.  Frames are found the way libfutured finds them.
 */
static void
fuzz_client_feed(struct fuzz *fz, int n)
{
	Futured__Response	*r;
	uint64_t		 first, want = 0;
	uint32_t		 len;
	size_t			 off = fz->fed;

	if (fz->eof)
		return;
	fuzz_client_drain(fz);
	first = fz->lastid + 1;
	while (n > 0 && fz->size - off >= FRAME_HDR_LEN) {
		if (frame_header_decode(fz->data + off, FUTURED_FRAME_MAX,
		    &len) == -1 || fz->size - off - FRAME_HDR_LEN < len)
			break;
		r = futured__response__unpack(NULL, len,
		    fz->data + off + FRAME_HDR_LEN);
		if (r == NULL)
			break;
		if (r->id >= first && r->id < first + n)
			want |= 1ULL << (r->id - first);
		futured__response__free_unpacked(r, NULL);
		off += FRAME_HDR_LEN + len;
		if (want == (1ULL << n) - 1) {
			fuzz_client_write(fz, off);
			return;
		}
	}
	fuzz_client_eof(fz);
}

static void
fuzz_client_done_cb(struct fut_future *f, void *arg)
{
	struct fuzz	*fz = arg;
	size_t		 len;

	fz->fired++;
	/* What a callback reads; fut_poll() on a settled future is local. */
	(void)fut_poll(f);
	(void)fut_output(f, &len);
	(void)fut_stderr(f, &len);
	(void)fut_error(f);
	(void)fut_exit_status(f);
	(void)fut_signal(f);
}

/* Read every field of an info, as futurectl --json does. */
static void
fuzz_client_info(const struct fut_info *i)
{
	const char	*k, *v;
	size_t		 n, len;
	int		 f;

	if (i == NULL)
		return;
	for (f = FUT_FIELD_KIND; f <= FUT_FIELD_OUTPUT_SIZE; f++)
		(void)fut_info_has(i, (enum fut_field)f);
	(void)fut_info_id(i);
	(void)fut_state_name(fut_info_state(i));
	(void)fut_kind_name(fut_info_kind(i));
	(void)fut_info_handler(i);
	(void)fut_info_name(i);
	(void)fut_info_group(i);
	(void)fut_info_progress(i);
	(void)fut_info_progress_msg(i);
	(void)fut_info_exit_status(i);
	(void)fut_info_signal(i);
	(void)fut_info_error(i);
	(void)fut_info_error_code(i);
	(void)fut_info_ended(i);
	if (fut_info_output(i, &len) == NULL && len != 0)
		abort();
	(void)fut_info_output_truncated(i);
	(void)fut_info_output_size(i);
	(void)fut_info_stderr(i, &len);
	(void)fut_info_submitted_ms(i);
	(void)fut_info_started_ms(i);
	(void)fut_info_finished_ms(i);
	(void)fut_info_attempts(i);
	(void)fut_info_retries(i);
	(void)fut_info_parent(i);
	(void)fut_info_priority(i);
	for (n = 0; n < fut_info_nargs(i); n++)
		if (fut_info_arg(i, n) == NULL)
			abort();
	for (n = 0; n < fut_info_nctx(i); n++) {
		k = fut_info_ctx(i, n, &v);
		if (k == NULL || v == NULL)
			abort();
	}
	if (fut_info_arg(i, fut_info_nargs(i)) != NULL)
		abort();
}

static void
fuzz_client_infos(struct fut_infos *l)
{
	size_t	 n;

	for (n = 0; n < fut_infos_count(l); n++)
		fuzz_client_info(fut_infos_at(l, n));
	if (fut_infos_at(l, fut_infos_count(l)) != NULL)
		abort();
	fut_infos_free(l);
}

static void
fuzz_client_event(const struct fut_event *ev)
{
	size_t	 len;

	(void)fut_event_id(ev);
	(void)fut_event_output(ev, &len);
	(void)fut_event_final(ev);
	fuzz_client_info(fut_event_info(ev));
}

static void
fuzz_client_watch_cb(const struct fut_event *ev, int err, void *arg)
{
	struct fuzz	*fz = arg;

	if (ev == NULL) {
		if (err >= 0)
			abort();
		fz->wends++;
		return;
	}
	fuzz_client_event(ev);
	if (fut_event_final(ev))
		fz->wends++;
}

/*
 * The snapshot calls, one request each, each fed its answer; then two
 * watches whose events come with the rest of the input.
 */
static void
fuzz_client_snapshots(struct fuzz *fz, struct fut_client *c,
    struct fut_watch **w, struct fut_watch **wcb)
{
	static const uint64_t	 ids[] = { 100, 101, 42 };
	struct fut_info		*i;
	struct fut_infos	*l;
	struct fut_cancels	*cs;
	struct fut_handlers	*h;
	struct fut_stats	*st;
	struct fut_group	*g;
	char			 ver[64];
	unsigned int		 proto;
	uint64_t		 id, first;
	size_t			 n, k;
	int			 took, state;

	fuzz_client_feed(fz, 1);
	if (fut_status(c, 100, &i) == 0)
		fuzz_client_info(i);
	fut_info_free(i);
	fuzz_client_feed(fz, 1);
	if (fut_result(c, 101, &i) == 0)
		fuzz_client_info(i);
	fut_info_free(i);
	fuzz_client_feed(fz, 1);
	if (fut_list(c, FUT_RUNNING, "g", &l) == 0)
		fuzz_client_infos(l);
	fuzz_client_feed(fz, 1);
	if (fut_wait_jobs(c, ids, 3, NULL, FUT_WAIT_ANY, 10, &l,
	    &first) != 0 && l == NULL)
		(void)fut_client_error(c);
	fuzz_client_infos(l);
	fuzz_client_feed(fz, 1);
	if (fut_cancel_jobs(c, NULL, 0, "g", 100, &cs) == 0) {
		for (n = 0; n <= fut_cancels_count(cs); n++)
			(void)fut_cancels_get(cs, n, &id, &took, &state);
		fut_cancels_free(cs);
	}
	fuzz_client_feed(fz, 1);
	if (fut_handlers(c, &h) == 0) {
		for (n = 0; n <= fut_handlers_count(h); n++) {
			(void)fut_handlers_name(h, n);
			(void)fut_handlers_description(h, n);
			(void)fut_handlers_kinds(h, n);
			(void)fut_kind_name(fut_handlers_default_kind(h, n));
		}
		fut_handlers_free(h);
	}
	fuzz_client_feed(fz, 1);
	if (fut_stats(c, &st) == 0) {
		(void)fut_stats_uptime_ms(st);
		(void)fut_stats_jobs_total(st);
		(void)fut_stats_connections(st);
		(void)fut_stats_server_version(st);
		for (n = 0; n <= fut_stats_nkinds(st); n++) {
			(void)fut_kind_name(fut_stats_kind(st, n));
			for (k = FUT_STAT_WAITING; k <= FUT_STAT_POOL_BUSY; k++)
				(void)fut_stats_get(st, n, (enum fut_stat)k);
		}
		fut_stats_free(st);
	}
	fuzz_client_feed(fz, 1);
	if (fut_group_set(c, "g", 1, 2, &g) == 0) {
		(void)fut_group_name(g);
		(void)fut_group_fail_fast(g);
		(void)fut_group_parallel(g);
		(void)fut_group_created(g);
		for (k = FUT_GROUP_JOBS; k <= FUT_GROUP_FAILED; k++)
			(void)fut_group_count(g, (enum fut_group_counter)k);
		fut_group_free(g);
	}
	fuzz_client_feed(fz, 1);
	(void)fut_ping(c, ver, sizeof(ver), &proto);

	/* Streams answered by what is left of the input. */
	if ((*w = fut_watch_open(c, 42, 0)) != NULL)
		(void)fut_watch_add(*w, 100);
	*wcb = fut_watch_start(c, 101, FUT_WATCH_PROGRESS,
	    fuzz_client_watch_cb, fz);
}

static struct fut_spec *
fuzz_client_spec(const char *handler, const char *arg)
{
	struct fut_spec	*s;

	if ((s = fut_spec_new(handler)) == NULL)
		abort();
	if (arg != NULL && fut_spec_arg(s, arg) != 0)
		abort();
	if (fut_spec_payload(s, "seed", 4) != 0 ||
	    fut_spec_ctx(s, "TRACE", "fuzz") != 0)
		abort();
	return (s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz	 fz;
	struct fut_client	*c;
	struct fut_spec		*s[3];
	struct fut_future	*f[FUZZ_CLIENT_NFUT], *all[2];
	struct fut_future	*live[FUZZ_CLIENT_NFUT];
	struct fut_watch	*w = NULL, *wcb = NULL;
	struct fut_event	*ev;
	size_t			 i, n = 0, which;
	int			 rc, turns, ended;

	if (size > FUZZ_CLIENT_MAX)
		return (-1);	/* not added to the corpus */
	memset(&fz, 0, sizeof(fz));
	fz.data = data;
	fz.size = size;
	memset(f, 0, sizeof(f));
	s[0] = fuzz_client_spec("echo", NULL);
	s[1] = fuzz_client_spec("exec", "true");
	s[2] = fuzz_client_spec("sleep", "1s");

	/* Hello, id 1, goes out here and is answered whenever. */
	if ((c = fut_connect(fuzz_path)) == NULL)
		abort();
	if ((fz.fd = accept4(fuzz_listen, NULL, NULL, SOCK_CLOEXEC)) == -1)
		abort();

	fuzz_client_feed(&fz, 1);
	f[0] = fut_submit(c, s[0]);
	fuzz_client_feed(&fz, 2);
	if (fut_submit_all(c, (const struct fut_spec *const *)&s[1], 2,
	    all) > 0) {
		f[1] = all[0];
		f[2] = all[1];
	}
	/* Subscribe, then a status request that nothing waits for. */
	fuzz_client_feed(&fz, 1);
	f[3] = fut_attach(c, FUZZ_CLIENT_ATTACH);

	for (i = 0; i < FUZZ_CLIENT_NFUT; i++) {
		if (f[i] == NULL)
			continue;
		live[n++] = f[i];
		fz.cbs++;
		fut_on_done(f[i], fuzz_client_done_cb, &fz);
	}
	/* A status request, answered by later input. */
	if (f[0] != NULL)
		(void)fut_poll(f[0]);
	if (f[0] != NULL) {
		fuzz_client_feed(&fz, 1);
		(void)fut_cancel(f[0]);
	}
	if (n > 0) {
		(void)fut_wait(live[0], 0);
		(void)fut_wait_any(live, n, 0, &which);
	}
	fuzz_client_snapshots(&fz, c, &w, &wcb);

	/* The rest of the input, then EOF: everything must settle. */
	fuzz_client_trickle(&fz, c);
	fuzz_client_eof(&fz);
	if (n > 0)
		(void)fut_wait_all(live, n, -1);
	for (turns = 0; turns < FUZZ_CLIENT_TURNS; turns++)
		if (fut_client_dispatch(c) != 0)
			break;
	if (turns == FUZZ_CLIENT_TURNS || fut_client_errcode(c) == FUT_OK)
		abort();	/* EOF, and the client did not notice */
	for (i = 0; i < n; i++) {
		rc = fut_wait(live[i], 0);
		if (rc == FUT_ETIMEDOUT)
			abort();	/* a future the lost connection forgot */
		if (rc == FUT_OK && (fut_poll(live[i]) < FUT_SUCCEEDED ||
		    fut_output(live[i], NULL) == NULL))
			abort();	/* "final" without an outcome */
	}
	if (fz.fired != fz.cbs)
		abort();	/* a done-callback that never ran */
	/* Each watched job's stream ends once: a final event or an error. */
	for (ended = 0; w != NULL && (rc = fut_watch_next(w, -1, &ev)) != 0;) {
		if (rc == FUT_ETIMEDOUT || ++ended > 2 * FUZZ_CLIENT_MAX)
			abort();
		if (rc == 1) {
			fuzz_client_event(ev);
			fut_event_free(ev);
		}
	}
	if (w != NULL && fut_watch_active(w))
		abort();
	if (wcb != NULL && (fz.wends != 1 || fut_watch_active(wcb)))
		abort();
	fut_watch_close(w);
	fut_watch_close(wcb);

	for (i = 0; i < n; i++)
		fut_future_free(live[i]);
	fut_close(c);
	fuzz_client_drain(&fz);
	close(fz.fd);
	for (i = 0; i < 3; i++)
		fut_spec_free(s[i]);
	return (0);
}
