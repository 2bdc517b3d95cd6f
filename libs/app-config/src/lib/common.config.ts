import { z } from 'zod';

/** The HTTP listener (health, metrics, admin). Absent in config means all defaults. */
export const httpConfigSchema = z
  .strictObject({
    port: z.number().int().min(1).max(65535).default(8080),
    host: z.string().min(1).default('0.0.0.0'),
  })
  .prefault({});

export type HttpConfig = z.infer<typeof httpConfigSchema>;
