import { z } from 'zod';

/**
 * Just the fields the GitLab normalizer reads. Objects are loose: the full payload travels on in
 * `data.raw`.
 *
 * @see https://docs.gitlab.com/user/project/integrations/webhook_events/
 * @module
 */

const id = z.union([z.number().int(), z.string().min(1)]).transform(String);
const text = z.string().nullish();
const User = z.looseObject({ username: text, name: text }).nullish();

export const ProjectPayload = z.looseObject({
  project: z.looseObject({
    id,
    path_with_namespace: z.string().min(1),
    // The approval URL is built from it, so only http(s) is acceptable.
    web_url: z.url({ protocol: /^https?$/ }),
  }),
});

export const DeploymentPayload = ProjectPayload.extend({
  status: z.string().min(1),
  deployment_id: id,
  deployable_id: id.nullish(),
  deployable_url: z.url().nullish(),
  environment: z.string().min(1),
  short_sha: text,
  commit_url: text,
  commit_title: text,
  ref: text,
  user: User,
});
export type DeploymentPayload = z.output<typeof DeploymentPayload>;

export const PipelinePayload = ProjectPayload.extend({
  object_attributes: z.looseObject({
    id,
    iid: id.nullish(),
    name: text,
    ref: text,
    sha: text,
    status: z.string().min(1),
    url: z.url().nullish(),
    variables: z.array(z.looseObject({ key: z.string(), value: z.string().nullish() })).nullish(),
  }),
  builds: z
    .array(
      z.looseObject({
        id,
        name: z.string(),
        status: text,
        environment: z.looseObject({ name: text, action: text }).nullish(),
      }),
    )
    .nullish(),
  // `commit.author` is the git author (`Commit#hook_attrs`: name, email); the hook names no
  // committer, and its `merge_request` has no author (`Gitlab::DataBuilder::Pipeline
  // #merge_request_attrs`: id, iid, title, branches, state, url).
  commit: z
    .looseObject({
      message: text,
      title: text,
      author: z.looseObject({ name: text, email: text }).nullish(),
    })
    .nullish(),
  user: User,
});
export type PipelinePayload = z.output<typeof PipelinePayload>;

export const JobPayload = z.looseObject({ pipeline_id: id, build_status: text });
