/* sr_envelope.h - the record a session's channel carries and its log retains:
 *
 *     <kind>[ <time>]\n<seq>\n<from>\n<to>\n<frame bytes>
 *
 * <time> (messages published by session_publish and session_post) is when
 * the first node handed the message to Redis, in microseconds since the
 * epoch: a receiving node measures the relay latency from it.
 * kind 'm' is a sequenced message, 'e' an unsequenced event, 'x' a supersede
 * notice (member <to> now belongs to connection <from>, which was the
 * session's join number <seq>), 'k' the end of the session (deleted by an
 * admin: its members are told and closed). <to> is '*' (all
 * members but the sender), '@' (all members) or one member id. The Lua
 * scripts in node/redis/scripts write the same format. */
#ifndef SR_ENVELOPE_H
#define SR_ENVELOPE_H

#include "sr_buf.h"

#include <stdbool.h>
#include <stdint.h>

#define SR_ENVELOPE_MESSAGE 'm'
#define SR_ENVELOPE_EVENT 'e'
#define SR_ENVELOPE_SUPERSEDE 'x'
#define SR_ENVELOPE_END 'k'

typedef struct sr_envelope {
    char kind;
    uint64_t seq;
    uint64_t time_us; /* 0 when the envelope carries no time */
    const char *from, *to, *frame;
    size_t from_len, to_len, frame_len;
} sr_envelope;

/* Parses s[0..n) in place (the envelope points into s). Returns 0 or -1. */
int sr_envelope_parse(sr_envelope *e, const char *s, size_t n);
void sr_envelope_write(sr_buf *b, char kind, uint64_t seq, const char *from, const char *to,
                       const char *frame, size_t frame_len);
/* Whether a connection holding member should receive e. */
bool sr_envelope_is_for(const sr_envelope *e, const char *member);

#endif
