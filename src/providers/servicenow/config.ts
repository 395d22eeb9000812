import { z } from 'zod';
import { secretList } from '../../config/provider-entries.js';
import { WhsecSchema } from '../../config/primitives.js';

// `sources.servicenow`: Standard-Webhooks secrets of the business rule's outbound message.
export const ServicenowSourceSchema = z.object({ secrets: secretList(WhsecSchema) }).optional();
