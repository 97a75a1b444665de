/*
 * exec's progress lines: what a command writes on FUTURED_PROGRESS_FD.
 * Private to exec; see exec_progress.c.
 */

#ifndef EXEC_PROGRESS_H
#define EXEC_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

/* The descriptor a command finds its progress pipe on. */
#define EXEC_PROGRESS_FD	3
/* A longer line is cut there: its message loses its end. */
#define EXEC_PROGRESS_LINE_MAX	1024

struct exec_progress {
	char		 line[EXEC_PROGRESS_LINE_MAX];
	size_t		 len;
	int		 overlong;	/* skipping to the end of a cut line */
	uint64_t	 good;		/* lines taken */
	uint64_t	 bad;		/* lines ignored */
	/* What the last good lines said, until exec_progress_take(). */
	int		 fresh;
	double		 fraction;
	int		 has_msg;
	char		 msg[EXEC_PROGRESS_LINE_MAX];
	char		 first_bad[64];	/* for the log */
};

int	exec_progress_parse(char *, double *, const char **);
void	exec_progress_feed(struct exec_progress *, const char *, size_t);
void	exec_progress_eof(struct exec_progress *);
int	exec_progress_take(struct exec_progress *, double *, const char **);

#endif /* EXEC_PROGRESS_H */
