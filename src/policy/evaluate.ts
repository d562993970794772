import type { Deps } from '../deps.js';
import { agentOf, type Envelope, utf8Length } from '../envelope.js';
import { RelayError } from '../errors.js';
import { observe } from '../observe/events.js';
import type { DenialReason } from '../observe/metrics.js';
import type { CompiledRule, Policy, PolicySubject } from './load.js';
import { takeHourlySlot } from './rate-limit.js';

export type { PolicySubject } from './load.js';

/** What the rules see of an envelope; the body is only measured if a matching rule asks. */
export function policySubject(envelope: Envelope): PolicySubject {
  return {
    from: agentOf(envelope.from),
    to: agentOf(envelope.to),
    type: envelope.type,
    subject: envelope.subject,
    get sizeBytes() {
      return utf8Length(JSON.stringify(envelope.body));
    },
  };
}

/** FR-29/30: the first enabled rule, lowest priority first, whose patterns all match. */
export function firstMatch(policy: Policy, subject: PolicySubject): CompiledRule {
  // The built-in default matches everything and is always last, so a match always exists.
  return policy.rules.find((rule) => rule.matches(subject)) as CompiledRule;
}

/**
 * Whether the rules let `from` send `to` at least some message, for discovery: the first rule for
 * the pair that allows decides yes; one that denies decides no unless it only denies some types or
 * subjects, in which case a later rule may still allow the rest.
 */
export function mayReach(policy: Policy, from: string, to: string): boolean {
  for (const rule of policy.rules) {
    if (!rule.matchesAgents(from, to)) continue;
    if (rule.action === 'allow') return true;
    if (rule.type_pattern === undefined && rule.subject_pattern === undefined) return false;
  }
  return false;
}

/**
 * Admits a message or refuses it: 403 `policy_denied` for a deny rule, 413 over the rule's
 * `max_size_kb`, 429 over its `rate_limit_per_hour`. Only a matching rule with a rate limit costs
 * a database statement; everything else is decided in memory. Returns the admitting rule's name.
 */
export async function enforcePolicy(deps: Deps, subject: PolicySubject, requestId?: string): Promise<string> {
  const rule = firstMatch(deps.policy, subject);
  const refuse = (reason: DenialReason, error: RelayError) => {
    observe(
      deps,
      { kind: 'policy.denied', from: subject.from, to: subject.to, policyName: rule.name, reason },
      requestId,
    );
    return error;
  };
  if (rule.action === 'deny') {
    throw refuse(
      'denied',
      new RelayError(
        'policy_denied',
        `policy ${rule.name} does not allow ${subject.from} to send this to ${subject.to}`,
      ),
    );
  }
  if (rule.max_size_kb !== undefined && subject.sizeBytes > rule.max_size_kb * 1024) {
    const message = `policy ${rule.name} allows bodies of at most ${rule.max_size_kb} KB; this one is ${Math.ceil(subject.sizeBytes / 1024)} KB`;
    throw refuse('too_large', new RelayError('payload_too_large', message));
  }
  if (rule.rate_limit_per_hour !== undefined) {
    const slot = await takeHourlySlot(deps.db, rule.name, subject.from, rule.rate_limit_per_hour);
    if (!slot.admitted) {
      const message = `policy ${rule.name} allows ${rule.rate_limit_per_hour} messages an hour from ${subject.from}`;
      throw refuse(
        'rate_limited',
        new RelayError('rate_limited', message, { 'Retry-After': String(slot.retryAfterSec) }),
      );
    }
  }
  return rule.name;
}
