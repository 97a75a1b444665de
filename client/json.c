/*
 * JSON output for futurectl.  Only writing is needed, so this is a
 * writer and nothing else: a depth stack for commas, RFC 8259 string
 * escaping and RFC 4648 base64.
 */

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"

static void
json_key(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->fp);
	j->first[j->depth] = 0;
	if (key != NULL) {
		fputc('"', j->fp);
		fputs(key, j->fp);	/* keys are ours: plain ASCII */
		fputs("\":", j->fp);
	}
}

static void
json_push(struct json *j, int c)
{
	fputc(c, j->fp);
	if (j->depth < JSON_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = 1;
}

void
json_begin(struct json *j, FILE *fp)
{
	j->fp = fp;
	j->depth = 0;
	j->first[0] = 1;
	json_push(j, '{');
}

void
json_end(struct json *j)
{
	fputs("}\n", j->fp);
	j->depth = 0;
	fflush(j->fp);
}

void
json_object(struct json *j, const char *key)
{
	json_key(j, key);
	json_push(j, '{');
}

void
json_object_end(struct json *j)
{
	fputc('}', j->fp);
	if (j->depth > 0)
		j->depth--;
}

void
json_array(struct json *j, const char *key)
{
	json_key(j, key);
	json_push(j, '[');
}

void
json_array_end(struct json *j)
{
	fputc(']', j->fp);
	if (j->depth > 0)
		j->depth--;
}

void
json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->fp);
}

void
json_bool(struct json *j, const char *key, int v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->fp);
}

void
json_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	fprintf(j->fp, "%lld", (long long)v);
}

void
json_uint(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->fp, "%llu", (unsigned long long)v);
}

void
json_double(struct json *j, const char *key, double v)
{
	json_key(j, key);
	if (!isfinite(v))
		fputs("null", j->fp);
	else
		fprintf(j->fp, "%.17g", v);
}

/* Length of the UTF-8 sequence at p (at most n bytes), 0 if invalid. */
size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t		 len, i;
	uint32_t	 cp;

	if (p[0] < 0x80)
		return (1);
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return (0);
	if (len > n)
		return (0);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (len);
}

int
utf8_valid(const void *data, size_t n)
{
	const unsigned char	*p = data;
	size_t			 i = 0, l;

	while (i < n) {
		if ((l = utf8_seq(p + i, n - i)) == 0)
			return (0);
		i += l;
	}
	return (1);
}

/* Escape n bytes as a JSON string; invalid UTF-8 becomes U+FFFD. */
static void
json_escape(FILE *fp, const unsigned char *p, size_t n)
{
	size_t	 i = 0, l;

	fputc('"', fp);
	while (i < n) {
		switch (p[i]) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\b':
			fputs("\\b", fp);
			break;
		case '\f':
			fputs("\\f", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f) {
				fprintf(fp, "\\u%04x", p[i]);
				break;
			}
			if ((l = utf8_seq(p + i, n - i)) == 0) {
				fputs("\\ufffd", fp);
				break;
			}
			/* C1 controls (a terminal's CSI among them) too. */
			if (l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
				fprintf(fp, "\\u%04x", p[i + 1]);
				i += 2;
				continue;
			}
			fwrite(p + i, 1, l, fp);
			i += l;
			continue;
		}
		i++;
	}
	fputc('"', fp);
}

void
json_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	if (s == NULL)
		fputs("null", j->fp);
	else
		json_escape(j->fp, (const unsigned char *)s, strlen(s));
}

static void
json_base64(FILE *fp, const unsigned char *p, size_t n)
{
	static const char	 tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 i;
	uint32_t		 v;

	fputc('"', fp);
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		fputc(tab[v >> 18], fp);
		fputc(tab[(v >> 12) & 63], fp);
		fputc(tab[(v >> 6) & 63], fp);
		fputc(tab[v & 63], fp);
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		fputc(tab[v >> 18], fp);
		fputc(tab[(v >> 12) & 63], fp);
		fputs("==", fp);
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		fputc(tab[v >> 18], fp);
		fputc(tab[(v >> 12) & 63], fp);
		fputc(tab[(v >> 6) & 63], fp);
		fputc('=', fp);
	}
	fputc('"', fp);
}

void
json_bytes(struct json *j, const char *key, const void *data, size_t n)
{
	char	 k[64];

	if (data == NULL && n > 0) {
		json_null(j, key);
		return;
	}
	if (utf8_valid(data, n)) {
		json_key(j, key);
		json_escape(j->fp, data, n);
		return;
	}
	snprintf(k, sizeof(k), "%s_base64", key);
	json_key(j, k);
	json_base64(j->fp, data, n);
}

void
json_base64_string(struct json *j, const char *key, const void *data,
    size_t n)
{
	json_key(j, key);
	json_base64(j->fp, data, n);
}

void
json_text(struct json *j, const char *key, const char *s)
{
	char	 k[64];

	json_string(j, key, s);
	if (s == NULL || utf8_valid(s, strlen(s)))
		return;
	snprintf(k, sizeof(k), "%s_base64", key);
	json_base64_string(j, k, s, strlen(s));
}

void
json_time(struct json *j, const char *key, int64_t ms)
{
	struct tm	 tm;
	time_t		 t;
	char		 s[64];
	int64_t		 msec;

	t = (time_t)(ms / 1000);
	msec = ms % 1000;
	if (msec < 0) {
		msec += 1000;
		t--;
	}
	if (gmtime_r(&t, &tm) == NULL) {
		json_null(j, key);
		return;
	}
	snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)msec);
	json_string(j, key, s);
}
