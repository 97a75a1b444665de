/*
 * The file through which a fuzz target hands its input to the code under
 * test (a config file, a journal).
 */

#ifndef FUZZFILE_H
#define FUZZFILE_H

#include <stddef.h>
#include <stdint.h>

const char	*fuzzfile_init(const char *, const char *, int);
void		 fuzzfile_write(const uint8_t *, size_t);

#endif
