/*
 * libFuzzer target for libfutured's answer decoding: the input is the
 * byte stream a daemon sends to one client.  The client is a real one,
 * made by fut_connect() on a socket this program listens on; the
 * accepted end plays the daemon, and the client runs a fixed script
 * (submit, submit_all, attach, poll, cancel, waits, dispatch) so that
 * there are pending requests of every kind for the input to answer, or
 * answer wrongly.
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
 * connection dead, every future settled, every done-callback run once.
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
	size_t			 i, n = 0, which;
	int			 rc, turns;

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

	for (i = 0; i < n; i++)
		fut_future_free(live[i]);
	fut_close(c);
	fuzz_client_drain(&fz);
	close(fz.fd);
	for (i = 0; i < 3; i++)
		fut_spec_free(s[i]);
	return (0);
}
