/**
 * A GitHub deployment's stable identity. GitHub makes a new `deployment.id` for every attempt of a
 * workflow run; a re-run keeps the run id (only `run_attempt` grows). Keying by run and
 * environment makes every attempt of one run to one environment the same change request.
 *
 * @module
 */

const CALLBACK_RUN = /\/actions\/runs\/(\d+)\/deployment_protection_rule\/?$/;

/** `run-<runId>-<environment>`: the same for every attempt of one workflow run to one environment. */
export function runDeploymentId(runId: string, environment: string): string {
  return `run-${runId}-${environment}`;
}

/** The workflow run id inside a `deployment_callback_url`, if it has the documented shape. */
export function runIdFromCallbackUrl(url: string): string | undefined {
  try {
    return CALLBACK_RUN.exec(new URL(url).pathname)?.[1];
  } catch {
    return undefined;
  }
}
