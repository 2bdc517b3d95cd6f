/** The `instance` of `POST /eureka/apps/<app>`, as a test registers it over REST. */
export interface EurekaInstanceBody {
  instanceId: string;
  hostName: string;
  app: string;
  ipAddr: string;
  status: string;
  vipAddress: string;
  port: { $: number; '@enabled': 'true' | 'false' };
  securePort?: { $: number; '@enabled': 'true' | 'false' };
  dataCenterInfo: Record<string, unknown>;
  leaseInfo: { durationInSecs: number; renewalIntervalInSecs?: number };
  metadata?: Record<string, string>;
}

/** The body of `POST /eureka/apps/<app>`: by default one UP instance on port 8080 with a 10-minute lease. */
export function eurekaInstance(app: string, id: string, ip: string, over: Partial<EurekaInstanceBody> = {}): { instance: EurekaInstanceBody } {
  return {
    instance: {
      instanceId: id,
      hostName: `${id}.test.local`,
      app,
      ipAddr: ip,
      status: 'UP',
      port: { $: 8080, '@enabled': 'true' },
      vipAddress: app.toLowerCase(),
      leaseInfo: { durationInSecs: 600 },
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
      ...over,
    },
  };
}
