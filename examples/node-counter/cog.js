// The Counter cog: HTTP on the socket the host names, every request's signature checked, callbacks to the host's
// socket with this process's secret. docs/external-cogs.md describes each step.
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');

const { GUILDHALL_SOCKET, GUILDHALL_HOST_SOCKET, GUILDHALL_SECRET } = process.env;
const hostAgent = new http.Agent({ keepAlive: true });

// The host's signature over the method, target, request id, time, identity and guild (base64 JSON) fields.
function signedByHost(req) {
  const h = (name) => req.headers[name] || '';
  const timestamp = Number(h('x-guildhall-timestamp'));
  if (!Number.isFinite(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 300) return false;
  const text = ['v1', req.method, req.url, h('x-guildhall-request-id'), h('x-guildhall-timestamp'),
    h('x-guildhall-identity'), h('x-guildhall-guild')].join('\n');
  const expected = crypto.createHmac('sha256', GUILDHALL_SECRET).update(text).digest('hex');
  const given = Buffer.from(h('x-guildhall-signature'));
  return given.length === expected.length && crypto.timingSafeEqual(given, Buffer.from(expected));
}

function decoded(header) {
  return header ? JSON.parse(Buffer.from(header, 'base64').toString()) : null;
}

// One callback into the host; resolves with [status, JSON].
function callHost(method, path, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({
      socketPath: GUILDHALL_HOST_SOCKET, path, method, agent: hostAgent,
      headers: { Authorization: `Bearer ${GUILDHALL_SECRET}`, ...(payload ? { 'Content-Type': 'application/json' } : {}) },
    }, (res) => {
      let data = '';
      res.on('data', (chunk) => { data += chunk; });
      res.on('end', () => resolve([res.statusCode, data ? JSON.parse(data) : null]));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function answer(res, status, value) {
  const body = value === undefined ? '' : JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function count(guild) {
  const [status, item] = await callHost('GET', `/v1/kv?key=count&guild_id=${guild}`);
  return status === 200 ? item : { value: 0, version: 0 };
}

async function handle(req, res) {
  if (!signedByHost(req)) return answer(res, 401, { error: 'invalid_signature', message: 'Not signed by the host.' });
  const guild = decoded(req.headers['x-guildhall-guild']);
  if (req.url === '/health') return answer(res, 200, { status: 'ok' });
  if (req.url === '/api/counter/ping') return answer(res, 200, { pong: true });
  if (req.url === '/api/counter' && req.method === 'GET') return answer(res, 200, { count: (await count(guild.id)).value });
  if (req.url === '/api/counter' && req.method === 'POST') {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await count(guild.id);
      const [status] = await callHost('PUT', '/v1/kv', {
        key: 'count', value: current.value + 1, guild_id: guild.id, if_version: current.version,
      });
      if (status === 200) {
        await callHost('POST', '/v1/events', { name: 'counter.incremented', payload: { count: current.value + 1 }, guild_id: guild.id });
        return answer(res, 200, { count: current.value + 1 });
      }
      if (status !== 409) break;  // someone else counted first: read again
    }
    return answer(res, 503, { error: 'busy', message: 'The counter is contended; try again.' });
  }
  return answer(res, 404, { error: 'not_found', message: `Nothing is served at ${req.url}.` });
}

const server = http.createServer((req, res) => {
  req.resume();  // no route here reads a body
  req.on('end', () => handle(req, res).catch((error) => {
    console.error(error);
    answer(res, 500, { error: 'cog_error', message: 'The counter failed.' });
  }));
});
server.keepAliveTimeout = 60000;
server.listen(GUILDHALL_SOCKET);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
