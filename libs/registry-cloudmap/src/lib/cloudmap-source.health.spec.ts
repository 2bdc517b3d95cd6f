import { CloudMapSourceHealth } from './cloudmap-source.health';

const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

describe('CloudMapSourceHealth', () => {
  it('is unreachable until a complete inventory was read', () => {
    const h = new CloudMapSourceHealth();
    expect(h.view(0)).toEqual({ reachable: false, conditions: { inventoryReady: false, services: 0 } });
    expect(h.pollCycled(false)).toBe(false);
    expect(h.isReachable).toBe(false);
    expect(h.inventoryListed()).toBe(true);
    expect(h.view(3)).toEqual({ reachable: true, conditions: { inventoryReady: true, services: 3 } });
  });

  it.each<[string, (h: CloudMapSourceHealth) => boolean, boolean]>([
    ['a failed inventory', (h) => h.inventoryFailedWith(throttled), true],
    ['a poll cycle whose every read failed', (h) => h.pollCycled(true, throttled), true],
    ['a poll cycle where some reads failed', (h) => h.pollCycled(false, throttled), false],
  ])('%s: unreachable %s', (_n, event, unreachable) => {
    const h = new CloudMapSourceHealth();
    h.inventoryListed();
    expect(event(h)).toBe(unreachable);
    expect(h.isReachable).toBe(!unreachable);
    expect(h.view(1).error).toBe(unreachable ? 'ThrottlingException: Rate exceeded' : undefined);
  });

  it('becomes reachable again when what failed succeeds, keeping the last error and success time', () => {
    const h = new CloudMapSourceHealth();
    h.inventoryListed();
    h.success(1000);
    h.inventoryFailedWith(throttled);
    expect(h.inventoryFailed).toBe(true);
    expect(h.inventoryListed()).toBe(true);
    expect(h.inventoryFailed).toBe(false);
    expect(h.view(1)).toEqual({ reachable: true, lastSuccessAt: 1000, error: 'ThrottlingException: Rate exceeded', conditions: { inventoryReady: true, services: 1 } });
  });

  it('a failed inventory after a successful one keeps the inventory ready', () => {
    const h = new CloudMapSourceHealth();
    h.inventoryListed();
    h.inventoryFailedWith(throttled);
    expect(h.view(1).conditions).toEqual({ inventoryReady: true, services: 1 });
  });
});
