/*
 * futurectl's progress bar: one line on a terminal's stderr, redrawn in
 * place, as cargo draws its own.
 *
 *	running [==========>         ]  52% 1m04s ETA 59s parsing input
 *
 * The rules are cargo's: nothing in the first BAR_DELAY_MS (a short
 * job shows nothing at all), at most one draw per BAR_INTERVAL_MS
 * however fast the news comes, and no bar unless stderr is a terminal
 * whose TERM is set and not "dumb" (bar_wanted(); futurectl adds
 * --json).  Output goes around it: bar_clear() before a line is
 * printed, and the next bar_tick() draws it again; while output has
 * left the cursor mid-line (a prompt, a line not yet ended) it is not
 * drawn, since drawing would wipe that line.
 *
 * Time is the caller's: every call takes the clock (bar_now(), or a
 * test's), so that the rules can be tested without waiting.  The line
 * never reaches the terminal's last column (which would wrap it), and a
 * message is made safe to print (control characters and bytes that are
 * not UTF-8 become '?').
 */

#include "config.h"

#include <sys/ioctl.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bar.h"
#include "json.h"

#define BAR_WIDTH_MAX	30	/* the [===>  ] part, brackets excluded */
#define BAR_WIDTH_MIN	8	/* narrower: no bar, the percentage only */
#define BAR_LINE_MAX	1024

/* Whether to draw on fd at all: a terminal, and one that can. */
int
bar_wanted(int fd, const char *term)
{
	if (term == NULL || *term == '\0' || strcmp(term, "dumb") == 0)
		return (0);
	return (isatty(fd));
}

/* The monotonic clock in ms. */
int64_t
bar_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
bar_init(struct bar *b, int fd, int on, int64_t now)
{
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->on = on;
	b->cols = 80;
	b->born = now;
	b->last = -1;
	b->fraction = -1;
}

static int
bar_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

static void
bar_strset(char **dst, const char *s)
{
	if (bar_streq(*dst, s))
		return;
	free(*dst);
	*dst = s != NULL ? strdup(s) : NULL;
}

/*
 * What the bar shows: label (a state, "3/10 done"), fraction (< 0: not
 * known), msg (NULL: none), and origin, the clock time elapsed counts
 * from.  Only a change makes it drawn again before its next tick.
 */
void
bar_set(struct bar *b, const char *label, double fraction, const char *msg,
    int64_t origin)
{
	if (msg != NULL && *msg == '\0')
		msg = NULL;
	if (fraction > 1)
		fraction = 1;
	if (!b->has_view || !bar_streq(b->label, label) ||
	    !bar_streq(b->msg, msg) || (int)(fraction * 1000) !=
	    (int)(b->fraction * 1000) || (fraction < 0) != (b->fraction < 0))
		b->dirty = 1;
	b->has_view = 1;
	bar_strset(&b->label, label);
	bar_strset(&b->msg, msg);
	b->fraction = fraction;
	b->origin = origin;
}

/*
 * The fraction of n jobs, done of them final, whose fractions sum to sum
 * (a final job's counting 1): their mean, but short of 100% while any
 * job has not ended, however far along the running ones say they are.
 */
double
bar_mean(double sum, size_t done, size_t n)
{
	double	 f;

	if (n == 0 || done >= n)
		return (1);
	f = sum / n;
	return (f > BAR_NOT_DONE ? BAR_NOT_DONE : f);
}

/* 12s, 1m04s, 2h05m. */
void
bar_duration(char *buf, size_t len, int64_t ms)
{
	int64_t	 s = ms < 0 ? 0 : ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%ds", (int)s);
	else if (s < 3600)
		snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)(s % 60));
	else
		snprintf(buf, len, "%dh%02dm", (int)(s / 3600),
		    (int)(s % 3600 / 60));
}

/*
 * The length of a valid UTF-8 sequence at p (n bytes left) that is
 * printable, with its width in *w (2 from U+1100 on: wide enough for
 * the wide scripts; a narrow one only leaves room); 0 if none.
 */
static size_t
bar_char(const unsigned char *p, size_t n, int *w)
{
	size_t	 len;

	*w = 1;
	if (p[0] < 0x20 || p[0] == 0x7f)
		return (0);
	if ((len = utf8_seq(p, n)) == 0)
		return (0);
	/* C1 controls, U+0080 to U+009F: 0xc2 0x80 to 0xc2 0x9f. */
	if (len == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		return (0);
	/* U+1100 on: three bytes from 0xe1 0x84, and all of four bytes. */
	if (len == 4 || (len == 3 && (p[0] > 0xe1 ||
	    (p[0] == 0xe1 && p[1] >= 0x84))))
		*w = 2;
	return (len);
}

/*
 * Append s to buf (at *off, room for len) within width columns, made
 * safe; returns the columns used.
 */
static int
bar_append_safe(char *buf, size_t len, size_t *off, const char *s, int width)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), l;
	int			 used = 0, w;

	while (n > 0) {
		if ((l = bar_char(p, n, &w)) == 0) {
			l = 1;
			w = 1;
			if (used + w > width || *off + 1 >= len)
				break;
			buf[(*off)++] = '?';
		} else {
			if (used + w > width || *off + l >= len)
				break;
			memcpy(buf + *off, p, l);
			*off += l;
		}
		used += w;
		p += l;
		n -= l;
	}
	buf[*off] = '\0';
	return (used);
}

/* Columns s takes once made safe. */
static int
bar_width(const char *s)
{
	char	 tmp[BAR_LINE_MAX];
	size_t	 off = 0;

	return (bar_append_safe(tmp, sizeof(tmp), &off, s, BAR_LINE_MAX));
}

/* Append " s" (ASCII) if it fits; nothing for an empty s. */
static void
bar_put(char *buf, size_t len, size_t *off, int *used, int room,
    const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || *used + 1 + (int)n > room || *off + 1 + n >= len)
		return;
	buf[(*off)++] = ' ';
	memcpy(buf + *off, s, n + 1);
	*off += n;
	*used += 1 + (int)n;
}

/*
 * The line for cols columns (it takes at most cols - 1) into buf;
 * returns its length in bytes.  elapsed_ms < 0: none shown.
 */
size_t
bar_format(char *buf, size_t len, int cols, const char *label,
    double fraction, const char *msg, int64_t elapsed_ms)
{
	char	 el[32], eta[48], pct[8];
	size_t	 off = 0;
	int	 room, used, barw = 0, filled, i, fixed, msgw = 0;

	if (len == 0)
		return (0);
	buf[0] = '\0';
	room = cols - 1;
	if (room <= 0 || label == NULL)
		return (0);
	el[0] = eta[0] = pct[0] = '\0';
	if (elapsed_ms >= 0)
		bar_duration(el, sizeof(el), elapsed_ms);
	if (fraction >= 0) {
		snprintf(pct, sizeof(pct), "%3d%%", (int)(fraction * 100));
		/* Once there is something to go by. */
		if (fraction > 0 && fraction < 1 && elapsed_ms >= 1000) {
			memcpy(eta, "ETA ", 4);
			bar_duration(eta + 4, sizeof(eta) - 4, (int64_t)
			    ((double)elapsed_ms * (1 - fraction) / fraction));
		}
	}
	/* Label, percentage, elapsed and ETA, each after a space. */
	fixed = bar_width(label) + (*pct ? 1 + (int)strlen(pct) : 0) +
	    (*el ? 1 + (int)strlen(el) : 0) + (*eta ? 1 + (int)strlen(eta) : 0);
	if (msg != NULL)
		msgw = bar_width(msg);
	if (fraction >= 0) {
		/* The bar gives way to the message, down to its minimum. */
		barw = room - fixed - 3 - (msgw > 0 ? 1 + msgw : 0);
		if (barw > BAR_WIDTH_MAX)
			barw = BAR_WIDTH_MAX;
		if (barw < BAR_WIDTH_MIN)
			barw = room - fixed - 3 >= BAR_WIDTH_MIN ?
			    BAR_WIDTH_MIN : 0;
	}
	used = bar_append_safe(buf, len, &off, label, room);
	if (barw > 0 && used + 3 + barw <= room && off + 3 + barw < len) {
		buf[off++] = ' ';
		buf[off++] = '[';
		filled = (int)(fraction * barw);
		for (i = 0; i < barw; i++) {
			if (i < filled)
				buf[off++] = '=';
			else if (i == filled)
				buf[off++] = '>';
			else
				buf[off++] = ' ';
		}
		buf[off++] = ']';
		buf[off] = '\0';
		used += 3 + barw;
	}
	bar_put(buf, len, &off, &used, room, pct);
	bar_put(buf, len, &off, &used, room, el);
	bar_put(buf, len, &off, &used, room, eta);
	if (msg != NULL && used + 2 <= room && off + 2 < len) {
		buf[off++] = ' ';
		used++;
		used += bar_append_safe(buf, len, &off, msg, room - used);
	}
	return (off);
}

/* The terminal's width, or the bar's own idea of it. */
static int
bar_columns(const struct bar *b)
{
	struct winsize	 ws;

	if (ioctl(b->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return (ws.ws_col);
	return (b->cols);
}

static void
bar_write(struct bar *b, const char *s, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(b->fd, s, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			b->on = 0;	/* a terminal gone: no more bars */
			return;
		}
		s += n;
		len -= n;
	}
}

/* Draw if the rules allow it now: 1 if drawn. */
int
bar_tick(struct bar *b, int64_t now)
{
	char	 line[BAR_LINE_MAX + 8];
	size_t	 n;

	if (!b->on || b->midline || !b->has_view)
		return (0);
	if (now - b->born < BAR_DELAY_MS)
		return (0);
	if (b->last >= 0 && now - b->last < BAR_INTERVAL_MS)
		return (0);
	if (b->shown && !b->dirty && now - b->last < BAR_TICK_MS)
		return (0);
	line[0] = '\r';
	n = 1 + bar_format(line + 1, BAR_LINE_MAX, bar_columns(b), b->label,
	    b->fraction, b->msg, now - b->origin);
	/* Erase what a longer line before left. */
	memcpy(line + n, "\033[K", 3);
	bar_write(b, line, n + 3);
	b->last = now;
	b->shown = 1;
	b->dirty = 0;
	b->draws++;
	return (1);
}

/*
 * In how many ms bar_tick() may draw (0: now), for a caller's poll
 * timeout; -1 when only news or output could change that.
 */
int64_t
bar_due(const struct bar *b, int64_t now)
{
	int64_t	 t;

	if (!b->on || b->midline || !b->has_view)
		return (-1);
	t = b->born + BAR_DELAY_MS;
	if (b->last >= 0 && b->last + BAR_INTERVAL_MS > t)
		t = b->last + BAR_INTERVAL_MS;
	if (b->shown && !b->dirty && b->last + BAR_TICK_MS > t)
		t = b->last + BAR_TICK_MS;
	return (t > now ? t - now : 0);
}

/* Take the bar off the line, for output; the next tick draws it again. */
void
bar_clear(struct bar *b)
{
	if (!b->shown)
		return;
	b->shown = 0;
	b->dirty = 1;
	bar_write(b, "\r\033[K", 4);
}

/* Output was written to the bar's terminal: is the cursor mid-line? */
void
bar_output(struct bar *b, const void *data, size_t len)
{
	if (len > 0)
		b->midline = ((const char *)data)[len - 1] != '\n';
}

/* For good: off the line, and nothing drawn again. */
void
bar_end(struct bar *b)
{
	bar_clear(b);
	b->on = 0;
	free(b->label);
	free(b->msg);
	b->label = b->msg = NULL;
	b->has_view = 0;
}
