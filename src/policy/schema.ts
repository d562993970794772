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

/** A regular expression as the file writes it; refused when it does not compile. */
const pattern = z
  .string()
  .min(1)
  .max(512)
  .refine((source) => {
    try {
      new RegExp(source, 'u');
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression');

/** Highest number a rule may carry: the built-in allow-all sits there, after every file rule. */
export const DEFAULT_PRIORITY = 999;

/** One message rule (FR-28). Patterns match the bare agent id, the type and the subject. */
export const ruleSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", up to 64'),
    enabled: z.boolean().default(true),
    priority: z.number().int().min(0).max(DEFAULT_PRIORITY).default(100),
    from_agent_pattern: pattern.optional(),
    to_agent_pattern: pattern.optional(),
    type_pattern: pattern.optional(),
    subject_pattern: pattern.optional(),
    action: z.enum(['allow', 'deny']),
    rate_limit_per_hour: z.number().int().positive().max(100_000).optional(),
    max_size_kb: z.number().int().positive().max(1024).optional(),
  })
  .strict();

export type Rule = z.infer<typeof ruleSchema>;

/**
 * The file POLICY_FILE names (SPEC: Policies). Unknown keys are refused so a typo is reported
 * rather than ignored.
 */
export const policyFileSchema = z
  .object({
    tiers: z.record(z.string().regex(TIER_NAME, 'tier names are lowercase, e.g. standard'), tier).optional(),
    policies: z
      .array(ruleSchema)
      .max(1000)
      .superRefine((rules, ctx) => {
        const seen = new Set<string>();
        rules.forEach((rule, index) => {
          if (seen.has(rule.name)) {
            ctx.addIssue({
              code: 'custom',
              path: [index, 'name'],
              message: `duplicate rule name ${rule.name}`,
            });
          }
          seen.add(rule.name);
        });
      })
      .optional(),
  })
  .strict();

export type PolicyFile = z.infer<typeof policyFileSchema>;
