/**
 * Sorts what kafkajs threw into what the driver should do with the batch,
 * with a reason an operator can act on (it becomes the sink's lastError, the
 * retried/rejected metrics' reason and the dead-letter record's reason).
 *
 *   retry     the broker is down or refuses us for now (network, TLS, auth,
 *             missing topic, codec): the batch stays spooled. Configuration
 *             problems are retried too: once the operator fixes the cluster
 *             the spooled events go out; dead-lettering them would not help.
 *   rejected  this batch can never be written (too large, invalid record):
 *             sending it again cannot succeed.
 *   recreate  the producer's idempotence state no longer matches the
 *             broker's (e.g. OUT_OF_ORDER_SEQUENCE_NUMBER after a batch was
 *             re-cut differently): kafkajs cannot recover it; a new producer
 *             (new producer id) sends the batch again. If the broker had the
 *             batch already this duplicates it: at-least-once.
 *
 * Reasons start with a short stable class ("unreachable:", "too_large:", …)
 * so that a metric label can use the part before the first colon.
 */

export type SendErrorAction = 'retry' | 'rejected' | 'recreate';

export interface ClassifiedSendError {
  readonly action: SendErrorAction;
  /** "<class>: <what happened>[: <what to do>]" */
  readonly reason: string;
}

export interface SendErrorContext {
  readonly topic: string;
  readonly compression: string;
  readonly brokers: readonly string[];
}

interface ErrorLike {
  name?: string;
  message?: string;
  type?: string;
  code?: string | number;
  broker?: string;
  cause?: unknown;
}

const PRODUCER_STATE = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER', 'DUPLICATE_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING', 'PRODUCER_FENCED', 'INVALID_TXN_STATE',
]);

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH|ERR_OSSL)/;

/** err, its cause, its cause's cause, … (kafkajs wraps up to three deep). */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let e: unknown = err;
  while (e !== null && e !== undefined && typeof e === 'object' && out.length < 8 && !out.includes(e as ErrorLike)) {
    out.push(e as ErrorLike);
    e = (e as ErrorLike).cause;
  }
  if (out.length === 0) out.push({ name: 'Error', message: String(err) });
  return out;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * OpenSSL's "807C…:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert
 * bad certificate:../deps/…:SSL alert number 42" → "sslv3 alert bad certificate".
 */
function opensslText(msg: string): string {
  const m = /SSL routines:[^:]*:([^:]+)/.exec(msg);
  return m !== null ? m[1].trim() : msg.replace(/^Connection error: /, '');
}

export function classifySendError(err: unknown, ctx: SendErrorContext): ClassifiedSendError {
  const errs = chain(err);
  const protocol = errs.find((e) => typeof e.type === 'string' && e.name !== undefined && /Protocol/.test(e.name));
  const innermost = errs[errs.length - 1];
  const msg = oneLine(innermost.message ?? String(innermost));

  if (protocol !== undefined) {
    const type = protocol.type!;
    const pm = oneLine(protocol.message ?? type);
    switch (type) {
      case 'MESSAGE_TOO_LARGE':
      case 'RECORD_LIST_TOO_LARGE':
        return {
          action: 'rejected',
          reason: `too_large: ${type}: the broker refused the record batch as larger than its message.max.bytes `
            + `(or topic ${ctx.topic}'s max.message.bytes): lower logger_kafka_max_batch_bytes below it; a single event larger than it is never accepted`,
        };
      case 'INVALID_RECORD':
      case 'CORRUPT_MESSAGE':
        return { action: 'rejected', reason: `invalid_record: ${type}: ${pm}` };
      case 'SASL_AUTHENTICATION_FAILED':
      case 'UNSUPPORTED_SASL_MECHANISM':
      case 'ILLEGAL_SASL_STATE':
        return { action: 'retry', reason: `auth: ${type}: ${pm}: check logger_kafka_sasl_mechanism, logger_kafka_sasl_username and logger_kafka_sasl_password_file` };
      case 'TOPIC_AUTHORIZATION_FAILED':
        return { action: 'retry', reason: `auth: ${type}: not allowed to write to topic ${ctx.topic}: grant WRITE (and DESCRIBE) on it` };
      case 'CLUSTER_AUTHORIZATION_FAILED':
        return {
          action: 'retry',
          reason: `auth: ${type}: ${pm}: the idempotent producer needs IDEMPOTENT_WRITE on the cluster (or set logger_kafka_idempotent=false)`,
        };
      case 'UNKNOWN_TOPIC_OR_PARTITION':
        return {
          action: 'retry',
          reason: `topic: ${type}: topic ${ctx.topic} does not exist and the broker does not create it: create it or fix logger_kafka_topic`,
        };
      case 'INVALID_TOPIC_EXCEPTION':
        return { action: 'retry', reason: `topic: ${type}: the broker refuses topic ${ctx.topic}: fix logger_kafka_topic` };
      case 'UNSUPPORTED_COMPRESSION_TYPE':
        return {
          action: 'retry',
          reason: `compression: ${type}: the broker does not accept ${ctx.compression}: choose another logger_kafka_compression`,
        };
      default:
        if (PRODUCER_STATE.has(type)) return { action: 'recreate', reason: `producer_state: ${type}: ${pm}` };
        return { action: 'retry', reason: `kafka: ${type}: ${pm}` };
    }
  }

  if (errs.some((e) => e.name === 'KafkaJSSASLAuthenticationError')) {
    return { action: 'retry', reason: `auth: ${msg}: check logger_kafka_sasl_mechanism, logger_kafka_sasl_username and logger_kafka_sasl_password_file` };
  }
  const tls = errs.find((e) => typeof e.code === 'string' && TLS_CODE.test(e.code));
  if (tls !== undefined || /certificate|SSL routines/i.test(msg)) {
    const code = tls?.code !== undefined ? ` (${tls.code})` : '';
    if (/ALERT/i.test(String(tls?.code ?? '')) || /alert/i.test(msg)) {
      return {
        action: 'retry',
        reason: `tls: the broker ended the handshake: ${opensslText(msg)}${code}: `
          + 'if it requires client certificates, check logger_kafka_tls_client_cert and logger_kafka_tls_client_key',
      };
    }
    return {
      action: 'retry',
      reason: `tls: the broker's certificate did not verify: ${opensslText(msg)}${code}: check logger_kafka_tls_server_certs `
        + 'and that the certificate names the host in logger_kafka_brokers',
    };
  }
  const conn = errs.find((e) => e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSConnectionClosedError'
    || e.name === 'KafkaJSRequestTimeoutError');
  if (conn !== undefined) {
    const where = conn.broker ?? ctx.brokers.join(',');
    return { action: 'retry', reason: `unreachable: ${oneLine(conn.message ?? msg)} (${where})` };
  }
  if (errs.some((e) => e.name === 'KafkaJSMetadataNotLoaded' || e.name === 'KafkaJSTopicMetadataNotLoaded')) {
    return { action: 'retry', reason: `metadata: no metadata for topic ${ctx.topic} yet (${msg})` };
  }
  if (errs.some((e) => e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name?.startsWith('KafkaJS'))) {
    return { action: 'retry', reason: `kafka: ${msg}` };
  }
  return { action: 'retry', reason: `error: ${msg}` };
}
