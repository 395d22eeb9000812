import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { ServiceNowSchema } from '../../../src/config/servicenow.js';
import { flattenRecord, flattenRecords } from '../../../src/servicenow/flatten.js';

/** Kafka starts need a sealing key. */
const KEY = Buffer.alloc(32, 1).toString('base64');

describe('servicenow record flattening', () => {
  it('flattens {value, display_value} fields to their values', () => {
    expect(
      flattenRecord({
        sys_id: { value: 'abc', display_value: 'abc' },
        state: { value: '-4', display_value: 'Assess' },
        cmdb_ci: { value: 'ci1', link: 'https://x/api/now/table/cmdb_ci/ci1' },
        number: 'CHG0000001',
        active: true,
        parent: null,
      }),
    ).toEqual({
      sys_id: 'abc',
      state: '-4',
      cmdb_ci: 'ci1',
      number: 'CHG0000001',
      active: 'true',
      parent: '',
    });
  });

  it('can flatten to display values instead', () => {
    expect(
      flattenRecord({ state: { value: '-4', display_value: 'Assess' } }, 'display_value'),
    ).toEqual({
      state: 'Assess',
    });
  });

  it('treats a single record as a list of one', () => {
    expect(flattenRecords({ a: '1' })).toEqual([{ a: '1' }]);
    expect(flattenRecords(undefined)).toEqual([]);
  });
});

describe('servicenow configuration', () => {
  it('validates existing configs that say nothing about ServiceNow', () => {
    const config = loadConfig({ env: { KAFKA_BROKERS: 'k:9092', CHANGEGATE_ENCRYPTION_KEY: KEY } });
    expect(config.servicenow).toEqual({ default: 'main', connections: {} });
  });

  it('builds an OAuth connection with defaults from the environment', () => {
    const config = loadConfig({
      env: {
        KAFKA_BROKERS: 'k:9092',
        CHANGEGATE_ENCRYPTION_KEY: KEY,
        CHANGEGATE_SERVICENOW_URL: 'https://acme.service-now.com/',
        CHANGEGATE_SERVICENOW_CLIENT_ID: 'id',
        CHANGEGATE_SERVICENOW_CLIENT_SECRET: 'secret',
      },
    });
    const main = config.servicenow.connections.main!;
    expect(main.url).toBe('https://acme.service-now.com');
    expect(main.auth).toEqual({
      type: 'oauth',
      clientId: 'id',
      clientSecret: 'secret',
      grant: 'client_credentials',
    });
    expect(main.maxRetries).toBe(4);
    expect(main.rateLimit).toEqual({ requestsPerSecond: 20, burst: 40 });
  });

  it('builds a basic-auth connection from user and password', () => {
    const config = loadConfig({
      env: {
        KAFKA_BROKERS: 'k:9092',
        CHANGEGATE_ENCRYPTION_KEY: KEY,
        CHANGEGATE_SERVICENOW_URL: 'https://acme.service-now.com',
        CHANGEGATE_SERVICENOW_USER: 'svc',
        CHANGEGATE_SERVICENOW_PASSWORD: 'pw',
      },
    });
    expect(config.servicenow.connections.main!.auth).toEqual({
      type: 'basic',
      username: 'svc',
      password: 'pw',
    });
  });

  it('names the bad key when the URL is set without credentials', () => {
    expect(() =>
      loadConfig({
        env: {
          KAFKA_BROKERS: 'k:9092',
          CHANGEGATE_ENCRYPTION_KEY: KEY,
          CHANGEGATE_SERVICENOW_URL: 'https://acme.service-now.com',
        },
      }),
    ).toThrow(/servicenow\.connections\.main\.auth/);
  });

  it('rejects a default that names no connection', () => {
    const parsed = ServiceNowSchema.safeParse({
      default: 'prod',
      connections: {
        dev: {
          url: 'https://dev.service-now.com',
          auth: { type: 'basic', username: 'u', password: 'p' },
        },
      },
    });
    expect(parsed.success).toBe(false);
  });

  it('requires username and password for the OAuth password grant', () => {
    const parsed = ServiceNowSchema.safeParse({
      connections: {
        main: {
          url: 'https://a.service-now.com',
          auth: { type: 'oauth', clientId: 'i', clientSecret: 's', grant: 'password' },
        },
      },
    });
    expect(parsed.success).toBe(false);
  });
});
