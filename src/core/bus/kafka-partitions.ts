import { Partitioners, type PartitionMetadata } from 'kafkajs';

/**
 * The partition the producer's default partitioner (kafkajs DefaultPartitioner, Java-compatible
 * murmur2) picks for a key on a topic of `partitions` partitions. Used to size produce requests
 * per partition; the producer still chooses the partition itself. With an unknown partition
 * count (0) every key maps to one bucket, so limits then hold per request.
 */
export function partitionOfKey(partitions: number): (key: string) => number {
  if (partitions <= 0) return () => 0;
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
  }));
  return (key) => partitioner({ topic: '', partitionMetadata, message: { key, value: null } });
}
