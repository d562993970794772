/**
 * The `operation` label of admp_request_duration_seconds: a name per route, so the label has as
 * many values as the relay has routes, whatever paths callers send.
 */
const OPERATIONS: Record<string, string> = {
  'POST /v1/agents/:id/messages': 'send',
  'POST /v1/agents/:id/inbox/pull': 'pull',
  'POST /v1/agents/:id/messages/:mid/ack': 'ack',
  'POST /v1/agents/:id/messages/:mid/nack': 'nack',
  'POST /v1/agents/:id/messages/:mid/reply': 'reply',
  'GET /v1/messages/:mid/status': 'status',
  'GET /v1/agents/:id/inbox/stats': 'stats',
  'POST /v1/agents/:id/inbox/reclaim': 'reclaim',
  'DELETE /v1/messages/:mid': 'cancel',
  'GET /v1/agents/:id/dead-letters': 'list_dead_letters',
  'POST /v1/agents/:id/dead-letters/redrive': 'redrive',
  'DELETE /v1/agents/:id/dead-letters/:mid': 'purge_dead_letter',
  'GET /v1/agents/:id/messages': 'list_messages',
  'GET /v1/threads/:correlation_id': 'thread',
  'POST /v1/broadcast': 'broadcast',
  'GET /health': 'health',
  'GET /metrics': 'metrics',
};

/** The operation a request was routed to; other routes are named by their pattern. */
export function operationOf(method: string, routePath: string): string {
  if (routePath === '/*' || routePath === '*') return 'unmatched';
  return OPERATIONS[`${method} ${routePath}`] ?? `${method} ${routePath}`;
}
