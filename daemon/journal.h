/*
 * What journal.c (the writer), journal_codec.c and journal_replay.c share.
 * Private to those three; the rest of the daemon knows futured.h's
 * journal_* calls.
 */

#ifndef FUTURED_JOURNAL_H
#define FUTURED_JOURNAL_H

#include <protobuf-c/protobuf-c.h>

#define JOURNAL_MAGIC		"FUTJRNL"	/* and a NUL: 8 bytes */
#define JOURNAL_VERSION		1

struct journal_out {
	uint8_t		*data;
	size_t		 len;
	size_t		 cap;
};

struct journal_rep {
	struct job	*job;
	int		 running;	/* a START not followed by an end */
	int		 final;
	int		 input_resolved;
	pid_t		 pid;		/* its command, to end; 0: none */
	uint64_t	 proc_start;
};

struct journal_replay {
	struct journal_rep *reps;	/* in id order */
	size_t		  n, cap;
	uint64_t	  next_id;
	uint64_t	  records;
	const char	 *path;		/* for messages */
};

/* journal_codec.c */
void		 journal_out_reserve(struct journal_out *, size_t);
uint32_t	 journal_get32(const uint8_t *);
void		 journal_put32(uint8_t *, uint32_t);
void		 journal_out_record(struct journal_out *, int,
		    const ProtobufCMessage *);
int		 journal_record_ok(const uint8_t *, size_t, size_t, size_t *);

/* journal_pack.c */
size_t		 journal_pack_size(const ProtobufCMessage *);
size_t		 journal_pack(const ProtobufCMessage *, uint8_t *);

/* journal_replay.c */
int		 journal_replay_cb(int, const uint8_t *, size_t, void *);
void		 journal_restore(struct journal_replay *);
uint64_t	 journal_ids_after(const uint8_t *, size_t, size_t);

#endif /* FUTURED_JOURNAL_H */
