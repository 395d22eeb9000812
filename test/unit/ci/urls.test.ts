import { describe, expect, it } from 'vitest';
import {
  apiVersionFor,
  asPreview,
  feedUrl,
  jwtExpiry,
  withApiVersion,
} from '../../../src/providers/azure-devops/callback.js';
import { messageId } from '../../../src/providers/generic/callback.js';
import { joinUrl } from '../../../src/ci/http.js';
import {
  capitaliseInputId,
  inputUrl,
  jenkinsRoot,
} from '../../../src/providers/jenkins/callback.js';

describe('Jenkins input URLs', () => {
  it('capitalises the first a-z letter of the input id, as InputStep.setId does', () => {
    expect(capitaliseInputId('changeGate')).toBe('ChangeGate');
    expect(capitaliseInputId('ChangeGate')).toBe('ChangeGate');
    expect(capitaliseInputId('9lives')).toBe('9lives');
  });

  it('joins the build URL and input action with exactly one slash', () => {
    expect(inputUrl('http://j/job/app/42/', 'changeGate', 'proceedEmpty')).toBe(
      'http://j/job/app/42/input/ChangeGate/proceedEmpty',
    );
    expect(inputUrl('http://j/job/app/42', 'ChangeGate', 'abort')).toBe(
      'http://j/job/app/42/input/ChangeGate/abort',
    );
  });

  it('finds the Jenkins root under a context path and in multibranch jobs', () => {
    expect(jenkinsRoot('https://ci.example.com/jenkins/job/org/job/app/job/main/7/')).toBe(
      'https://ci.example.com/jenkins/',
    );
    expect(jenkinsRoot('http://j:8080/job/app/42/')).toBe('http://j:8080/');
  });

  it('refuses a build URL with no /job/ segment', () => {
    expect(() => jenkinsRoot('http://j/view/all/')).toThrow(/not a \/job\//);
  });
});

describe('Azure DevOps URLs', () => {
  const events = 'https://dev.azure.com/acme/p1/_apis/distributedtask/hubs/checks/plans/pl1/events';

  it('adds the -preview flag the events API demands', () => {
    expect(asPreview('7.1')).toBe('7.1-preview.1');
    expect(asPreview('2.0-preview.1')).toBe('2.0-preview.1');
  });

  it('picks 7.1-preview.1 for Services and 6.0-preview.1 for a Server, unless configured', () => {
    expect(apiVersionFor(events)).toBe('7.1-preview.1');
    expect(apiVersionFor('https://acme.visualstudio.com/p1/_apis/x')).toBe('7.1-preview.1');
    expect(apiVersionFor('https://tfs.acme.example/tfs/DefaultCollection/p1/_apis/x')).toBe(
      '6.0-preview.1',
    );
    expect(apiVersionFor('https://tfs.acme.example/tfs/C/p1/_apis/x', '7.0')).toBe('7.0-preview.1');
  });

  it('replaces any api-version already on the URL', () => {
    expect(withApiVersion(`${events}?api-version=7.1`, '6.0-preview.1')).toBe(
      `${events}?api-version=6.0-preview.1`,
    );
  });

  it('derives the timeline record feed URL from the events URL', () => {
    expect(feedUrl(events, 'tl1', 'job1')).toBe(
      'https://dev.azure.com/acme/p1/_apis/distributedtask/hubs/checks/plans/pl1/timelines/tl1/records/job1/feed',
    );
  });

  it('reads the exp of a JWT-shaped job token, and nothing from anything else', () => {
    const jwt = (payload: object) =>
      `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
    expect(jwtExpiry(jwt({ exp: 1_800_000_000 }))).toBe(1_800_000_000_000);
    expect(jwtExpiry(jwt({ exp: 'soon' }))).toBeUndefined();
    expect(jwtExpiry('not-a-jwt')).toBeUndefined();
    expect(jwtExpiry('a.!!!.c')).toBeUndefined();
  });
});

describe('joinUrl', () => {
  it('neither doubles nor drops the slash', () => {
    expect(joinUrl('https://api.github.com/', '/app/x')).toBe('https://api.github.com/app/x');
    expect(joinUrl('https://ghe.example.com/api/v3', 'app/x')).toBe(
      'https://ghe.example.com/api/v3/app/x',
    );
  });
});

describe('generic messageId', () => {
  it('is stable for a redelivered decision and differs per outcome', () => {
    const a = messageId('https://x/generic/g', { outcome: 'approve', comment: 'a' });
    expect(messageId('https://x/generic/g', { outcome: 'approve', comment: 'other text' })).toBe(a);
    expect(messageId('https://x/generic/g', { outcome: 'reject', comment: 'a' })).not.toBe(a);
    expect(a).toMatch(/^msg_[A-Za-z0-9_-]{27}$/);
  });
});
