/*
 * Durations as users type them.  Parsed by hand rather than with strtod
 * so that "1e3", "inf", "nan", " 5" and locale decimal commas are refused
 * and the arithmetic is exact in milliseconds.
 */

#include <stdio.h>
#include <string.h>

#include "duration.h"

#define DURATION_MAX_MS	(INT64_C(1) << 53)	/* ~285 000 years */

int
duration_parse(const char *s, int64_t *ms)
{
	int64_t		 whole = 0, frac = 0, fscale = 1, unit;
	const char	*p = s;
	int		 digits = 0;

	if (s == NULL)
		return (-1);
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		whole = whole * 10 + (*p - '0');
		if (whole > DURATION_MAX_MS)
			return (-1);
	}
	if (*p == '.') {
		p++;
		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			/* Beyond microsecond precision the digits cannot matter. */
			if (fscale < 1000000) {
				frac = frac * 10 + (*p - '0');
				fscale *= 10;
			}
		}
	}
	if (digits == 0)
		return (-1);

	if (*p == '\0' || strcmp(p, "s") == 0)
		unit = 1000;
	else if (strcmp(p, "ms") == 0)
		unit = 1;
	else if (strcmp(p, "m") == 0)
		unit = 60 * 1000;
	else if (strcmp(p, "h") == 0)
		unit = 3600 * 1000;
	else
		return (-1);

	if (whole > DURATION_MAX_MS / unit)
		return (-1);
	*ms = whole * unit + (frac * unit) / fscale;
	return (0);
}

char *
duration_format(int64_t ms, char *buf, size_t len)
{
	if (ms % (3600 * 1000) == 0 && ms != 0)
		snprintf(buf, len, "%lldh", (long long)(ms / 3600000));
	else if (ms % (60 * 1000) == 0 && ms != 0)
		snprintf(buf, len, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%lldms", (long long)ms);
	return (buf);
}
