// devicesync-socketio.js - baseline (b) of tools/bench --compare: what seed
// 001's users run, a Socket.IO v4 server with @socket.io/redis-adapter, for
// measuring syncrelay's device-sync dialect against. Kept to what the load
// generator uses, in the seed's shapes:
//
//   POST /api/auth/register, /api/auth/login {"email","password"}
//        -> {"token","user":{"id","email"}}   (scrypt password hash in Redis, HS256 JWT)
//   Socket.IO connect with auth {token}: the user's room; session-restored to
//        the device, device-connected to the user's other devices
//   session-update {sessionKey,state}  -> state kept in a Redis hash (not
//        waited for); session-updated {sessionKey,state,deviceId,timestamp}
//        to the user's other devices
//   realtime-event {type,payload}       -> realtime-event {type,payload,
//        sourceDeviceId,timestamp} to the user's other devices
//
// The adapter carries every broadcast: one PUBLISH per relayed event (plus the
// HSET of a session-update). No seq, no versions, no log, no resume.
//
// Environment: PORT (3001), REDIS_URL (redis://127.0.0.1:6379), JWT_SECRET.
// GET /api/health answers 200 once the Redis connections are up.
'use strict';

const http = require('http');
const crypto = require('crypto');
const { promisify } = require('util');
const Redis = require('ioredis');
const jwt = require('jsonwebtoken');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');

const PORT = Number(process.env.PORT || 3001);
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const JWT_SECRET = process.env.JWT_SECRET || 'baseline-secret';
const scrypt = promisify(crypto.scrypt);
const SCRYPT = { N: 1 << 14, r: 8, p: 1 }; // syncrelay's parameters: the same cost

const redis = new Redis(REDIS_URL);
const pub = new Redis(REDIS_URL);
const sub = new Redis(REDIS_URL);

const userKey = (email) => `baseline:user:${email}`;
const sessionKey = (userId) => `baseline:session:${userId}`;

async function hashPassword(password, salt) {
  return (await scrypt(password, salt, 32, SCRYPT)).toString('base64');
}

function reply(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readJson(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString()));
      } catch {
        resolve(null);
      }
    });
  });
}

function tokenFor(user) {
  return jwt.sign({ userId: user.id, email: user.email }, JWT_SECRET, { expiresIn: '7d' });
}

async function register(body) {
  const email = body.email.toLowerCase();
  const salt = crypto.randomBytes(16).toString('base64');
  const user = { id: crypto.randomUUID(), email, salt, hash: await hashPassword(body.password, salt) };
  const created = await redis.hsetnx(userKey(email), 'id', user.id);
  if (!created) return [409, { error: 'Email already registered' }];
  await redis.hset(userKey(email), 'email', email, 'salt', salt, 'hash', user.hash);
  return [201, { token: tokenFor(user), user: { id: user.id, email } }];
}

async function login(body) {
  const email = body.email.toLowerCase();
  const user = await redis.hgetall(userKey(email));
  const hash = user.salt ? await hashPassword(body.password, user.salt) : '';
  if (!user.hash || hash !== user.hash) return [401, { error: 'Invalid email or password' }];
  return [200, { token: tokenFor(user), user: { id: user.id, email } }];
}

async function api(req, res) {
  if (req.method === 'GET' && req.url === '/api/health') {
    const up = [redis, pub, sub].every((r) => r.status === 'ready');
    return reply(res, up ? 200 : 503, { status: up ? 'ok' : 'starting' });
  }
  const route = { '/api/auth/register': register, '/api/auth/login': login }[req.url];
  if (req.method !== 'POST' || !route) return reply(res, 404, { error: 'Not found' });
  const body = await readJson(req);
  if (!body || typeof body.email !== 'string' || typeof body.password !== 'string') {
    return reply(res, 400, { error: 'Email and password required' });
  }
  const [status, answer] = await route(body);
  return reply(res, status, answer);
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/socket.io/')) return; // Socket.IO's own handler
  api(req, res).catch((e) => reply(res, 500, { error: String(e.message || e) }));
});

const io = new Server(server, { serveClient: false, adapter: createAdapter(pub, sub) });

io.use((socket, next) => {
  try {
    const claims = jwt.verify(socket.handshake.auth && socket.handshake.auth.token, JWT_SECRET);
    socket.data.userId = claims.userId;
    next();
  } catch (e) {
    next(new Error('Authentication error'));
  }
});

io.on('connection', (socket) => {
  const { userId } = socket.data;
  const room = `user:${userId}`;
  const deviceId = crypto.randomUUID();
  let deviceInfo = {};
  try {
    deviceInfo = JSON.parse(socket.handshake.query.deviceInfo || '{}');
  } catch {
    // the seed ignores a malformed deviceInfo
  }
  socket.join(room);
  socket.to(room).emit('device-connected', { deviceId, deviceInfo, timestamp: Date.now() });
  redis.hgetall(sessionKey(userId)).then(
    (stored) => {
      const sessionData = {};
      for (const [k, v] of Object.entries(stored)) sessionData[k] = JSON.parse(v);
      socket.emit('session-restored', { sessionData, deviceId });
    },
    () => socket.emit('error', { message: 'Session restore failed' }),
  );

  socket.on('session-update', (data) => {
    if (!data || typeof data.sessionKey !== 'string') {
      return socket.emit('error', { message: 'Invalid session update' });
    }
    const { sessionKey: key, state } = data;
    redis.hset(sessionKey(userId), key, JSON.stringify(state)).catch(() => {});
    socket.to(room).emit('session-updated', { sessionKey: key, state, deviceId, timestamp: Date.now() });
  });

  socket.on('realtime-event', (data) => {
    if (!data || typeof data.type !== 'string') {
      return socket.emit('error', { message: 'Invalid realtime event' });
    }
    socket.to(room).emit('realtime-event', {
      type: data.type,
      payload: data.payload,
      sourceDeviceId: deviceId,
      timestamp: Date.now(),
    });
  });

  socket.on('disconnect', () => {
    socket.to(room).emit('device-disconnected', { deviceId });
  });
});

server.listen(PORT, () => console.log(`devicesync baseline on :${PORT}, redis ${REDIS_URL}`));

function shutdown() {
  io.close();
  redis.disconnect();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
