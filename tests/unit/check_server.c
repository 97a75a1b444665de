/*
 * daemon/server.c: a real connection on one end of a socketpair, the
 * test on the other, the loop stepped by hand.  Frames split anywhere
 * are put together, many frames per read are answered in one write,
 * a submit's answer and its completion leave in one write and only
 * after the journal has the job, a socket that takes less than all gets
 * the rest once it has room, a closing connection is flushed before it
 * goes, and EOF, an unfinished frame and unread answers end it.
 * server_sendmsg_fn and journal_write_fn count the writes.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "futured.h"
#include "frame.h"
#include "log.h"
#include "testlib.h"
#include "xmalloc.h"

/* Response body field numbers, from proto/futured.proto. */
#define BODY_ERROR	10
#define BODY_SUBMIT	12
#define BODY_PING	20
#define BODY_EVENT	22

static int		 sv[2];		/* sv[0] is the daemon's */
static struct conn	*c;
static char		 dir[PATH_MAX];
static char		 jpath[PATH_MAX + 32];

/*
 * What went to the kernel, in order: 'W' journal write, 'F' its fsync,
 * 'S' sendmsg to the client.
 */
static char		 trace[4096];
static size_t		 ntrace;

static void
trace_add(char what)
{
	if (ntrace < sizeof(trace) - 1)
		trace[ntrace++] = what;
}

static size_t
trace_count(char what)
{
	size_t	 i, n = 0;

	for (i = 0; i < ntrace; i++)
		n += trace[i] == what;
	return (n);
}

static int		 socket_full;	/* sendmsg says EAGAIN */

static ssize_t
trace_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	trace_add('S');
	if (socket_full) {
		errno = EAGAIN;
		return (-1);
	}
	return (sendmsg(fd, msg, flags));
}

static ssize_t
trace_write(int fd, const void *p, size_t len)
{
	trace_add('W');
	return (write(fd, p, len));
}

static int
trace_fsync(int fd)
{
	trace_add('F');
	return (fsync(fd));
}

static void
setup(void)
{
	log_init(LOG_LEVEL_ERROR, 0);
	memset(&settings, 0, sizeof(settings));
	settings_defaults(&settings);
	settings.max_frame = 4096;
	settings.read_timeout_ms = 0;
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	handler_init();
	request_init();
	sched_init();
	ntrace = 0;
	socket_full = 0;
	server_sendmsg_fn = trace_sendmsg;
	journal_write_fn = trace_write;
	journal_fsync_fn = trace_fsync;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	c = server_conn_new(sv[0]);
	ck_assert_ptr_nonnull(c);
	dir[0] = '\0';
}

static void
teardown(void)
{
	char	 cmd[PATH_MAX + 32];

	journal_close();
	server_close();
	sched_cancel_all(0, "end of test");
	sched_free();
	event_base_free(base);
	base = NULL;
	close(sv[1]);
	server_sendmsg_fn = sendmsg;
	journal_write_fn = write;
	journal_fsync_fn = fsync;
	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		ck_assert_int_eq(system(cmd), 0);
	}
}

/* Encoding, as much of proto/futured.proto as the tests send. */

struct msg {
	uint8_t		 b[256];
	size_t		 len;
};

static void
put_varint(struct msg *m, uint64_t v)
{
	while (v >= 0x80) {
		m->b[m->len++] = (v & 0x7f) | 0x80;
		v >>= 7;
	}
	m->b[m->len++] = v;
}

static void
put_bytes(struct msg *m, int field, const void *p, size_t len)
{
	put_varint(m, (uint64_t)field << 3 | 2);
	put_varint(m, len);
	memcpy(m->b + m->len, p, len);
	m->len += len;
}

/* A Request frame with id and one body field. */
static void
put_request(struct msg *out, uint64_t id, int body, const struct msg *m)
{
	struct msg	 r = { .len = 0 };

	put_varint(&r, 1 << 3 | 0);
	put_varint(&r, id);
	put_bytes(&r, body, m->b, m->len);
	frame_header_encode(out->b + out->len, r.len);
	out->len += FRAME_HDR_LEN;
	memcpy(out->b + out->len, r.b, r.len);
	out->len += r.len;
}

static struct msg
ping(uint64_t id)
{
	struct msg	 f = { .len = 0 }, empty = { .len = 0 };

	put_request(&f, id, 19, &empty);
	return (f);
}

/* Submit echo of payload, with notify: submit + wait in one trip. */
static struct msg
submit_echo(uint64_t id, const char *payload)
{
	struct msg	 f = { .len = 0 }, spec = { .len = 0 };
	struct msg	 sub = { .len = 0 };

	put_bytes(&spec, 1, "echo", 4);
	put_bytes(&spec, 3, payload, strlen(payload));
	put_bytes(&sub, 1, spec.b, spec.len);
	put_varint(&sub, 2 << 3 | 0);
	put_varint(&sub, 1);
	put_request(&f, id, 11, &sub);
	return (f);
}

static void
must_write(const void *p, size_t len)
{
	ck_assert_int_eq(write(sv[1], p, len), (ssize_t)len);
}

/* Decoding: a Response's id and the number of its body field. */

struct answer {
	uint64_t	 id;
	int		 body;
};

static uint8_t		 inbuf[1024 * 1024];
static size_t		 inlen;

static uint64_t
get_varint(const uint8_t *p, size_t len, size_t *off)
{
	uint64_t	 v = 0;
	int		 shift = 0;

	while (*off < len) {
		v |= (uint64_t)(p[*off] & 0x7f) << shift;
		if ((p[(*off)++] & 0x80) == 0)
			return (v);
		shift += 7;
	}
	ck_abort_msg("truncated varint");
	return (0);
}

static struct answer
decode(const uint8_t *p, size_t len)
{
	struct answer	 a = { 0, 0 };
	size_t		 off = 0;
	uint64_t	 key, v;

	while (off < len) {
		key = get_varint(p, len, &off);
		switch (key & 7) {
		case 0:
			v = get_varint(p, len, &off);
			if (key >> 3 == 1)
				a.id = v;
			break;
		case 2:
			v = get_varint(p, len, &off);
			if (key >> 3 >= BODY_ERROR)
				a.body = key >> 3;
			off += v;
			break;
		default:
			ck_abort_msg("wire type %d", (int)(key & 7));
		}
	}
	return (a);
}

/* Read what sv[1] has; 1 once the daemon has closed it. */
static int
take_input(void)
{
	ssize_t	 n;

	for (;;) {
		n = read(sv[1], inbuf + inlen, sizeof(inbuf) - inlen);
		if (n == 0)
			return (1);
		if (n == -1) {
			ck_assert_int_eq(errno, EAGAIN);
			return (0);
		}
		inlen += n;
	}
}

/* The next whole answer that came in, if any. */
static int
next_answer(struct answer *a)
{
	uint32_t	 len;

	if (inlen < FRAME_HDR_LEN)
		return (0);
	ck_assert_int_eq(frame_header_decode(inbuf, UINT32_MAX, &len), 0);
	if (inlen < FRAME_HDR_LEN + len)
		return (0);
	*a = decode(inbuf + FRAME_HDR_LEN, len);
	memmove(inbuf, inbuf + FRAME_HDR_LEN + len, inlen - FRAME_HDR_LEN -
	    len);
	inlen -= FRAME_HDR_LEN + len;
	return (1);
}

struct answers {
	struct answer	*out;
	size_t		 n;
	size_t		 got;
	int		 eof;
};

static int
answers_in(void *arg)
{
	struct answers	*as = arg;

	as->eof = take_input();
	while (as->got < as->n && next_answer(&as->out[as->got]))
		as->got++;
	return (as->got == as->n || as->eof);
}

/* Turn the loop, reading sv[1], until n answers are in or EOF. */
static void
run_answers(struct answer *out, size_t n, int *eof)
{
	struct answers	 as = { out, n, 0, 0 };

	run_loop_until(answers_in, &as, RUN_LIMIT_S * 1000);
	*eof = as.eof;
	ck_assert_msg(as.got == n, "%zu answers of %zu", as.got, n);
}

static int
closed(void *arg)
{
	return (take_input());
}

/* Turn the loop, reading sv[1], until the daemon has closed it. */
static void
run_until_closed(void)
{
	ck_assert_msg(run_loop_until(closed, NULL, RUN_LIMIT_S * 1000),
	    "connection still open");
	ck_assert_uint_eq(server_nconns(), 0);
}

/* Framing -------------------------------------------------------------- */

START_TEST(test_frames_split_anywhere)
{
	struct msg	 all = { .len = 0 }, f;
	struct answer	 a[3];
	size_t		 i;
	int		 eof;

	for (i = 0; i < 3; i++) {
		f = ping(i + 1);
		memcpy(all.b + all.len, f.b, f.len);
		all.len += f.len;
	}
	for (i = 0; i < all.len; i++) {
		must_write(&all.b[i], 1);
		step();
	}
	run_answers(a, 3, &eof);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(a[i].id, i + 1);
		ck_assert_int_eq(a[i].body, BODY_PING);
	}
	ck_assert_uint_eq(server_nconns(), 1);
}
END_TEST

START_TEST(test_many_frames_one_read_one_write)
{
	static struct msg	 f[200];
	static struct answer	 a[200];
	static uint8_t		 all[200 * sizeof(f[0].b)];
	size_t			 i, len = 0;
	int			 eof;

	for (i = 0; i < 200; i++) {
		f[i] = ping(i + 1);
		memcpy(all + len, f[i].b, f[i].len);
		len += f[i].len;
	}
	must_write(all, len);
	step();
	ck_assert_uint_eq(trace_count('S'), 1);
	run_answers(a, 200, &eof);
	for (i = 0; i < 200; i++)
		ck_assert_uint_eq(a[i].id, i + 1);
}
END_TEST

START_TEST(test_frame_over_limit_closes)
{
	uint8_t		 hdr[FRAME_HDR_LEN];
	struct answer	 a;
	int		 eof;

	frame_header_encode(hdr, settings.max_frame + 1);
	must_write(hdr, sizeof(hdr));
	run_answers(&a, 1, &eof);
	ck_assert_int_eq(a.body, BODY_ERROR);
	run_until_closed();
}
END_TEST

/*
 * Its header split between reads, the rest is not buffered.  The socket
 * looks full, so that the closing connection stays to be looked at.
 */
START_TEST(test_frame_over_limit_split_closes)
{
	static uint8_t	 big[8192];
	struct answer	 a;
	int		 eof;

	frame_header_encode(big, settings.max_frame + 1);
	must_write(big, 2);
	step();
	socket_full = 1;
	must_write(big + 2, sizeof(big) - 2);
	step();
	ck_assert(c->flags & CONN_CLOSING);
	ck_assert_uint_eq(evbuffer_get_length(c->in), FRAME_HDR_LEN);
	socket_full = 0;
	run_answers(&a, 1, &eof);
	ck_assert_int_eq(a.body, BODY_ERROR);
	run_until_closed();
}
END_TEST

START_TEST(test_unfinished_frame_times_out)
{
	struct msg	 f = ping(1);
	struct answer	 a;
	int		 eof;

	settings.read_timeout_ms = 50;
	must_write(f.b, f.len - 1);
	run_answers(&a, 1, &eof);
	ck_assert_int_eq(a.body, BODY_ERROR);
	run_until_closed();
}
END_TEST

START_TEST(test_eof_frees)
{
	shutdown(sv[1], SHUT_WR);
	run_until_closed();
}
END_TEST

/* Output --------------------------------------------------------------- */

START_TEST(test_submit_reply_and_completion_one_write)
{
	struct msg	 f = submit_echo(7, "hello");
	struct answer	 a[2];
	int		 eof;

	must_write(f.b, f.len);
	run_answers(a, 2, &eof);
	ck_assert_uint_eq(a[0].id, 7);
	ck_assert_int_eq(a[0].body, BODY_SUBMIT);
	ck_assert_uint_eq(a[1].id, 0);
	ck_assert_int_eq(a[1].body, BODY_EVENT);
	ck_assert_uint_eq(trace_count('S'), 1);
}
END_TEST

/*
 * With a journal the answer waits for the ACCEPT record, and its
 * completion still leaves with it.  A ping in front of the submit is
 * answered in the same turn, so that the turn's flush is activated before
 * the journal's.
 */
START_TEST(test_submit_answered_after_journal_write)
{
	struct msg	 f = ping(1), s = submit_echo(2, "durable");
	struct answer	 a[3];
	char		*cause = NULL;
	int		 eof;

	snprintf(dir, sizeof(dir), "/tmp/check_server.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(jpath, sizeof(jpath), "%s/journal", dir);
	settings.journal_path = jpath;
	settings.fsync = JOURNAL_FSYNC_ALWAYS;
	ck_assert_msg(journal_open(&cause) == 0, "%s", cause);
	ntrace = 0;

	memcpy(f.b + f.len, s.b, s.len);
	f.len += s.len;
	must_write(f.b, f.len);
	run_answers(a, 3, &eof);
	ck_assert_int_eq(a[0].body, BODY_PING);
	ck_assert_uint_eq(a[1].id, 2);
	ck_assert_int_eq(a[1].body, BODY_SUBMIT);
	ck_assert_int_eq(a[2].body, BODY_EVENT);
	trace[ntrace] = '\0';
	ck_assert_msg(strncmp(trace, "WF", 2) == 0 && trace_count('S') == 1,
	    "not one write after the journal's: %s", trace);
}
END_TEST

/*
 * Shrink the daemon's send buffer, so that it takes little at a time,
 * and put n pings (ids 1 to n, 16 bytes at most each) in buf; returns
 * their length.
 */
static size_t
small_socket_pings(uint8_t *buf, size_t n)
{
	struct msg	 f;
	size_t		 i, len = 0;
	int		 sz = 4096;

	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
	for (i = 0; i < n; i++) {
		f = ping(i + 1);
		ck_assert_uint_le(f.len, 16);
		memcpy(buf + len, f.b, f.len);
		len += f.len;
	}
	return (len);
}

/* The socket takes a part: the rest goes when it has room, in order. */
START_TEST(test_full_socket_gets_the_rest)
{
	static struct answer	 a[3000];
	static uint8_t		 all[3000 * 16];
	size_t			 i, len;
	int			 eof;

	len = small_socket_pings(all, 3000);
	must_write(all, len);
	step();
	ck_assert_msg(c->flags & CONN_BLOCKED, "the socket took it all");
	run_answers(a, 3000, &eof);
	for (i = 0; i < 3000; i++)
		ck_assert_uint_eq(a[i].id, i + 1);
	ck_assert(!(c->flags & CONN_BLOCKED));
	ck_assert_uint_eq(server_nconns(), 1);
}
END_TEST

/* Closing: what is queued goes first, even past a full socket. */
START_TEST(test_close_flushes_first)
{
	static struct answer	 a[3001];
	static uint8_t		 all[3000 * 16 + FRAME_HDR_LEN];
	size_t			 i, len;
	int			 eof;

	len = small_socket_pings(all, 3000);
	frame_header_encode(all + len, settings.max_frame + 1);
	len += FRAME_HDR_LEN;
	must_write(all, len);
	run_answers(a, 3001, &eof);
	for (i = 0; i < 3000; i++)
		ck_assert_uint_eq(a[i].id, i + 1);
	ck_assert_int_eq(a[3000].body, BODY_ERROR);
	run_until_closed();
}
END_TEST

/* A client that sends and never reads is dropped at --max-unread. */
START_TEST(test_unread_answers_capped)
{
	static uint8_t	 all[1000 * 16];
	size_t		 len;
	int		 turns;

	settings.max_unread = 8192;
	len = small_socket_pings(all, 1000);
	for (turns = 0; turns < 100 && server_nconns() > 0; turns++) {
		(void)write(sv[1], all, len);
		step();
	}
	ck_assert_uint_eq(server_nconns(), 0);
}
END_TEST

static Suite *
server_suite(void)
{
	Suite	*s = suite_create("server");
	TCase	*tc;

	tc = tcase_create("framing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_frames_split_anywhere);
	tcase_add_test(tc, test_many_frames_one_read_one_write);
	tcase_add_test(tc, test_frame_over_limit_closes);
	tcase_add_test(tc, test_frame_over_limit_split_closes);
	tcase_add_test(tc, test_unfinished_frame_times_out);
	tcase_add_test(tc, test_eof_frees);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_submit_reply_and_completion_one_write);
	tcase_add_test(tc, test_submit_answered_after_journal_write);
	tcase_add_test(tc, test_full_socket_gets_the_rest);
	tcase_add_test(tc, test_close_flushes_first);
	tcase_add_test(tc, test_unread_answers_capped);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(server_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
