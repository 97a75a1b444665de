#ifndef FUTURED_PUTFILE_H
#define FUTURED_PUTFILE_H

#include <stddef.h>

int	putfile(const char *, const char *, const void *, size_t,
	    const char **);

#endif
