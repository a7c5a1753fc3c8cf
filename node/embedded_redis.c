/* embedded_redis.c - see embedded_redis.h. Start-up blocks (before the event
 * loop runs) until the socket answers, at most 5 s. */
#include "embedded_redis.h"
#include "sr_alloc.h"
#include "sr_buf.h"
#include "sr_log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct sr_embedded_redis {
    pid_t pid;
    char dir[40], sock[64];
};

static int socket_answers(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

sr_embedded_redis *sr_embedded_redis_start(sr_redis_target *t, char *err, size_t errlen)
{
    sr_embedded_redis *r = sr_xcalloc(1, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/tmp/syncrelay-redis-XXXXXX");
    if (!mkdtemp(r->dir)) {
        snprintf(err, errlen, "cannot create a temp dir: %s", strerror(errno));
        free(r);
        return NULL;
    }
    snprintf(r->sock, sizeof r->sock, "%s/redis.sock", r->dir);
    pid_t parent = getpid();
    r->pid = fork();
    if (r->pid == 0) {
        /* Its own process group: a terminal's Ctrl-C reaches the node only,
         * which drains and stops this server after it is done with it. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", r->sock,
               "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", r->dir,
               "--daemonize", "no", "--loglevel", "warning", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        int status;
        if (r->pid < 0 || waitpid(r->pid, &status, WNOHANG) == r->pid) {
            snprintf(err, errlen,
                     "could not start redis-server (is it installed? or set "
                     "REDIS_URL)");
            rmdir(r->dir);
            free(r);
            return NULL;
        }
        if (socket_answers(r->sock)) {
            sr_log_info("embedded redis-server (pid %d) on unix://%s", (int)r->pid, r->sock);
            t->unix_path = sr_xstrdup(r->sock);
            return r;
        }
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    snprintf(err, errlen, "redis-server did not come up within 5 s");
    sr_embedded_redis_stop(r);
    return NULL;
}

void sr_embedded_redis_stop(sr_embedded_redis *r)
{
    if (!r) return;
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        waitpid(r->pid, NULL, 0);
    }
    unlink(r->sock);
    rmdir(r->dir);
    free(r);
}
