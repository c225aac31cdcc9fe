/** What the daemon uses from the Kafka sink: its options and the sink. */
export {
  KAFKA_OPTIONS, KAFKA_OPTION_NAMES, parseKafkaConfig,
  type KafkaOptionSpec, type KafkaOptionName, type KafkaSinkConfig,
} from './config';
export { KafkaSink, type KafkaSinkOptions, type KafkaSinkStats } from './kafka-sink';
export { kafkaDriverMaxBatchBytes } from './batch-messages';
