import type * as KafkaJs from 'kafkajs';
import type { PartitionAssigner } from 'kafkajs';
import { optional } from '../optional.js';

/**
 * A kafkajs partition assigner that gives each member exactly the partition it names in its
 * metadata. kafkajs has no manual assignment (Java's `assign()`); a hub reads one partition
 * alone, in a consumer group of its own (its RPC reply partition, src/rpc/kafka-transport.ts; a
 * partition it replays, kafka-replay.ts), and this is how it gets that one partition and no
 * other. Every member of the group is the same hub, so the names never disagree.
 */
export function namedPartitionAssigner(topic: string, partition: number): PartitionAssigner {
  const { AssignerProtocol } = optional<typeof KafkaJs>('kafkajs');
  const userData = Buffer.from(String(partition));
  return () => ({
    name: 'SwitchboardNamedPartition',
    version: 1,
    protocol: ({ topics }) => ({
      name: 'SwitchboardNamedPartition',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData }),
    }),
    assign: async ({ members }) =>
      members.map(({ memberId, memberMetadata }) => {
        const named = Number(AssignerProtocol.MemberMetadata.decode(memberMetadata)?.userData.toString());
        const assigned = Number.isInteger(named) ? named : partition;
        return {
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: { [topic]: [assigned] },
            userData: Buffer.alloc(0),
          }),
        };
      }),
  });
}
