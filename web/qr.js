/* qr.js - a small QR code encoder (ISO/IEC 18004) for the demo page's join
 * link: byte mode, error correction level M, versions 1 to 10 (up to 213
 * bytes), the mask with the lowest penalty. Written for this page; no outside
 * code or service. SyncQR.encode(text) -> {size, dark(x, y)} or null when the
 * text is too long; SyncQR.draw(canvas, text, scale) paints it with its quiet
 * zone. */
(function () {
    'use strict';

    /* GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1 */
    var EXP = [], LOG = [];
    (function () {
        var x = 1;
        for (var i = 0; i < 255; i++) {
            EXP[i] = x;
            LOG[x] = i;
            x <<= 1;
            if (x & 0x100) x ^= 0x11d;
        }
        for (i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
    })();

    function gfMul(a, b) {
        return a && b ? EXP[LOG[a] + LOG[b]] : 0;
    }

    /* (x - a^0)(x - a^1)...(x - a^(n-1)), highest coefficient first */
    function generator(n) {
        var g = [1];
        for (var i = 0; i < n; i++) {
            var next = [];
            for (var k = 0; k <= g.length; k++) next.push(0);
            for (var j = 0; j < g.length; j++) {
                next[j] ^= g[j];
                next[j + 1] ^= gfMul(g[j], EXP[i]);
            }
            g = next;
        }
        return g;
    }

    /* Reed-Solomon: the remainder of data(x) * x^n divided by the generator */
    function errorCorrection(data, n) {
        var g = generator(n), rem = [];
        for (var i = 0; i < n; i++) rem.push(0);
        for (i = 0; i < data.length; i++) {
            var factor = data[i] ^ rem.shift();
            rem.push(0);
            for (var j = 0; j < n; j++) rem[j] ^= gfMul(g[j + 1], factor);
        }
        return rem;
    }

    /* Level M: EC codewords per block and the blocks' data lengths, by version */
    var LEVEL_M = [
        null,
        [10, [16]], [16, [28]], [26, [44]], [18, [32, 32]], [24, [43, 43]],
        [16, [27, 27, 27, 27]], [18, [31, 31, 31, 31]], [22, [38, 38, 39, 39]],
        [22, [36, 36, 36, 37, 37]], [26, [43, 43, 43, 43, 44]],
    ];
    var ALIGN = [null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38],
        [6, 24, 42], [6, 26, 46], [6, 28, 50]];

    function utf8(text) {
        var s = unescape(encodeURIComponent(text)), out = [];
        for (var i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
        return out;
    }

    function sum(list) {
        var n = 0;
        for (var i = 0; i < list.length; i++) n += list[i];
        return n;
    }

    /* The codewords (data, then EC, interleaved by block) for bytes at version v */
    function codewords(bytes, v) {
        var spec = LEVEL_M[v], capacity = sum(spec[1]), bits = [];
        function put(value, n) {
            for (var i = n - 1; i >= 0; i--) bits.push((value >>> i) & 1);
        }
        put(4, 4); /* byte mode */
        put(bytes.length, v < 10 ? 8 : 16);
        for (var i = 0; i < bytes.length; i++) put(bytes[i], 8);
        put(0, Math.min(4, capacity * 8 - bits.length)); /* terminator */
        while (bits.length % 8) bits.push(0);
        var data = [];
        for (i = 0; i < bits.length; i += 8) {
            var b = 0;
            for (var j = 0; j < 8; j++) b = (b << 1) | bits[i + j];
            data.push(b);
        }
        for (var pad = 0xec; data.length < capacity; pad ^= 0xec ^ 0x11) data.push(pad);
        var blocks = [], at = 0;
        for (i = 0; i < spec[1].length; i++) {
            var block = data.slice(at, at + spec[1][i]);
            at += spec[1][i];
            blocks.push({data: block, ec: errorCorrection(block, spec[0])});
        }
        var out = [], longest = spec[1][spec[1].length - 1];
        for (i = 0; i < longest; i++)
            for (j = 0; j < blocks.length; j++)
                if (i < blocks[j].data.length) out.push(blocks[j].data[i]);
        for (i = 0; i < spec[0]; i++)
            for (j = 0; j < blocks.length; j++) out.push(blocks[j].ec[i]);
        return out;
    }

    function Matrix(v) {
        this.size = 17 + 4 * v;
        this.dark = [];
        this.fixed = [];
        for (var i = 0; i < this.size * this.size; i++) {
            this.dark.push(false);
            this.fixed.push(false);
        }
    }
    Matrix.prototype.set = function (x, y, dark) {
        this.dark[y * this.size + x] = dark;
        this.fixed[y * this.size + x] = true;
    };
    Matrix.prototype.get = function (x, y) {
        return this.dark[y * this.size + x];
    };

    function finder(m, cx, cy) { /* 7x7 with its light separator */
        for (var dy = -1; dy <= 7; dy++)
            for (var dx = -1; dx <= 7; dx++) {
                var x = cx + dx, y = cy + dy;
                if (x < 0 || y < 0 || x >= m.size || y >= m.size) continue;
                var inside = dx >= 0 && dx <= 6 && dy >= 0 && dy <= 6;
                var ring = dx === 0 || dx === 6 || dy === 0 || dy === 6;
                var core = dx >= 2 && dx <= 4 && dy >= 2 && dy <= 4;
                m.set(x, y, inside && (ring || core));
            }
    }

    function bch(value, poly, bits) { /* remainder of value * x^bits by poly */
        var degree = 0;
        while (poly >>> (degree + 1)) degree++;
        var rem = value << degree;
        for (var i = bits + degree - 1; i >= degree; i--)
            if ((rem >>> i) & 1) rem ^= poly << (i - degree);
        return rem;
    }

    function formatBits(m, mask) {
        var data = (0 << 3) | mask; /* level M is 00 */
        var bits = ((data << 10) | bch(data, 0x537, 5)) ^ 0x5412, s = m.size;
        function bit(i) {
            return ((bits >>> i) & 1) === 1;
        }
        for (var i = 0; i <= 5; i++) m.set(8, i, bit(i));
        m.set(8, 7, bit(6));
        m.set(8, 8, bit(7));
        m.set(7, 8, bit(8));
        for (i = 9; i < 15; i++) m.set(14 - i, 8, bit(i));
        for (i = 0; i < 8; i++) m.set(s - 1 - i, 8, bit(i));
        for (i = 8; i < 15; i++) m.set(8, s - 15 + i, bit(i));
        m.set(8, s - 8, true); /* the dark module */
    }

    function functionPatterns(m, v) {
        var s = m.size, i;
        finder(m, 0, 0);
        finder(m, s - 7, 0);
        finder(m, 0, s - 7);
        for (i = 8; i < s - 8; i++) {
            m.set(i, 6, i % 2 === 0);
            m.set(6, i, i % 2 === 0);
        }
        var pos = ALIGN[v];
        for (var a = 0; a < pos.length; a++)
            for (var b = 0; b < pos.length; b++) {
                var last = pos.length - 1;
                if ((a === 0 && b === 0) || (a === 0 && b === last) || (a === last && b === 0))
                    continue;
                for (var dy = -2; dy <= 2; dy++)
                    for (var dx = -2; dx <= 2; dx++)
                        m.set(pos[a] + dx, pos[b] + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
            }
        formatBits(m, 0); /* reserves the format areas; written again with the mask */
        if (v >= 7) {
            var bits = (v << 12) | bch(v, 0x1f25, 6);
            for (i = 0; i < 18; i++) {
                var dark = ((bits >>> i) & 1) === 1, p = s - 11 + (i % 3), q = Math.floor(i / 3);
                m.set(p, q, dark);
                m.set(q, p, dark);
            }
        }
    }

    function placeData(m, data) {
        var s = m.size, i = 0, total = data.length * 8;
        for (var right = s - 1; right >= 1; right -= 2) {
            if (right === 6) right = 5; /* the vertical timing pattern */
            var upward = ((right + 1) & 2) === 0;
            for (var vert = 0; vert < s; vert++)
                for (var j = 0; j < 2; j++) {
                    var x = right - j, y = upward ? s - 1 - vert : vert;
                    if (m.fixed[y * s + x]) continue;
                    m.dark[y * s + x] = i < total && ((data[i >>> 3] >>> (7 - (i & 7))) & 1) === 1;
                    i++;
                }
        }
    }

    var MASKS = [
        function (x, y) { return (x + y) % 2 === 0; },
        function (x, y) { return y % 2 === 0; },
        function (x) { return x % 3 === 0; },
        function (x, y) { return (x + y) % 3 === 0; },
        function (x, y) { return (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0; },
        function (x, y) { return ((x * y) % 2) + ((x * y) % 3) === 0; },
        function (x, y) { return (((x * y) % 2) + ((x * y) % 3)) % 2 === 0; },
        function (x, y) { return (((x + y) % 2) + ((x * y) % 3)) % 2 === 0; },
    ];

    function applyMask(m, k) {
        for (var y = 0; y < m.size; y++)
            for (var x = 0; x < m.size; x++)
                if (!m.fixed[y * m.size + x] && MASKS[k](x, y))
                    m.dark[y * m.size + x] = !m.dark[y * m.size + x];
    }

    /* The standard's penalty: long runs, 2x2 blocks, finder look-alikes, and
     * a dark share far from half. */
    function penalty(m) {
        var s = m.size, score = 0, darkCount = 0, x, y;
        function line(get) {
            var run = 1, prev = get(0), bits = prev ? 1 : 0;
            for (var i = 1; i < s; i++) {
                var d = get(i);
                bits = ((bits << 1) | (d ? 1 : 0)) & 0x7ff;
                if (d === prev) {
                    run++;
                } else {
                    if (run >= 5) score += run - 2;
                    run = 1;
                    prev = d;
                }
                if (i >= 10 && (bits === 0x5d0 || bits === 0x05d)) score += 40;
            }
            if (run >= 5) score += run - 2;
        }
        for (y = 0; y < s; y++) line(function (i) { return m.get(i, y); });
        for (x = 0; x < s; x++) line(function (i) { return m.get(x, i); });
        for (y = 0; y < s; y++)
            for (x = 0; x < s; x++) {
                if (m.get(x, y)) darkCount++;
                if (x < s - 1 && y < s - 1) {
                    var c = m.get(x, y);
                    if (c === m.get(x + 1, y) && c === m.get(x, y + 1) && c === m.get(x + 1, y + 1))
                        score += 3;
                }
            }
        score += Math.floor(Math.abs((darkCount * 100) / (s * s) - 50) / 5) * 10;
        return score;
    }

    function encode(text) {
        var bytes = utf8(text), v;
        for (v = 1; v <= 10; v++) {
            var capacity = sum(LEVEL_M[v][1]) * 8;
            if (4 + (v < 10 ? 8 : 16) + bytes.length * 8 <= capacity) break;
        }
        if (v > 10) return null;
        var data = codewords(bytes, v), best = null, bestScore = Infinity;
        for (var k = 0; k < 8; k++) {
            var m = new Matrix(v);
            functionPatterns(m, v);
            placeData(m, data);
            applyMask(m, k);
            formatBits(m, k);
            var score = penalty(m);
            if (score < bestScore) {
                best = m;
                bestScore = score;
            }
        }
        return {
            size: best.size,
            version: v,
            dark: function (x, y) { return best.get(x, y); },
        };
    }

    function draw(canvas, text, scale) {
        var qr = encode(text);
        if (!qr) return false;
        scale = scale || 6;
        var quiet = 4, n = qr.size + 2 * quiet;
        canvas.width = canvas.height = n * scale;
        var g = canvas.getContext('2d');
        g.fillStyle = '#fff';
        g.fillRect(0, 0, n * scale, n * scale);
        g.fillStyle = '#000';
        for (var y = 0; y < qr.size; y++)
            for (var x = 0; x < qr.size; x++)
                if (qr.dark(x, y)) g.fillRect((x + quiet) * scale, (y + quiet) * scale, scale, scale);
        return true;
    }

    var api = {encode: encode, draw: draw};
    if (typeof window !== 'undefined') window.SyncQR = api;
    if (typeof module !== 'undefined') module.exports = api;
})();
