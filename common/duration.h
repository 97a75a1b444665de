#ifndef FUTURED_DURATION_H
#define FUTURED_DURATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * "250ms", "10s", "1.5m", "2h"; a bare number is seconds.  Returns 0 and
 * the value in milliseconds, or -1 for anything else (negative, empty,
 * trailing junk, overflow).
 */
int	 duration_parse(const char *, int64_t *);
/* What an error about a bad duration says it wants. */
#define DURATION_FORMS	"250ms, 10s, 1.5m, 2h or a bare number of seconds"
/* An exact form of ms in whole units ("250ms", "90s", "2h"); returns buf. */
char	*duration_format(int64_t, char *, size_t);

#endif
