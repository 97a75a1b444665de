/*
 * libFuzzer target for the journal replay: the input is written as the
 * journal file and journal_open() replays it into a fresh job table, as
 * the daemon does at start.  A journal cut short by a crash, filled with
 * garbage or flipped bits must never crash the daemon or reach fatal();
 * the worst it may do is refuse to start with a cause.
 *
 * What the replay promises, checked on every input:
 * - a refusal always comes with a cause;
 * - with --journal-repair, only a file that is not a journal of this
 *   version (its header) is refused;
 * - no job has id 0, and the next id is above every job's;
 * - the file the replay leaves behind (torn tail cut, decisions of the
 *   restore appended) replays again without repair, to the same jobs in
 *   the same states.
 *
 * A mutation inside a record almost always breaks its CRC, which would
 * keep the fuzzer at the scanner; so each input is replayed twice: as it
 * is, then with the CRC of every whole record made good (by journal.c's
 * own encoder), which lets mutations reach the record decoders and the
 * restore.
 *
 * The event loop never runs, so no job ever starts.  Everything is torn
 * down after each input, so leaks show and inputs are independent.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured.h"
#include "fuzzfile.h"
#include "log.h"
#include "xmalloc.h"

#define FUZZ_JOURNAL_MAXJOBS	4096

/* main.c's globals: the daemon's main() is not linked in. */
struct settings		 settings;
struct event_base	*base;

static const char	*path;

struct fuzz_jobs {
	uint64_t	 next_id;
	uint64_t	 id[FUZZ_JOURNAL_MAXJOBS];
	int		 state[FUZZ_JOURNAL_MAXJOBS];
	size_t		 n;
	int		 overflow;
};

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(LOG_LEVEL_ERROR, 0);
	/* tmpfs if there is one: every input is written and fsynced. */
	path = fuzzfile_init("fuzz_journal", "journal", 1);
	handler_init();
	return (0);
}

static void
fuzz_journal_setup(int repair)
{
	settings_defaults(&settings);
	settings.journal_path = path;
	settings.journal_repair = repair;
	if ((base = event_base_new()) == NULL)
		abort();
	sched_init();
}

static void
fuzz_journal_teardown(void)
{
	journal_close();
	sched_cancel_all(0, "end of fuzz input");
	sched_free();
	group_free_all();
	journal_free();
	event_base_free(base);
	base = NULL;
}

static void
fuzz_journal_collect_cb(struct job *j, void *arg)
{
	struct fuzz_jobs	*fj = arg;

	if (fj->n == FUZZ_JOURNAL_MAXJOBS) {
		fj->overflow = 1;
		return;
	}
	fj->id[fj->n] = j->id;
	fj->state[fj->n] = j->state;
	fj->n++;
}

static int
fuzz_journal_id_cmp(const void *a, const void *b)
{
	uint64_t	 ia = *(const uint64_t *)a, ib = *(const uint64_t *)b;

	return (ia < ib ? -1 : ia > ib);
}

/* The jobs of the table, in id order (sched_foreach has none). */
static void
fuzz_journal_collect(struct fuzz_jobs *fj)
{
	uint64_t	 pairs[FUZZ_JOURNAL_MAXJOBS][2];
	size_t		 i;

	memset(fj, 0, sizeof(*fj));
	sched_foreach(fuzz_journal_collect_cb, fj);
	/* Ids are never given twice: the next one is above every job's. */
	fj->next_id = sched_total() + 1;
	if (fj->next_id == 0 || fj->next_id > JOURNAL_ID_MAX)
		abort();
	for (i = 0; i < fj->n; i++) {
		pairs[i][0] = fj->id[i];
		pairs[i][1] = (uint64_t)fj->state[i];
	}
	qsort(pairs, fj->n, sizeof(pairs[0]), fuzz_journal_id_cmp);
	for (i = 0; i < fj->n; i++) {
		fj->id[i] = pairs[i][0];
		fj->state[i] = (int)pairs[i][1];
		if (fj->id[i] == 0 || fj->id[i] >= fj->next_id)
			abort();
	}
}

/*
 * The input with each whole record re-encoded, so its CRC is good.  The
 * caller frees *out.  0 if that changed nothing.
 */
static int
fuzz_journal_fix(const uint8_t *data, size_t size, uint8_t **out,
    size_t *outlen)
{
	size_t		 off = JOURNAL_HDR_LEN, len, cap, plen;

	*out = NULL;
	if (size <= JOURNAL_HDR_LEN)
		return (0);
	cap = size;
	*out = xmalloc(cap);
	memcpy(*out, data, JOURNAL_HDR_LEN);
	len = JOURNAL_HDR_LEN;
	while (size - off >= JOURNAL_RECORD_HDR) {
		plen = (size_t)data[off] << 24 | (size_t)data[off + 1] << 16 |
		    (size_t)data[off + 2] << 8 | data[off + 3];
		if (plen > size - off - JOURNAL_RECORD_HDR)
			break;
		journal_record_encode(out, &len, &cap, data[off + 8],
		    data + off + JOURNAL_RECORD_HDR, plen);
		off += JOURNAL_RECORD_HDR + plen;
	}
	if (off < size) {
		if (cap - len < size - off)
			*out = xreallocarray(*out, len + size - off, 1);
		memcpy(*out + len, data + off, size - off);
		len += size - off;
	}
	*outlen = len;
	return (len != size || memcmp(*out, data, size) != 0);
}

static void
fuzz_journal_one(const uint8_t *data, size_t size)
{
	static struct fuzz_jobs	 first, second;
	uint8_t			 hdr[JOURNAL_HDR_LEN];
	char			*cause = NULL;
	size_t			 i;
	int			 good_hdr;

	journal_header_encode(hdr);
	good_hdr = size >= JOURNAL_HDR_LEN ?
	    memcmp(data, hdr, JOURNAL_HDR_LEN) == 0 :
	    memcmp(data, hdr, size) == 0;

	fuzzfile_write(data, size);
	fuzz_journal_setup(0);
	if (journal_open(&cause) == -1) {
		if (cause == NULL)
			abort();
		free(cause);
		cause = NULL;
		fuzz_journal_teardown();
		if (!good_hdr)
			return;
		/* Corrupt inside: what --journal-repair is for. */
		fuzz_journal_setup(1);
		if (journal_open(&cause) == -1) {
			fprintf(stderr, "repair refused: %s\n", cause);
			abort();
		}
	} else if (!good_hdr)
		abort();	/* replayed a file that is no journal */
	fuzz_journal_collect(&first);
	fuzz_journal_teardown();

	/* A restart now must find the journal sound and agree. */
	fuzz_journal_setup(0);
	if (journal_open(&cause) == -1) {
		fprintf(stderr, "second replay refused: %s\n", cause);
		abort();
	}
	fuzz_journal_collect(&second);
	fuzz_journal_teardown();
	if (first.overflow || second.overflow)
		return;
	if (first.n != second.n) {
		fprintf(stderr, "%zu jobs, then %zu\n", first.n, second.n);
		abort();
	}
	for (i = 0; i < first.n; i++) {
		if (first.id[i] != second.id[i] ||
		    first.state[i] != second.state[i]) {
			fprintf(stderr, "job %llu %s, then job %llu %s\n",
			    (unsigned long long)first.id[i],
			    job_state_name(first.state[i]),
			    (unsigned long long)second.id[i],
			    job_state_name(second.state[i]));
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	*fixed;
	size_t	 fixedlen;

	fuzz_journal_one(data, size);
	if (fuzz_journal_fix(data, size, &fixed, &fixedlen))
		fuzz_journal_one(fixed, fixedlen);
	free(fixed);
	return (0);
}
