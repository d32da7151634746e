import { Channel, Data } from '@switchboard/protocol';
import { z } from 'zod';

/** Body of `POST /api/publish`. */
export const HttpPublishBody = z.strictObject({ channel: Channel, data: Data });
export type HttpPublishBody = z.infer<typeof HttpPublishBody>;
