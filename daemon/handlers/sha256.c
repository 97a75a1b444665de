/*
 * The sha256 handler: the hex SHA-256 of the payload, or of the file
 * named by its one argument, as 64 lowercase hex digits and a newline
 * (sha256sum's digest column).  The digest is OpenSSL's EVP; a file is
 * read in 64 KiB chunks, checking for a cancel between them.
 *
 * A relative file name means the submitter's directory, as it would in
 * the submitter's shell: it is opened relative to the job's cwd (the
 * daemon's, /, when the client sent none).
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "futured/handler.h"

#define SHA256_CHUNK	(64 * 1024)

static int	sha256_run(struct fut_handler_ctx *);
static int	sha256_system_check(struct fut_handler_ctx *);
static int	sha256_check(struct fut_handler_ctx *);

const struct fut_handler handler_sha256 = {
	FUT_HANDLER_ABI,
	"sha256",
	"hex SHA-256 of the payload, or of the file named in ARG",
	FUT_HK_BLOCKING | FUT_HK_CPU,
	FUT_HK_CPU,
	FUT_HF_SYSTEM_SAFE,
	sha256_run,
	NULL,
	NULL,
	sha256_system_check,
	sha256_check
};

/* The payload, or one FILE. */
static int
sha256_check(struct fut_handler_ctx *ctx)
{
	if (fut_handler_nargs(ctx) <= 1)
		return (0);
	fut_handler_fail(ctx, "sha256: at most one argument, a FILE, not "
	    "%zu (\"%s\" is the second)", fut_handler_nargs(ctx),
	    fut_handler_arg(ctx, 1));
	return (-1);
}

/* A FILE argument would be read with root's rights. */
static int
sha256_system_check(struct fut_handler_ctx *ctx)
{
	if (fut_handler_nargs(ctx) == 0)
		return (0);
	fut_handler_fail(ctx, "sha256 of a file would read it as root: "
	    "pass its contents as the payload (-D FILE) instead");
	return (-1);
}

/* Hash the file at path into md; -1 after fut_handler_fail(). */
static int
sha256_file(struct fut_handler_ctx *ctx, EVP_MD_CTX *md, const char *path)
{
	const char	*cwd = fut_handler_cwd(ctx);
	uint8_t		*buf;
	ssize_t		 n;
	int		 dfd = AT_FDCWD, fd, rv = -1;

	if (path[0] != '/' && cwd != NULL &&
	    (dfd = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		fut_handler_fail(ctx, "cannot open %s: %s", cwd,
		    strerror(errno));
		return (-1);
	}
	fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	if (dfd != AT_FDCWD)
		close(dfd);
	if (fd == -1) {
		fut_handler_fail(ctx, "cannot open %s%s%s: %s",
		    dfd != AT_FDCWD ? cwd : "", dfd != AT_FDCWD ? "/" : "",
		    path, strerror(errno));
		return (-1);
	}
	if ((buf = malloc(SHA256_CHUNK)) == NULL) {
		fut_handler_fail(ctx, "out of memory");
		close(fd);
		return (-1);
	}
	for (;;) {
		if (fut_handler_cancelled(ctx)) {
			fut_handler_fail(ctx, "cancelled");
			break;
		}
		n = read(fd, buf, SHA256_CHUNK);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fut_handler_fail(ctx, "cannot read %s: %s", path,
			    strerror(errno));
			break;
		}
		if (n == 0) {
			rv = 0;
			break;
		}
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
			fut_handler_fail(ctx, "EVP_DigestUpdate failed");
			break;
		}
	}
	free(buf);
	close(fd);
	return (rv);
}

static int
sha256_run(struct fut_handler_ctx *ctx)
{
	static const char	 hex[] = "0123456789abcdef";
	EVP_MD_CTX		*md;
	unsigned char		 digest[EVP_MAX_MD_SIZE];
	char			 line[2 * EVP_MAX_MD_SIZE + 1];
	const void		*payload;
	size_t			 len;
	unsigned int		 dlen, i;
	int			 rv = -1;

	if (fut_handler_nargs(ctx) > 1) {
		fut_handler_fail(ctx, "usage: sha256 [FILE]");
		return (-1);
	}
	if ((md = EVP_MD_CTX_new()) == NULL) {
		fut_handler_fail(ctx, "EVP_MD_CTX_new failed");
		return (-1);
	}
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		fut_handler_fail(ctx, "EVP_DigestInit_ex failed");
		goto out;
	}
	if (fut_handler_nargs(ctx) == 1) {
		if (sha256_file(ctx, md, fut_handler_arg(ctx, 0)) == -1)
			goto out;
	} else {
		payload = fut_handler_payload(ctx, &len);
		if (EVP_DigestUpdate(md, payload, len) != 1) {
			fut_handler_fail(ctx, "EVP_DigestUpdate failed");
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(md, digest, &dlen) != 1) {
		fut_handler_fail(ctx, "EVP_DigestFinal_ex failed");
		goto out;
	}
	for (i = 0; i < dlen; i++) {
		line[2 * i] = hex[digest[i] >> 4];
		line[2 * i + 1] = hex[digest[i] & 0xf];
	}
	line[2 * dlen] = '\n';
	if (fut_handler_output(ctx, line, 2 * dlen + 1) == -1) {
		fut_handler_fail(ctx, "out of memory");
		goto out;
	}
	rv = 0;
out:
	EVP_MD_CTX_free(md);
	return (rv);
}
