/* demo.js - the demo page: token sync between two tabs or devices.
 *
 * "Start" pairs this tab as web and shows the token, a join link (the token
 * after '#', so it never reaches a server log) and its QR code; the link
 * pairs as figma. Each side numbers what it sends (payload.n), so the other
 * side can show that nothing went missing; each message received shows its
 * session seq. "Drop connection" closes the socket; the page reconnects,
 * possibly to another node, and resumes with lastSeq: what the peer sent in
 * between arrives first, in order. The socket opens on /?hello=1, so the
 * node says its id before anything else. */
(function () {
    'use strict';

    var $ = function (id) { return document.getElementById(id); };
    var side = {
        role: null,      /* "web" or "figma" */
        token: null,     /* "dts://..." */
        ws: null,
        lastSeq: 0,      /* highest seq received: resume point */
        sent: 0,         /* messages this side sent (payload.n) */
        received: 0,     /* messages from the peer */
        expected: 1,     /* next payload.n from the peer */
        missing: 0,
        paired: false,   /* paired once: reconnects resume with lastSeq */
        live: false,     /* paired on the current socket */
        dropping: false,
        ended: false,    /* an admin ended the session: no reconnect */
        retries: 0,
    };

    function show(id, on) { $(id).hidden = !on; }
    function text(id, value) { $(id).textContent = value; }

    function wsUrl() {
        return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/?hello=1';
    }

    function joinUrl(token) {
        return location.origin + '/#join=' + token.replace(/^dts:\/\//, '');
    }

    function log(kind, body, extra) {
        var li = document.createElement('li');
        li.className = kind;
        var head = document.createElement('span');
        head.className = 'meta';
        head.textContent = extra;
        var msg = document.createElement('span');
        msg.className = 'body';
        msg.textContent = body;
        li.appendChild(head);
        li.appendChild(msg);
        var list = $('log');
        list.insertBefore(li, list.firstChild);
        return li;
    }

    function tally() {
        text('last-seq', String(side.lastSeq));
        text('tally', 'sent ' + side.sent + ' · received ' + side.received + ' from the peer · ' +
            (side.missing ? side.missing + ' missing' : 'none missing'));
    }

    function setState(s) {
        text('state', s);
        $('state').className = s === 'paired' ? 'ok' : s === 'offline' ? 'bad' : '';
    }

    function send(obj) {
        if (side.ws && side.ws.readyState === WebSocket.OPEN) side.ws.send(JSON.stringify(obj));
    }

    function pair() {
        var msg = {type: 'pair', clientType: side.role};
        if (side.token) msg.sessionToken = side.token;
        if (side.paired) msg.lastSeq = side.lastSeq; /* a resume: exactly what came after */
        send(msg);
    }

    function onMessage(ev) {
        var m;
        try { m = JSON.parse(ev.data); } catch (e) { return; }
        if (m.type === 'hello') {
            text('node', m.node);
            pair();
        } else if (m.type === 'pair') {
            var resumed = side.paired;
            side.token = m.sessionToken;
            side.paired = true;
            side.live = true;
            side.retries = 0;
            setState('paired');
            text('notice', resumed ? 'resumed from seq ' + side.lastSeq : '');
            if (side.role === 'web') showInvite();
        } else if (m.type === 'peer') {
            text('peer', m.clientType + (m.event === 'joined' ? ' online' : ' away'));
            $('peer').className = m.event === 'joined' ? 'ok' : 'bad';
        } else if (m.type === 'sync') {
            receive(m);
        } else if (m.type === 'error') {
            if (m.error === 'Not paired' && side.sent > 0) side.sent--; /* the last send */
            log('error', m.error === 'Not paired' ? 'Not delivered: nobody has joined yet' : m.error,
                'error');
            tally();
            if (m.error === 'Invalid session token' && !side.paired) setState('invalid token');
            if (m.error === 'Session ended') side.ended = true;
        }
    }

    function receive(m) {
        var p = m.payload || {};
        if (typeof m.seq === 'number' && m.seq > side.lastSeq) side.lastSeq = m.seq;
        side.received++;
        if (typeof p.n === 'number') {
            if (p.n > side.expected) side.missing += p.n - side.expected;
            if (p.n >= side.expected) side.expected = p.n + 1;
        }
        var li = log('in', String(p.text), 'seq ' + m.seq + ' · #' + p.n + ' from ' + (p.from || '?'));
        li.dataset.seq = m.seq;
        li.dataset.n = p.n;
        tally();
    }

    function showInvite() {
        var url = joinUrl(side.token);
        text('token', side.token);
        $('join-url').href = url;
        text('join-url', url);
        show('invite', true);
        SyncQR.draw($('qr'), url, 5);
        if (/^(localhost|127\.|\[::1\])/.test(location.hostname)) {
            text('invite-hint', 'This link names this computer (' + location.hostname + '): for a ' +
                'phone, open this page through the computer\'s network address instead.');
        }
    }

    function connect() {
        setState('connecting');
        var ws = new WebSocket(wsUrl());
        side.ws = ws;
        ws.onmessage = onMessage;
        ws.onclose = function (ev) {
            if (side.ws !== ws) return;
            side.ws = null;
            side.live = false;
            text('node', '-');
            /* taken over by another tab with this side's link, or the session
             * was ended: reconnecting would only take it back */
            if (ev.code === 4001 || side.ended) {
                setState(ev.code === 4001 ? 'taken over elsewhere' : 'session ended');
                text('notice', 'reload the page to start again');
                return;
            }
            setState('offline');
            /* a dropped or lost socket comes back; a server restart too */
            var wait = side.dropping ? 1500 : Math.min(10000, 500 * Math.pow(2, side.retries++));
            side.dropping = false;
            text('notice', 'reconnecting in ' + (wait / 1000) + ' s, then resuming after seq ' +
                side.lastSeq);
            setTimeout(connect, wait);
        };
    }

    function begin(role, token) {
        side.role = role;
        side.token = token;
        text('role', role);
        show('start-view', false);
        show('session-view', true);
        tally();
        connect();
    }

    $('start').addEventListener('click', function () { begin('web', null); });
    $('join-form').addEventListener('submit', function (ev) {
        ev.preventDefault();
        var t = $('join-token').value.trim();
        if (t) begin('figma', t);
    });
    $('send-form').addEventListener('submit', function (ev) {
        ev.preventDefault();
        var body = $('text').value;
        if (!body || !side.live) return;
        side.sent++;
        send({type: 'sync', payload: {text: body, n: side.sent, from: side.role}});
        var li = log('out', body, '#' + side.sent + ' sent');
        li.dataset.n = side.sent;
        $('text').value = '';
        tally();
    });
    $('drop').addEventListener('click', function () {
        if (!side.ws) return;
        side.dropping = true;
        side.ws.close();
    });

    var m = /^#join=([0-9A-Fa-f]{12})$/.exec(location.hash);
    if (m) begin('figma', 'dts://' + m[1].toUpperCase());
})();
