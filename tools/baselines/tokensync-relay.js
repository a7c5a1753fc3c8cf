// tokensync-relay.js - baseline (a) of tools/bench --compare: a token-sync
// relay of the usual Node shape, `ws` + `ioredis`, for measuring syncrelay's
// token-sync dialect against. It speaks the wire format of the token-sync
// dialect as far as the load generator uses it (README, "Token sync"):
//
//   {"type":"pair","clientType":"web"}                 -> {"type":"pair","sessionToken":"dts://…","clientType":"web"}
//   {"type":"pair","clientType":"figma","sessionToken"} -> {"type":"pair",…}; both sides get
//                                                        {"type":"peer","event":"joined","clientType":…}
//   {"type":"sync","payload":P}                        -> the other side gets {"type":"sync","payload":P}
//   {"type":"ping"}                                    -> {"type":"pong"}
//
// One PUBLISH per relayed message and nothing else in Redis on that path: no
// seq, no log, no resume, no supersede. Sessions are a Redis hash of the roles
// online (so a node learns who is there on another node) and one channel per
// session, subscribed by the nodes holding one of its sockets.
//
// Environment: PORT (8080), REDIS_URL (redis://127.0.0.1:6379).
// GET /health answers 200 once both Redis connections are up.
'use strict';

const http = require('http');
const crypto = require('crypto');
const Redis = require('ioredis');
const { WebSocketServer } = require('ws');

const PORT = Number(process.env.PORT || 8080);
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const SESSION_TTL = 24 * 3600;

const redis = new Redis(REDIS_URL);
const sub = new Redis(REDIS_URL);
const local = new Map(); // token -> Set of sockets on this node

const sessionKey = (token) => `baseline:session:${token}`;
const channel = (token) => `baseline:chan:${token}`;

function send(ws, obj) {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(obj));
}

function sendError(ws, error) {
  send(ws, { type: 'error', error });
}

function normalizeToken(raw) {
  if (typeof raw !== 'string') return null;
  const t = raw.trim().toUpperCase().replace(/^DTS:\/\//, '');
  return /^[0-9A-F]{12}$/.test(t) ? t : null;
}

sub.on('message', (chan, text) => {
  const token = chan.slice(channel('').length);
  const sockets = local.get(token);
  if (!sockets) return;
  const msg = JSON.parse(text);
  for (const ws of sockets) {
    if (ws.role === msg.from) continue;
    if (msg.kind === 'sync') send(ws, { type: 'sync', payload: msg.payload });
    else send(ws, { type: 'peer', event: msg.kind, clientType: msg.from });
  }
});

async function join(ws, role, token) {
  let sockets = local.get(token);
  if (!sockets) {
    sockets = new Set();
    local.set(token, sockets);
    await sub.subscribe(channel(token));
  }
  sockets.add(ws);
  ws.role = role;
  ws.token = token;
  const roles = await redis
    .multi()
    .hset(sessionKey(token), role, '1')
    .expire(sessionKey(token), SESSION_TTL)
    .hgetall(sessionKey(token))
    .exec();
  send(ws, { type: 'pair', sessionToken: `dts://${token}`, clientType: role });
  const online = roles[2][1] || {};
  for (const other of Object.keys(online)) {
    if (other !== role) send(ws, { type: 'peer', event: 'joined', clientType: other });
  }
  await redis.publish(channel(token), JSON.stringify({ kind: 'joined', from: role }));
}

async function handlePair(ws, msg) {
  if (ws.token) return sendError(ws, 'Already paired');
  const role = msg.clientType;
  if (role !== 'web' && role !== 'figma') {
    return sendError(ws, 'Invalid clientType: expected "web" or "figma"');
  }
  if (role === 'web' && msg.sessionToken == null) {
    return join(ws, role, crypto.randomBytes(6).toString('hex').toUpperCase());
  }
  const token = normalizeToken(msg.sessionToken);
  if (!token || !(await redis.exists(sessionKey(token)))) {
    return sendError(ws, 'Invalid session token');
  }
  return join(ws, role, token);
}

function handleSync(ws, msg) {
  if (!ws.token) return sendError(ws, 'Not paired');
  if (msg.payload === undefined) return sendError(ws, 'Invalid sync: missing payload');
  redis
    .publish(channel(ws.token), JSON.stringify({ kind: 'sync', from: ws.role, payload: msg.payload }))
    .catch(() => sendError(ws, 'Service unavailable, message not delivered'));
}

async function leave(ws) {
  const { token, role } = ws;
  if (!token) return;
  const sockets = local.get(token);
  sockets.delete(ws);
  if (!sockets.size) {
    local.delete(token);
    await sub.unsubscribe(channel(token));
  }
  await redis.hdel(sessionKey(token), role);
  await redis.publish(channel(token), JSON.stringify({ kind: 'left', from: role }));
}

const server = http.createServer((req, res) => {
  const up = redis.status === 'ready' && sub.status === 'ready';
  res.writeHead(req.url === '/health' && up ? 200 : 503, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ ok: up }));
});

const wss = new WebSocketServer({ server });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return sendError(ws, 'Invalid JSON');
    }
    if (isBinary || !msg || typeof msg.type !== 'string') {
      return sendError(ws, 'Invalid message: expected an object with a string "type"');
    }
    const done = (p) => p && p.catch && p.catch(() => sendError(ws, 'Service unavailable, try again'));
    if (msg.type === 'sync') handleSync(ws, msg);
    else if (msg.type === 'pair') done(handlePair(ws, msg));
    else if (msg.type === 'ping') send(ws, { type: 'pong' });
    else sendError(ws, `Unknown message type: ${msg.type}`);
  });
  ws.on('close', () => leave(ws).catch(() => {}));
  ws.on('error', () => {});
});

server.listen(PORT, () => console.log(`tokensync baseline on :${PORT}, redis ${REDIS_URL}`));

function shutdown() {
  wss.close();
  server.close();
  redis.disconnect();
  sub.disconnect();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
