#ifndef FUTURED_SOCKPATH_H
#define FUTURED_SOCKPATH_H

#include <stddef.h>

#define FUTURED_SYSTEM_SOCKET	"/run/futured/futured.sock"

/*
 * The socket path by INTERFACE.md's rules after -s: $FUTURED_SOCKET, then
 * $XDG_RUNTIME_DIR/futured/futured.sock, then /tmp/futured-$UID/futured.sock.
 * Returns 0, or -1 when it does not fit in len (or in sun_path).
 */
int	sockpath_default(char *, size_t);
/* Fill a sockaddr_un; -1 with errno ENAMETOOLONG when it does not fit. */
struct sockaddr_un;
int	sockpath_addr(const char *, struct sockaddr_un *);

#endif
