/**
 * What the emulated chat services accept, answered the way the real ones do: Slack incoming
 * webhooks answer `200 ok`, or `400 no_text` / `invalid_payload`; Teams Workflows webhooks
 * answer `202 Accepted` and take Adaptive Cards only.
 *
 * @module
 */

export type ChatKind = 'slack' | 'teams' | 'webhook';

export type Verdict = { ok: true } | { ok: false; status: number; text: string };

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;

export function checkSlack(body: unknown): Verdict {
  const b = obj(body);
  if (!b) return { ok: false, status: 400, text: 'invalid_payload' };
  const hasText = typeof b.text === 'string' && b.text.trim() !== '';
  const hasBlocks = Array.isArray(b.blocks) && b.blocks.length > 0;
  if (!hasText && !hasBlocks) return { ok: false, status: 400, text: 'no_text' };
  if (hasBlocks && !(b.blocks as unknown[]).every((x) => typeof obj(x)?.type === 'string')) {
    return { ok: false, status: 400, text: 'invalid_blocks' };
  }
  return { ok: true };
}

export function checkTeams(body: unknown): Verdict {
  const b = obj(body);
  const attachment = obj(
    Array.isArray(b?.attachments) ? (b.attachments as unknown[])[0] : undefined,
  );
  const card = obj(attachment?.content);
  if (
    b?.type !== 'message' ||
    attachment?.contentType !== 'application/vnd.microsoft.card.adaptive' ||
    card?.type !== 'AdaptiveCard' ||
    !Array.isArray(card.body)
  ) {
    return {
      ok: false,
      status: 400,
      text: 'Workflows webhooks accept a message with one Adaptive Card attachment',
    };
  }
  return { ok: true };
}
