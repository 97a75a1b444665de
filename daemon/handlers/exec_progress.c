/*
 * exec's progress lines.  A command finds a pipe on the descriptor
 * named by FUTURED_PROGRESS_FD and writes lines to it:
 *
 *	FRACTION [MESSAGE]	0.42 parsing	(0 to 1)
 *	DONE/TOTAL [MESSAGE]	42/100 parsing	(0 <= DONE <= TOTAL, TOTAL > 0)
 *
 * Numbers are plain decimals (digits, at most one point: no sign,
 * exponent, "nan" or "inf"), so that what a shell's printf or echo
 * writes parses the same everywhere.  The message is the rest of the
 * line after blanks, without trailing blanks or a CR; a line without one
 * leaves the job's message as it was.  Any other line is ignored and
 * counted, never an error of the job: a command may be older or newer
 * than its daemon.  A line longer than EXEC_PROGRESS_LINE_MAX is cut
 * there (at a UTF-8 boundary) and the rest of it skipped: a command
 * cannot make the daemon buffer without end.
 *
 * The lines of one read are folded into one progress report, the last
 * (with the last message seen), so that a command writing progress in a
 * tight loop costs the daemon a report per read, not per line.
 */

#include <stdlib.h>
#include <string.h>

#include "futured/handler.h"

#include "exec_progress.h"

/* A plain decimal: [0-9]+(.[0-9]*)? or .[0-9]+; -1 if not one. */
static int
exec_progress_number(const char *s, double *v)
{
	const char	*p = s;
	int		 digits = 0;

	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits++;
		}
	}
	if (*p != '\0' || digits == 0)
		return (-1);
	*v = strtod(s, NULL);
	return (0);
}

static int
exec_progress_blank(char c)
{
	return (c == ' ' || c == '\t');
}

/*
 * Parse one line (without its newline; changed in place): 0 with the
 * fraction and the message (NULL if none, else within line), or -1 if
 * the line is not a progress line.
 */
int
exec_progress_parse(char *line, double *fraction, const char **msg)
{
	char	*p = line, *num, *slash;
	double	 done, total;
	size_t	 len = strlen(line);

	while (len > 0 && (exec_progress_blank(line[len - 1]) ||
	    line[len - 1] == '\r'))
		line[--len] = '\0';
	while (exec_progress_blank(*p))
		p++;
	num = p;
	while (*p != '\0' && !exec_progress_blank(*p))
		p++;
	if (*p != '\0') {
		*p++ = '\0';
		while (exec_progress_blank(*p))
			p++;
	}
	*msg = *p != '\0' ? p : NULL;
	if ((slash = strchr(num, '/')) != NULL) {
		*slash = '\0';
		if (exec_progress_number(num, &done) == -1 ||
		    exec_progress_number(slash + 1, &total) == -1 ||
		    !(total > 0) || done > total)
			return (-1);
		*fraction = done / total;
		return (0);
	}
	if (exec_progress_number(num, fraction) == -1 || *fraction > 1)
		return (-1);
	return (0);
}

/* Cut a trailing incomplete UTF-8 sequence off s[0..len). */
static size_t
exec_progress_utf8_cut(const unsigned char *s, size_t len)
{
	size_t	 i, want;

	if (len == 0)
		return (0);
	i = len - 1;
	while (i > 0 && (s[i] & 0xc0) == 0x80 && len - i < 4)
		i--;
	if (s[i] < 0x80)
		return (len);
	if ((s[i] & 0xe0) == 0xc0)
		want = 2;
	else if ((s[i] & 0xf0) == 0xe0)
		want = 3;
	else if ((s[i] & 0xf8) == 0xf0)
		want = 4;
	else
		return (len);	/* not UTF-8 anyway: as it is */
	return (len - i < want ? i : len);
}

/* The line gathered so far is whole. */
static void
exec_progress_line(struct exec_progress *pr)
{
	const char	*msg;
	double		 f;
	size_t		 i;

	if (pr->overlong)
		pr->len = exec_progress_utf8_cut((unsigned char *)pr->line,
		    pr->len);
	pr->line[pr->len] = '\0';
	pr->len = 0;
	pr->overlong = 0;
	if (pr->line[strspn(pr->line, " \t\r")] == '\0')
		return;		/* blank: nothing said */
	if (strlen(pr->line) < sizeof(pr->first_bad) && pr->bad == 0)
		memcpy(pr->first_bad, pr->line, strlen(pr->line) + 1);
	else if (pr->bad == 0)
		memcpy(pr->first_bad, pr->line, sizeof(pr->first_bad) - 1);
	if (exec_progress_parse(pr->line, &f, &msg) == -1) {
		if (pr->bad++ == 0) {
			/* For the log: printable ASCII only. */
			for (i = 0; pr->first_bad[i] != '\0'; i++)
				if (pr->first_bad[i] < ' ' ||
				    pr->first_bad[i] > '~')
					pr->first_bad[i] = '?';
		}
		return;
	}
	pr->good++;
	pr->fresh = 1;
	pr->fraction = f;
	if (msg != NULL) {
		pr->has_msg = 1;
		memcpy(pr->msg, msg, strlen(msg) + 1);
	}
}

/* Bytes read from the pipe. */
void
exec_progress_feed(struct exec_progress *pr, const char *data, size_t len)
{
	const char	*nl;
	size_t		 n, room;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) : len;
		if (!pr->overlong) {
			room = sizeof(pr->line) - 1 - pr->len;
			if (n > room) {
				memcpy(pr->line + pr->len, data, room);
				pr->len += room;
				pr->overlong = 1;
			} else {
				memcpy(pr->line + pr->len, data, n);
				pr->len += n;
			}
		}
		if (nl == NULL)
			return;
		exec_progress_line(pr);
		data = nl + 1;
		len -= n + 1;
	}
}

/* The pipe is closed: a last line without its newline counts. */
void
exec_progress_eof(struct exec_progress *pr)
{
	if (pr->len > 0 || pr->overlong)
		exec_progress_line(pr);
}

/*
 * What the lines since the last call said: 1 with the fraction and the
 * message (NULL: unchanged), 0 if nothing.  The message lives until the
 * next feed.
 */
int
exec_progress_take(struct exec_progress *pr, double *fraction,
    const char **msg)
{
	if (!pr->fresh)
		return (0);
	*fraction = pr->fraction;
	*msg = pr->has_msg ? pr->msg : NULL;
	pr->fresh = 0;
	pr->has_msg = 0;
	return (1);
}
