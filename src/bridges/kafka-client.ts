import type * as KafkaJs from 'kafkajs';
import type { Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { optional } from '../optional.js';

export type KafkaSettings = NonNullable<Config['kafka']>;

/** A kafkajs client whose logs go through the hub's structured logger; kafkajs loads with the first one. */
export function createKafka(settings: KafkaSettings, log: Logger): Kafka {
  const { Kafka, logLevel } = optional<typeof KafkaJs>('kafkajs');
  const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
    [logLevel.ERROR]: 'error',
    [logLevel.WARN]: 'warn',
    [logLevel.INFO]: 'info',
    [logLevel.DEBUG]: 'debug',
  };
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
        log[levels[level] ?? 'info']({ kafka: rest }, message);
      },
  });
}
