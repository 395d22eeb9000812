/**
 * All configured ServiceNow connections, by name.
 *
 * @module
 */
import type { ServiceNowConfig } from '../config/servicenow.js';
import { ConfigError } from '../errors.js';
import {
  createServiceNowClient,
  type ServiceNowClient,
  type ServiceNowClientOptions,
} from './client.js';

export interface ServiceNowClients {
  readonly clients: ReadonlyMap<string, ServiceNowClient>;
  /**
   * The client for a connection name, or the default connection.
   * @throws ConfigError when no such connection is configured.
   */
  clientFor(name?: string): ServiceNowClient;
}

/**
 * One client per configured connection (each with its own token cache and rate limit).
 * @example
 * const sn = createServiceNowClients(config.servicenow, { log });
 * await sn.clientFor(project.servicenow).change.get(sysId);
 */
export function createServiceNowClients(
  config: ServiceNowConfig,
  options: Omit<ServiceNowClientOptions, 'name'>,
): ServiceNowClients {
  const clients = new Map<string, ServiceNowClient>();
  for (const [name, connection] of Object.entries(config.connections)) {
    clients.set(name, createServiceNowClient(connection, { ...options, name }));
  }
  return {
    clients,
    clientFor(name) {
      const wanted = name ?? config.default;
      const client = clients.get(wanted);
      if (!client) {
        const known = [...clients.keys()];
        throw new ConfigError(
          [
            known.length === 0
              ? 'servicenow.connections: none configured (set CHANGEGATE_SERVICENOW_URL or servicenow.connections)'
              : `servicenow.connections.${wanted}: not configured (known: ${known.join(', ')})`,
          ],
          'servicenow',
        );
      }
      return client;
    },
  };
}
