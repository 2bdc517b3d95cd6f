// Every app's config schema. An app imports its own entry point (`@registry-bridge/config/<app>`),
// so its bundle holds no other app's schema; the CLI, the docs and the chart tests import them all.
export * from './writer';
export * from './collector';
export * from './consul';
export * from './eureka';
export * from './cloudmap';
