import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { isAncestrydError } from '../../../src/errors';
import { Metrics } from '../../../src/daemon/metrics/metrics';
import { RENDER_INTERVAL_MS, startMetricsServer, type MetricsServer } from '../../../src/daemon/metrics/metrics-server';

function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics server (real HTTP)', () => {
  const metrics = new Metrics();
  let server: MetricsServer;
  before(async () => { server = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics }); });
  after(async () => { await server.close(); metrics.close(); });

  it('serves /metrics in the Prometheus text format', async () => {
    metrics.tallies.events.exec = 42;
    const r = await get(`${server.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    assert.match(r.body, /^ancestryd_events_total\{type="exec"\} 42$/m);
    assert.match(r.body, /^ancestryd_process_resident_memory_bytes \d+/m);
  });

  it('answers /readyz 503 until the pipeline is ready, then 200, and 503 again at shutdown', async () => {
    let r = await get(`${server.url}/readyz`);
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), { status: 'not ready', reason: 'starting' });
    metrics.setReady(true);
    r = await get(`${server.url}/readyz`);
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).status, 'ready');
    metrics.setReady(false, 'shutting down');
    r = await get(`${server.url}/readyz`);
    assert.deepEqual([r.status, JSON.parse(r.body).reason], [503, 'shutting down']);
  });

  it('answers /healthz 200 while the event loop is responsive', async () => {
    const r = await get(`${server.url}/healthz`);
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body);
    assert.equal(body.status, 'ok');
    assert.equal(typeof body.event_loop_max_delay_ms, 'number');
    assert.match(r.type, /^application\/json/);
  });

  it('answers HEAD, 404 for other paths and 405 for other methods', async () => {
    const head = await get(`${server.url}/healthz`, 'HEAD');
    assert.deepEqual([head.status, head.body], [200, '']);
    assert.equal((await get(`${server.url}/nope`)).status, 404);
    assert.equal((await get(`${server.url}/metrics`, 'POST')).status, 405);
  });

  it('names metrics_address when it cannot listen', async () => {
    await assert.rejects(startMetricsServer({ host: '127.0.0.1', port: server.port, metrics }), (err) => {
      assert.ok(isAncestrydError(err, 'ANC_CONFIG_INVALID'));
      assert.match(err.message, new RegExp(`^metrics_address: cannot listen on 127\\.0\\.0\\.1:${server.port} \\(EADDRINUSE\\): another process listens there`));
      return true;
    });
  });

  it('issue 10: /healthz keeps reporting a stall to every probe in its window: probes cannot reset it', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const s = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics: m, maxEventLoopDelayMs: 100 });
    try {
      assert.equal((await get(`${s.url}/healthz`)).status, 200);
      // Longer than the sampler's resolution (LOOP_DELAY_RESOLUTION_MS, 1 s), so it is seen for certain.
      const until = Date.now() + 1300;
      while (Date.now() < until) { /* a 1.3 s stall of the event loop */ }
      // The sampler records a delay at its next tick, up to its resolution later.
      await new Promise((r) => setTimeout(r, 1200));
      // An unprivileged user's probe flood, then the real probe: all see it.
      const seen = await Promise.all(Array.from({ length: 20 }, () => get(`${s.url}/healthz`)));
      assert.deepEqual([...new Set(seen.map((r) => r.status))], [503]);
      const real = await get(`${s.url}/healthz`);
      assert.equal(real.status, 503);
      assert.match(JSON.parse(real.body).reason, /event loop blocked for \d+ ms \(limit 100 ms\)/);
    } finally {
      await s.close();
      m.close();
    }
  });

  it('stops listening on close (idempotent)', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const s = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics: m });
    assert.equal((await get(`${s.url}/healthz`)).status, 200);
    await s.close();
    await s.close();
    await assert.rejects(get(`${s.url}/healthz`), /ECONNREFUSED/);
    m.close();
  });

  it('issue 10: a scrape flood renders /metrics at most once per interval, and every scrape is answered', async () => {
    const m = new Metrics({ defaultMetrics: false });
    let renders = 0;
    const expose = m.expose.bind(m);
    m.expose = () => {
      renders++;
      return expose();
    };
    const s = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics: m });
    try {
      const t0 = performance.now();
      const answers = await Promise.all(Array.from({ length: 300 }, () => get(`${s.url}/metrics`)));
      const secs = (performance.now() - t0) / 1000;
      assert.ok(answers.every((a) => a.status === 200 && a.body.includes('ancestryd_events_total')));
      assert.ok(renders <= Math.ceil(secs / (RENDER_INTERVAL_MS / 1000)) + 1, `${renders} renders for 300 scrapes in ${secs.toFixed(2)} s`);
      // A later scrape sees new values.
      m.tallies.events.exec += 5;
      await new Promise((r) => setTimeout(r, RENDER_INTERVAL_MS + 50));
      assert.match((await get(`${s.url}/metrics`)).body, /ancestryd_events_total\{type="exec"\} 5/);
    } finally {
      await s.close();
      m.close();
    }
  });
});
