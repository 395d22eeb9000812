import type { NormalizedEvent } from '../events/build.js';
import type { CicdOrigin } from '../events/cicd.js';

/** Kafka key and CloudEvents subject of one unit: `<provider>/<project>/<id>`. */
export function unit(origin: Pick<CicdOrigin, 'provider' | 'project'>, id: string) {
  const key = `${origin.provider}/${origin.project}/${id}`;
  return { key, subject: key };
}

/** A verified delivery no mapping covers: published as-is so subscribers lose nothing. */
export function received(
  origin: CicdOrigin,
  id: string,
  action?: string | null,
  reason?: string,
): NormalizedEvent {
  return {
    type: 'dev.changegate.webhook.received',
    ...unit(origin, id),
    data: { ...origin, ...(action ? { action } : {}), ...(reason ? { reason } : {}) },
  };
}
