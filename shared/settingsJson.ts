// A setting whose value is JSON, checked against a schema: what is wrong is named with the path
// inside the value and an example. Shared by settings.ts and the settings kept apart from it.
import { z } from 'zod';

export const jsonOf = <T extends z.ZodType>(schema: T, example: string) =>
  z.string().transform((text, ctx): z.infer<T> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be JSON, for example ${example}` });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({
          code: 'custom',
          message: `${issue.path.length ? `[${issue.path.join('.')}] ` : ''}${issue.message} (for example ${example})`,
        });
      }
      return z.NEVER;
    }
    return parsed.data;
  });
