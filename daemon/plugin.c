/*
 * Handler plugins: shared objects named by --plugin (or the config
 * file's plugin lines) whose handlers join the registry of handler.c.
 * This file owns the list of plugins asked for and of those loaded.
 *
 * A plugin is loaded with dlopen(RTLD_NOW | RTLD_LOCAL): every symbol is
 * resolved at once, so a missing one fails the start instead of a job
 * later, and one plugin's symbols never satisfy another's.  The
 * fut_handler_* calls resolve against the daemon itself, which is linked
 * with -export-dynamic.  A plugin is never unloaded: the registry keeps
 * pointers into it.
 *
 * The daemon and every cpu worker load the same files: the daemon passes
 * the resolved paths of what it loaded to each worker (pool_proc.c), so a
 * plugin's run() is found under the cpu kind too.
 *
 * A daemon running as root runs plugin code as root, so it loads only
 * files that only root could have written: the file and every directory
 * above it must belong to root and must not be writable by group or
 * others (a directory with the sticky bit, such as /tmp, may be, because
 * there only an entry's owner may replace it).
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futured.h"
#include "log.h"
#include "xmalloc.h"

struct plugin {
	char			*path;		/* resolved */
	void			*dl;
	const struct fut_handler *const *handlers;
};

static char		**plugin_wanted;	/* as given */
static size_t		  plugin_nwanted;
static struct plugin	 *plugin_list;		/* loaded */
static size_t		  plugin_n;

/* Ask for one more plugin; plugin_load_all() loads them in this order. */
void
plugin_add(const char *path)
{
	plugin_wanted = xreallocarray(plugin_wanted, plugin_nwanted + 1,
	    sizeof(*plugin_wanted));
	plugin_wanted[plugin_nwanted++] = xstrdup(path);
}

/* Forget the plugins asked for: the command line replaces the file's. */
void
plugin_clear(void)
{
	size_t	 i;

	for (i = 0; i < plugin_nwanted; i++)
		free(plugin_wanted[i]);
	free(plugin_wanted);
	plugin_wanted = NULL;
	plugin_nwanted = 0;
}

/*
 * May root trust path (already resolved, so free of symbolic links)?
 * 0 if path and each directory above it belong to root and no one else
 * may write there; otherwise -1 and *cause (the caller frees) names the
 * first culprit.
 */
int
plugin_path_safe(const char *path, char **cause)
{
	struct stat	 sb;
	char		*p, *slash;
	int		 rv = -1;

	if (*path != '/') {
		xasprintf(cause, "%s: not an absolute path", path);
		return (-1);
	}
	p = xstrdup(path);
	for (;;) {
		if (stat(p, &sb) == -1) {
			xasprintf(cause, "%s: %s", p, strerror(errno));
			goto out;
		}
		if (sb.st_uid != 0) {
			xasprintf(cause, "%s is owned by uid %lu, not root", p,
			    (unsigned long)sb.st_uid);
			goto out;
		}
		if ((sb.st_mode & (S_IWGRP | S_IWOTH)) &&
		    !(S_ISDIR(sb.st_mode) && (sb.st_mode & S_ISVTX))) {
			xasprintf(cause, "%s is writable by group or others",
			    p);
			goto out;
		}
		if (strcmp(p, "/") == 0)
			break;
		slash = strrchr(p, '/');
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	rv = 0;
out:
	free(p);
	return (rv);
}

/* Who registered the handler called name: for the duplicate message. */
static const char *
plugin_owner(const char *name)
{
	const struct fut_handler *const *h;
	size_t				 i;

	for (i = 0; i < plugin_n; i++) {
		for (h = plugin_list[i].handlers; *h != NULL; h++) {
			if ((*h)->name != NULL && strcmp((*h)->name, name) == 0)
				return (plugin_list[i].path);
		}
	}
	return (NULL);
}

/*
 * Load the plugin at path and register its handlers.  -1 and *cause (the
 * caller frees, and it names the plugin) if it cannot be loaded or one
 * of its handlers is refused.
 */
int
plugin_load(const char *path, char **cause)
{
	const struct fut_handler *const *(*entry)(void);
	const struct fut_handler *const	*hs, *const *h;
	struct plugin			*pl;
	char				 real[PATH_MAX], *why;
	const char			*owner, *err;
	void				*dl;
	size_t				 i;

	if (realpath(path, real) == NULL) {
		xasprintf(cause, "plugin %s: %s", path, strerror(errno));
		return (-1);
	}
	for (i = 0; i < plugin_n; i++) {
		if (strcmp(plugin_list[i].path, real) == 0) {
			xasprintf(cause, "plugin %s: given twice", path);
			return (-1);
		}
	}
	if (geteuid() == 0 && plugin_path_safe(real, &why) == -1) {
		xasprintf(cause, "plugin %s: refused because %s", path, why);
		free(why);
		return (-1);
	}

	if ((dl = dlopen(real, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err = dlerror();
		xasprintf(cause, "plugin %s: %s", path,
		    err != NULL ? err : "dlopen failed");
		return (-1);
	}
	(void)dlerror();
	*(void **)&entry = dlsym(dl, FUT_PLUGIN_ENTRY);
	if (entry == NULL) {
		err = dlerror();
		xasprintf(cause, "plugin %s: no entry point %s: %s", path,
		    FUT_PLUGIN_ENTRY, err != NULL ? err : "symbol is NULL");
		dlclose(dl);
		return (-1);
	}
	if ((hs = entry()) == NULL || *hs == NULL) {
		xasprintf(cause, "plugin %s: %s() returned no handlers", path,
		    FUT_PLUGIN_ENTRY);
		dlclose(dl);
		return (-1);
	}

	/*
	 * From here on the plugin stays loaded even if a handler is refused:
	 * some may be registered already, and the caller stops the start.
	 */
	for (h = hs; *h != NULL; h++) {
		if ((*h)->abi == FUT_HANDLER_ABI && (*h)->name != NULL &&
		    handler_find((*h)->name) != NULL) {
			owner = plugin_owner((*h)->name);
			xasprintf(cause, "plugin %s: handler %s is already "
			    "provided by %s", path, (*h)->name,
			    owner != NULL ? owner : "futured itself");
			return (-1);
		}
		if (handler_register(*h, &why) == -1) {
			xasprintf(cause, "plugin %s: %s", path, why);
			free(why);
			return (-1);
		}
	}

	plugin_list = xreallocarray(plugin_list, plugin_n + 1,
	    sizeof(*plugin_list));
	pl = &plugin_list[plugin_n++];
	pl->path = xstrdup(real);
	pl->dl = dl;
	pl->handlers = hs;
	for (h = hs; *h != NULL; h++)
		log_debug("%s: %s: handler %s", __func__, real, (*h)->name);
	return (0);
}

/* Load every plugin asked for with plugin_add(), in order. */
int
plugin_load_all(char **cause)
{
	size_t	 i;

	for (i = 0; i < plugin_nwanted; i++) {
		if (plugin_load(plugin_wanted[i], cause) == -1)
			return (-1);
		log_info("loaded plugin %s", plugin_list[plugin_n - 1].path);
	}
	return (0);
}

/* Plugins loaded. */
size_t
plugin_count(void)
{
	return (plugin_n);
}

/* The resolved path of the i-th plugin loaded, for the workers. */
const char *
plugin_path(size_t i)
{
	if (i >= plugin_n)
		return (NULL);
	return (plugin_list[i].path);
}
