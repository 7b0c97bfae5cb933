import type { Admin } from 'kafkajs';
import type { Logger } from '../logger.js';
import { busUnavailable } from './bus-errors.js';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
}

/**
 * Creates the topics that are missing, at start-up, and returns each topic's partition count. Existing topics are never altered: adding
 * partitions would move keys to other partitions and break per-order ordering, so a topic with
 * fewer partitions than configured is only reported.
 *
 * A broker without the CreateTopics API (the local librdkafka mock) is tolerated: asking for
 * the topics' metadata makes it auto-create them (with its own partition count; the topics the
 * local services script pre-creates have the right counts).
 */
export async function ensureTopics(
  admin: Admin,
  specs: readonly TopicSpec[],
  logger: Logger,
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    if (missing.length > 0) {
      try {
        await admin.createTopics({ topics: [...missing], waitForLeaders: true });
        logger.info({ topics: missing }, 'created kafka topics');
      } catch (error) {
        if ((error as Error).name !== 'KafkaJSServerDoesNotSupportApiKey') throw error;
        logger.warn(
          { topics: missing.map((spec) => spec.topic) },
          'the broker cannot create topics (no CreateTopics API); relying on its auto-creation',
        );
      }
    }
    // Also what triggers auto-creation on a broker without CreateTopics.
    const metadata = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.topic) });
    for (const spec of specs) {
      const partitions = metadata.topics.find((topic) => topic.name === spec.topic)?.partitions.length ?? 0;
      found.set(spec.topic, partitions);
      if (partitions < spec.numPartitions) {
        logger.warn(
          { topic: spec.topic, partitions, configured: spec.numPartitions },
          'kafka topic has fewer partitions than configured; consumers scale out only to its partition count',
        );
      }
    }
  } catch (error) {
    throw busUnavailable('ensuring kafka topics', error);
  }
  return found;
}
