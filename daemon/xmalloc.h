/*
 * Allocators that never return NULL (the daemon only: running out of
 * memory there is a broken invariant, not something a request can cause,
 * because every request size is bounded before allocation).
 */

#ifndef FUTURED_XMALLOC_H
#define FUTURED_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
void	*xmemdup(const void *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
int	 xvasprintf(char **, const char *, va_list);

#endif
