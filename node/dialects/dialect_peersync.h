/* dialect_peersync.h - the peersync dialect (seed 003) is two files:
 * dialect_peersync.c (the /ws events) and dialect_peersync_auth.c (RS256
 * keys, token checks and the /api/v1/auth REST endpoints). main.c loads the
 * keys once at start with sr_peersync_setup. */
#ifndef SR_DIALECT_PEERSYNC_H
#define SR_DIALECT_PEERSYNC_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

struct sr_http_req;

/* Loads the RS256 pair from JWT_PUBLIC_KEY / JWT_PRIVATE_KEY, or makes an
 * ephemeral one (with a warning) when neither is set. Returns 0 or -1 with a
 * message in err. */
int sr_peersync_setup(const sr_config *cfg, char *err, size_t errlen);
void sr_peersync_teardown(void);

#define PEERSYNC_USER_MAX 100 /* bytes of a userId */

/* Who a valid token names (claims userId, else sub; displayName, email). */
typedef struct peersync_identity {
    char user[PEERSYNC_USER_MAX + 1];
    char display_name[256], email[256];
    bool has_display_name, has_email;
} peersync_identity;

/* Verifies a token. Returns 0, or -1 with the seed's error code (ERR_1001
 * missing, ERR_1002 invalid, ERR_1003 expired) and a message. */
int sr_peersync_verify(const char *token, size_t len, peersync_identity *who, const char **code,
                       const char **message);
/* A userId that can name Redis keys and envelopes: 1..100 bytes, no control
 * characters, no braces. */
bool sr_peersync_valid_user(const char *user);
/* GET /api/v1/auth/public-key, GET /api/v1/auth/verify, POST /api/v1/auth/dev-token. */
bool sr_peersync_http(struct sr_http_req *r);

#endif
