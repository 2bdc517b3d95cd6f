import { MetricsService } from './metrics.service';

describe('MetricsService', () => {
  let metrics: MetricsService;
  beforeEach(() => (metrics = new MetricsService()));

  it('returns the same metric for the same name', () => {
    const a = metrics.counter('registry_bridge_things_total', 'things', ['source']);
    const b = metrics.counter('registry_bridge_things_total', 'things again', ['source']);
    expect(b).toBe(a);
    expect(metrics.histogram('registry_bridge_h_seconds', 'h')).toBe(metrics.histogram('registry_bridge_h_seconds', 'h'));
  });

  it('refuses names outside the registry_bridge_ namespace', () => {
    expect(() => metrics.counter('things_total', 'x')).toThrow(/must start with "registry_bridge_"/);
  });

  it('refuses the same name with another type or labels', () => {
    metrics.counter('registry_bridge_x_total', 'x', ['a']);
    expect(() => metrics.gauge('registry_bridge_x_total', 'x', ['a'])).toThrow(/already exists as a counter/);
    expect(() => metrics.counter('registry_bridge_x_total', 'x', ['b'])).toThrow(/labels \[a\]/);
  });

  it('renders Prometheus text with default process metrics and collected gauges', async () => {
    metrics.counter('registry_bridge_sent_total', 'sent', ['type']).inc({ type: 'upsert' }, 3);
    let depth = 7;
    metrics.gauge('registry_bridge_depth', 'depth', [], (g) => g.set(depth));
    metrics.histogram('registry_bridge_lat_seconds', 'lat', [], [0.1, 1]).observe(0.5);
    depth = 9;
    const text = await metrics.registry.metrics();
    expect(text).toContain('registry_bridge_sent_total{type="upsert"} 3');
    expect(text).toContain('registry_bridge_depth 9');
    expect(text).toContain('registry_bridge_lat_seconds_bucket{le="1"} 1');
    expect(text).toContain('process_cpu_user_seconds_total');
  });
});
