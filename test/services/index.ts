/** Real services for integration tests (run scripts/services/install.sh first). */

export type { Backend, HaproxyOptions, HaproxyService } from './haproxy.js';
export { haproxyConfig, startHaproxy } from './haproxy.js';
export type { KafkaOptions, KafkaProperties, KafkaService } from './kafka.js';
export { createTopics, kafkaAnswers, kafkaServerProperties, newClusterId, startKafka } from './kafka.js';
export { KAFKA_VERSION, kafkaHome, kafkaLibsDir, repoRoot, serviceLogDir } from './paths.js';
export { canConnect, freePort, waitForPort } from './ports.js';
export type { ExitInfo, ManagedService, ReadinessProbe, ServiceProcessOptions } from './process.js';
export { registerExitCleanup, ServiceProcess } from './process.js';
export type { RedisOptions, RedisService } from './redis.js';
export { redisPing, startRedis } from './redis.js';
export type { RedisClusterNode, RedisClusterOptions, RedisClusterService } from './redis-cluster.js';
export { startRedisCluster } from './redis-cluster.js';
export type { RedisSentinelService } from './redis-sentinel.js';
export { startRedisSentinel } from './redis-sentinel.js';
