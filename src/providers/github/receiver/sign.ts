import { createHmac } from 'node:crypto';

/**
 * The `X-Hub-Signature-256` value GitHub sends: `sha256=` + lowercase hex HMAC-SHA256 of the raw
 * body keyed with the webhook secret. Used by tests, the bench and the demo to play GitHub.
 *
 * @see https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 * @example signGithub("It's a Secret to Everybody", 'Hello, World!')
 * // 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'
 */
export function signGithub(secret: string, body: Uint8Array | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
