/*
 * futurectl's progress bar on a terminal; see bar.c.
 */

#ifndef BAR_H
#define BAR_H

#include <stddef.h>
#include <stdint.h>

#define BAR_DELAY_MS	500	/* nothing drawn before */
#define BAR_INTERVAL_MS	100	/* at most 10 draws a second */
#define BAR_TICK_MS	1000	/* the clock redrawn without news */
#define BAR_NOT_DONE	0.995	/* the most while a job runs: 99% */

struct bar {
	int		 fd;
	int		 on;		/* drawing at all */
	int		 cols;		/* when the terminal does not say */
	int64_t		 born;		/* clock ms: the delay counts from here */
	int64_t		 last;		/* last draw; -1: none yet */
	int		 shown;		/* a bar is on the line */
	int		 dirty;		/* news since the last draw */
	int		 midline;	/* output left the cursor mid-line */
	unsigned int	 draws;
	/* What it shows; has_view once bar_set() was called. */
	int		 has_view;
	char		*label;
	double		 fraction;	/* < 0: not known */
	char		*msg;
	int64_t		 origin;	/* clock ms that elapsed counts from */
};

int	 bar_wanted(int, const char *);
int64_t	 bar_now(void);
void	 bar_init(struct bar *, int, int, int64_t);
void	 bar_set(struct bar *, const char *, double, const char *, int64_t);
double	 bar_mean(double, size_t, size_t);
int	 bar_tick(struct bar *, int64_t);
int64_t	 bar_due(const struct bar *, int64_t);
void	 bar_clear(struct bar *);
void	 bar_output(struct bar *, const void *, size_t);
void	 bar_end(struct bar *);
size_t	 bar_format(char *, size_t, int, const char *, double, const char *,
	    int64_t);
void	 bar_duration(char *, size_t, int64_t);

#endif /* BAR_H */
