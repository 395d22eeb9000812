import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECEIVERS } from '../../../src/receivers/registry.js';
import type { RawRequest } from '../../../src/receivers/types.js';
import {
  SECRETS as AZURE,
  checkRequest,
  serviceHookRequest,
} from '../../fixtures/azure-devops-request.js';
import { githubRequest } from '../../fixtures/github-request.js';
import { gitlabRequest } from '../../fixtures/gitlab-request.js';
import {
  SECRET,
  VERIFY,
  built,
  signedRequest,
  testContext,
  verifiedRequest,
} from '../../fixtures/standard-webhook-request.js';

/**
 * Every JSON block in docs/ and deploy/ that is announced by `<!-- example: <receiver> [k=v] -->`
 * is signed the way that sender signs and fed to the receiver: it must verify, normalize, and
 * every event it yields must validate against its type's schema.
 */

const root = join(import.meta.dirname, '../../..');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

interface Example {
  file: string;
  receiver: string;
  options: Record<string, string>;
  json: string;
}

const EXAMPLE = /<!-- example: ([a-z-]+)((?: [a-z]+(?:=[^>]*?)?)*) -->\s*```json\n([\s\S]*?)```/g;

function examples(): Example[] {
  const out: Example[] = [];
  for (const path of [
    ...markdownFiles(join(root, 'docs')),
    ...markdownFiles(join(root, 'deploy')),
  ]) {
    for (const [, receiver, rest, json] of readFileSync(path, 'utf8').matchAll(EXAMPLE)) {
      const options: Record<string, string> = {};
      // `event=Deployment Hook` may hold spaces: the value runs to the next ` key=` or the end.
      for (const [, k, v] of (rest ?? '').matchAll(
        / ([a-z]+)(?:=(.*?))?(?= [a-z]+=| [a-z]+$|$)/g,
      )) {
        options[k!] = v ?? 'true';
      }
      out.push({ file: relative(root, path), receiver: receiver!, options, json: json! });
    }
  }
  return out;
}

const GITHUB = 'gh-secret-of-the-examples-test';
const GITLAB = 'gl-token';

/** A delivery of `example` signed the way its sender signs. */
function delivery({ receiver, options, json }: Example): { request: RawRequest; secrets: unknown } {
  const payload = JSON.parse(json) as unknown;
  switch (receiver) {
    case 'github':
      return {
        request: githubRequest(options.event!, payload, { secret: GITHUB, body: json }),
        secrets: [GITHUB],
      };
    case 'gitlab':
      return {
        request: gitlabRequest(options.event!, payload, { token: GITLAB }),
        secrets: { tokens: [GITLAB] },
      };
    case 'azure-devops':
      return {
        request: options.check ? checkRequest(payload) : serviceHookRequest(payload),
        secrets: AZURE,
      };
    case 'generic':
      return {
        request: signedRequest(json, { params: { source: options.source ?? 'docs' } }),
        secrets: { secrets: [SECRET] },
      };
    default:
      return { request: signedRequest(json), secrets: { secrets: [SECRET] } };
  }
}

describe('example payloads in the docs', () => {
  const all = examples();

  it('exist for every receiver', () => {
    expect(new Set(all.map((e) => e.receiver))).toEqual(new Set(Object.keys(RECEIVERS)));
  });

  it.each(all.map((e) => [`${e.file}: ${e.receiver} ${JSON.stringify(e.options)}`, e] as const))(
    '%s is accepted by its receiver and yields valid events',
    async (_name, example) => {
      const entry = RECEIVERS[example.receiver];
      expect(entry, example.receiver).toBeDefined();
      const { request, secrets } = delivery(example);
      const receiver = entry!.receiver as unknown as {
        verify: (r: RawRequest, s: unknown, o: typeof VERIFY) => { deliveryId: string };
        normalize: (
          r: ReturnType<typeof verifiedRequest>,
          c: ReturnType<typeof testContext>,
        ) => Promise<Parameters<typeof built>[0]>;
      };
      const { deliveryId } = receiver.verify(request, secrets, VERIFY);
      const normalized = await receiver.normalize(
        verifiedRequest(request, deliveryId),
        testContext(),
      );
      expect(normalized.kind).toBe('events');
      const events = built(normalized);
      expect(events.length).toBeGreaterThan(0);
      for (const event of events) expect(event.type).not.toBe('dev.changegate.webhook.received');
    },
  );
});
