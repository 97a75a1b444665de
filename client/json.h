/*
 * A tiny JSON writer for futurectl --json: one object per line, strings
 * escaped, bytes as a UTF-8 string or base64.
 */

#ifndef FUTURED_JSON_H
#define FUTURED_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH	8

struct json {
	FILE	*fp;
	int	 depth;
	int	 first[JSON_DEPTH];	/* no member written yet at this level */
};

void	json_begin(struct json *, FILE *);	/* opens the top object */
void	json_end(struct json *);		/* closes it, adds a newline */
void	json_object(struct json *, const char *);	/* key NULL: in array */
void	json_object_end(struct json *);
void	json_array(struct json *, const char *);
void	json_array_end(struct json *);
void	json_null(struct json *, const char *);
void	json_bool(struct json *, const char *, int);
void	json_int(struct json *, const char *, int64_t);
void	json_uint(struct json *, const char *, uint64_t);
void	json_double(struct json *, const char *, double);
/* s NULL writes null. */
void	json_string(struct json *, const char *, const char *);
/* key as a string when the bytes are UTF-8, else key_base64. */
void	json_bytes(struct json *, const char *, const void *, size_t);
/* Bytes as base64, always (key NULL: in an array). */
void	json_base64_string(struct json *, const char *, const void *,
	    size_t);
/*
 * Text that should be UTF-8 (a name, an argument): as json_string, and
 * when it is not UTF-8, also key_base64 with its bytes, so that they
 * can be recovered.
 */
void	json_text(struct json *, const char *, const char *);
/* Milliseconds since the epoch as "2026-11-25T15:02:13.123Z". */
void	json_time(struct json *, const char *, int64_t);

int	utf8_valid(const void *, size_t);
/* Length of the UTF-8 sequence at p (n bytes at most), 0 if invalid. */
size_t	utf8_seq(const unsigned char *, size_t);

#endif
