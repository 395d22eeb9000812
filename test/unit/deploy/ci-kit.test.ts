import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { azureDevopsReceiver } from '../../../src/providers/azure-devops/receiver/index.js';
import { githubReceiver } from '../../../src/providers/github/receiver/index.js';
import { jenkinsReceiver } from '../../../src/providers/jenkins/receiver/index.js';
import { sign } from '../../../src/security/standard-webhooks.js';
import {
  AUTH_TOKEN,
  SECRETS as AZURE_SECRETS,
  checkRequest,
} from '../../fixtures/azure-devops-request.js';
import {
  githubFixture,
  githubRequest,
  verified,
  type GithubFixtureName,
} from '../../fixtures/github-request.js';
import {
  SECRET,
  VERIFY,
  onlyEvent,
  signedRequest,
  testContext,
  verifiedRequest,
} from '../../fixtures/standard-webhook-request.js';

const kit = join(import.meta.dirname, '../../../deploy/ci');
const read = (file: string) => readFileSync(join(kit, file), 'utf8');
const ctx = testContext();

describe('GitHub App manifest', () => {
  const manifest = JSON.parse(read('github/app-manifest.json')) as {
    hook_attributes: { url: string; active: boolean };
    default_permissions: Record<string, string>;
    default_events: string[];
    public: boolean;
  };

  it('asks for Actions read, Deployments write and the deployment_protection_rule event', () => {
    expect(manifest.default_permissions).toEqual({
      actions: 'read',
      contents: 'read',
      deployments: 'write',
    });
    expect(manifest.default_events).toContain('deployment_protection_rule');
    expect(manifest.hook_attributes).toEqual({
      url: expect.stringMatching(/^https:\/\/[^/]+\/hooks\/github$/),
      active: true,
    });
    expect(manifest.public).toBe(false);
  });

  it('subscribes only to events changegate turns into deployment or pipeline events', async () => {
    const fixtures: Record<string, GithubFixtureName> = {
      deployment_protection_rule: 'synthetic-deployment_protection_rule.requested',
      deployment_status: 'deployment_status.success',
      workflow_run: 'workflow_run.completed',
    };
    for (const event of manifest.default_events) {
      expect(fixtures, event).toHaveProperty([event]);
      const raw = githubRequest(event, githubFixture(fixtures[event]!), { secret: 's' });
      const { deliveryId } = githubReceiver.verify(raw, ['s'], VERIFY);
      const normalized = await githubReceiver.normalize(verified(raw, deliveryId), ctx);
      expect(onlyEvent(normalized).type, event).not.toBe('dev.changegate.webhook.received');
    }
  });
});

describe('Jenkins shared-library step', () => {
  const groovy = read('jenkins/vars/changegateGate.groovy');

  it('documents a signing vector that changegate’s sign() reproduces', () => {
    const field = (name: string) =>
      new RegExp(`//\\s+${name}\\s+(.+)$`, 'm').exec(groovy)?.[1]?.trim() ?? '';
    const signed = sign(
      field('secret'),
      field('id'),
      new Date(Number(field('timestamp')) * 1000),
      field('body'),
    );
    expect(field('signature')).toMatch(/^v1,/);
    expect(signed['webhook-signature']).toBe(field('signature'));
  });

  it('signs the way Standard Webhooks does: base64 key after whsec_, id.timestamp.body, v1,', () => {
    expect(groovy).toContain("secret.startsWith('whsec_') ? secret.substring(6) : secret");
    expect(groovy).toContain("Mac.getInstance('HmacSHA256')");
    expect(groovy).toContain('Base64.getDecoder().decode(encoded)');
    expect(groovy).toContain('"${id}.${timestamp}.${body}".toString().getBytes(\'UTF-8\')');
    expect(groovy).toContain("'v1,' + Base64.getEncoder().encodeToString(digest)");
    // The body that is signed is the body that is sent, byte for byte.
    expect(groovy).toContain(
      "connection.outputStream.withCloseable { it.write(body.getBytes('UTF-8')) }",
    );
    for (const header of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      expect(groovy).toContain(`setRequestProperty('${header}'`);
    }
  });

  it('waits in the input step changegate releases, ChangeGate unless told otherwise', () => {
    expect(groovy).toContain("String inputId = args.inputId ?: 'ChangeGate'");
    expect(groovy).toMatch(/input id: inputId, message: .*, ok: 'Deploy', submitter: submitter/);
    expect(groovy).toContain(
      "data.callback = [kind: 'jenkins', url: env.BUILD_URL, inputId: inputId]",
    );
  });

  it('builds a body the Jenkins receiver accepts as a gate on that input', async () => {
    // The map deploymentData() + call() build, for BUILD_URL …/142/, GIT_COMMIT 9fceb02…, main.
    const body = {
      type: 'deployment.requested',
      timestamp: '2026-11-25T09:00:00Z',
      data: {
        project: 'payments/main',
        environment: 'production',
        deploymentId: '9fceb02d0ae598e95dc970b74767f19372d61af8-production',
        run: {
          id: 'jenkins-payments-main-142',
          url: 'https://jenkins.example.com/job/payments/job/main/142/',
          name: 'payments/main #142',
        },
        commit: { sha: '9fceb02d0ae598e95dc970b74767f19372d61af8', ref: 'origin/main' },
        actor: 'jdoe',
        callback: {
          kind: 'jenkins',
          url: 'https://jenkins.example.com/job/payments/job/main/142/',
          inputId: 'ChangeGate',
        },
      },
    };
    const raw = signedRequest(body);
    const { deliveryId } = jenkinsReceiver.verify(raw, { secrets: [SECRET] }, VERIFY);
    const event = onlyEvent(await jenkinsReceiver.normalize(verifiedRequest(raw, deliveryId), ctx));
    expect(event.type).toBe('dev.changegate.deployment.requested');
    expect(event.data).toMatchObject({
      provider: 'jenkins',
      environment: 'production',
      callback: { kind: 'jenkins', params: { inputId: 'ChangeGate' } },
    });
  });
});

describe('Azure DevOps check definition', () => {
  const headers = JSON.parse(read('azure-devops/check-headers.json')) as Record<string, string>;
  const body = JSON.parse(read('azure-devops/check-body.json')) as Record<string, string>;

  /** What Azure Pipelines substitutes for the macros on a run. */
  const VARIABLES: Record<string, string> = {
    'system.CollectionUri': 'https://dev.azure.com/fabrikam/',
    'system.TeamProjectId': '7c1a3f0e-2b4d-4e6f-8a9b-0c1d2e3f4a5b',
    'system.HostType': 'build',
    'system.PlanId': '4a0b2d6e-8c1f-4e3a-9b5d-7f6e0c2a1b38',
    'system.JobId': '12f1170f-54f2-53f3-20dd-22fc7dff55f9',
    'system.TimelineId': 'b8a6c0d2-3e4f-4a5b-8c9d-0e1f2a3b4c5d',
    'system.TaskInstanceId': 'e1d2c3b4-a596-4788-99aa-bbccddeeff00',
    'system.AccessToken': AUTH_TOKEN,
    'Environment.Name': 'production',
    'System.TeamProject': 'Payments',
    'System.CollectionUri': 'https://dev.azure.com/fabrikam/',
    'Build.Repository.Name': 'payments-api',
    'Build.DefinitionName': 'payments-deploy',
    'Build.BuildId': '2719',
    'Build.BuildNumber': '20261125.4',
    'Build.SourceVersion': '5f2c9a1e7b3d4c6a8e0f1b2c3d4e5f6a7b8c9d0e',
    'Build.SourceBranch': 'refs/heads/main',
    'Build.RequestedFor': 'Normal Paulk',
    // ChangeNumber and Emergency are left undefined: Azure sends the macro text unexpanded.
  };
  const expand = (value: string) =>
    value.replace(/\$\(([^)]+)\)/g, (macro, name: string) => VARIABLES[name] ?? macro);

  it('sends the default check headers changegate needs to complete the check', () => {
    expect(Object.keys(headers).sort()).toEqual(
      [
        'AuthToken',
        'Content-Type',
        'HubName',
        'JobId',
        'PlanId',
        'PlanUrl',
        'ProjectId',
        'TaskInstanceId',
        'TimelineId',
      ].sort(),
    );
  });

  it('registers a gate with a plan-events callback when Azure expands it on a run', async () => {
    const expandedHeaders = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, expand(v)]),
    );
    const expandedBody = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, expand(v)]));
    const raw = checkRequest(expandedBody, { headers: expandedHeaders });
    const { deliveryId } = azureDevopsReceiver.verify(raw, AZURE_SECRETS, VERIFY);
    const normalized = await azureDevopsReceiver.normalize(verifiedRequest(raw, deliveryId), ctx);
    const event = onlyEvent(normalized);
    expect(event.type).toBe('dev.changegate.deployment.requested');
    expect(event.data).toMatchObject({
      project: 'Payments/payments-api',
      environment: 'production',
      deploymentId: '2719-production',
      emergency: false,
      run: { id: '2719', name: '20261125.4' },
      callback: {
        kind: 'azure-devops',
        url: 'https://dev.azure.com/fabrikam/7c1a3f0e-2b4d-4e6f-8a9b-0c1d2e3f4a5b/_apis/distributedtask/hubs/build/plans/4a0b2d6e-8c1f-4e3a-9b5d-7f6e0c2a1b38/events',
      },
    });
    expect(event.data).not.toHaveProperty('changeNumber');
    expect(JSON.stringify(event)).not.toContain(AUTH_TOKEN);
  });
});

describe('kit files', () => {
  it('reference only receiver routes that exist', () => {
    const routes = new Set([
      '/hooks/github',
      '/hooks/gitlab',
      '/hooks/jenkins',
      '/hooks/azure-devops',
      '/hooks/servicenow',
    ]);
    for (const file of [
      'github/README.md',
      'gitlab/README.md',
      'azure-devops/README.md',
      'jenkins/README.md',
    ]) {
      for (const [route] of read(file).matchAll(/\/hooks\/[a-z-]+/g)) {
        expect(routes, `${file}: ${route}`).toContain(route);
      }
    }
  });
});
