/*
 * libfutured: job specs.  A spec is the JobSpec message itself, built
 * field by field; every string and buffer in it is the spec's own copy.
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

/*
 * Inside a job (an exec command has FUTURED_JOB_ID), a new spec makes a
 * child of that job, as futurectl does; fut_spec_parent() overrides it.
 */
static void
spec_parent_from_env(struct fut_spec *s)
{
	const char		*e;
	char			*end;
	unsigned long long	 id;

	if ((e = getenv("FUTURED_JOB_ID")) == NULL || *e == '\0')
		return;
	errno = 0;
	id = strtoull(e, &end, 10);
	if (*end != '\0' || errno != 0 || id == 0)
		return;
	s->js.parent = id;
	s->js.has_parent = 1;
}

struct fut_spec *
fut_spec_new(const char *handler)
{
	struct fut_spec	*s;

	if (handler == NULL || *handler == '\0')
		return (NULL);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	futured__job_spec__init(&s->js);
	if ((s->js.handler = strdup(handler)) == NULL) {
		free(s);
		return (NULL);
	}
	spec_parent_from_env(s);
	return (s);
}

static void
kv_free(Futured__KeyValue **kv, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(kv[i]->key);
		free(kv[i]->value);
		free(kv[i]);
	}
	free(kv);
}

void
fut_spec_free(struct fut_spec *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	free(s->js.handler);
	free(s->js.payload.data);
	for (i = 0; i < s->js.n_args; i++)
		free(s->js.args[i]);
	free(s->js.args);
	kv_free(s->js.env, s->js.n_env);
	kv_free(s->js.ctx, s->js.n_ctx);
	free(s->js.cwd);
	free(s->js.engine);
	free(s->js.group);
	free(s->js.after);
	free(s->js.name);
	free(s);
}

int
fut_spec_kind(struct fut_spec *s, enum fut_kind k)
{
	if (s == NULL)
		return (FUT_EINVAL);
	switch (k) {
	case FUT_ASYNC:
		s->js.kind = FUTURED__KIND__KIND_ASYNC;
		break;
	case FUT_BLOCKING:
		s->js.kind = FUTURED__KIND__KIND_BLOCKING;
		break;
	case FUT_CPU:
		s->js.kind = FUTURED__KIND__KIND_CPU;
		break;
	default:
		return (FUT_EINVAL);
	}
	s->js.has_kind = 1;
	return (0);
}

int
fut_spec_payload(struct fut_spec *s, const void *data, size_t len)
{
	uint8_t	*p = NULL;

	if (s == NULL || (data == NULL && len > 0))
		return (FUT_EINVAL);
	/* The daemon's own limit is checked at submit (client_queue). */
	if (len > FUTURED_FRAME_CEILING)
		return (FUT_ETOOBIG);
	if (len > 0) {
		if ((p = malloc(len)) == NULL)
			return (FUT_ENOMEM);
		memcpy(p, data, len);
	}
	free(s->js.payload.data);
	s->js.payload.data = p;
	s->js.payload.len = len;
	s->js.has_payload = 1;
	return (0);
}

int
fut_spec_arg(struct fut_spec *s, const char *arg)
{
	char	**v, *a;

	if (s == NULL || arg == NULL)
		return (FUT_EINVAL);
	if ((a = strdup(arg)) == NULL)
		return (FUT_ENOMEM);
	v = reallocarray(s->js.args, s->js.n_args + 1, sizeof(*v));
	if (v == NULL) {
		free(a);
		return (FUT_ENOMEM);
	}
	v[s->js.n_args++] = a;
	s->js.args = v;
	return (0);
}

int
fut_spec_timeout_ms(struct fut_spec *s, int64_t ms)
{
	if (s == NULL || ms < 0)
		return (FUT_EINVAL);
	s->js.timeout_ms = ms;
	s->js.has_timeout_ms = 1;
	return (0);
}

int
fut_spec_deadline_ms(struct fut_spec *s, int64_t ms)
{
	if (s == NULL || ms < 0)
		return (FUT_EINVAL);
	s->js.deadline_ms = ms;
	s->js.has_deadline_ms = 1;
	return (0);
}

int
fut_spec_priority(struct fut_spec *s, int prio)
{
	if (s == NULL || prio < -20 || prio > 20)
		return (FUT_EINVAL);
	s->js.priority = prio;
	s->js.has_priority = 1;
	return (0);
}

int
fut_spec_retries(struct fut_spec *s, unsigned int n)
{
	if (s == NULL)
		return (FUT_EINVAL);
	s->js.retries = n;
	s->js.has_retries = 1;
	return (0);
}

int
fut_spec_retry_delay_ms(struct fut_spec *s, int64_t ms)
{
	if (s == NULL || ms < 0)
		return (FUT_EINVAL);
	s->js.retry_delay_ms = ms;
	s->js.has_retry_delay_ms = 1;
	return (0);
}

int
fut_spec_retry_timeouts(struct fut_spec *s, int on)
{
	if (s == NULL)
		return (FUT_EINVAL);
	s->js.retry_timeouts = on != 0;
	s->js.has_retry_timeouts = 1;
	return (0);
}

static int
spec_setstr(char **dst, const char *v)
{
	char	*p;

	if (v == NULL)
		return (FUT_EINVAL);
	if ((p = strdup(v)) == NULL)
		return (FUT_ENOMEM);
	free(*dst);
	*dst = p;
	return (0);
}

int
fut_spec_name(struct fut_spec *s, const char *name)
{
	return (s == NULL ? FUT_EINVAL : spec_setstr(&s->js.name, name));
}

int
fut_spec_group(struct fut_spec *s, const char *name)
{
	return (s == NULL ? FUT_EINVAL : spec_setstr(&s->js.group, name));
}

int
fut_spec_cwd(struct fut_spec *s, const char *dir)
{
	return (s == NULL ? FUT_EINVAL : spec_setstr(&s->js.cwd, dir));
}

/* The daemon says whether it knows the engine (ERR_INVALID if not). */
int
fut_spec_engine(struct fut_spec *s, const char *engine)
{
	return (s == NULL ? FUT_EINVAL : spec_setstr(&s->js.engine, engine));
}

/* Set key in a KeyValue list, replacing an earlier value of the key. */
static int
spec_setkv(Futured__KeyValue ***list, size_t *n, const char *key,
    const char *value)
{
	Futured__KeyValue	**v, *kv;
	size_t			  i;

	if (key == NULL || value == NULL || *key == '\0')
		return (FUT_EINVAL);
	for (i = 0; i < *n; i++) {
		if (strcmp((*list)[i]->key, key) == 0)
			return (spec_setstr(&(*list)[i]->value, value));
	}
	if ((kv = calloc(1, sizeof(*kv))) == NULL)
		return (FUT_ENOMEM);
	futured__key_value__init(kv);
	kv->key = strdup(key);
	kv->value = strdup(value);
	v = reallocarray(*list, *n + 1, sizeof(*v));
	if (kv->key == NULL || kv->value == NULL || v == NULL) {
		free(kv->key);
		free(kv->value);
		free(kv);
		if (v != NULL)
			*list = v;
		return (FUT_ENOMEM);
	}
	v[(*n)++] = kv;
	*list = v;
	return (0);
}

int
fut_spec_ctx(struct fut_spec *s, const char *key, const char *value)
{
	const char	*p;

	if (s == NULL || key == NULL)
		return (FUT_EINVAL);
	/* Context keys become FUTURED_CTX_<KEY> variables. */
	for (p = key; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_'))
			return (FUT_EINVAL);
	}
	return (spec_setkv(&s->js.ctx, &s->js.n_ctx, key, value));
}

int
fut_spec_env(struct fut_spec *s, const char *key, const char *value)
{
	if (s == NULL || key == NULL || strchr(key, '=') != NULL)
		return (FUT_EINVAL);
	return (spec_setkv(&s->js.env, &s->js.n_env, key, value));
}

int
fut_spec_after(struct fut_spec *s, uint64_t id)
{
	uint64_t	*v;

	if (s == NULL || id == 0)
		return (FUT_EINVAL);
	v = reallocarray(s->js.after, s->js.n_after + 1, sizeof(*v));
	if (v == NULL)
		return (FUT_ENOMEM);
	v[s->js.n_after++] = id;
	s->js.after = v;
	return (0);
}

int
fut_spec_input_from(struct fut_spec *s, uint64_t id)
{
	if (s == NULL || id == 0)
		return (FUT_EINVAL);
	s->js.input_from = id;
	s->js.has_input_from = 1;
	return (0);
}

int
fut_spec_parent(struct fut_spec *s, uint64_t id)
{
	if (s == NULL)
		return (FUT_EINVAL);
	s->js.parent = id;
	s->js.has_parent = id != 0;
	return (0);
}
