import type { Config } from '../config.js';
import type { Broker } from './broker.js';
import { MemoryBroker } from './memory.js';

export function createBroker(settings: Config['broker']): Broker {
  switch (settings.type) {
    case 'memory':
      return new MemoryBroker();
  }
}
