/* admin.js - the cluster dashboard. Every 2 s it reads GET /api/cluster (the
 * live nodes' records, with each node's counters) and GET /api/sessions (the
 * most recently active sessions); a session's detail is GET /api/sessions/:id
 * and "End session" its DELETE. With ADMIN_TOKEN set those answer 401 until
 * the token is given: the page then shows only the prompt, and keeps the
 * token in this tab's session storage. Rates are computed here from two reads
 * of a node's relayed counter and the times its node wrote them. */
(function () {
    'use strict';

    var KEY = 'syncrelay.adminToken';
    var SPARK_POINTS = 30; /* a minute of 2 s samples */
    var LIST_LIMIT = 500;
    var $ = function (id) { return document.getElementById(id); };
    var nodesSeen = {};   /* "<id>/<boot>" -> {seenMs, relayed, rate, rates[]} */
    var sessionList = [];
    var chosen = null;    /* the session whose detail is open */
    var timer = null;
    var endArmed = 0;

    function token() { return sessionStorage.getItem(KEY) || ''; }

    function api(method, path) {
        var headers = {};
        if (token()) headers.Authorization = 'Bearer ' + token();
        return fetch(path, {method: method, headers: headers, cache: 'no-store'}).then(function (res) {
            if (res.status === 401) throw {unauthorized: true};
            return res.json().then(function (body) {
                if (!res.ok) throw {status: res.status, error: body && body.error};
                return body;
            });
        });
    }

    function el(tag, text, cls) {
        var e = document.createElement(tag);
        if (text !== undefined && text !== null) e.textContent = String(text);
        if (cls) e.className = cls;
        return e;
    }

    function clear(node) {
        while (node.firstChild) node.removeChild(node.firstChild);
    }

    function duration(s) {
        var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
        if (d) return d + 'd ' + h + 'h';
        if (h) return h + 'h ' + m + 'm';
        if (m) return m + 'm ' + (s % 60) + 's';
        return s + 's';
    }

    function when(iso) {
        if (!iso) return '-';
        var t = new Date(iso);
        return t.toLocaleTimeString() + (Date.now() - t.getTime() > 86400000 ? ' ' + t.toLocaleDateString() : '');
    }

    function rate(n) {
        return n >= 100 ? Math.round(n).toString() : n.toFixed(1);
    }

    function showLogin(message) {
        if (timer) clearInterval(timer);
        timer = null;
        clear($('nodes').tBodies[0]);
        clear($('sessions').tBodies[0]);
        clear($('dialects'));
        $('dash').hidden = true;
        $('logout').hidden = true;
        $('login').hidden = false;
        $('login-error').textContent = message || '';
        $('updated').textContent = '';
        $('token-input').focus();
    }

    function spark(canvas, values) {
        var w = 120, h = 26, ratio = window.devicePixelRatio || 1;
        canvas.width = w * ratio;
        canvas.height = h * ratio;
        var g = canvas.getContext('2d');
        g.scale(ratio, ratio);
        g.clearRect(0, 0, w, h);
        g.fillStyle = '#e3e7ee'; /* the baseline: zero */
        g.fillRect(0, h - 2, w, 1);
        if (values.length < 2) return;
        var max = Math.max.apply(null, values.concat([1]));
        g.strokeStyle = '#2457d6';
        g.lineWidth = 1.5;
        g.beginPath();
        for (var i = 0; i < values.length; i++) {
            var x = (w - 2) * i / (SPARK_POINTS - 1) + 1, y = h - 2 - (h - 4) * values[i] / max;
            if (i) g.lineTo(x, y); else g.moveTo(x, y);
        }
        g.stroke();
    }

    function track(n) {
        var key = n.id + '/' + n.boot, h = nodesSeen[key] || (nodesSeen[key] = {rates: [], rate: 0});
        var relayed = n.stats ? n.stats.relayed : null;
        if (h.seenMs !== undefined && relayed !== null && n.seenMs > h.seenMs) {
            h.rate = Math.max(0, (relayed - h.relayed) * 1000 / (n.seenMs - h.seenMs));
            h.rates.push(h.rate);
            if (h.rates.length > SPARK_POINTS) h.rates.shift();
        }
        if (n.seenMs !== h.seenMs) {
            h.seenMs = n.seenMs;
            h.relayed = relayed;
        }
        return h;
    }

    function renderCluster(c) {
        var body = $('nodes').tBodies[0], total = 0, conns = 0, dialects = {};
        clear(body);
        c.nodes.sort(function (a, b) { return a.id < b.id ? -1 : a.id > b.id ? 1 : 0; });
        c.nodes.forEach(function (n) {
            var h = track(n), tr = el('tr'), draining = n.stats && n.stats.draining;
            tr.dataset.node = n.id;
            var name = el('td');
            name.appendChild(el('b', n.id));
            if (n.id === c.node) name.appendChild(el('span', ' (answered)', 'hint wide'));
            tr.appendChild(name);
            tr.appendChild(el('td', duration(n.uptimeSeconds), 'num wide'));
            tr.appendChild(el('td', n.connections, 'num connections'));
            tr.appendChild(el('td', n.sessions, 'num sessions'));
            var state = el('td');
            state.appendChild(el('span', draining ? 'draining' : 'serving', draining ? 'badge bad' : 'badge ok'));
            tr.appendChild(state);
            tr.appendChild(el('td', rate(h.rate), 'num rate'));
            var sp = el('td', null, 'wide'), canvas = el('canvas', null, 'spark');
            sp.appendChild(canvas);
            tr.appendChild(sp);
            body.appendChild(tr);
            spark(canvas, h.rates);
            total += h.rate;
            conns += n.connections;
            var d = (n.stats && n.stats.dialects) || {};
            Object.keys(d).forEach(function (k) {
                dialects[k] = (dialects[k] || 0) + (d[k].sessions || 0);
            });
        });
        $('sum-nodes').textContent = c.nodes.length;
        $('sum-sessions').textContent = c.activeSessions;
        /* the rows' sum: fresher than the answering node's last heartbeat */
        $('sum-connections').textContent = conns;
        $('sum-rate').textContent = rate(total);
        renderDialects(dialects);
        $('updated').textContent = 'updated ' + new Date(c.timeMs).toLocaleTimeString() + ' by ' + c.node;
    }

    function renderDialects(counts) {
        var box = $('dialects'), names = Object.keys(counts).sort();
        var max = Math.max.apply(null, names.map(function (k) { return counts[k]; }).concat([1]));
        clear(box);
        names.forEach(function (k) {
            var fill = el('div', null, 'bar-fill'), track = el('div');
            fill.style.width = (100 * counts[k] / max) + '%';
            track.appendChild(fill);
            box.appendChild(el('span', k, 'mono'));
            box.appendChild(track);
            var n = el('span', counts[k], 'num');
            n.dataset.dialect = k;
            box.appendChild(n);
        });
    }

    function matches(s, q) {
        if (!q) return true;
        var hay = [s.id, s.kind].concat(s.members.map(function (m) { return m.member; }));
        return hay.join(' ').toLowerCase().indexOf(q) >= 0;
    }

    function renderSessions() {
        var body = $('sessions').tBodies[0], q = $('search').value.trim().toLowerCase(), shown = 0;
        clear(body);
        sessionList.forEach(function (s) {
            if (!matches(s, q)) return;
            shown++;
            var tr = el('tr', null, 'pick' + (s.id === chosen ? ' chosen' : ''));
            tr.dataset.id = s.id;
            tr.appendChild(el('td', s.id, 'mono'));
            tr.appendChild(el('td', s.kind));
            tr.appendChild(el('td', s.onlineMembers + ' / ' + s.members.length, 'num'));
            tr.appendChild(el('td', s.seq, 'num'));
            tr.appendChild(el('td', when(s.lastActivity)));
            tr.addEventListener('click', function () { open(s.id); });
            body.appendChild(tr);
        });
        $('session-count').textContent = '(' + (q ? shown + ' of ' : '') + sessionList.length +
            (sessionList.length >= LIST_LIMIT ? ', the most recent' : '') + ')';
    }

    function renderDetail(s) {
        $('detail').hidden = false;
        $('detail-id').textContent = s.id;
        $('detail-kind').textContent = s.kind;
        $('detail-seq').textContent = s.seq;
        $('detail-created').textContent = when(s.created);
        $('detail-active').textContent = when(s.lastActivity);
        var body = $('detail-members').tBodies[0];
        clear(body);
        s.members.forEach(function (m) {
            var tr = el('tr'), state = el('td');
            state.appendChild(el('span', m.online ? 'online' : 'away', m.online ? 'badge ok' : 'badge'));
            tr.appendChild(el('td', m.member, 'mono'));
            tr.appendChild(state);
            tr.appendChild(el('td', m.holder ? m.holder.split('/')[0] : '-', 'node'));
            tr.appendChild(el('td', m.holder || '-', 'mono'));
            tr.appendChild(el('td', m.info ? JSON.stringify(m.info) : ''));
            body.appendChild(tr);
        });
        $('detail-state').textContent = JSON.stringify(s.state || {}, null, 2);
    }

    function loadDetail(id) {
        return api('GET', '/api/sessions/' + encodeURIComponent(id)).then(function (s) {
            if (chosen === id) renderDetail(s);
        }).catch(function (e) {
            if (e && e.unauthorized) return showLogin('');
            if (chosen === id) $('detail-note').textContent = e.status === 404 ? 'This session is gone.' : 'Could not read it.';
        });
    }

    function open(id) {
        chosen = id;
        endArmed = 0;
        $('detail-note').textContent = '';
        $('end-session').textContent = 'End session';
        renderSessions();
        loadDetail(id);
    }

    function refresh() {
        Promise.all([api('GET', '/api/cluster'), api('GET', '/api/sessions?limit=' + LIST_LIMIT)])
            .then(function (r) {
                $('login').hidden = true;
                $('dash').hidden = false;
                $('logout').hidden = !token();
                renderCluster(r[0]);
                sessionList = r[1].sessions;
                renderSessions();
                if (chosen) loadDetail(chosen);
                if (!timer) timer = setInterval(refresh, 2000);
            })
            .catch(function (e) {
                if (e && e.unauthorized) {
                    var had = !!token();
                    sessionStorage.removeItem(KEY);
                    return showLogin(had ? 'That token was refused.' : '');
                }
                $('updated').textContent = 'refresh failed (' + (e.error || e.status || e) + '), retrying';
                if (!timer) timer = setInterval(refresh, 2000);
            });
    }

    $('login-form').addEventListener('submit', function (ev) {
        ev.preventDefault();
        sessionStorage.setItem(KEY, $('token-input').value.trim());
        $('token-input').value = '';
        refresh();
    });
    $('logout').addEventListener('click', function () {
        sessionStorage.removeItem(KEY);
        showLogin('');
    });
    $('search').addEventListener('input', renderSessions);
    $('end-session').addEventListener('click', function () {
        if (!chosen) return;
        if (Date.now() - endArmed > 5000) { /* two clicks: ending closes every member */
            endArmed = Date.now();
            $('end-session').textContent = 'Click again to end it for every member';
            return;
        }
        var id = chosen;
        api('DELETE', '/api/sessions/' + encodeURIComponent(id)).then(function () {
            $('detail-note').textContent = 'Ended: its members were told and disconnected.';
            $('end-session').textContent = 'End session';
            endArmed = 0;
            refresh();
        }).catch(function (e) {
            if (e && e.unauthorized) return showLogin('');
            $('detail-note').textContent = 'Could not end it (' + (e.error || e.status) + ').';
        });
    });

    refresh();
})();
