/*
 * The --exec-as trampoline of a --system daemon: the daemon never forks,
 * so to start a command as the user who submitted it, exec.c spawns
 *
 *	futured --exec-as UID CWD PROG NENV ENV... ARGV...
 *
 * (CWD empty: none) with an empty environment, and this drops root for
 * good and executes PROG.  The job's environment travels in argv, never
 * in our own environment: this process is root until setuid(), and a
 * user's LD_PRELOAD must not reach it.
 *
 * Order matters: initgroups (needs root), setgid (needs root), setuid
 * last; each is checked, and so is that root cannot be regained.  The
 * working directory is entered only after that, with the user's rights.
 * Errors go to stderr, which is the job's stderr tail, and exit 126
 * (127 when PROG does not exist), as a shell does.
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futured.h"

#define EXECAS_FAIL	126
#define EXECAS_NOTFOUND	127
/* stdin, stdout, stderr and 3, the progress pipe (exec_progress.h). */
#define EXECAS_KEEP_FDS	4

static void __attribute__((__noreturn__, __format__(__printf__, 2, 3)))
execas_fail(int status, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "futured: exec-as: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	_exit(status);
}

/*
 *	futured --exec-in DIR PROG ARGV...
 *	futured --exec-in DIR --exec-as UID CWD PROG NENV ENV... ARGV...
 *
 * Join the cgroup DIR (0 in its cgroup.procs: this process), before
 * anything of the command runs, so that nothing it forks stays outside,
 * then execute PROG with our environment, or go on as --exec-as (still
 * root: the move needs the rights the daemon has).  argv[0] is
 * "--exec-in".
 */
int
execas_in_main(int argc, char **argv)
{
	char	 path[PATH_MAX];
	int	 fd;

	if (argc < 4)
		execas_fail(EXECAS_FAIL, "usage: futured --exec-in DIR PROG "
		    "ARGV...");
	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs",
	    argv[1]) >= sizeof(path))
		execas_fail(EXECAS_FAIL, "cgroup path too long");
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1 ||
	    write(fd, "0", 1) != 1)
		execas_fail(EXECAS_FAIL, "cannot join cgroup %s: %s", argv[1],
		    strerror(errno));
	close(fd);
	if (strcmp(argv[2], "--exec-as") == 0)
		return (execas_main(argc - 2, argv + 2));
	closefrom(EXECAS_KEEP_FDS);
	execv(argv[2], argv + 3);
	execas_fail(errno == ENOENT ? EXECAS_NOTFOUND : EXECAS_FAIL,
	    "%s: %s", argv[2], strerror(errno));
}

/* argv[0] is "--exec-as". */
int
execas_main(int argc, char **argv)
{
	struct passwd	*pw;
	char		*end, **envp, **cargv;
	unsigned long	 u, nenv;
	uid_t		 uid;
	gid_t		 gid;

	/* Nothing of the daemon's may reach the command. */
	closefrom(EXECAS_KEEP_FDS);

	if (argc < 5)
		execas_fail(EXECAS_FAIL, "usage: futured --exec-as UID CWD "
		    "PROG NENV ENV... ARGV...");
	errno = 0;
	u = strtoul(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0' || errno != 0 || u == 0 ||
	    u >= (unsigned long)(uid_t)-1)
		execas_fail(EXECAS_FAIL, "bad uid \"%s\"", argv[1]);
	uid = (uid_t)u;
	nenv = strtoul(argv[4], &end, 10);
	if (*argv[4] == '\0' || *end != '\0' || nenv > (unsigned long)argc ||
	    5 + nenv >= (unsigned long)argc)
		execas_fail(EXECAS_FAIL, "bad environment count \"%s\"",
		    argv[4]);

	errno = 0;
	if ((pw = getpwuid(uid)) == NULL)
		execas_fail(EXECAS_FAIL, "uid %lu has no passwd entry%s%s",
		    (unsigned long)uid, errno != 0 ? ": " : "",
		    errno != 0 ? strerror(errno) : "");
	gid = pw->pw_gid;
	if (initgroups(pw->pw_name, gid) == -1)
		execas_fail(EXECAS_FAIL, "initgroups %s: %s", pw->pw_name,
		    strerror(errno));
	if (setgid(gid) == -1)
		execas_fail(EXECAS_FAIL, "setgid %lu: %s", (unsigned long)gid,
		    strerror(errno));
	if (setuid(uid) == -1)
		execas_fail(EXECAS_FAIL, "setuid %lu: %s", (unsigned long)uid,
		    strerror(errno));
	if (setuid(0) != -1 || seteuid(0) != -1)
		execas_fail(EXECAS_FAIL, "could regain root after setuid");
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid)
		execas_fail(EXECAS_FAIL, "ids not dropped");

	if (*argv[2] != '\0' && chdir(argv[2]) == -1)
		execas_fail(EXECAS_FAIL, "working directory %s: %s", argv[2],
		    strerror(errno));

	/* NULL-terminate the environment in place: argv is ours. */
	envp = calloc(nenv + 1, sizeof(*envp));
	if (envp == NULL)
		execas_fail(EXECAS_FAIL, "out of memory");
	memcpy(envp, argv + 5, nenv * sizeof(*envp));
	cargv = argv + 5 + nenv;
	execve(argv[3], cargv, envp);
	execas_fail(errno == ENOENT ? EXECAS_NOTFOUND : EXECAS_FAIL,
	    "%s: %s", argv[3], strerror(errno));
}
