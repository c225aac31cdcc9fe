/**
 * The files the outputs' options name (keys, certificates, secrets), stated
 * once: which use makes the daemon read each, and which hold a secret (readable by the daemon's user
 * alone, 0600 or 0400). The loader checks the files of the outputs in use;
 * `ancestryd check --compliance` checks every secret file named, in use or
 * not, since it lies on the host either way.
 */
import type { OptionName, OptionValues } from './option-schema';

/** tls: the tls output or config_plugin=tls (they share the enrollment); kafka: the kafka output. In the loader's report order. */
const FILE_OPTIONS = [
  { option: 'enroll_secret_path', user: 'tls', secret: true },
  { option: 'tls_server_certs', user: 'tls', secret: false },
  { option: 'tls_client_cert', user: 'tls', secret: false },
  { option: 'tls_client_key', user: 'tls', secret: true },
  { option: 'logger_kafka_tls_server_certs', user: 'kafka', secret: false },
  { option: 'logger_kafka_tls_client_cert', user: 'kafka', secret: false },
  { option: 'logger_kafka_tls_client_key', user: 'kafka', secret: true },
  { option: 'logger_kafka_sasl_password_file', user: 'kafka', secret: true },
] as const;

/** The options that name a secret file (allow_insecure_secret_files's doc lists them). */
export const SECRET_FILE_OPTIONS = FILE_OPTIONS.filter((f) => f.secret).map((f) => f.option);

export interface NamedFile {
  readonly option: OptionName;
  readonly path: string;
  readonly secret: boolean;
  readonly user: 'tls' | 'kafka';
}

/** The file options that are set. */
function namedFiles(v: OptionValues): NamedFile[] {
  return FILE_OPTIONS.flatMap((f) => {
    const path = v[f.option];
    return typeof path === 'string' && path !== '' ? [{ ...f, path }] : [];
  });
}

/**
 * The files the enabled outputs read at start. Kafka's TLS files and
 * password file count with the kafka output alone: parseKafkaConfig has
 * refused them without logger_kafka_tls or a SASL mechanism before this is
 * asked.
 */
export function filesInUse(v: OptionValues): NamedFile[] {
  const tls = v.logger_plugin.includes('tls') || v.config_plugin === 'tls';
  const kafka = v.logger_plugin.includes('kafka');
  return namedFiles(v).filter((f) => (f.user === 'tls' ? tls : kafka));
}

/** Every secret file the options name, whether its output is enabled or not. */
export function secretFiles(v: OptionValues): NamedFile[] {
  return namedFiles(v).filter((f) => f.secret);
}
