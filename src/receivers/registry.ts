import { azureDevopsReceiver } from '../providers/azure-devops/receiver/index.js';
import { genericReceiver } from '../providers/generic/receiver/index.js';
import { githubReceiver } from '../providers/github/receiver/index.js';
import { gitlabReceiver } from '../providers/gitlab/receiver/index.js';
import { jenkinsReceiver } from '../providers/jenkins/receiver/index.js';
import { servicenowReceiver } from '../providers/servicenow/receiver/index.js';
import type { Receiver } from './types.js';

export interface ReceiverEntry {
  receiver: Receiver<never>;
  /** Answer within this many ms at most, whatever the publish timeout (the sender's own limit). */
  ackWithinMs?: number;
}

/** Every `/hooks/<name>` route. `generic` is mounted as `/hooks/generic/:source`. */
export const RECEIVERS: Record<string, ReceiverEntry> = {
  github: { receiver: githubReceiver as Receiver<never> },
  gitlab: { receiver: gitlabReceiver as Receiver<never> },
  jenkins: { receiver: jenkinsReceiver as Receiver<never> },
  // Azure Pipelines fails an Invoke REST API check that is not answered within 3 s.
  'azure-devops': { receiver: azureDevopsReceiver as Receiver<never>, ackWithinMs: 2_500 },
  generic: { receiver: genericReceiver as Receiver<never> },
  servicenow: { receiver: servicenowReceiver as Receiver<never> },
};
