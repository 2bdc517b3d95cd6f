// Test helper: runs the built collector (dist/apps/collector-consul/main.js) as a real process.
import { AppProcess, writeTempFile } from '@registry-bridge/test-peers';
import { resolve } from 'node:path';

export const MAIN_JS = resolve(__dirname, '../../../../dist/apps/collector-consul/main.js');

export type CollectorProcess = AppProcess;

export const writeConfig = (text: string): string => writeTempFile('rb-collector-consul-', text);

export function startCollector(configFile: string, port: number, env: NodeJS.ProcessEnv = {}): Promise<CollectorProcess> {
  return new AppProcess({ name: 'collector-consul', main: MAIN_JS, port, configFile, env: { RB__log__level: 'info', ...env } }).start();
}
