import { describe, expect, it } from 'vitest';
import { feedUrl, withPreviewVersion } from '../../../src/ci/azure-devops.js';
import { messageId } from '../../../src/ci/generic.js';
import { joinUrl } from '../../../src/ci/http.js';
import { capitaliseInputId, inputUrl, jenkinsRoot } from '../../../src/ci/jenkins.js';

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
    expect(withPreviewVersion(`${events}?api-version=7.1`).searchParams.get('api-version')).toBe(
      '7.1-preview.1',
    );
    expect(withPreviewVersion(events).searchParams.get('api-version')).toBe('7.1-preview.1');
    expect(
      withPreviewVersion(`${events}?api-version=2.0-preview.1`).searchParams.get('api-version'),
    ).toBe('2.0-preview.1');
  });

  it('derives the timeline record feed URL from the events URL', () => {
    expect(feedUrl(`${events}?api-version=7.1`, 'tl1', 'job1')).toBe(
      'https://dev.azure.com/acme/p1/_apis/distributedtask/hubs/checks/plans/pl1/timelines/tl1/records/job1/feed?api-version=7.1-preview.1',
    );
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
