/* dialect_devicesync.h - what the two halves of the device-sync dialect
 * (seed 001) share: dialect_devicesync.c serves the Socket.IO connections,
 * dialect_devicesync_rest.c the REST endpoints. */
#ifndef SR_DIALECT_DEVICESYNC_H
#define SR_DIALECT_DEVICESYNC_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

struct sr_http_req;

#define SR_DS_KIND "devicesync" /* session kind: one session per user */
#define SR_DS_MAX_DEVICES 100   /* device records kept per user */
#define SR_DS_ID_LEN 36         /* user and device ids: UUID v4 text */
#define SR_DS_MAX_USER 64       /* user ids of foreign tokens may be longer than a UUID */
#define SR_DS_TOKEN_TTL (7 * 86400)

/* Writes a random UUID v4 (lower case, 36 characters) to out (>= 37 bytes). */
int sr_ds_uuid(char *out);
/* Whether s can name a user or a device in Redis keys and envelopes: 1..max
 * printable ASCII characters without braces, slashes or white space. */
bool sr_ds_valid_id(const char *s, size_t max);
/* Verifies an HS256 token (JWT_SECRET) and copies its userId claim to user.
 * Returns 0 or an sr_jwt error (SR_JWT_BAD_SUBJECT for an unusable userId). */
int sr_ds_verify(const sr_config *cfg, const char *token, size_t len, char *user, size_t cap);
/* Signs {userId, email, iat, exp} (SR_DS_TOKEN_TTL). *token is freed by the caller. */
int sr_ds_sign(const sr_config *cfg, const char *user, const char *email, char **token);
/* The dialect's REST endpoints (the dialect's http hook). */
bool sr_ds_http(struct sr_http_req *r);

#endif
