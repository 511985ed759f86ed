// Adapts the Functions InvocationContext to the pipeline's Logger port.
import type { InvocationContext } from '@azure/functions';
import type { Logger } from '../../ports.js';

export function contextLogger(context: InvocationContext): Logger {
  const format = (message: string, properties?: Record<string, unknown>) =>
    properties && Object.keys(properties).length > 0 ? `${message} ${JSON.stringify(properties)}` : message;
  return {
    info: (message, properties) => context.log(format(message, properties)),
    warn: (message, properties) => context.warn(format(message, properties)),
    error: (message, properties) => context.error(format(message, properties)),
  };
}
