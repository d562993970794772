import { z } from 'zod';
import { TIER_NAME } from './tiers.js';

const tier = z
  .object({
    requests_per_minute: z
      .number()
      .int()
      .positive()
      .nullable()
      .describe('requests a credential of this tier may make per minute; null means no limit'),
  })
  .strict();

/**
 * The file POLICY_FILE names (SPEC: Policies). Unknown top-level keys are refused so a typo is
 * reported rather than ignored; `policies` holds the message rules (FR-28), read by the policy engine.
 */
export const policyFileSchema = z
  .object({
    tiers: z.record(z.string().regex(TIER_NAME, 'tier names are lowercase, e.g. standard'), tier).optional(),
    policies: z.unknown().optional(),
  })
  .strict();

export type PolicyFile = z.infer<typeof policyFileSchema>;
