import type * as Protocol from '../../bridge-image/protocol/index.js';

/**
 * The protocol module (its zod schemas and the signed client), evaluated on first use instead of at
 * activation: building the schemas is most of what loading the extension would otherwise cost.
 * Code on the activation path imports only the schema-free parts (event-types, bridge-error, signing).
 */
export function loadProtocol(): Promise<typeof Protocol> {
  return import('../../bridge-image/protocol/index.js');
}
