// A device driven by the integration tests: the stock socket.io-client 4,
// connected as the seed's README does (io(url, { auth, query })), plus any
// options the test adds (argv[3], JSON). Prints one JSON line per thing that
// happens; reads one JSON command per line on stdin:
//   {"emit": "event", "data": {...}, "ack": true}   -> {"ack": "event", "args": [...]}
//   {"transport": true}                             -> {"transport": "polling"|"websocket"}
//   {"close": true}                                 -> disconnects and exits
const { io } = require('socket.io-client');
const readline = require('readline');

const [url, optsJson] = [process.argv[2], process.argv[3] || '{}'];
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const socket = io(url, JSON.parse(optsJson));

socket.on('connect', () => out({ connect: socket.id, transport: socket.io.engine.transport.name }));
socket.on('connect_error', (err) => out({ connect_error: err.message }));
socket.on('disconnect', (reason) => out({ disconnect: reason }));
socket.onAny((event, ...args) => out({ event, args }));
socket.io.on('open', () => {
  socket.io.engine.on('upgrade', (t) => out({ upgrade: t.name }));
});

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line);
  if (cmd.emit && cmd.ack) {
    socket.timeout(10000).emit(cmd.emit, cmd.data, (err, ...args) =>
      out(err ? { ack: cmd.emit, error: String(err) } : { ack: cmd.emit, args }));
  } else if (cmd.emit) {
    socket.emit(cmd.emit, cmd.data);
  } else if (cmd.transport) {
    out({ transport: socket.io.engine ? socket.io.engine.transport.name : null });
  } else if (cmd.close) {
    socket.disconnect();
    setTimeout(() => process.exit(0), 50);
  }
});
