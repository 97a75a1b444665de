/*
 * Random protobuf field values for the hand codecs' tests
 * (check_journal_pack, check_wire_in): the same sequence on every run
 * from the test's RND_SEED, so a failure repeats.  Numbers favour the
 * edges of varint lengths and negative values; strings take one- and
 * two-byte length prefixes.  Included by one test file each.
 */

#ifndef FUTURED_TESTRND_H
#define FUTURED_TESTRND_H

#include <stddef.h>
#include <stdint.h>

#ifndef RND_SEED
#define RND_SEED	88172645463325252ULL
#endif

static uint64_t	 rnd_state = RND_SEED;

/* xorshift64 */
static uint64_t
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (rnd_state);
}

static int
coin(void)
{
	return (rnd() & 1);
}

/* Numbers at the edges of varint lengths, and negative ones. */
static uint64_t
rnd_u64(void)
{
	static const uint64_t edges[] = {
		0, 1, 127, 128, 16383, 16384, 0x7fffffffULL, 0xffffffffULL,
		0x100000000ULL, INT64_MAX, (uint64_t)INT64_MIN, UINT64_MAX
	};

	if (coin())
		return (edges[rnd() % (sizeof(edges) / sizeof(edges[0]))]);
	return (rnd() >> (rnd() % 64));
}

static char	 strbuf[64][400];
static size_t	 nstr;

/* A string of 0 to 300 bytes: lengths of one and two varint bytes. */
static char *
rnd_str(void)
{
	char	*s = strbuf[nstr++ % 64];
	size_t	 len = rnd() % 3 == 0 ? 130 + rnd() % 170 : rnd() % 20, i;

	for (i = 0; i < len; i++)
		s[i] = 'a' + rnd() % 26;
	s[len] = '\0';
	return (s);
}

#endif /* FUTURED_TESTRND_H */
