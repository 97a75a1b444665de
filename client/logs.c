/*
 * Whole logs (fut_logs_read, fut_logs): a job's log read through the
 * daemon one LogsRequest at a time, each answer at most a piece of it,
 * so that neither side holds more than a piece however long the log.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client.h"

#define LOGS_PIECE	(1024 * 1024)	/* the most in one answer */

int
fut_logs_read(struct fut_client *c, uint64_t id, unsigned int flags,
    uint64_t offset, void *buf, size_t len, size_t *got)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__LogsRequest	 lr = FUTURED__LOGS_REQUEST__INIT;
	Futured__Response	*r;
	const Futured__LogsReply *lg;
	int			 rc;

	if (got != NULL)
		*got = 0;
	if (c == NULL || got == NULL || buf == NULL || len == 0 ||
	    (flags & ~(FUT_LOGS_STDERR | FUT_LOGS_FOLLOW)) != 0)
		return (FUT_EINVAL);
	lr.id = id;
	if (flags & FUT_LOGS_STDERR) {
		lr.has_stderr = 1;
		lr.stderr = 1;
	}
	if (flags & FUT_LOGS_FOLLOW) {
		lr.has_follow = 1;
		lr.follow = 1;
	}
	lr.has_offset = 1;
	lr.offset = offset;
	lr.has_max_bytes = 1;
	lr.max_bytes = len > LOGS_PIECE ? LOGS_PIECE : (uint32_t)len;
	req.body_case = FUTURED__REQUEST__BODY_LOGS;
	req.logs = &lr;
	if ((rc = client_request(c, &req, FUTURED__RESPONSE__BODY_LOGS,
	    &r)) != 0)
		return (rc);
	lg = r->logs;
	rc = 0;
	if (lg->data.len > lr.max_bytes) {
		pthread_mutex_lock(&c->lock);
		rc = client_seterr_locked(c, FUT_EPROTO, "logs: %zu bytes "
		    "answered, %u asked", lg->data.len, lr.max_bytes);
		pthread_mutex_unlock(&c->lock);
		futured__response__free_unpacked(r, NULL);
		return (rc);
	}
	if (lg->data.len > 0)
		memcpy(buf, lg->data.data, lg->data.len);
	*got = lg->data.len;
	if (lg->eof)
		rc |= FUT_LOGS_EOF;
	if (lg->has_truncated && lg->truncated)
		rc |= FUT_LOGS_TRUNCATED;
	futured__response__free_unpacked(r, NULL);
	return (rc);
}

int
fut_logs(struct fut_client *c, uint64_t id, unsigned int flags,
    int (*cb)(const void *, size_t, void *), void *arg)
{
	uint64_t	 off = 0;
	size_t		 got;
	void		*buf;
	int		 rc, seen = 0;

	if (c == NULL || cb == NULL)
		return (FUT_EINVAL);
	if ((buf = malloc(LOGS_PIECE)) == NULL)
		return (FUT_ENOMEM);
	for (;;) {
		rc = fut_logs_read(c, id, flags, off, buf, LOGS_PIECE, &got);
		if (rc < 0)
			break;
		seen |= rc & FUT_LOGS_TRUNCATED;
		off += got;
		if (got > 0 && cb(buf, got, arg) != 0) {
			rc = seen | FUT_LOGS_STOPPED;
			break;
		}
		if (rc & FUT_LOGS_EOF) {
			rc |= seen;
			break;
		}
		/* Without follow, an empty piece is the end of it so far. */
		if (got == 0 && !(flags & FUT_LOGS_FOLLOW)) {
			rc |= seen;
			break;
		}
	}
	free(buf);
	return (rc);
}
