/* core_poll.h - Engine.IO HTTP long-polling served by any node for any sid.
 *
 * The node that answers a polling handshake owns the Engine.IO session: the
 * connection (sr_conn, the dialect's state, its session membership) lives
 * there, with a queue of the packets it sends. The sid starts with the
 * owner's boot id, so every node knows where a sid lives without asking
 * Redis. A GET or POST that reaches another node is relayed to the owner
 * through the owner's pub/sub channel (<prefix>chan:eio:<boot>) and answered
 * through the asking node's own; the owner's node answers its own requests
 * without Redis. A WebSocket upgrade of a polling session, on any node, is a
 * relay too: its packets travel the same two channels. An owner that is gone
 * has no subscriber on its channel (PUBLISH returns 0): the sid is unknown and
 * the client starts over (handshake, Socket.IO reconnect), as a WebSocket
 * client of a dead node does. docs/design.md has the costs. */
#ifndef SR_CORE_POLL_H
#define SR_CORE_POLL_H

#include "core.h"

/* Subscribes to this node's Engine.IO channel (once, at start). */
void sr_poll_setup(sr_core *core);
void sr_poll_free(sr_core *core);
/* A request to the Engine.IO path with transport=polling (handshake, poll,
 * post), served for dialect d; false when it is not one (the caller answers). */
bool sr_poll_http(sr_http_req *r, const sr_dialect *d);
/* The polling session's sid when c is the owner's connection of one, else NULL. */
const char *sr_poll_sid(const sr_conn *c);
/* The largest POST body a polling client may send (its maxPayload). */
size_t sr_poll_max_payload(const sr_core *core);
size_t sr_conn_poll_max_payload(const sr_conn *c);

/* A WebSocket connection that upgrades polling session sid (its query has a
 * sid): the dialect hands every message to the relay and tells it when the
 * socket is gone. NULL when sid cannot be a polling session's. */
typedef struct sr_poll_relay sr_poll_relay;
sr_poll_relay *sr_poll_relay_open(sr_conn *ws, const char *sid);
void sr_poll_relay_message(sr_poll_relay *rl, const char *data, size_t len);
void sr_poll_relay_closed(sr_poll_relay *rl);

/* Bus hook: a message on this node's Engine.IO channel. */
void sr_poll_bus_message(sr_core *core, const char *data, size_t len);

#endif
