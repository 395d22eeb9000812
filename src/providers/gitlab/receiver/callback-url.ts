/**
 * Where a GitLab gate is released: the deploy job's
 * `POST <instance>/api/v4/projects/:id/jobs/:job_id/play` (the callback client approves the job's
 * blocked deployment first).
 *
 * @see https://docs.gitlab.com/api/jobs/#run-a-job
 * @see https://docs.gitlab.com/api/deployments/#approve-or-reject-a-blocked-deployment
 * @module
 */

const HOST = /^[a-z0-9.-]+(?::\d+)?$/i;

function trimSlash(path: string): string {
  return path.replace(/\/+$/, '');
}

/**
 * The instance base URL (with any relative URL root, e.g. `https://example.com/gitlab`).
 *
 * `X-Gitlab-Instance` (an absolute URL or a bare host) is used only when it names the same host
 * as `project.web_url`: the header is covered by neither the token nor the signature, and the
 * worker will send a GitLab credential to this URL, so an unsigned header alone must not be able
 * to point it elsewhere. Otherwise the base is `web_url` without the project path.
 */
export function gitlabInstanceUrl(
  instanceHeader: string | null,
  webUrl: string,
  projectPath: string,
): string {
  const web = new URL(webUrl);
  const header = instanceHeader?.trim();
  if (header) {
    let candidate: URL | undefined;
    try {
      if (/^https?:\/\//i.test(header)) candidate = new URL(header);
      else if (HOST.test(header)) candidate = new URL(`${web.protocol}//${header}`);
    } catch {
      candidate = undefined;
    }
    if (candidate && candidate.host.toLowerCase() === web.host.toLowerCase()) {
      return `${candidate.origin}${trimSlash(candidate.pathname)}`;
    }
  }
  const path = trimSlash(web.pathname);
  const suffix = `/${projectPath}`;
  const root = path.toLowerCase().endsWith(suffix.toLowerCase())
    ? path.slice(0, -suffix.length)
    : '';
  return `${web.origin}${root}`;
}

/** The play endpoint of one job: the gate's callback URL. */
export function gitlabPlayUrl(base: string, projectId: string, jobId: string): string {
  return `${base}/api/v4/projects/${encodeURIComponent(projectId)}/jobs/${encodeURIComponent(jobId)}/play`;
}
