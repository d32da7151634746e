import { z } from 'zod';

/**
 * Configuration of client `rpc` calls (docs/rpc.md): which service answers which methods, by
 * the longest matching method prefix, over a Kafka request topic or an HTTP endpoint, and how
 * replies come back over Kafka. src/config.ts puts it under the key `rpc`.
 */

const KafkaTopic = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name');
/** A method prefix: '' matches every method; `orders.` matches `orders.get` and `orders.list`. */
const MethodPrefix = z.string().regex(/^[A-Za-z0-9_.:/@=,-]{0,128}$/, 'method characters, at most 128');
/** Milliseconds a call may take before the client gets 117 (RPC_TIMEOUT). */
const TimeoutMs = z.number().int().min(50).max(300_000).default(5_000);

const HttpEndpoint = z
  .string()
  .url()
  .refine((url) => ['http:', 'https:'].includes(new URL(url).protocol), { message: 'an http:// or https:// URL' });

/** A Kafka route: the request goes to `topic`, keyed as `key` says; the reply comes on the reply topic. */
const KafkaRoute = z.strictObject({
  type: z.literal('kafka'),
  prefix: MethodPrefix,
  topic: KafkaTopic,
  /** The request record's key: the connection (its calls stay in order), the user, the method, or none. */
  key: z.enum(['connection', 'user', 'method', 'none']).default('connection'),
  timeoutMs: TimeoutMs,
});

/** An HTTP route: the hub POSTs the call as JSON and the response is the reply (docs/rpc.md). */
const HttpRoute = z.strictObject({
  type: z.literal('http'),
  prefix: MethodPrefix,
  url: HttpEndpoint,
  timeoutMs: TimeoutMs,
});

export const RpcRoute = z.discriminatedUnion('type', [KafkaRoute, HttpRoute]);
export type RpcRoute = z.infer<typeof RpcRoute>;

export const RpcSettings = z
  .strictObject({
    /** Routes by method prefix; the longest prefix that matches a method wins. */
    routes: z.array(RpcRoute).max(1_000).default([]),
    /** The topic services reply to; each hub reads one of its partitions alone. Created when missing. */
    replyTopic: KafkaTopic.default('switchboard-replies'),
    /**
     * Partitions of the reply topic (when the hub creates it). Each hub picks one no running hub
     * reads; with more hubs than partitions some share one and drop each other's replies (counted).
     */
    replyPartitions: z.number().int().min(1).max(10_000).default(32),
    /** Prefix of each hub's own consumer group on the reply topic (`<prefix>-<partition>-<hub id>`). */
    replyGroupPrefix: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/)
      .default('switchboard-rpc'),
    /** Largest reply value (bytes) a hub reads; a larger one is dropped and counted. */
    maxReplyBytes: z
      .number()
      .int()
      .min(1_024)
      .max(16 * 1024 * 1024)
      .default(1024 * 1024),
    /** Calls one connection may have waiting at once; more get 106 (LIMIT_EXCEEDED). */
    maxPendingPerConnection: z.number().int().min(1).max(10_000).default(64),
  })
  .superRefine((rpc, context) => {
    const seen = new Set<string>();
    rpc.routes.forEach((route, index) => {
      if (seen.has(route.prefix))
        context.addIssue({ code: 'custom', path: ['routes', index, 'prefix'], message: 'another route has it' });
      seen.add(route.prefix);
    });
  });
export type RpcSettings = z.infer<typeof RpcSettings>;
