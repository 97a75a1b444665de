/*
 * libFuzzer target for the frame reader: the input is written to one end
 * of a socketpair whose other end is a real connection of server.c, and
 * the event loop runs until the daemon has dropped the connection (the
 * input ends with EOF).  This is the path a hostile client drives:
 * header checks, partial frames, watermarks, error answers and closes.
 *
 * No handler is registered, so a submit in the input is refused as an
 * unknown handler and nothing is ever started.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured.h"
#include "frame.h"
#include "log.h"

#define FUZZ_FRAME_TURNS	10000

/* main.c's globals: the daemon's main() is not linked in. */
struct settings		 settings;
struct event_base	*base;

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(LOG_LEVEL_ERROR, 0);
	if ((base = event_base_new()) == NULL)
		abort();
	settings_defaults(&settings);
	settings.socket_path = "/nonexistent/futured.sock";
	settings.max_frame = 64 * 1024;
	settings.max_queued = 64;
	settings.read_timeout_ms = 0;	/* EOF ends every input anyway */
	request_init();
	sched_init();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 buf[65536];
	size_t		 off = 0;
	ssize_t		 n;
	int		 sv[2], turns, eof = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1)
		abort();
	if (server_conn_new(sv[0]) == NULL)
		abort();

	for (turns = 0; turns < FUZZ_FRAME_TURNS; turns++) {
		/* Feed the input as the socket takes it, then EOF. */
		if (off < size) {
			n = write(sv[1], data + off, size - off);
			if (n > 0)
				off += n;
			else if (n == -1 && errno != EAGAIN)
				off = size;
		}
		if (off == size && !eof) {
			shutdown(sv[1], SHUT_WR);
			eof = 1;
		}
		/* Read the answers so the daemon's output never backs up. */
		while ((n = read(sv[1], buf, sizeof(buf))) > 0)
			;
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (server_nconns() == 0)
			break;
	}
	if (server_nconns() != 0)
		abort();	/* EOF and still not dropped: a leak */
	close(sv[1]);
	sched_stop_queued("end of fuzz input");
	return (0);
}
