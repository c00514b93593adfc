import parsePrometheus from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type BridgeProcess } from '../../helpers/bridge-process.js';
import { raw } from '../../helpers/signed-fetch.js';

let b: BridgeProcess;
beforeAll(async () => {
  b = await startBridge();
});
afterAll(async () => {
  await b.stop();
});

describe('health, readiness and metrics', () => {
  it('/health says the bridge is alive', async () => {
    const r = await raw(b.url, { path: '/health' });
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('ok');
  });

  it('/ready says the store is open and migrated', async () => {
    const r = await raw(b.url, { path: '/ready' });
    expect(r.status).toBe(200);
    expect(r.json.ready).toBe(true);
    expect(r.json.store).toMatchObject({ open: true, migrations: 'done' });
    expect(r.json.store.schemaVersion).toBeGreaterThanOrEqual(1);
  });

  it('/metrics parses as Prometheus text and counts what happened', async () => {
    const c = b.agent('metered');
    for (let i = 0; i < 3; i++) await c.append({ events: [{ type: 'custom.m', data: i }] });
    await raw(b.url, { path: '/v1/status' }); // unsigned: a security refusal
    const r = await fetch(`${b.url}/metrics`);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const families = parsePrometheus(await r.text());
    const byName = new Map(families.map((f) => [f.name, f]));
    for (const name of [
      'lighthouse_http_requests_total',
      'lighthouse_http_request_duration_seconds',
      'lighthouse_sessions_active',
      'lighthouse_agents_connected',
      'lighthouse_events_appended_total',
      'lighthouse_append_latency_seconds',
      'lighthouse_store_size_bytes',
      'lighthouse_security_events_total',
    ]) {
      expect(byName.has(name), name).toBe(true);
    }
    expect(families.every((f) => f.name.startsWith('lighthouse_'))).toBe(true);
    const appended = Number(byName.get('lighthouse_events_appended_total')!.metrics[0]!.value);
    expect(appended).toBeGreaterThanOrEqual(3);
    const posts = byName
      .get('lighthouse_http_requests_total')!
      .metrics.find(
        (m) => m.labels?.route === '/v1/events' && m.labels.method === 'POST' && m.labels.status === '201',
      );
    expect(Number(posts?.value)).toBe(3);
    const unsigned = byName
      .get('lighthouse_security_events_total')!
      .metrics.find((m) => m.labels?.kind === 'unsigned');
    expect(Number(unsigned?.value)).toBeGreaterThanOrEqual(1);
    expect(Number(byName.get('lighthouse_store_size_bytes')!.metrics[0]!.value)).toBeGreaterThan(0);
    expect(Number(byName.get('lighthouse_sessions_active')!.metrics[0]!.value)).toBeGreaterThanOrEqual(1);
  });
});
